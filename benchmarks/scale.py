"""Index size: a node's store at production scale on PostgreSQL (issue 7).

Builds one agency's index in a PostgreSQL database through the real pipeline
below the file parser (canonical records -> normalise -> keyed tokens,
blocking keys and Bloom profiles -> COPY), and reports lookup latency at a
small size and again at every checkpoint up to the full size, so they can be
compared in one run:

* ``exact``: one exact phone token (``NodeStore.match``, the node's hot path
  for an exact search; the phone is indexed once, so one row comes back);
* ``fuzzy``: every token of a full query (name, date of birth and phone:
  exact tokens and blocking keys, about 20), with the candidates' profiles,
  as a fuzzy search asks the store. Blocking keys such as "given initial and
  the family name's sound" are shared by more records the larger the index,
  so this grows with the index by design; ``candidates`` says by how much.

It also reports the index's size per record and the query plan of a token
lookup (an index scan, or not).

Long runs are resumable: with ``--database NAME`` the database is kept and a
second run with the same name continues from the records already there
(records are generated from their number alone, so a resumed run builds the
same index). ``--out FILE`` rewrites the results as JSON after every
checkpoint, so a run that is stopped still leaves the largest size it
reached; ``--stop-after SECONDS`` ends the ingest cleanly and measures there.

``--workers N`` encodes batches in N worker processes while the main process
stores them, in order, by COPY (the encoding is the CPU-bound part; the
database write stays one writer, so a resumed run still continues from the
last whole batch).

Usage: python -m benchmarks.scale [--records N] [--small N] [--url URL]
       [--database NAME] [--keep] [--out FILE] [--stop-after S] [--workers N]
       [--json]
(defaults: 5,000,000 records, lookups also measured at 50,000).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing
import random
import statistics
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlalchemy

from accord.synthetic.names import FAMILY_NAMES, GIVEN_NAMES
from node.encodings import encode_query, prepare_record
from node.records import Person, Record, RecordType, Role
from node.store import NodeStore, Prepared
from node.tokens import Query, TokenKeys, query_tokens

ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
BATCH = 5000
AGREEMENT = "local-pilot"
#: Sizes at which lookups are measured besides --small and the end.
CHECKPOINTS = (500_000, 1_000_000, 2_000_000, 3_000_000, 4_000_000)


def _phone(i: int) -> str:
    return f"+1503{2000000 + i % 7999999:07d}"


def person(i: int) -> Person:
    """Person ``i``: a name from the generator's tables, a birth date, a phone of its own."""
    rng = random.Random(i)
    return Person(
        role=Role.OTHER,
        given=rng.choice(GIVEN_NAMES), family=rng.choice(FAMILY_NAMES),
        dobs=(dt.date(1950 + rng.randrange(55), 1 + rng.randrange(12), 1 + rng.randrange(28)),),
        phones=(_phone(i),),
    )


def record(i: int) -> Record:
    return Record(source="scale", source_id=f"S-{i}", record_type=RecordType.RMS_INCIDENT,
                  occurred_on=dt.date(2020 + i % 6, 1 + i % 12, 1 + i % 28),
                  people=(person(i),))


SECRET = bytes(range(32))


def _keys() -> TokenKeys:
    return TokenKeys(SECRET, AGREEMENT)


_WORKER_KEYS: TokenKeys | None = None


def _init_worker() -> None:
    global _WORKER_KEYS
    _WORKER_KEYS = _keys()


def _prepare_batch(span: tuple[int, int]) -> list[Prepared]:
    """Records ``span[0]`` up to ``span[1]``, encoded (in a worker process)."""
    assert _WORKER_KEYS is not None
    return [prepare_record(record(i), _WORKER_KEYS, "US") for i in range(*span)]


def batches(start: int, end: int, keys: TokenKeys, workers: int) -> Iterator[list[Prepared]]:
    """Encoded batches of records ``start`` up to ``end``, in order."""
    spans = [(i, min(i + BATCH, end)) for i in range(start, end, BATCH)]
    if workers <= 1:
        for lo, hi in spans:
            yield [prepare_record(record(i), keys, "US") for i in range(lo, hi)]
        return
    with multiprocessing.get_context("spawn").Pool(workers, initializer=_init_worker) as pool:
        yield from pool.imap(_prepare_batch, spans)


def _percentiles(timings: list[float]) -> dict[str, float]:
    timings.sort()
    return {"p50_ms": round(statistics.median(timings), 3),
            "p95_ms": round(timings[int(0.95 * len(timings))], 3),
            "p99_ms": round(timings[int(0.99 * len(timings))], 3)}


def lookups(store: NodeStore, keys: TokenKeys, rng: random.Random, count: int,
            upto: int) -> dict[str, Any]:
    """Exact phone lookups and full fuzzy-query lookups of records below ``upto``."""
    exact: list[float] = []
    fuzzy: list[float] = []
    candidates: list[int] = []
    for _ in range(count):
        i = rng.randrange(upto)
        tokens = query_tokens(Query(phone=_phone(i)), keys, "US")
        t0 = time.perf_counter()
        found = store.match(tokens, limit=10)
        exact.append((time.perf_counter() - t0) * 1000)
        if not found:
            raise AssertionError("a lookup of an indexed phone must find its record")
        p = person(i)
        query = Query(name=f"{p.given} {p.family}", dob=p.dobs[0].isoformat(), phone=_phone(i))
        encoded = encode_query(query, keys, "US")
        t0 = time.perf_counter()
        found = store.match(encoded.tokens, limit=2000, agreement=AGREEMENT)
        fuzzy.append((time.perf_counter() - t0) * 1000)
        candidates.append(len(found))
    return {"records": upto, "exact": _percentiles(exact),
            "fuzzy": {**_percentiles(fuzzy),
                      "candidates_median": int(statistics.median(candidates))}}


