"""Ingest: records per second end to end over the hashing floor, and exact-only speed.

* End to end: every synthetic source file (CSV and JSON Lines, through its
  mapping) into a fresh SQLite store: parse, map, normalise, encode (exact
  tokens, blocking keys, field tokens, Bloom filters), durable batched write.
* Floor: raw keyed-hash operations per second (``hmac.digest`` SHA-256, the
  primitive every token is made with) divided by the keyed tokens per record
  (the distinct tokens a record is indexed under). The keyed hashes ingest
  really computes per record are counted too (a separate pass, fresh keys):
  fewer, because the keys memoise recurring values.
* Exact tokens only: the same files, exact tokens (no field encodings, no
  Bloom filters) and the same durable store, in person records per second.
* End to end with workers (``accord node ingest --workers N``, one per CPU):
  the same load with mapping and encoding in N worker processes. Reported
  beside the single-process figure, not judged: the floor is one core's.

Rounds interleave them, each with a fresh store and fresh keys.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hmac
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from accord.errors import InvalidArgument
from accord.synthetic import generate
from benchmarks.stats import median, rounded, verdict
from node.encodings import prepare_record
from node.ingest.mapping import Mapping
from node.ingest.reader import read_records
from node.loader import Workers, ingest_file
from node.records import Record
from node.store import NodeStore, Prepared
from node.tokens import TokenKeys, record_tokens

SECRET = bytes(range(32))
AGREEMENT = "local-pilot"


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def raw_hmac_per_second(seconds: float = 0.5) -> float:
    key = SECRET
    messages = [f"value-{i:08d}".encode() for i in range(1000)]
    done = 0
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        for m in messages:
            hmac.digest(key, m, "sha256")
        done += len(messages)
    return done / (time.perf_counter() - t0)


def _records(sources: list[tuple[Mapping, Path]]) -> Iterator[tuple[Record, str]]:
    for mapping, path in sources:
        for result in read_records(mapping, path):
            if result.record is not None:
                yield result.record, mapping.default_region


def hashes_per_record(sources: list[tuple[Mapping, Path]]) -> tuple[float, float]:
    """(keyed hashes computed, distinct index tokens) per record, with fresh keys."""
    calls = 0
    real_digest, real_new = hmac.digest, hmac.new

    def digest(*args: Any, **kwargs: Any) -> bytes:
        nonlocal calls
        calls += 1
        return real_digest(*args, **kwargs)

    def new(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        return real_new(*args, **kwargs)

    keys = TokenKeys(SECRET, AGREEMENT)  # derived before counting: key derivation is once
    records = tokens = 0
    hmac.digest, hmac.new = digest, new  # type: ignore[assignment]
    try:
        for record, region in _records(sources):
            with contextlib.suppress(InvalidArgument):
                prepared = prepare_record(record, keys, region)
                records += 1
                tokens += len(prepared.tokens)
    finally:
        hmac.digest, hmac.new = real_digest, real_new  # type: ignore[assignment]
    return calls / max(records, 1), tokens / max(records, 1)


def end_to_end(root: Path, sources: list[tuple[Mapping, Path]], n: int,
               workers: Workers | None = None) -> tuple[int, float]:
    name = f"ingest-{n}.db" if workers is None else f"ingest-workers-{n}.db"
    store = NodeStore.open(f"sqlite:///{root / name}")
    keys = TokenKeys(SECRET, AGREEMENT)
    rows = 0
    try:
        t0 = time.perf_counter()
        for mapping, path in sources:
            rows += ingest_file(store, mapping, path, [keys], now(), workers=workers).rows
        return rows, time.perf_counter() - t0
    finally:
        store.close()


def exact_only(root: Path, sources: list[tuple[Mapping, Path]], n: int) -> tuple[int, float]:
    store = NodeStore.open(f"sqlite:///{root / f'exact-{n}.db'}")
    keys = TokenKeys(SECRET, AGREEMENT)
    persons = 0
    batch: list[Prepared] = []
    try:
        t0 = time.perf_counter()
        for record, region in _records(sources):
            with contextlib.suppress(InvalidArgument):
                batch.append(Prepared(record, record_tokens(record, keys, region)))
                persons += len(record.people)
            if len(batch) >= 1000:
                store.upsert(batch, now())
                batch = []
        store.upsert(batch, now())
        return persons, time.perf_counter() - t0
    finally:
        store.close()


def run(root: Path, *, records_per_source: int, rounds: int) -> dict[str, Any]:
    dataset = generate(root / "data", records_per_source=records_per_source,
                       people=max(400, records_per_source))
    sources = [(Mapping.load(s.mapping), s.path) for s in dataset.sources]
    per_record, tokens = hashes_per_record(sources)
    e2e, floor, exact, ratios, parallel = [], [], [], [], []
    rows = persons = 0
    count = max(2, os.cpu_count() or 1)
    # The workers' keys are the ones each end_to_end run makes (same secret
    # and agreement); the pool is started, and warmed, once.
    with Workers(count, [TokenKeys(SECRET, AGREEMENT)]) as pool:
        end_to_end(root, sources[:1], -1, pool)
        for n in range(rounds):
            hashes = raw_hmac_per_second()
            rows, seconds = end_to_end(root, sources, n)
            persons, exact_seconds = exact_only(root, sources, n)
            workers_rows, workers_seconds = end_to_end(root, sources, n, pool)
            e2e.append(rows / seconds)
            floor.append(hashes / tokens)
            exact.append(persons / exact_seconds)
            ratios.append((rows / seconds) / (hashes / tokens))
            parallel.append(workers_rows / workers_seconds)
    return {
        "rows": rows, "files": len(sources), "rounds": rounds,
        "index_tokens_per_record": rounded(tokens, 1),
        "keyed_hashes_computed_per_record": rounded(per_record, 1),
        "end_to_end": {"value": round(median(e2e)), "unit": "records/s",
                       "baseline": round(median(floor)),
                       "raw_hmac_per_second": round(raw_hmac_per_second()),
                       **verdict(median(ratios), 0.15, at_most=False)},
        "end_to_end_workers": {"value": round(median(parallel)), "unit": "records/s",
                               "workers": count,
                               "ratio": rounded(median(parallel) / median(floor), 3),
                               "speedup": rounded(median(parallel) / median(e2e), 2)},
        "exact_only": {"value": round(median(exact)), "unit": "person records/s",
                       "persons": persons, "target": ">= 20000",
                       "met": median(exact) >= 20000},
    }
