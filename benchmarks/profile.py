"""Where a search's time goes: py-spy samples the hub, the gateway and one
searched node while the benchmark federation serves searches.

Writes ``<out>/<process>.txt`` (collapsed stacks, the input of flame-graph
tools) and prints each process's top functions by inclusive and own samples.

Usage: python -m benchmarks.profile [--out bench/profile] [--seconds 15]
       [--in-flight 1]   (1: the latency view; 64: the throughput view)
Needs py-spy (``pip install py-spy``) and permission to trace the servers.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from accord.logging import configure
from benchmarks import federation
from benchmarks.search import Clients, Floors, payload_size


def top(collapsed: Path, n: int = 25) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
    """(inclusive, own) share of samples per function, from py-spy's collapsed output."""
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    total = 0
    for line in collapsed.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        samples = int(count)
        frames = stack.split(";")
        total += samples
        for frame in set(frames):
            inclusive[frame] += samples
        own[frames[-1]] += samples
    def share(c: collections.Counter[str]) -> list[tuple[str, float]]:
        return [(f, round(100 * s / max(total, 1), 1)) for f, s in c.most_common(n)]
    return share(inclusive), share(own)


async def profile(root: Path, out: Path, seconds: float, in_flight: int,
                  records: int) -> None:
    beside = Path(sys.executable).parent / "py-spy"
    py_spy = str(beside) if beside.exists() else shutil.which("py-spy")
    if py_spy is None:
        raise SystemExit("py-spy not found: pip install py-spy")
    logs = root / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    fed = federation.build(root, records)
    running = await federation.start(fed, logs)
    floors = Floors(fed, logs)
    out.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240 - once, before any load
    try:
        await floors.wait()
        clients = Clients(running, floors, bytes(payload_size(fed)))
        for _ in range(30):
            await clients.search(4)
        targets = {"hub": running.hub.pid, "gateway": running.nodes[federation.GATEWAY].pid,
                   "node_1": running.nodes["node_1"].pid}
        spies = [
            subprocess.Popen(  # noqa: ASYNC220, S603 - py-spy, started once and left to run
                [py_spy, "record", "--pid", str(pid), "--duration", str(int(seconds)),
                 "--rate", "250", "--format", "raw", "--output", str(out / f"{name}.txt"),
                 "--nonblocking"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            for name, pid in targets.items()]
        done = 0
        stop_at = time.monotonic() + seconds + 1

        async def worker() -> None:
            nonlocal done
            while time.monotonic() < stop_at:
                await clients.search(4)
                done += 1

        await asyncio.gather(*(worker() for _ in range(in_flight)))
        for spy in spies:
            spy.wait(timeout=60)
        print(f"{done} searches in {seconds + 1:.0f}s with {in_flight} in flight")
        await clients.close()
    finally:
        floors.stop()
        running.stop()
    for name in ("hub", "gateway", "node_1"):
        path = out / f"{name}.txt"
        if not path.exists():
            print(f"{name}: no profile (py-spy could not attach?)")
            continue
        inclusive, own = top(path)
        print(f"\n== {name}: inclusive")
        for frame, pct in inclusive:
            print(f"{pct:5.1f}%  {frame}")
        print(f"== {name}: own")
        for frame, pct in own:
            print(f"{pct:5.1f}%  {frame}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("bench/profile"))
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--in-flight", type=int, default=1)
    parser.add_argument("--records", type=int, default=2000)
    ns = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="accord-profile-") as tmp:
        configure(json=True, file=Path(tmp) / "bench.log")
        asyncio.run(profile(Path(tmp), ns.out, ns.seconds, ns.in_flight, ns.records))


if __name__ == "__main__":
    main()
