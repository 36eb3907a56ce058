"""Federated search end to end: real hub, four real nodes, mTLS on loopback."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
from pathlib import Path

import grpc
import pytest

from accord.errors import RemoteError
from accord.v1 import common_pb2, hub_pb2
from hub.audit import AuditLog
from node.records import Person, Record, RecordType, Role, Vehicle
from tests.integration.conftest import LiveFederation, start_federation

STRONG = common_pb2.MATCH_STRENGTH_STRONG
PROBABLE = common_pb2.MATCH_STRENGTH_PROBABLE
OK = hub_pb2.NODE_STATUS_CODE_OK


def cad_call(source_id: str = "CAD-2026-004211", *, phone: str = "(503) 555-0142",
             labels: frozenset[str] = frozenset()) -> Record:
    return Record(
        source="rivertown_cad",
        source_id=source_id,
        record_type=RecordType.CAD_CALL,
        occurred_on=dt.date(2026, 9, 14),
        summary="Caller reports a young woman at the Starlite Motel",
        labels=labels,
        people=(
            Person(role=Role.OTHER, name="RAMÍREZ, JAZMIN", nicknames=("Jazzy",),
                   dobs=(dt.date(1999, 3, 4),), phones=(phone,)),
        ),
    )


def tip() -> Record:
    return Record(
        source="tips",
        source_id="TIP-88213",
        record_type=RecordType.HOTLINE_TIP,
        occurred_on=dt.date(2026, 10, 2),
        people=(Person(role=Role.VICTIM, name="Jazzy", phones=("503.555.0142",)),),
    )


def harbor_interview() -> Record:
    return Record(
        source="harbor_rms",
        source_id="HPD-77",
        record_type=RecordType.RMS_INCIDENT,
        occurred_on=dt.date(2026, 8, 1),
        people=(Person(role=Role.SUSPECT, name="Marcus Dell", phones=("503-555-0142",)),),
        vehicles=(Vehicle(plate="7KDX214", plate_state="OR"),),
    )


def statuses(response: object) -> dict[str, int]:
    return {n.agency: n.code for n in response.result.nodes}  # type: ignore[attr-defined]


def audit_docs(live: LiveFederation) -> list[dict[str, object]]:
    return [e.doc for e in live.hub.audit.entries()]


async def test_name_and_dob_finds_another_agencys_call(federation: LiveFederation) -> None:
    federation.ingest("rivertown_pd", [cad_call()])
    federation.ingest("tip_hotline", [tip()])

    response = await federation.search("lakeside_so", name="Jazmin Ramirez", dob="03/04/1999")

    pointers = list(response.result.pointers)
    assert len(pointers) == 1
    hit = pointers[0]
    assert (hit.agency, hit.record_type, hit.coarse_date) == ("rivertown_pd", "cad_call", "2026-09")
    assert set(hit.matched) == {common_pb2.IDENTIFIER_KIND_NAME, common_pb2.IDENTIFIER_KIND_NAME_DOB}
    assert hit.strength == STRONG
    assert hit.handle.startswith("ptr_") and "CAD-2026" not in hit.handle
    # Every other member was asked and answered; the investigator's own agency was not asked.
    assert statuses(response) == {"rivertown_pd": OK, "harbor_pd": OK, "tip_hotline": OK}
    assert response.result.nodes[0].pointers + response.result.nodes[1].pointers \
        + response.result.nodes[2].pointers == 1


async def test_phone_search_ranks_and_reaches_three_agencies(federation: LiveFederation) -> None:
    federation.ingest("rivertown_pd", [cad_call()])
    federation.ingest("tip_hotline", [tip()])
    federation.ingest("harbor_pd", [harbor_interview()])

    response = await federation.search("lakeside_so", phone="+1 503 555 0142",
                                       plate="OR:7KDX214")

    got = [(p.agency, p.strength) for p in response.result.pointers]
    # Harbor matched on phone and plate (strong) so it ranks first.
    assert got[0] == ("harbor_pd", STRONG)
    assert sorted(got[1:]) == [("rivertown_pd", PROBABLE), ("tip_hotline", PROBABLE)]


async def test_no_hit_returns_no_pointers_and_every_status(federation: LiveFederation) -> None:
    federation.ingest("rivertown_pd", [cad_call()])

    response = await federation.search("lakeside_so", name="Nobody Known", dob="1980-01-01")

    assert list(response.result.pointers) == []
    assert statuses(response) == {"rivertown_pd": OK, "harbor_pd": OK, "tip_hotline": OK}


async def test_search_is_audited_before_it_returns(federation: LiveFederation) -> None:
    federation.ingest("rivertown_pd", [cad_call()])

    response = await federation.search("lakeside_so", case="LS-2026-0117",
                                       name="Jazmin Ramirez", dob="1999-03-04")

    docs = audit_docs(federation)
    entry = docs[response.result.audit_seq - 1]
    assert entry["seq"] == response.result.audit_seq
    assert entry["event"] == "search"
    assert entry["actor"] == "det.test"
    assert entry["agency"] == "lakeside_so"
    assert entry["case"] == "LS-2026-0117"
    assert entry["purpose"] == "human_trafficking"
    details = entry["details"]
    assert isinstance(details, dict)
    assert details["search_id"] == response.result.search_id
    assert details["pointers"] == 1
    assert details["nodes"]["rivertown_pd"]["status"] == "ok"
    assert len(details["token_digest"]) == 64


async def test_sealed_records_are_never_pointed_to(federation: LiveFederation) -> None:
    federation.ingest("rivertown_pd", [cad_call(labels=frozenset({"sealed"}))])

    response = await federation.search("lakeside_so", name="Jazmin Ramirez", dob="1999-03-04")

    assert list(response.result.pointers) == []


async def test_reingest_updates_without_duplicates(federation: LiveFederation) -> None:
    first = federation.ingest("rivertown_pd", [cad_call()])
    again = federation.ingest("rivertown_pd", [cad_call()])
    changed = federation.ingest("rivertown_pd", [cad_call(phone="(503) 555-0199")])

    assert (first.loaded, again.unchanged, changed.updated) == (1, 1, 1)
    assert federation.nodes["rivertown_pd"].store.count_records() == 1
    old = await federation.search("lakeside_so", phone="503-555-0142")
    new = await federation.search("lakeside_so", phone="503-555-0199")
    assert list(old.result.pointers) == []  # the old phone's token went with the update
    assert [p.agency for p in new.result.pointers] == ["rivertown_pd"]


async def test_a_node_that_is_down_leaves_partial_results(tmp_path: Path) -> None:
    live = await start_federation(tmp_path / "fed", down=("harbor_pd",), fanout_timeout=2.0)
    try:
        live.ingest("rivertown_pd", [cad_call()])
        started = time.monotonic()
        response = await live.search("lakeside_so", name="Jazmin Ramirez", dob="1999-03-04")
        elapsed = time.monotonic() - started
    finally:
        for node in live.nodes.values():
            await node.stop(0)
        await live.hub.stop(0)

    assert [p.agency for p in response.result.pointers] == ["rivertown_pd"]
    got = statuses(response)
    assert got["harbor_pd"] == hub_pb2.NODE_STATUS_CODE_UNAVAILABLE
    assert got["rivertown_pd"] == got["tip_hotline"] == OK
    assert elapsed < 2.0 + 1.0




async def test_a_silent_node_times_out_within_the_deadline(tmp_path: Path, blackhole: str) -> None:
    live = await start_federation(tmp_path / "fed", down=("harbor_pd",),
                                  endpoint_overrides={"harbor_pd": blackhole},
                                  fanout_timeout=1.0)
    try:
        live.ingest("rivertown_pd", [cad_call()])
        started = time.monotonic()
        response = await live.search("lakeside_so", name="Jazmin Ramirez", dob="1999-03-04")
        elapsed = time.monotonic() - started
    finally:
        for node in live.nodes.values():
            await node.stop(0)
        await live.hub.stop(0)

    got = statuses(response)
    assert got["harbor_pd"] == hub_pb2.NODE_STATUS_CODE_TIMED_OUT
    assert [p.agency for p in response.result.pointers] == ["rivertown_pd"]
    assert elapsed < 1.0 + 1.5


async def test_bad_query_is_rejected_with_the_field_named(federation: LiveFederation) -> None:
    with pytest.raises(RemoteError) as info:
        await federation.search("lakeside_so", phone="12")
    assert info.value.status == grpc.StatusCode.INVALID_ARGUMENT
    assert "phone" in info.value.message

    with pytest.raises(RemoteError) as info:
        await federation.search("lakeside_so", purpose="Curiosity!", phone="503-555-0142")
    assert info.value.status == grpc.StatusCode.INVALID_ARGUMENT
    assert info.value.message.startswith("SearchRequest.purpose: got 'Curiosity!'")


async def test_concurrent_searches_each_get_their_own_audit_entry(
    federation: LiveFederation,
) -> None:
    federation.ingest("rivertown_pd", [cad_call()])

    responses = await asyncio.gather(*(
        federation.search("lakeside_so", case=f"CASE-{i}", phone="503-555-0142")
        for i in range(8)
    ))

    seqs = sorted(r.result.audit_seq for r in responses)
    assert seqs == list(range(seqs[0], seqs[0] + 8))
    docs = audit_docs(federation)
    assert [d["seq"] for d in docs] == list(range(1, len(docs) + 1))
    assert sorted(json.dumps(d["case"]) for d in docs if d["event"] == "search") == sorted(
        json.dumps(f"CASE-{i}") for i in range(8)
    )
    assert isinstance(federation.hub.audit, AuditLog)


async def test_searches_fail_closed_when_the_audit_log_cannot_be_written(
    federation: LiveFederation,
) -> None:
    from sqlalchemy import text

    federation.ingest("rivertown_pd", [cad_call()])
    with federation.hub.audit.engine.begin() as conn:
        conn.execute(text("ALTER TABLE audit_entries RENAME TO audit_entries_gone"))

    with pytest.raises(RemoteError) as info:
        await federation.search("lakeside_so", phone="503-555-0142")

    assert info.value.status == grpc.StatusCode.UNAVAILABLE
    assert info.value.message == "audit log unavailable; action refused"
