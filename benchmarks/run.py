"""Accord benchmarks (`make bench`, `accord bench`): speed targets live here, never in tests.

Every figure is measured next to its floor in the same run, interleaved, and
reported as the median over repeated rounds with the ratio, the target and
whether it is met (issue 9):

1. search latency (gateway -> hub -> 4 nodes) over a bare 4-server echo fan-out, p50 and p99;
2. fan-out scaling: (8 nodes / 1 node) over the same ratio of the bare fan-out;
3. throughput with 64 searches in flight over bare echo RPCs with 64 in flight;
4. index size: token lookup p50 at the large index over the small one (SQLite, PostgreSQL);
5. ingest end to end over raw keyed hashes per second / tokens per record, and
   exact-tokens-only person records per second;
6. audit durability: unbatched appends/s over raw durable SQLite commits/s,
   p99 append over p99 fsync, and group commit under 64 concurrent callers;
7. policy decision p50 over one bare gRPC round trip p50;
8. peak resident memory of a node serving the large index and of the hub
   under the throughput test.

Writes ``bench/results.json``, ``bench/README.md`` (the table and the machine)
and PNG plots (with matplotlib, the ``bench`` extra). Also runs the matching
quality benchmark (``benchmarks.matching``, its own owner) unless told not to.

Usage: python -m benchmarks.run [--only search,index,...] [--quick] [--out bench]
       (``--help`` lists the sizes and durations)
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from accord.logging import configure
from benchmarks import report
from benchmarks.stats import machine, median, percentile, rounded, verdict

ALL = ("search", "index", "ingest", "audit", "policy", "matching")


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def bench_policy(root: Path, rounds: int, per_round: int) -> dict[str, Any]:
    """In-process policy decisions (fresh and remembered) beside one bare gRPC round trip."""
    import grpc

    from accord.cli.federation import default_template, free_ports, init_federation
    from accord.cli.procs import stop_all
    from accord.policy.engine import SEARCH, PolicyPoint, RegoEngine, read_policies
    from accord.rpc import channel_options
    from accord.synthetic import DEMO_AGENCIES
    from benchmarks import floor
    from hub.config import HubConfig
    from node.config import NodeConfig

    fed = init_federation(root / "policyfed", DEMO_AGENCIES, now(), base_port=None,
                          template=default_template())
    hub_config = HubConfig.load(fed.hub_config)
    tls = NodeConfig.load(fed.node_config(DEMO_AGENCIES[0])).tls
    engine = RegoEngine(read_policies(hub_config.policy.policy_dir),
                        hub_config.agreements.to_policy_data())
    point = PolicyPoint(engine, timeout=5)
    (port,) = free_ports(1)
    proc = floor.spawn(port, tls, root / "policy-echo.out")
    counter = 0

    def request(case: str) -> dict[str, Any]:
        return {"agreement": "local-pilot", "purpose": "human_trafficking", "case_number": case,
                "now": now().date().isoformat(),
                "principal": {"subject": "u", "agency": "lakeside_so", "roles": ["investigator"]}}

    async def fresh() -> None:
        nonlocal counter
        counter += 1  # a new case number each time: never answered from the memo
        assert (await point.decide(SEARCH, request(f"C-{counter}"))).allow

    async def remembered() -> None:
        assert (await point.decide(SEARCH, request("C-0"))).allow

    try:
        await floor.wait_ready(f"127.0.0.1:{port}", tls)
        async with grpc.aio.secure_channel(f"127.0.0.1:{port}", tls.channel_credentials(),
                                           options=channel_options()) as channel:
            echo = channel.unary_unary(floor.ECHO)

            async def rtt() -> None:
                await echo(b"x" * 200, timeout=10)

            variants = {"fresh": fresh, "remembered": remembered, "grpc": rtt}
            for call in variants.values():
                for _ in range(50):
                    await call()
            per: dict[str, list[float]] = {k: [] for k in variants}
            pooled: dict[str, list[float]] = {k: [] for k in variants}
            for r in range(rounds):
                names = list(variants)
                for name in names[r % 3:] + names[:r % 3]:
                    samples = []
                    for _ in range(per_round):
                        t0 = time.perf_counter()
                        await variants[name]()
                        samples.append((time.perf_counter() - t0) * 1000)
                    per[name].append(percentile(samples, 0.5))
                    pooled[name] += samples
    finally:
        stop_all([proc])
        await point.close()
    ratio = median([a / b for a, b in zip(per["fresh"], per["grpc"], strict=True)])
    return {"rounds": rounds, "per_round": per_round,
            "value_ms": rounded(median(per["fresh"])), "baseline_ms": rounded(median(per["grpc"])),
            **verdict(ratio, 1.0, at_most=True),
            "fresh_p99_ms": rounded(percentile(pooled["fresh"], 0.99)),
            "remembered_p50_ms": rounded(median(per["remembered"])),
            "remembered_ratio": rounded(median([a / b for a, b in zip(
                per["remembered"], per["grpc"], strict=True)]))}


def bench_matching(timeout: float) -> dict[str, Any]:
    """The matching-quality benchmark (benchmarks.matching, owned elsewhere), as JSON."""
    try:
        done = subprocess.run(
            [sys.executable, "-m", "benchmarks.matching", "--json", "--quiet"],
            capture_output=True, text=True, timeout=timeout, check=False,
            cwd=Path(__file__).resolve().parents[1])
    except subprocess.TimeoutExpired:
        return {"skipped": f"did not finish within {timeout:.0f}s"}
    if done.returncode != 0:
        return {"skipped": f"exited {done.returncode}: {done.stderr.strip()[-300:]}"}
    try:
        parsed: dict[str, Any] = json.loads(done.stdout[done.stdout.find("{"):])
    except ValueError:
        return {"skipped": "no JSON in its output"}
    return parsed


def query_index_tokens() -> int:
    """How many index tokens (exact and blocking) the benchmark query sends."""
    from benchmarks.federation import QUERY
    from node.encodings import INDEX_KINDS, encode_query
    from node.tokens import Query, TokenKeys

    encoded = encode_query(Query(**QUERY), TokenKeys(bytes(range(32)), "x"), "US")
    return sum(1 for t in encoded.tokens if t.kind in INDEX_KINDS)


def run(ns: argparse.Namespace) -> dict[str, Any]:
    only = [x.strip() for x in ns.only.split(",") if x.strip()] if ns.only else list(ALL)
    unknown = set(only) - set(ALL)
    if unknown:
        raise SystemExit(f"--only: unknown {sorted(unknown)}, want some of {list(ALL)}")
    started = time.perf_counter()
    results: dict[str, Any] = {"started_at": now().isoformat(timespec="seconds"),
                               "machine": machine(), "options": vars(ns) | {"out": str(ns.out)},
                               "timings_seconds": {}}
    with tempfile.TemporaryDirectory(prefix="accord-bench-") as tmp:
        root = Path(tmp)
        configure(json=True, file=root / "bench.log")
        for name in only:
            # What the sections before wrote (the index benchmark's millions
            # of rows, the ingest stores) is flushed first, so that its
            # write-back does not land in this section's fsyncs, real or floor.
            os.sync()
            t0 = time.perf_counter()
            print(f"[bench] {name} ...", flush=True)
            if name == "search":
                from benchmarks import search

                results["search"] = asyncio.run(search.run(
                    root / "search", records=ns.records_per_node, rounds=ns.rounds,
                    per_round=ns.per_round, tput_rounds=ns.tput_rounds,
                    tput_seconds=ns.tput_seconds))
            elif name == "index":
                from benchmarks import index

                (root / "index").mkdir()
                results["index"] = index.run(
                    root / "index", small=ns.index_small, large=ns.index_large,
                    per_record=3, width=query_index_tokens(), rounds=ns.rounds,
                    per_round=ns.index_lookups, postgres=not ns.no_postgres)
            elif name == "ingest":
                from benchmarks import ingest

                (root / "ingest").mkdir()
                results["ingest"] = ingest.run(root / "ingest",
                                               records_per_source=ns.ingest_records,
                                               rounds=ns.ingest_rounds)
            elif name == "audit":
                from benchmarks import audit

                (root / "audit").mkdir()
                results["audit"] = audit.run(root / "audit", rounds=ns.rounds,
                                             per_round=ns.audit_appends,
                                             group_seconds=ns.tput_seconds)
            elif name == "policy":
                (root / "policy").mkdir()
                results["policy"] = asyncio.run(bench_policy(root / "policy", ns.rounds, 400))
            elif name == "matching":
                results["matching"] = bench_matching(ns.matching_timeout)
            results["timings_seconds"][name] = round(time.perf_counter() - t0, 1)
    results["total_seconds"] = round(time.perf_counter() - started, 1)
    return results


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="benchmarks.run", description="Accord benchmark suite")
    p.add_argument("--only", default="", help=f"comma-separated subset of {','.join(ALL)}")
    p.add_argument("--out", type=Path, default=Path("bench"), help="where results go")
    p.add_argument("--quick", action="store_true", help="tiny sizes: a smoke test, not a result")
    p.add_argument("--rounds", type=int, default=5, help="interleaved rounds per measurement")
    p.add_argument("--per-round", type=int, default=100, help="searches per variant per round")
    p.add_argument("--records-per-node", type=int, default=2000)
    p.add_argument("--tput-rounds", type=int, default=3)
    p.add_argument("--tput-seconds", type=float, default=4.0)
    p.add_argument("--index-small", type=int, default=100_000, help="records, small index")
    p.add_argument("--index-large", type=int, default=1_000_000,
                   help="records, large index (10000000 for the issue's full size)")
    p.add_argument("--index-lookups", type=int, default=200, help="lookups per size per round")
    p.add_argument("--ingest-records", type=int, default=2000, help="records per source file")
    p.add_argument("--ingest-rounds", type=int, default=3)
    p.add_argument("--audit-appends", type=int, default=200, help="appends per round")
    p.add_argument("--matching-timeout", type=float, default=300.0)
    p.add_argument("--no-postgres", action="store_true", help="SQLite only for the index")
    p.add_argument("--no-plots", action="store_true")
    p.add_argument("--json", action="store_true", help="print the results as JSON too")
    return p


def quick(ns: argparse.Namespace) -> None:
    ns.rounds, ns.per_round, ns.records_per_node = 2, 20, 200
    ns.tput_rounds, ns.tput_seconds = 1, 1.5
    ns.index_small, ns.index_large, ns.index_lookups = 1000, 10_000, 30
    ns.ingest_records, ns.ingest_rounds, ns.audit_appends = 100, 1, 30


def main(argv: Sequence[str] | None = None) -> None:
    ns = parser().parse_args(argv)
    if ns.quick:
        quick(ns)
    results = run(ns)
    ns.out.mkdir(parents=True, exist_ok=True)
    (ns.out / "results.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    plots = [] if ns.no_plots else report.plots(results, ns.out)
    (ns.out / "README.md").write_text(report.markdown(results, plots))
    print(report.table(results))
    print(f"\nwrote {ns.out / 'results.json'}, {ns.out / 'README.md'}"
          + (f" and {len(plots)} plots" if plots else "")
          + f" in {results['total_seconds']:.0f}s")
    if ns.json:
        print(json.dumps(results, indent=2, default=str))


if __name__ == "__main__":
    main()
