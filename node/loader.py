"""Loading a source file into the node: read through a mapping, encode, store.

Rows stream from :func:`node.ingest.reader.open_rows`; each good row is
encoded (exact tokens, blocking keys and per-person profiles, see
:mod:`node.encodings`) and stored in batches (one transaction per batch), each bad row is
reported with its line number and reason and skipped. Nothing aborts silently:
the report counts loaded, updated, unchanged and rejected rows.
"""

from __future__ import annotations

import datetime as dt
import itertools
import multiprocessing
import signal
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from accord.errors import InvalidArgument, Unavailable
from node.encodings import prepare_record
from node.ingest.mapping import Mapping
from node.ingest.reader import RawRow, RowResult, RowSource, open_rows
from node.store import IndexRow, NodeStore, UpsertCounts
from node.tokens import Kind, TokenKeys

_T = TypeVar("_T")

#: How many rejected rows a report keeps verbatim (all are counted; the JSON
#: report says how many it does not list).
MAX_KEPT_REJECTIONS = 1000


@dataclass(frozen=True, slots=True)
class Rejection:
    line: int
    reason: str


@dataclass
class IngestReport:
    """What an ingest run did."""

    source: str
    path: Path
    rows: int = 0
    counts: UpsertCounts = field(default_factory=UpsertCounts)
    rejected: int = 0
    rejections: list[Rejection] = field(default_factory=list)

    def reject(self, line: int, reason: str) -> None:
        self.rejected += 1
        if len(self.rejections) < MAX_KEPT_REJECTIONS:
            self.rejections.append(Rejection(line, reason))

    def to_dict(self) -> dict[str, object]:
        return {
            "source": self.source,
            "file": str(self.path),
            "rows": self.rows,
            "loaded": self.counts.loaded,
            "updated": self.counts.updated,
            "unchanged": self.counts.unchanged,
            "rejected": self.rejected,
            "rejections": [{"line": r.line, "reason": r.reason} for r in self.rejections],
            "rejections_not_listed": self.rejected - len(self.rejections),
        }


#: One row's outcome: its line, and the row to store or why it was rejected.
Outcome = tuple[int, IndexRow | None, str | None]

#: Rows a worker is given at a time, and chunks in flight per worker: enough
#: to keep every worker busy while the writer commits, few enough to bound memory.
CHUNK_ROWS = 250
CHUNKS_IN_FLIGHT = 3


def _outcome(source: RowSource, keys: Sequence[TokenKeys], region: str,
             row: RawRow | RowResult) -> Outcome:
    result = row if isinstance(row, RowResult) else source.convert(row)
    line = result.row_number
    if result.record is None:
        return line, None, result.error or "unreadable row"
    try:
        return line, prepare_record(result.record, keys, region).row(), None
    except InvalidArgument as exc:
        return line, None, f"line {line}: {exc.message}"


def ingest_file(
    store: NodeStore,
    mapping: Mapping,
    path: Path,
    keys: TokenKeys | Sequence[TokenKeys],
    now: dt.datetime,
    *,
    batch_size: int = 1000,
    progress: Callable[[int], None] | None = None,
    workers: Workers | None = None,
) -> IngestReport:
    """Ingest one file; ``progress`` is called with the number of rows just read.

    With ``workers``, rows are mapped and encoded in its worker processes
    (which must hold the same ``keys``) while this process reads the file and
    writes; the report and the store are the same as without.
    """
    report = IngestReport(source=mapping.source, path=path)
    batch: list[IndexRow] = []
    seen = 0

    def flush() -> None:
        nonlocal seen
        report.counts = report.counts + store.upsert_rows(batch, now)
        batch.clear()
        if progress is not None:
            progress(report.rows - seen)
        seen = report.rows

    keysets = (keys,) if isinstance(keys, TokenKeys) else tuple(keys)
    source = open_rows(mapping, path)
    region = mapping.default_region
    outcomes: Iterable[Outcome]
    if workers is None:
        outcomes = (_outcome(source, keysets, region, row) for row in source.raw())
    elif workers.fingerprint != _fingerprint(keysets):
        raise InvalidArgument("workers: started with other token keys than this ingest's")
    else:
        outcomes = workers.outcomes(source)
    for line, row, error in outcomes:
        report.rows += 1
        if row is None:
            report.reject(line, error or "unreadable row")
            continue
        batch.append(row)
        if len(batch) >= batch_size:
            flush()
    flush()
    return report


