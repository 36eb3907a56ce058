"""Protos and audit entries turned into what the console's templates show."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from accord.v1 import common_pb2, hub_pb2, node_pb2
from accord.views import (
    kind_name,
    node_status_to_dict,
    pointer_to_dict,
    release_to_dict,
    status_name,
)


def pointer_view(p: common_pb2.MatchPointer) -> dict[str, Any]:
    return pointer_to_dict(p)


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
        "nodes": [node_status_to_dict(n) for n in r.nodes],
        "sweep_nodes": [node_status_to_dict(n) for n in r.sweep_nodes],
    }


def release_view(r: common_pb2.Release) -> dict[str, Any]:
    return release_to_dict(r)


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
