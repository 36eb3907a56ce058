"""Loading a source file into the node: read through a mapping, encode, store.

Rows stream from :func:`node.ingest.reader.read_records`; each good row is
encoded (exact tokens, blocking keys and per-person profiles, see
:mod:`node.encodings`) and stored in batches (one transaction per batch), each bad row is
reported with its line number and reason and skipped. Nothing aborts silently:
the report counts loaded, updated, unchanged and rejected rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from accord.errors import InvalidArgument
from node.encodings import prepare_record
from node.ingest.mapping import Mapping
from node.ingest.reader import read_records
from node.store import NodeStore, Prepared, UpsertCounts
from node.tokens import TokenKeys

#: How many rejected rows a report keeps verbatim (all are counted).
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
        }


def _prepared_rows(
    mapping: Mapping, path: Path, keys: Sequence[TokenKeys], region: str,
    report: IngestReport,
) -> Iterator[Prepared]:
    for result in read_records(mapping, path):
        report.rows += 1
        if result.record is None:
            report.reject(result.row_number, result.error or "unreadable row")
            continue
        try:
            prepared = prepare_record(result.record, keys, region)
        except InvalidArgument as exc:
            report.reject(result.row_number, f"line {result.row_number}: {exc.message}")
            continue
        yield prepared


def ingest_file(
    store: NodeStore,
    mapping: Mapping,
    path: Path,
    keys: TokenKeys | Sequence[TokenKeys],
    now: dt.datetime,
    *,
    batch_size: int = 1000,
    progress: Callable[[int], None] | None = None,
) -> IngestReport:
    """Ingest one file; ``progress`` is called with the number of rows just read."""
    report = IngestReport(source=mapping.source, path=path)
    batch: list[Prepared] = []
    seen = 0

    def flush() -> None:
        nonlocal seen
        report.counts = report.counts + store.upsert(batch, now)
        batch.clear()
        if progress is not None:
            progress(report.rows - seen)
        seen = report.rows

    keysets = (keys,) if isinstance(keys, TokenKeys) else tuple(keys)
    for prepared in _prepared_rows(mapping, path, keysets, mapping.default_region, report):
        batch.append(prepared)
        if len(batch) >= batch_size:
            flush()
    flush()
    return report
