"""Record counts for the federation dashboard, suppressed before they leave the node.

The hub asks (``NodeService.CountRecords``) with the record types and labels the
scope policy allows for the requesting agency; the node adds its own local
rules, counts its records by (record type, month, county) and drops every cell
counting fewer than :data:`MIN_CELL` records. A suppressed cell's count never
leaves this module: the answer says only how many cells were withheld.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import select

from accord.errors import InvalidArgument
from accord.v1 import common_pb2, node_pb2
from node.store import NodeStore, records

#: The smallest count ever released (the usual small-cell rule for public
#: statistics: cells of 1-10 can identify people).
MIN_CELL = 11
#: The county of a record without a jurisdiction.
UNKNOWN_COUNTY = "unknown"

Cell = tuple[str, str, str]  # record_type, month (YYYY-MM), county


@dataclass(frozen=True, slots=True)
class CountQuery:
    """What the hub may count here: record types and labels from the scope policy."""

    requesting_agency: str
    record_types: frozenset[str]
    exclude_labels: frozenset[str]
    min_cell: int

    @classmethod
    def from_proto(cls, req: node_pb2.CountRecordsRequest) -> CountQuery:
        if not req.requesting_agency:
            raise InvalidArgument("CountRecordsRequest.requesting_agency: empty")
        if len(req.record_types) > 64 or len(req.exclude_labels) > 64:
            raise InvalidArgument("CountRecordsRequest: at most 64 record types and 64 labels")
        # A lower threshold than ours is never honoured: fail towards suppression.
        return cls(req.requesting_agency, frozenset(req.record_types),
                   frozenset(req.exclude_labels) | {"sealed"}, max(req.min_cell, MIN_CELL))


@dataclass(frozen=True, slots=True)
class CountResult:
    cells: Mapping[Cell, int]
    suppressed_cells: int

    def to_proto(self) -> node_pb2.CountRecordsResponse:
        return node_pb2.CountRecordsResponse(
            cells=[common_pb2.CountCell(record_type=t, month=m, county=c, count=n)
                   for (t, m, c), n in sorted(self.cells.items())],
            suppressed_cells=self.suppressed_cells)


def suppress(counts: Mapping[Cell, int], min_cell: int = MIN_CELL) -> CountResult:
    """Keep the cells of at least ``min_cell`` records; count the others, never report them."""
    floor = max(min_cell, MIN_CELL)
    kept = {cell: n for cell, n in counts.items() if n >= floor}
    return CountResult(kept, len(counts) - len(kept))


def tally(rows: Iterable[tuple[str, dt.date, Iterable[str], str]], query: CountQuery,
          local_rules: Mapping[str, object]) -> Counter[Cell]:
    """Count (record_type, occurred_on, labels, jurisdiction) rows the query may see.

    The node's own rules only tighten: its excluded labels and withheld record
    types are left out whatever the agreement allows.
    """
    withheld = set(_strings(local_rules.get("record_types_withheld")))
    excluded = query.exclude_labels | set(_strings(local_rules.get("exclude_labels")))
    counts: Counter[Cell] = Counter()
    for record_type, occurred_on, labels, jurisdiction in rows:
        if record_type not in query.record_types or record_type in withheld:
            continue
        if excluded & set(labels):
            continue
        county = (jurisdiction or "").strip()[:64] or UNKNOWN_COUNTY
        counts[(record_type, occurred_on.strftime("%Y-%m"), county)] += 1
    return counts


def count_records(store: NodeStore, query: CountQuery,
                  local_rules: Mapping[str, object]) -> CountResult:
    """Count the store's records under ``query``, small cells suppressed."""
    def rows() -> Iterable[tuple[str, dt.date, Iterable[str], str]]:
        stmt = select(records.c.record_type, records.c.occurred_on, records.c.labels,
                      records.c.body)
        with store.engine.connect() as conn:
            for record_type, occurred_on, labels, body in conn.execute(stmt):
                jurisdiction = body.get("jurisdiction", "") if isinstance(body, dict) else ""
                yield record_type, occurred_on, labels or (), str(jurisdiction or "")

    return suppress(tally(rows(), query, local_rules), query.min_cell)


def _strings(value: object) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list | tuple) else []
