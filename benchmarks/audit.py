"""Audit durability: the log's appends against the disk flush they wait for.

All on one file system (the benchmark's temporary directory), interleaved:

* unbatched appends: ``AuditLog.append`` one after another (entry, Merkle
  nodes, a signed checkpoint, one durable commit each), SQLite WAL with
  ``synchronous=FULL`` as the hub runs it;
* raw commits: a bare ``sqlite3`` connection, same WAL and
  ``synchronous=FULL``, inserting one small row per commit;
* fsync: ``os.write`` of 256 bytes then ``os.fsync``, the flush itself;
* group commit: 64 concurrent callers through ``AuditLog.commit`` (one
  transaction, checkpoint and fsync per batch) against 64 threads calling
  the unbatched ``append`` (one commit each, serialised by the log's lock).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from accord.checkpoint import Ed25519Signer
from accord.db import make_engine
from benchmarks.stats import median, percentile, rounded, verdict
from hub.audit import AuditEvent, AuditLog


def _event(i: int) -> AuditEvent:
    return AuditEvent(event="search", time=dt.datetime.now(dt.UTC), outcome="ok",
                      actor="bench", agency="gw_pd", roles=("investigator",),
                      source="ipv4:127.0.0.1:1", purpose="human_trafficking", case=f"B-{i}",
                      details={"search_id": f"{i:032x}", "pointers": 4,
                               "token_digest": "00" * 32})


def _open_log(path: Path) -> AuditLog:
    log = AuditLog(make_engine(f"sqlite:///{path}"),
                   Ed25519Signer(Ed25519PrivateKey.generate(), "accord-hub"), "bench-log")
    log.create_schema()
    return log


def appends(log: AuditLog, n: int, start: int) -> list[float]:
    out = []
    for i in range(n):
        t0 = time.perf_counter()
        log.append(_event(start + i))
        out.append((time.perf_counter() - t0) * 1000)
    return out


def raw_commits(conn: sqlite3.Connection, n: int) -> list[float]:
    out = []
    for i in range(n):
        t0 = time.perf_counter()
        conn.execute("INSERT INTO t (v) VALUES (?)", (b"x" * 64 + i.to_bytes(8, "big"),))
        conn.commit()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def fsyncs(fd: int, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        os.write(fd, b"y" * 256)
        os.fsync(fd)
        out.append((time.perf_counter() - t0) * 1000)
    return out


async def _group(log: AuditLog, callers: int, seconds: float, base: int) -> tuple[float, int]:
    done = 0
    stop_at = time.perf_counter() + seconds

    async def caller(c: int) -> None:
        nonlocal done
        k = 0
        while time.perf_counter() < stop_at:
            await log.append_async(_event(base + c * 100_000 + k))
            k += 1
            done += 1

    t0 = time.perf_counter()
    await asyncio.gather(*(caller(c) for c in range(callers)))
    return done / (time.perf_counter() - t0), done


def _threads(log: AuditLog, callers: int, seconds: float, base: int) -> float:
    done = 0
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds

    def caller(c: int) -> None:
        nonlocal done
        k = 0
        while time.perf_counter() < stop_at:
            log.append(_event(base + c * 100_000 + k))
            k += 1
            with lock:
                done += 1

    t0 = time.perf_counter()
    threads = [threading.Thread(target=caller, args=(c,)) for c in range(callers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return done / (time.perf_counter() - t0)


def run(root: Path, *, rounds: int, per_round: int, callers: int = 64,
        group_seconds: float = 3.0) -> dict[str, Any]:
    log = _open_log(root / "audit-bench.db")
    raw = sqlite3.connect(root / "raw-bench.db", isolation_level="DEFERRED")
    raw.execute("PRAGMA journal_mode=WAL")
    raw.execute("PRAGMA synchronous=FULL")
    raw.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB NOT NULL)")
    raw.commit()
    fd = os.open(root / "fsync-bench.bin", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        appends(log, 20, 0)
        raw_commits(raw, 20)
        fsyncs(fd, 20)
        per: dict[str, list[list[float]]] = {"append": [], "raw": [], "fsync": []}
        for r in range(rounds):
            steps = [("append", lambda r=r: appends(log, per_round, 1000 + r * per_round)),
                     ("raw", lambda: raw_commits(raw, per_round)),
                     ("fsync", lambda: fsyncs(fd, per_round))]
            for name, step in steps[r % 3:] + steps[:r % 3]:
                per[name].append(step())
        rate = {k: [1000 * len(s) / sum(s) for s in v] for k, v in per.items()}
        p99 = {k: [percentile(s, 0.99) for s in v] for k, v in per.items()}
        p50 = {k: [percentile(s, 0.5) for s in v] for k, v in per.items()}
        group, unbatched, batch_entries = [], [], []
        for r in range(max(1, rounds // 2)):
            before = log.size()
            pair = [("group", lambda r=r: asyncio.run(
                        _group(log, callers, group_seconds, 10**7 * (r + 1)))[0]),
                    ("threads", lambda r=r: _threads(log, callers, group_seconds,
                                                      10**7 * (r + 1) + 5 * 10**6))]
            for name, step in (pair if r % 2 == 0 else pair[::-1]):
                size0 = log.size()
                cps0 = sum(1 for _ in log.checkpoints())
                value = step()
                added, commits = log.size() - size0, sum(1 for _ in log.checkpoints()) - cps0
                if name == "group":
                    group.append(value)
                    batch_entries.append(added / max(commits, 1))
                else:
                    unbatched.append(value)
            assert log.size() > before
    finally:
        os.close(fd)
        raw.close()
        log.close()
        log.engine.dispose()
    ratio = median([a / b for a, b in zip(rate["append"], rate["raw"], strict=True)])
    latency = median([a / b for a, b in zip(p99["append"], p99["fsync"], strict=True)])
    return {
        "rounds": rounds, "per_round": per_round,
        "appends_per_second": {"value": round(median(rate["append"]), 1),
                               "baseline": round(median(rate["raw"]), 1),
                               **verdict(ratio, 0.5, at_most=False)},
        "append_p99": {"value_ms": rounded(median(p99["append"])),
                       "baseline_ms": rounded(median(p99["fsync"])),
                       **verdict(latency, 4.0, at_most=True)},
        "append_p50_ms": rounded(median(p50["append"])),
        "raw_commit_p50_ms": rounded(median(p50["raw"])),
        "fsync_p50_ms": rounded(median(p50["fsync"])),
        "group_commit": {"callers": callers, "seconds_each": group_seconds,
                         "value": round(median(group), 1), "unit": "appends/s",
                         "baseline": round(median(unbatched), 1),
                         "baseline_is": f"{callers} threads calling the unbatched append",
                         "ratio": rounded(median(group) / median(unbatched)),
                         "entries_per_commit": rounded(median(batch_entries), 1)},
    }
