"""Protos turned into plain dicts, for the command line's JSON and the web console."""

from __future__ import annotations

from typing import Any

from accord.explain import agreement_dicts, explain
from accord.v1 import common_pb2, hub_pb2, node_pb2

STRENGTH_NAMES = {
    common_pb2.MATCH_STRENGTH_STRONG: "strong",
    common_pb2.MATCH_STRENGTH_PROBABLE: "probable",
    common_pb2.MATCH_STRENGTH_POSSIBLE: "possible",
}


def kind_name(kind: int) -> str:
    name = str(common_pb2.IdentifierKind.Name(kind))
    return name.removeprefix("IDENTIFIER_KIND_").lower()


def status_name(code: int) -> str:
    name = str(hub_pb2.NodeStatusCode.Name(code))
    return name.removeprefix("NODE_STATUS_CODE_").lower()


def pointer_to_dict(p: common_pb2.MatchPointer) -> dict[str, Any]:
    return {
        "handle": p.handle,
        "agency": p.agency,
        "record_type": p.record_type,
        "month": p.coarse_date,
        "strength": STRENGTH_NAMES.get(p.strength, "unknown"),
        "matched": [kind_name(k) for k in p.matched],
        "why": explain(p),
        "agreements": agreement_dicts(p),
    }


def notice_to_dict(n: common_pb2.DeconflictionNotice) -> dict[str, Any]:
    return {"agency": n.agency, "agency_name": n.agency_name, "contact": n.contact,
            "searched_at": n.searched_at, "kinds": [kind_name(k) for k in n.kinds]}


def node_status_to_dict(n: hub_pb2.NodeStatus) -> dict[str, Any]:
    return {"agency": n.agency, "status": status_name(n.code), "pointers": n.pointers,
            "latency_ms": n.latency_ms, "detail": n.detail}


def search_to_dict(resp: node_pb2.LocalSearchResponse) -> dict[str, Any]:
    r = resp.result
    return {
        "search_id": r.search_id,
        "audit_seq": r.audit_seq,
        "sent_kinds": [kind_name(k) for k in resp.sent_kinds],
        "pointers": [pointer_to_dict(p) for p in r.pointers],
        "nodes": [node_status_to_dict(n) for n in r.nodes],
        "linked": [
            {**pointer_to_dict(lp.pointer), "depth": lp.depth,
             "via": [{"pointer": path.via_pointer, "agency": path.via_agency,
                      "kind": kind_name(path.kind)} for path in lp.paths]}
            for lp in r.linked
        ],
        "sweep_nodes": [node_status_to_dict(n) for n in r.sweep_nodes],
        "notices": [notice_to_dict(n) for n in r.notices],
    }


STATE_NAMES = {
    common_pb2.RELEASE_STATE_PENDING_APPROVAL: "pending_approval",
    common_pb2.RELEASE_STATE_GRANTED: "granted",
    common_pb2.RELEASE_STATE_DENIED: "denied",
    common_pb2.RELEASE_STATE_DELIVERED: "delivered",
    common_pb2.RELEASE_STATE_FAILED: "failed",
}


def release_to_dict(r: common_pb2.Release) -> dict[str, Any]:
    return {
        "release_id": r.release_id, "state": STATE_NAMES.get(r.state, "unknown"),
        "pointer": r.pointer, "owner": r.owner, "record_type": r.record_type,
        "requester": r.requester, "requester_agency": r.requester_agency,
        "purpose": r.purpose, "case": r.case_number, "justification": r.justification,
        "agreement": r.agreement, "reasons": list(r.reasons), "requested_at": r.requested_at,
        "decided_by": r.decided_by, "decision_reason": r.decision_reason,
        "audit_seq": r.audit_seq, "requester_revoked": r.requester_revoked,
    }


WATCH_STATES = {hub_pb2.WATCH_STATE_ACTIVE: "active", hub_pb2.WATCH_STATE_EXPIRED: "expired",
                hub_pb2.WATCH_STATE_REMOVED: "removed", hub_pb2.WATCH_STATE_ENDED: "ended"}


def watch_to_dict(w: hub_pb2.Watch) -> dict[str, Any]:
    return {"watch_id": w.watch_id, "state": WATCH_STATES.get(w.state, "unknown"),
            "case_number": w.case_number, "purpose": w.purpose, "agreement": w.agreement,
            "label": w.label, "kinds": [kind_name(k) for k in w.kinds],
            "created_at": w.created_at, "expires_at": w.expires_at,
            "last_checked_at": w.last_checked_at, "notifications": w.notifications,
            "audit_seq": w.audit_seq, "ended_reasons": list(w.ended_reasons)}


def notification_to_dict(n: hub_pb2.Notification) -> dict[str, Any]:
    data: dict[str, Any] = {"notification_id": n.notification_id, "created_at": n.created_at,
                            "case_number": n.case_number, "audit_seq": n.audit_seq}
    if n.kind == hub_pb2.NOTIFICATION_KIND_WATCH_MATCH:
        data.update(kind="watch_match", watch_id=n.watch_id, pointer=pointer_to_dict(n.pointer))
    else:
        data.update(kind="deconfliction", deconfliction=notice_to_dict(n.deconfliction))
    return data