class Workers:
    """Worker processes that map and encode rows for :func:`ingest_file`.

    Reading a file and writing the store stay in the calling process (both
    are sequential); mapping, normalising and encoding each row (most of the
    work with every encoding) is spread over the workers, chunk by chunk, and
    the outcomes come back in file order. Use as a context manager; one pool
    serves any number of files.
    """

    def __init__(self, count: int, keys: TokenKeys | Sequence[TokenKeys]) -> None:
        if count < 1:
            raise InvalidArgument(f"workers: got {count}, want at least 1")
        keysets = (keys,) if isinstance(keys, TokenKeys) else tuple(keys)
        self.count = count
        self.fingerprint = _fingerprint(keysets)
        # Spawned, not forked: a fork would copy the caller's threads' locks
        # (logging, database pools) in whatever state they are in.
        self._broken = False
        self._pool = ProcessPoolExecutor(
            count, mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker, initargs=(keysets,))

    def __enter__(self) -> Workers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._broken:
            # A worker died. Waiting for the pool can then hang for good (CPython
            # gh-94777: a worker killed while the call queue is being fed), as it
            # did here once in a few hundred runs: end the other workers instead.
            processes = list((getattr(self._pool, "_processes", None) or {}).values())
            self._pool.shutdown(wait=False, cancel_futures=True)
            for process in processes:
                process.terminate()
            for process in processes:
                process.join(timeout=5)
            return
        self._pool.shutdown(wait=True, cancel_futures=True)

    def outcomes(self, source: RowSource) -> Iterator[Outcome]:
        """The outcome of every row of ``source``, in file order."""
        pending: deque[Future[list[Outcome]]] = deque()
        try:
            for chunk in _batched(source.raw(), CHUNK_ROWS):
                pending.append(self._pool.submit(_encode_chunk, source, chunk))
                if len(pending) >= CHUNKS_IN_FLIGHT * self.count:
                    yield from pending.popleft().result()
            while pending:
                yield from pending.popleft().result()
        except BrokenProcessPool as exc:
            self._broken = True
            raise Unavailable(f"{source.path}: an ingest worker process died ({exc}); "
                              "rows committed before it are kept, run the ingest again") from exc
        finally:
            for future in pending:
                future.cancel()


def _fingerprint(keys: Sequence[TokenKeys]) -> tuple[tuple[str, str, bytes], ...]:
    """Which keys these are, without their bytes: each keyset's token of a fixed value."""
    return tuple((k.agreement, k.generation, k.token(Kind.NAME, "accord/v1 workers").value)
                 for k in keys)


def _batched(items: Iterable[_T], size: int) -> Iterator[tuple[_T, ...]]:
    """``itertools.batched`` (Python 3.12)."""
    iterator = iter(items)
    while chunk := tuple(itertools.islice(iterator, size)):
        yield chunk


#: In a worker process: the keys it encodes with.
_worker_keys: tuple[TokenKeys, ...] = ()


def _init_worker(keys: tuple[TokenKeys, ...]) -> None:
    global _worker_keys
    _worker_keys = keys
    # Ctrl-C reaches the whole process group. The parent, interrupted, stops
    # the load and shuts the pool down; a worker must not die of it first
    # (printing its traceback, and breaking the pool under the parent).
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _encode_chunk(source: RowSource, rows: Sequence[RawRow | RowResult]) -> list[Outcome]:
    region = source.mapping.default_region
    return [_outcome(source, _worker_keys, region, row) for row in rows]
