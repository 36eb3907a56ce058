"""A hub in a process of its own, whose memory a test can dump.

``python -m tests.adversarial.hub_process HUB_TOML DUMP_FILE`` serves the hub
as ``accord hub serve`` does (same start-up, same JSON logs in its data
directory), with search rate limits raised out of a test's way, and prints
``ready`` once it listens. On SIGUSR1 it writes every string and bytes object
reachable from the garbage collector's objects to DUMP_FILE (what an attacker
with a memory dump of the hub can read) and then creates ``DUMP_FILE.done``.
SIGTERM stops it.
"""

from __future__ import annotations

import asyncio
import gc
import signal
import sys
from dataclasses import replace
from pathlib import Path

from accord.logging import configure
from hub.config import HubConfig
from hub.server import start_hub


def generous_limits(config: HubConfig) -> HubConfig:
    """The hub's search rate limits raised out of the way.

    The test federations' clock is frozen, so a token bucket never refills;
    tests that are not about rate limits must not trip over them.
    """
    limits = getattr(config, "limits", None)
    if limits is None or not hasattr(limits, "search_burst"):
        return config
    return replace(config, limits=replace(limits, search_burst=1_000_000,
                                          agency_search_burst=1_000_000))


def dump_memory(path: Path) -> None:
    """Write every str/bytes the collector can reach, each as a 4-byte length and its bytes."""
    gc.collect()
    seen: set[int] = set()
    with path.open("wb") as out:
        for obj in gc.get_objects():
            for item in (obj, *gc.get_referents(obj)):
                if id(item) in seen or not isinstance(item, str | bytes | bytearray | memoryview):
                    continue
                seen.add(id(item))
                data = (item.encode("utf-8", "surrogatepass") if isinstance(item, str)
                        else bytes(item))
                out.write(len(data).to_bytes(4, "big") + data)
    Path(f"{path}.done").touch()


def read_dump(path: Path) -> list[bytes]:
    """The items :func:`dump_memory` wrote."""
    data = path.read_bytes()
    items, at = [], 0
    while at < len(data):
        size = int.from_bytes(data[at:at + 4], "big")
        items.append(data[at + 4:at + 4 + size])
        at += 4 + size
    return items


async def serve(config_path: Path, dump: Path) -> None:
    config = generous_limits(HubConfig.load(config_path))
    configure(json=config.log_json, file=config.log_file)
    running = await start_hub(config)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGUSR1, dump_memory, dump)
    print("ready", flush=True)
    await stop.wait()
    await running.stop(1)


if __name__ == "__main__":
    asyncio.run(serve(Path(sys.argv[1]), Path(sys.argv[2])))
