"""Re-indexing a node's stored records under its current keys.

Used during a rotation of the federation secret: after a node is given the
new secret as ``federation_secret_rotation`` it indexes new records under
both secrets, and ``reindex`` brings the records it already holds to the same
state; after the old secret is dropped, ``reindex`` removes its tokens.

Each record's phones are read in the region they were ingested with (the
record's ``phone_region``, its mapping's ``default_region``), so unchanged keys
give unchanged tokens. Records stored before that region was kept have none,
and are read in the node's ``default_region``.

A record that cannot be tokenised again (a value its region cannot read) is
counted and reported, its index left as it was, and re-indexing goes on: one
such record must not stop a rotation for good.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from accord.errors import InvalidArgument
from node.config import NodeConfig
from node.encodings import prepare_record
from node.store import NodeStore, Prepared, UpsertCounts

BATCH = 500
#: How many failures a report keeps verbatim (all are counted).
MAX_KEPT_FAILURES = 1000


@dataclass(frozen=True, slots=True)
class ReindexFailure:
    """A stored record that could not be tokenised again, and why."""

    source: str
    source_id: str
    reason: str


@dataclass
class ReindexReport:
    """What a re-index did: records re-indexed, already current, and failed."""

    counts: UpsertCounts = field(default_factory=UpsertCounts)
    failed: int = 0
    failures: list[ReindexFailure] = field(default_factory=list)

    @property
    def updated(self) -> int:
        """Records whose tokens (or profiles) changed."""
        return self.counts.updated

    @property
    def unchanged(self) -> int:
        """Records already indexed as the current keys index them."""
        return self.counts.unchanged

    def fail(self, failure: ReindexFailure) -> None:
        self.failed += 1
        if len(self.failures) < MAX_KEPT_FAILURES:
            self.failures.append(failure)

    def to_dict(self) -> dict[str, object]:
        return {
            "updated": self.updated,
            "unchanged": self.unchanged,
            "failed": self.failed,
            "failures": [{"source": f.source, "source_id": f.source_id, "reason": f.reason}
                         for f in self.failures],
            "failures_not_listed": self.failed - len(self.failures),
        }


def reindex(config: NodeConfig, now: dt.datetime,
            progress: Callable[[int], None] | None = None) -> ReindexReport:
    """Re-tokenise every stored record under ``config``'s keys.

    ``progress`` is called with the number of records just handled (failed
    ones included).
    """
    keys = config.keyring().all()
    store = NodeStore.open(config.database_url, auto_migrate=config.auto_migrate)
    report = ReindexReport()
    try:
        batch: list[Prepared] = []
        handled = 0

        def flush() -> None:
            nonlocal handled
            report.counts = report.counts + store.upsert(batch, now)
            if progress:
                progress(handled)
            batch.clear()
            handled = 0

        for record in store.iter_records():
            handled += 1
            try:
                batch.append(prepare_record(record, keys,
                                            record.phone_region or config.default_region))
            except InvalidArgument as exc:
                report.fail(ReindexFailure(record.source, record.source_id, exc.message))
                continue
            if len(batch) >= BATCH:
                flush()
        flush()
    finally:
        store.close()
    return report