def _sizes(store: NodeStore, records: int) -> dict[str, Any]:
    with store.engine.connect() as conn:
        sizes = {table: int(conn.execute(sqlalchemy.text(
            f"SELECT pg_total_relation_size('{table}')")).scalar_one())
            for table in ("record_tokens", "person_profiles", "records")}
        rows = int(conn.execute(sqlalchemy.text(
            "SELECT reltuples::bigint FROM pg_class WHERE relname = 'record_tokens'")).scalar_one())
    return {"bytes": sizes, "index_rows_estimate": rows,
            "bytes_per_record": {t: round(b / max(records, 1)) for t, b in sizes.items()}}


def _plan(store: NodeStore, keys: TokenKeys) -> list[str]:
    token = query_tokens(Query(phone=_phone(1)), keys, "US")[0]
    with store.engine.connect() as conn:
        return [str(line) for line in conn.execute(sqlalchemy.text(
            "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) "
            "SELECT record_id, kind, token FROM record_tokens WHERE token IN (:t)"),
            {"t": token.value}).scalars().all()]


def _count(store: NodeStore) -> int:
    return store.count_records()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=5_000_000)
    parser.add_argument("--small", type=int, default=50_000)
    parser.add_argument("--lookups", type=int, default=300)
    parser.add_argument("--url", default=ADMIN_URL, help="admin URL of the PostgreSQL server")
    parser.add_argument("--database", help="keep the index in this database and resume it")
    parser.add_argument("--keep", action="store_true", help="do not drop the database at the end")
    parser.add_argument("--out", type=Path, help="write the results here after every checkpoint")
    parser.add_argument("--stop-after", type=float, default=0.0,
                        help="end the ingest after this many seconds and measure there")
    parser.add_argument("--workers", type=int, default=1,
                        help="encode batches in this many worker processes")
    parser.add_argument("--json", action="store_true")
    ns = parser.parse_args()
    name = ns.database or f"accord_scale_{uuid.uuid4().hex[:8]}"
    keep = ns.keep or ns.database is not None
    admin = sqlalchemy.create_engine(ns.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(sqlalchemy.text("SELECT 1 FROM pg_database WHERE datname = :n"),
                              {"n": name}).scalar()
        if not exists:
            conn.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
    store = NodeStore.open(ns.url.rsplit("/", 1)[0] + "/" + name)
    keys = _keys()
    rng = random.Random(7)
    results: dict[str, Any] = {"database": "postgresql", "target_records": ns.records,
                               "workers": ns.workers,
                               "lookups_per_size": ns.lookups, "at": []}

    def save() -> None:
        if ns.out is not None:
            ns.out.write_text(json.dumps(results, indent=2) + "\n")

    def measure(done: int) -> None:
        with store.engine.begin() as conn:
            conn.execute(sqlalchemy.text("ANALYZE"))
        results["at"].append({**lookups(store, keys, rng, ns.lookups, done),
                              **_sizes(store, done)})
        print(json.dumps(results["at"][-1]), flush=True)
        save()

    try:
        # Resume at the last whole batch (upserting a stored record again is a no-op).
        done = _count(store) // BATCH * BATCH
        results["resumed_at"] = done
        started = time.perf_counter()
        cpu_started = time.process_time()
        first = done
        marks = sorted({ns.small, *CHECKPOINTS} - {ns.records})
        measured = {m for m in marks if m <= done}
        for batch in batches(done, ns.records, keys, ns.workers):
            if ns.stop_after and time.perf_counter() - started > ns.stop_after:
                break
            store.upsert(batch, dt.datetime.now(dt.UTC))
            done += len(batch)
            if done % 100_000 == 0:
                wall = time.perf_counter() - started
                print(f"{done} records, {(done - first) / wall:.0f}/s wall, "
                      f"{(done - first) / (time.process_time() - cpu_started):.0f}/s per "
                      f"CPU-second of the main process", flush=True)
            for mark in marks:
                if mark <= done and mark not in measured:
                    measured.add(mark)
                    results["ingest"] = {
                        "records_this_run": done - first,
                        "seconds": round(time.perf_counter() - started, 1),
                        "records_per_second_wall": round(
                            (done - first) / (time.perf_counter() - started))}
                    measure(done)
        elapsed = time.perf_counter() - started
        results["records"] = done
        results["ingest"] = {
            "records_this_run": done - first, "seconds": round(elapsed, 1),
            "records_per_second_wall": round((done - first) / max(elapsed, 1e-9)),
            "client_cpu_seconds": round(time.process_time() - cpu_started, 1)}
        if not results["at"] or results["at"][-1]["records"] != done:
            measure(done)
        results["token_lookup_plan"] = _plan(store, keys)
        save()
    finally:
        store.close()
        if not keep:
            with admin.connect() as conn:
                conn.execute(sqlalchemy.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
