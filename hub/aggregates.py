"""Federation-wide record counts for the dashboard: decide, fan out, merge, suppress, audit.

The scope policy decides which member nodes, and which of their record types,
the requesting agency may count (the same decision that scopes a search). The
hub asks each node in scope concurrently under a deadline; each node answers
only cells of at least :data:`MIN_CELL` records. The hub drops any smaller cell
a node sends anyway (a misbehaving node must not publish through us), merges
the rest into marginal tables (by record type, agency, month and county) and
suppresses again before answering. The query is appended to the audit log
before the answer is returned.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from accord.errors import PermissionDenied, RemoteError
from accord.identity import ROLES, Principal
from accord.ids import AGREEMENT, PURPOSE, check_id
from accord.policy.engine import SCOPE, PolicyPoint
from accord.v1 import common_pb2, hub_pb2, node_pb2
from hub.audit import AuditEvent, AuditLog

#: The smallest count that leaves the hub (and, asked of the nodes, leaves a node).
MIN_CELL = 11
MAX_CELLS_PER_NODE = 20_000

NodeCounter = Callable[[str, node_pb2.CountRecordsRequest, float],
                       Awaitable[node_pb2.CountRecordsResponse]]


@dataclass(frozen=True, slots=True)
class AggregateQuery:
    agreement: str
    purpose: str

    @classmethod
    def from_proto(cls, req: hub_pb2.AggregateCountsRequest) -> AggregateQuery:
        return cls(check_id("AggregateCountsRequest.agreement", req.agreement, AGREEMENT),
                   check_id("AggregateCountsRequest.purpose", req.purpose, PURPOSE))


@dataclass(frozen=True, slots=True)
class NodeCounts:
    agency: str
    code: int
    cells: tuple[common_pb2.CountCell, ...]
    suppressed: int
    latency_ms: int
    detail: str = ""

    @property
    def status_name(self) -> str:
        return str(hub_pb2.NodeStatusCode.Name(self.code)).removeprefix("NODE_STATUS_CODE_").lower()


DIMENSIONS = ("record_type", "month", "county")


def _dimension(cell: common_pb2.CountCell) -> str | None:
    """Which table a node's cell belongs to ("" for the node's total), or None if malformed."""
    labelled = [d for d in DIMENSIONS if getattr(cell, d)]
    if cell.agency or len(labelled) > 1:
        return None
    return labelled[0] if labelled else ""


def merge(outcomes: Sequence[NodeCounts], min_cell: int = MIN_CELL
          ) -> tuple[dict[str, list[common_pb2.CountCell]], int]:
    """Tables by record type, agency, month and county from the nodes' published cells.

    A node's cells below ``min_cell`` are dropped before merging (never summed
    into a larger cell), so no published number depends on a withheld one; the
    agency table is each node's total. Returns the tables and how many cells
    were suppressed in all (the nodes' and ours).
    """
    floor = max(min_cell, MIN_CELL)
    suppressed = sum(o.suppressed for o in outcomes)
    tables: dict[str, Counter[str]] = {k: Counter() for k in ("record_type", "agency", "month",
                                                              "county")}
    for o in outcomes:
        for cell in o.cells:
            if cell.count < floor:
                suppressed += 1
                continue
            dimension = _dimension(cell)
            if dimension == "":
                tables["agency"][o.agency] += cell.count
            elif dimension is not None:
                tables[dimension][getattr(cell, dimension)] += cell.count
    result: dict[str, list[common_pb2.CountCell]] = {}
    for dimension, counter in tables.items():
        cells = []
        for key, count in sorted(counter.items()):
            if count < floor:  # cannot happen with every part >= floor; kept as a guard
                suppressed += 1
                continue
            cells.append(common_pb2.CountCell(**{dimension: key}, count=count))
        result[dimension] = cells
    return result, suppressed


class Aggregator:
    """Answers AggregateCounts: the hub's core for the dashboard, free of transport."""

    def __init__(self, *, members: Sequence[str], counter: NodeCounter, audit: AuditLog,
                 policy: PolicyPoint, timeout: float) -> None:
        self._members = tuple(members)
        self._counter = counter
        self._audit = audit
        self._policy = policy
        self._timeout = timeout

    def _event(self, principal: Principal, query: AggregateQuery, source: str, now: dt.datetime,
               outcome: str, reasons: tuple[str, ...] = (), **details: object) -> AuditEvent:
        return AuditEvent(
            event="aggregate_counts" if outcome == "ok" else "aggregate_denied", time=now,
            outcome=outcome, actor=principal.subject, agency=principal.agency,
            roles=tuple(sorted(principal.roles)), source=source, purpose=query.purpose,
            reasons=reasons, details={"agreement": query.agreement, **details})

    async def _scope(self, principal: Principal, query: AggregateQuery, source: str,
                     now: dt.datetime) -> dict[str, dict[str, list[str]]]:
        scope = await self._policy.decide(SCOPE, {
            "agreement": query.agreement, "purpose": query.purpose,
            "requesting_agency": principal.agency, "now": now.date().isoformat()})
        nodes = scope.result.get("nodes") if scope.allow else None
        if isinstance(nodes, dict):
            allowed = {a: {"record_types": list(v.get("record_types", [])),
                           "exclude_labels": list(v.get("exclude_labels", []))}
                       for a, v in nodes.items() if isinstance(v, dict) and a in self._members}
            if allowed:
                return allowed
        # Fail closed: no scope (unknown agreement, purpose not the requester's,
        # malformed policy answer) counts nothing, and says so in the log.
        reasons = tuple(scope.reasons) or ("out_of_scope",)
        await asyncio.to_thread(self._audit.append,
                                self._event(principal, query, source, now, "denied", reasons))
        raise PermissionDenied(f"aggregate counts denied under agreement {query.agreement!r} for "
                               f"purpose {query.purpose!r}: {', '.join(reasons)}", reasons=reasons)

    async def _ask(self, agency: str, scope: dict[str, list[str]], principal: Principal,
                   query: AggregateQuery) -> NodeCounts:
        started = time.perf_counter()

        def outcome(code: int, cells: tuple[common_pb2.CountCell, ...] = (), suppressed: int = 0,
                    detail: str = "") -> NodeCounts:
            return NodeCounts(agency, code, cells, suppressed,
                              int((time.perf_counter() - started) * 1000), detail)

        request = node_pb2.CountRecordsRequest(
            requesting_agency=principal.agency, record_types=sorted(scope["record_types"]),
            exclude_labels=sorted(scope["exclude_labels"]), min_cell=MIN_CELL,
            agreement=query.agreement, purpose=query.purpose)
        try:
            response = await asyncio.wait_for(self._counter(agency, request, self._timeout),
                                              self._timeout + 0.5)
        except RemoteError as exc:
            code = (hub_pb2.NODE_STATUS_CODE_UNAVAILABLE if exc.status.name == "UNAVAILABLE"
                    else hub_pb2.NODE_STATUS_CODE_ERROR)
            return outcome(code, detail=exc.status.name.lower())
        except TimeoutError:
            return outcome(hub_pb2.NODE_STATUS_CODE_TIMED_OUT, detail="deadline_exceeded")
        allowed = set(scope["record_types"]) | {""}
        if (len(response.cells) > MAX_CELLS_PER_NODE
                or any(_dimension(c) is None or c.record_type not in allowed
                       for c in response.cells)):
            # A node answering outside its scope is not believed at all.
            return outcome(hub_pb2.NODE_STATUS_CODE_ERROR, detail="bad answer")
        return outcome(hub_pb2.NODE_STATUS_CODE_OK, tuple(response.cells),
                       response.suppressed_cells)

    async def aggregate(self, principal: Principal, query: AggregateQuery, source: str,
                        now: dt.datetime) -> hub_pb2.AggregateCountsResponse:
        """Decide, fan out, merge, suppress, audit; the answer."""
        if not principal.roles & ROLES:
            # A verified token with no role is someone the agency gave no part.
            reasons = ("role_missing",)
            await asyncio.to_thread(self._audit.append, self._event(
                principal, query, source, now, "denied", reasons))
            raise PermissionDenied("aggregate counts need a role: one of "
                                   f"{', '.join(sorted(ROLES))}", reasons=reasons)
        scope = await self._scope(principal, query, source, now)
        outcomes = await asyncio.gather(*(self._ask(a, scope[a], principal, query)
                                          for a in sorted(scope)))
        tables, suppressed = merge(outcomes)
        released = sum(len(cells) for cells in tables.values())
        event = self._event(
            principal, query, source, now, "ok",
            nodes={o.agency: {"status": o.status_name, "cells": len(o.cells),
                              "suppressed_cells": o.suppressed, "latency_ms": o.latency_ms}
                   for o in outcomes},
            min_cell=MIN_CELL, released_cells=released, suppressed_cells=suppressed)
        seq = await asyncio.to_thread(self._audit.append, event)
        return hub_pb2.AggregateCountsResponse(
            by_record_type=tables["record_type"], by_agency=tables["agency"],
            by_month=tables["month"], by_county=tables["county"],
            nodes=[hub_pb2.NodeStatus(agency=o.agency, code=o.code,  # type: ignore[arg-type]
                                      latency_ms=o.latency_ms, detail=o.detail)
                   for o in outcomes],
            suppressed_cells=suppressed, min_cell=MIN_CELL, audit_seq=seq,
            agreement=query.agreement)
