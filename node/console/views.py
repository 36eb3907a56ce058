"""Protos and audit entries turned into what the console's templates show."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from accord.explain import explain
from accord.v1 import common_pb2, hub_pb2, node_pb2

STRENGTHS = {
    common_pb2.MATCH_STRENGTH_STRONG: "strong",
    common_pb2.MATCH_STRENGTH_PROBABLE: "probable",
    common_pb2.MATCH_STRENGTH_POSSIBLE: "possible",
}
STATES = {
    common_pb2.RELEASE_STATE_PENDING_APPROVAL: "pending_approval",
    common_pb2.RELEASE_STATE_GRANTED: "granted",
    common_pb2.RELEASE_STATE_DENIED: "denied",
    common_pb2.RELEASE_STATE_DELIVERED: "delivered",
    common_pb2.RELEASE_STATE_FAILED: "failed",
}


def kind_name(kind: int) -> str:
    return str(common_pb2.IdentifierKind.Name(kind)).removeprefix("IDENTIFIER_KIND_").lower()


def status_name(code: int) -> str:
    return str(hub_pb2.NodeStatusCode.Name(code)).removeprefix("NODE_STATUS_CODE_").lower()


def pointer_view(p: common_pb2.MatchPointer) -> dict[str, Any]:
    return {
        "handle": p.handle, "agency": p.agency, "record_type": p.record_type,
        "month": p.coarse_date, "strength": STRENGTHS.get(p.strength, "unknown"),
        "matched": [kind_name(k) for k in p.matched], "why": explain(p),
    }


def _node_view(n: hub_pb2.NodeStatus) -> dict[str, Any]:
    return {"agency": n.agency, "status": status_name(n.code), "pointers": n.pointers,
            "latency_ms": n.latency_ms, "detail": n.detail}


def search_view(resp: node_pb2.LocalSearchResponse) -> dict[str, Any]:
    """Pointers grouped by agency, the sweep's linked pointers as a small graph, statuses."""
    r = resp.result
    pointers = [pointer_view(p) for p in r.pointers]
    by_agency: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for p in pointers:
        by_agency[p["agency"]].append(p)
    # Number the first-level pointers so a linked pointer can say where it came from.
    labels = {p["handle"]: f"{p['agency']} {p['record_type']} {p['month']}".strip()
              for p in pointers}
    linked = []
    for link in r.linked:
        view = pointer_view(link.pointer)
        labels.setdefault(view["handle"], f"{view['agency']} {view['record_type']} "
                                          f"{view['month']}".strip())
        view["depth"] = link.depth
        view["paths"] = [{"from": labels.get(path.via_pointer, path.via_agency),
                          "via_agency": path.via_agency, "kind": kind_name(path.kind)}
                         for path in link.paths]
        linked.append(view)
    return {
        "search_id": r.search_id, "audit_seq": r.audit_seq,
        "sent_kinds": [kind_name(k) for k in resp.sent_kinds],
        "count": len(pointers),
        "groups": sorted(by_agency.items()),
        "linked": linked,
        "notices": [{"agency": n.agency, "name": n.agency_name or n.agency, "contact": n.contact,
                     "searched_at": n.searched_at, "kinds": [kind_name(k) for k in n.kinds]}
                    for n in r.notices],
        "nodes": [_node_view(n) for n in r.nodes],
        "sweep_nodes": [_node_view(n) for n in r.sweep_nodes],
    }


def release_view(r: common_pb2.Release) -> dict[str, Any]:
    return {
        "release_id": r.release_id, "state": STATES.get(r.state, "unknown"),
        "pointer": r.pointer, "owner": r.owner, "record_type": r.record_type,
        "requester": r.requester, "requester_agency": r.requester_agency,
        "purpose": r.purpose, "case": r.case_number, "justification": r.justification,
        "agreement": r.agreement, "reasons": list(r.reasons), "requested_at": r.requested_at,
        "decided_by": r.decided_by, "decision_reason": r.decision_reason,
        "audit_seq": r.audit_seq,
    }


PERSON_FIELDS = ("role", "name", "given", "family", "aliases", "nicknames", "dobs", "phones",
                 "emails", "addresses")


def record_view(record_json: str, withheld: list[str]) -> dict[str, Any]:
    """A released record as rows of (field, value, withheld?), people and vehicles apart."""
    record: dict[str, Any] = json.loads(record_json) if record_json else {}
    marked = set(withheld)

    def show(value: Any) -> str:
        if isinstance(value, list):
            return ", ".join(show(v) for v in value)
        if isinstance(value, dict):
            return ", ".join(f"{k}: {show(v)}" for k, v in sorted(value.items()))
        return "" if value is None else str(value)

    fields = [(k, show(v), k in marked) for k, v in sorted(record.items())
              if k not in ("people", "vehicles")]
    people = []
    for i, person in enumerate(record.get("people", [])):
        rows = []
        for k in PERSON_FIELDS:
            if k in person:
                field_withheld = f"people[{i}].{k}" in marked or (
                    k in ("given", "family") and f"people[{i}].name" in marked)
                rows.append((k, show(person[k]), field_withheld))
        people.append(rows)
    vehicles = [[(k, show(v), False) for k, v in sorted(vehicle.items())]
                for vehicle in record.get("vehicles", [])]
    return {"fields": fields, "people": people, "vehicles": vehicles, "withheld": withheld}


def counts_view(resp: hub_pb2.AggregateCountsResponse) -> dict[str, Any]:
    def table(cells: Any, key: str) -> list[tuple[str, int]]:
        return [(getattr(c, key), int(c.count)) for c in cells]

    return {
        "agreement": resp.agreement, "min_cell": resp.min_cell,
        "suppressed_cells": resp.suppressed_cells, "audit_seq": resp.audit_seq,
        "by_record_type": table(resp.by_record_type, "record_type"),
        "by_agency": table(resp.by_agency, "agency"),
        "by_month": table(resp.by_month, "month"),
        "by_county": table(resp.by_county, "county"),
        "nodes": [{"agency": n.agency, "status": status_name(n.code), "detail": n.detail}
                  for n in resp.nodes],
    }
