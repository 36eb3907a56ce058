"""Index size: a node's store at production scale on PostgreSQL (issue 7).

Builds one agency's index in a fresh PostgreSQL database through the real
pipeline below the file parser (canonical records -> normalise -> keyed
tokens, blocking keys and Bloom profiles -> batched inserts), and reports
token-lookup latency (``NodeStore.match``, the node's hot path) at a small
size and again at the full size, so the two can be compared in one run.

Usage: python -m benchmarks.scale [--records N] [--small N] [--url URL] [--json]
(defaults: 5,000,000 records, lookups also measured at 50,000).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import statistics
import time
import uuid
from typing import Any

import sqlalchemy

from accord.synthetic.names import FAMILY_NAMES, GIVEN_NAMES
from node.encodings import prepare_record
from node.records import Person, Record, RecordType, Role
from node.store import NodeStore
from node.tokens import Query, TokenKeys, query_tokens

ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
BATCH = 2000


def person(rng: random.Random, i: int) -> Person:
    return Person(
        role=Role.OTHER,
        given=rng.choice(GIVEN_NAMES), family=rng.choice(FAMILY_NAMES),
        dobs=(dt.date(1950 + rng.randrange(55), 1 + rng.randrange(12), 1 + rng.randrange(28)),),
        phones=(f"+1503{2000000 + i % 7999999:07d}",),
    )


def record(rng: random.Random, i: int) -> Record:
    return Record(source="scale", source_id=f"S-{i}", record_type=RecordType.RMS_INCIDENT,
                  occurred_on=dt.date(2020 + i % 6, 1 + i % 12, 1 + i % 28),
                  people=(person(rng, i),))


def lookups(store: NodeStore, keys: TokenKeys, rng: random.Random, count: int,
            upto: int) -> dict[str, float]:
    timings = []
    for _ in range(count):
        i = rng.randrange(upto)
        tokens = query_tokens(Query(phone=f"+1503{2000000 + i % 7999999:07d}"), keys, "US")
        t0 = time.perf_counter()
        found = store.match(tokens, limit=10)
        timings.append((time.perf_counter() - t0) * 1000)
        assert found, "a lookup of an indexed phone must find its record"
    timings.sort()
    return {"p50_ms": round(statistics.median(timings), 3),
            "p95_ms": round(timings[int(0.95 * len(timings))], 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=5_000_000)
    parser.add_argument("--small", type=int, default=50_000)
    parser.add_argument("--lookups", type=int, default=300)
    parser.add_argument("--url", default=ADMIN_URL, help="admin URL of the PostgreSQL server")
    parser.add_argument("--json", action="store_true")
    ns = parser.parse_args()
    name = f"accord_scale_{uuid.uuid4().hex[:8]}"
    admin = sqlalchemy.create_engine(ns.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
    store = NodeStore.open(ns.url.rsplit("/", 1)[0] + "/" + name)
    keys = TokenKeys(bytes(range(32)), "local-pilot")
    rng = random.Random(7)
    results: dict[str, Any] = {"database": "postgresql", "records": ns.records}
    started = time.perf_counter()
    try:
        done = 0
        while done < ns.records:
            size = min(BATCH, ns.records - done)
            store.upsert([prepare_record(record(rng, done + j), keys, "US") for j in range(size)],
                         dt.datetime.now(dt.UTC))
            done += size
            if "lookup_at_small" not in results and done >= ns.small:
                results["lookup_at_small"] = {"records": done,
                                              **lookups(store, keys, rng, ns.lookups, done)}
            if done % 100_000 == 0:
                rate = done / (time.perf_counter() - started)
                print(f"{done} records, {rate:.0f}/s", flush=True)
        elapsed = time.perf_counter() - started
        results["ingest_seconds"] = round(elapsed, 1)
        results["ingest_records_per_second"] = round(ns.records / elapsed)
        with store.engine.begin() as conn:
            conn.execute(sqlalchemy.text("ANALYZE"))
        results["lookup_at_full"] = {"records": ns.records,
                                     **lookups(store, keys, rng, ns.lookups, ns.records)}
        with store.engine.connect() as conn:
            plan = conn.execute(sqlalchemy.text(
                "EXPLAIN SELECT record_id FROM record_tokens WHERE token = :t"),
                {"t": b"\x00" * 32}).scalars().all()
        results["token_lookup_plan"] = plan[0]
        results["index_bytes"] = int(store.engine.connect().execute(sqlalchemy.text(
            "SELECT pg_total_relation_size('record_tokens')")).scalar_one())
    finally:
        store.close()
        with admin.connect() as conn:
            conn.execute(sqlalchemy.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
