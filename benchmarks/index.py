"""Index size: token lookup latency at a large index over a small one, on
SQLite and PostgreSQL, and the memory of a node serving the large one.

The indexes are filled with synthetic rows through the store's own bulk path
(``node.store._insert_many``: executemany on SQLite, COPY on PostgreSQL):
``tokens_per_record`` keyed tokens per record (a name+dob, a phone and a
blocking key: random 32-byte values, which is what keyed tokens look like to
the index). A lookup is ``NodeStore.match`` exactly as a node's matcher calls
it, with as many index tokens as the benchmark query sends (``query_tokens``),
of which those of one indexed record hit. Lookups at the small and the large
index alternate, so both see the same machine.

The memory figure starts a real ``accord node serve`` process on the large
SQLite index and asks it MatchTokens (as the hub, over mutual TLS) before
reading its peak resident set.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import random
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlalchemy

from accord.cli.federation import free_ports, init_federation
from accord.cli.procs import spawn, stop_all, wait_serving
from benchmarks.stats import median, peak_rss_mib, percentile, rounded, verdict
from node.store import NodeStore, _insert_many, record_tokens, records
from node.tokens import Kind, Token

POSTGRES_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
KINDS = (Kind.NAME_DOB, Kind.PHONE, Kind.BLOCKING_KEY)
CHUNK = 50_000


def token(i: int, j: int) -> bytes:
    return hashlib.sha256(b"accord-bench-index:%d:%d" % (i, j)).digest()


def _record_rows(start: int, end: int) -> Iterator[tuple[Any, ...]]:
    updated = dt.datetime(2026, 1, 1)
    for i in range(start, end):
        yield (i + 1, "bench", f"B-{i}", "rms_incident", dt.date(2020 + i % 6, 1 + i % 12, 1),
               "[]", "{}", b"\x00" * 32, updated)


def fill(store: NodeStore, count: int, per_record: int) -> float:
    """Add ``count`` records with ``per_record`` tokens each; returns seconds taken."""
    t0 = time.perf_counter()
    for start in range(0, count, CHUNK):
        end = min(count, start + CHUNK)
        with store.engine.begin() as conn:
            _insert_many(conn, records, ("id", "source", "source_id", "record_type",
                                         "occurred_on", "labels", "body", "content_hash",
                                         "updated_at"), list(_record_rows(start, end)))
            rows = [(token(i, j), int(KINDS[j % len(KINDS)]), i + 1)
                    for i in range(start, end) for j in range(per_record)]
            rows.sort()  # key order: what a bulk load into a B-tree likes
            _insert_many(conn, record_tokens, ("token", "kind", "record_id"), rows)
    with store.engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")
    return time.perf_counter() - t0


def query(rng: random.Random, size: int, per_record: int, width: int) -> list[Token]:
    """``width`` index tokens, ``per_record`` of them those of one indexed record."""
    i = rng.randrange(size)
    hits = [Token(KINDS[j % len(KINDS)], token(i, j)) for j in range(per_record)]
    misses = [Token(Kind.BLOCKING_KEY, rng.randbytes(32)) for _ in range(max(0, width - per_record))]
    return hits + misses


def lookups(small: NodeStore, large: NodeStore, sizes: tuple[int, int], per_record: int,
            width: int, rounds: int, per_round: int) -> dict[str, Any]:
    rng = random.Random(11)
    rs: dict[str, list[float]] = {"small": [], "large": []}
    pooled: dict[str, list[float]] = {"small": [], "large": []}
    for store, size in ((small, sizes[0]), (large, sizes[1])):  # warm-up
        for _ in range(50):
            store.match(query(rng, size, per_record, width), limit=2000, agreement="bench")
    for r in range(rounds):
        samples: dict[str, list[float]] = {"small": [], "large": []}
        for k in range(2 * per_round):
            name = ("small", "large")[(k + r) % 2]
            store, size = (small, sizes[0]) if name == "small" else (large, sizes[1])
            tokens = query(rng, size, per_record, width)
            t0 = time.perf_counter()
            found = store.match(tokens, limit=2000, agreement="bench")
            samples[name].append((time.perf_counter() - t0) * 1000)
            assert found, "an indexed record's tokens must find it"
        for name in samples:
            rs[name].append(percentile(samples[name], 0.5))
            pooled[name] += samples[name]
    ratio = median([a / b for a, b in zip(rs["large"], rs["small"], strict=True)])
    return {"small_records": sizes[0], "large_records": sizes[1],
            "value_ms": rounded(median(rs["large"])), "baseline_ms": rounded(median(rs["small"])),
            "large_p99_ms": rounded(percentile(pooled["large"], 0.99)),
            "small_p99_ms": rounded(percentile(pooled["small"], 0.99)),
            **verdict(ratio, 2.0, at_most=True)}


async def node_memory(root: Path, database_url: str, probe: list[list[Token]]) -> dict[str, Any]:
    """Peak RSS of ``accord node serve`` answering MatchTokens on the large index."""
    import grpc

    from accord.rpc import channel_options
    from accord.tls import TlsFiles
    from accord.v1 import node_pb2, node_pb2_grpc
    from node.config import NodeConfig

    fed = init_federation(root / "memfed", ("index_pd", "asker_pd"), dt.datetime.now(dt.UTC),
                          base_port=None, template=None)
    config = NodeConfig.load(fed.node_config("index_pd"))
    port, metrics = free_ports(2)
    listen = f"127.0.0.1:{port}"
    proc = spawn(["node", "serve", "--config", str(fed.node_config("index_pd"))],
                 root / "index-node.out",
                 env={"ACCORD_NODE_NODE_DATABASE_URL": database_url,
                      "ACCORD_NODE_NODE_LISTEN": listen,
                      "ACCORD_NODE_NODE_METRICS_LISTEN": f"127.0.0.1:{metrics}"})
    hub_tls = TlsFiles(fed.root / "ca" / "ca.pem", fed.root / "hub" / "tls" / "hub.pem",
                       fed.root / "hub" / "tls" / "hub.key")
    agreement = next(iter(config.agreements.for_agency("index_pd"))).id
    try:
        await wait_serving(listen, hub_tls, proc)
        started = peak_rss_mib(proc.pid)
        async with grpc.aio.secure_channel(listen, hub_tls.channel_credentials(),
                                           options=channel_options()) as channel:
            stub = node_pb2_grpc.NodeServiceStub(channel)
            for n, tokens in enumerate(probe):
                await stub.MatchTokens(node_pb2.MatchTokensRequest(
                    search_id=f"mem{n}", requesting_agency="asker_pd",
                    purpose="human_trafficking", agreement=agreement,
                    tokens=[t.to_proto() for t in tokens], max_pointers=10), timeout=30)
        return {"node_peak_rss_mib": peak_rss_mib(proc.pid), "node_rss_at_start_mib": started,
                "match_calls": len(probe)}
    finally:
        stop_all([proc])


def run(root: Path, *, small: int, large: int, per_record: int, width: int, rounds: int,
        per_round: int, postgres: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {"tokens_per_record": per_record, "query_index_tokens": width}
    sqlite_small = NodeStore.open(f"sqlite:///{root / 'index-small.db'}")
    sqlite_large = NodeStore.open(f"sqlite:///{root / 'index-large.db'}")
    try:
        out["sqlite_build_seconds"] = {"small": round(fill(sqlite_small, small, per_record), 1),
                                       "large": round(fill(sqlite_large, large, per_record), 1)}
        out["sqlite"] = lookups(sqlite_small, sqlite_large, (small, large), per_record, width,
                                rounds, per_round)
    finally:
        sqlite_small.close()
        sqlite_large.close()
    rng = random.Random(5)
    probe = [query(rng, large, per_record, width) for _ in range(200)]
    out["memory"] = asyncio.run(node_memory(root, f"sqlite:///{root / 'index-large.db'}", probe))
    if postgres:
        out["postgresql"] = _postgres(small, large, per_record, width, rounds, per_round, out)
    return out


def _postgres(small: int, large: int, per_record: int, width: int, rounds: int, per_round: int,
              out: dict[str, Any]) -> dict[str, Any]:
    admin = sqlalchemy.create_engine(POSTGRES_ADMIN, isolation_level="AUTOCOMMIT")
    names = [f"accord_bench_{uuid.uuid4().hex[:8]}" for _ in range(2)]
    try:
        with admin.connect() as conn:
            for name in names:
                conn.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
    except sqlalchemy.exc.OperationalError as exc:
        return {"skipped": f"PostgreSQL not reachable: {type(exc).__name__}"}
    stores = [NodeStore.open(POSTGRES_ADMIN.rsplit("/", 1)[0] + "/" + n) for n in names]
    try:
        out["postgresql_build_seconds"] = {
            "small": round(fill(stores[0], small, per_record), 1),
            "large": round(fill(stores[1], large, per_record), 1)}
        return lookups(stores[0], stores[1], (small, large), per_record, width, rounds, per_round)
    finally:
        for store in stores:
            store.close()
        with admin.connect() as conn:
            for name in names:
                conn.execute(sqlalchemy.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
