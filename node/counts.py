"""Record counts for the federation dashboard, suppressed before they leave the node.

The hub asks (``NodeService.CountRecords``) with the record types and labels the
scope policy allows for the requesting agency, and the agreement and purpose it
asks under; the node narrows that with its own pointer policy (exactly what a
search under them could point to: a hub's scope never widens it), adds its
own local rules and counts its records by record type, by month and by county (the
record's jurisdiction): three one-way tables and their total.

Suppression, per table: every cell of fewer than :data:`MIN_CELL` records is
withheld (primary suppression); then, since the table's total is published,
if the withheld cells add up to fewer than :data:`MIN_CELL` records the
smallest published cells are withheld too until they do (secondary
suppression), so subtracting the published cells from the total never reveals
a small number. A total below the threshold is withheld with all its cells.
Withheld counts never leave this module: the answer says only how many cells
were withheld.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from sqlalchemy import select

from accord.errors import InvalidArgument
from accord.ids import AGENCY, AGREEMENT, PURPOSE, check_id
from accord.v1 import common_pb2, node_pb2
from node.store import NodeStore, records

#: The smallest count ever released (the usual small-cell rule for public
#: statistics: cells of 1-10 can identify people).
MIN_CELL = 11
#: The county of a record without a jurisdiction.
UNKNOWN_COUNTY = "unknown"
#: The one-way tables, named by the CountCell field that labels their cells.
DIMENSIONS = ("record_type", "month", "county")


@dataclass(frozen=True, slots=True)
class CountQuery:
    """What the hub asks to count here: record types and labels from its scope policy.

    The node narrows it with its own pointer policy for ``agreement`` and
    ``purpose`` (:meth:`narrowed`) before counting: the hub's word alone
    never widens what is counted.
    """

    requesting_agency: str
    record_types: frozenset[str]
    exclude_labels: frozenset[str]
    min_cell: int
    agreement: str = ""
    purpose: str = ""

    @classmethod
    def from_proto(cls, req: node_pb2.CountRecordsRequest) -> CountQuery:
        check_id("CountRecordsRequest.requesting_agency", req.requesting_agency, AGENCY)
        check_id("CountRecordsRequest.agreement", req.agreement, AGREEMENT)
        check_id("CountRecordsRequest.purpose", req.purpose, PURPOSE)
        if len(req.record_types) > 64 or len(req.exclude_labels) > 64:
            raise InvalidArgument("CountRecordsRequest: at most 64 record types and 64 labels")
        # A lower threshold than ours is never honoured: fail towards suppression.
        return cls(req.requesting_agency, frozenset(req.record_types),
                   frozenset(req.exclude_labels) | {"sealed"}, max(req.min_cell, MIN_CELL),
                   req.agreement, req.purpose)

    def narrowed(self, pointer_decision: Mapping[str, object]) -> CountQuery:
        """Only what this node's own pointer policy lets it point to, as a search would."""
        allowed = frozenset(_strings(pointer_decision.get("record_types")))
        excluded = frozenset(_strings(pointer_decision.get("exclude_labels")))
        return replace(self, record_types=self.record_types & allowed,
                       exclude_labels=self.exclude_labels | excluded)


@dataclass(frozen=True, slots=True)
class Tally:
    """Raw counts: never sent anywhere before :func:`suppress`."""

    total: int
    tables: Mapping[str, Mapping[str, int]]


@dataclass(frozen=True, slots=True)
class CountResult:
    """What may leave the node: the total (0 if withheld) and the published cells."""

    total: int
    tables: Mapping[str, Mapping[str, int]]
    suppressed_cells: int

    def to_proto(self) -> node_pb2.CountRecordsResponse:
        cells = [common_pb2.CountCell(**{dimension: key}, count=n)
                 for dimension in DIMENSIONS
                 for key, n in sorted(self.tables.get(dimension, {}).items())]
        if self.total:
            cells.append(common_pb2.CountCell(count=self.total))  # no label: the total
        return node_pb2.CountRecordsResponse(cells=cells, suppressed_cells=self.suppressed_cells)


def suppress_table(cells: Mapping[str, int], floor: int) -> tuple[dict[str, int], int]:
    """Primary and secondary suppression of one table; (published cells, cells withheld)."""
    kept = {k: n for k, n in cells.items() if n >= floor}
    withheld = sum(n for k, n in cells.items() if k not in kept)
    # Secondary: the total minus the published cells must not be a small number.
    for key, n in sorted(kept.items(), key=lambda item: (item[1], item[0])):
        if withheld == 0 or withheld >= floor:
            break
        del kept[key]
        withheld += n
    return kept, len(cells) - len(kept)


def suppress(tally: Tally, min_cell: int = MIN_CELL) -> CountResult:
    """Everything of ``tally`` that may be published, with ``min_cell`` never below 11."""
    floor = max(min_cell, MIN_CELL)
    if tally.total < floor:
        withheld = sum(len(t) for t in tally.tables.values()) + (1 if tally.total else 0)
        return CountResult(0, {d: {} for d in DIMENSIONS}, withheld)
    tables, withheld = {}, 0
    for dimension in DIMENSIONS:
        tables[dimension], n = suppress_table(tally.tables.get(dimension, {}), floor)
        withheld += n
    return CountResult(tally.total, tables, withheld)


def tally(rows: Iterable[tuple[str, dt.date, Iterable[str], str]], query: CountQuery,
          local_rules: Mapping[str, object]) -> Tally:
    """Count (record_type, occurred_on, labels, jurisdiction) rows the query may see.

    The node's own rules only tighten: its excluded labels and withheld record
    types are left out whatever the agreement allows.
    """
    withheld = set(_strings(local_rules.get("record_types_withheld")))
    excluded = query.exclude_labels | set(_strings(local_rules.get("exclude_labels")))
    tables: dict[str, Counter[str]] = {d: Counter() for d in DIMENSIONS}
    total = 0
    for record_type, occurred_on, labels, jurisdiction in rows:
        if record_type not in query.record_types or record_type in withheld:
            continue
        if excluded & set(labels):
            continue
        total += 1
        tables["record_type"][record_type] += 1
        tables["month"][f"{occurred_on.year:04d}-{occurred_on.month:02d}"] += 1
        tables["county"][(jurisdiction or "").strip()[:64] or UNKNOWN_COUNTY] += 1
    return Tally(total, tables)


def count_records(store: NodeStore, query: CountQuery,
                  local_rules: Mapping[str, object]) -> CountResult:
    """Count the store's records under ``query``, small cells suppressed."""
    def rows() -> Iterable[tuple[str, dt.date, Iterable[str], str]]:
        # Only the body's jurisdiction, not the body; and streamed: psycopg
        # otherwise fetches the whole result before the first row (a node's
        # every record, in memory at once, on every dashboard refresh).
        stmt = select(records.c.record_type, records.c.occurred_on, records.c.labels,
                      records.c.body["jurisdiction"].as_string())
        with store.engine.connect() as conn:
            result = conn.execution_options(stream_results=True, yield_per=1000).execute(stmt)
            for record_type, occurred_on, labels, jurisdiction in result:
                yield record_type, occurred_on, labels or (), str(jurisdiction or "")

    return suppress(tally(rows(), query, local_rules), query.min_cell)


def _strings(value: object) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list | tuple) else []
