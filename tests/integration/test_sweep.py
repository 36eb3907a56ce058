"""Second-level sweeps end to end: real hub, four real nodes, mTLS on loopback.

The records: rivertown_pd's call names Jazmin and gives her phone; the
hotline's tip has only that phone; harbor_pd's incident and field interview
name Marcus Dell with the same phone and a plate; rivertown_pd's RMS has the
plate once more, with nobody else from the story in it.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

import grpc
import pytest
import yaml

from accord.cli.federation import default_template
from accord.errors import RemoteError
from accord.rpc import call, channel_options
from accord.v1 import common_pb2, hub_pb2, node_pb2, node_pb2_grpc
from node.records import Person, Record, RecordType, Role, Vehicle
from node.store import Prepared
from node.tokens import record_tokens
from tests.conftest import NOW
from tests.integration.conftest import LiveFederation, start_federation, stop_federation
from tests.integration.test_operations import scrape, value
from tests.integration.test_release import CASE, gateway
from tests.integration.test_search import cad_call, tip

PHONE = common_pb2.IDENTIFIER_KIND_PHONE
PLATE = common_pb2.IDENTIFIER_KIND_PLATE
NAME_DOB = common_pb2.IDENTIFIER_KIND_NAME_DOB
JAZMIN = {"name": "Jazmin Ramirez", "dob": "1999-03-04"}


def harbor_incident() -> Record:
    return Record(
        source="harbor_rms", source_id="HPD-26-031877", record_type=RecordType.RMS_INCIDENT,
        occurred_on=dt.date(2026, 9, 16),
        people=(Person(role=Role.SUSPECT, name="Dell, Marcus", dobs=(dt.date(1986, 11, 21),),
                       phones=("503-555-0142",)),),
        vehicles=(Vehicle(plate="7KDX214", plate_state="OR"),),
    )


def harbor_interview() -> Record:
    return Record(
        source="harbor_fi", source_id="HFI-260419", record_type=RecordType.FIELD_INTERVIEW,
        occurred_on=dt.date(2026, 10, 2),
        people=(Person(role=Role.OTHER, given="Marcus", family="Dell",
                       dobs=(dt.date(1986, 11, 21),), phones=("+15035550142",)),),
        vehicles=(Vehicle(plate="7KDX214", plate_state="OR"),),
    )


def rivertown_plate_stop() -> Record:
    """Only the plate links this one: three hops from Jazmin's name."""
    return Record(
        source="rivertown_rms", source_id="RT26-004400", record_type=RecordType.RMS_INCIDENT,
        occurred_on=dt.date(2026, 10, 20),
        people=(Person(role=Role.WITNESS, name="Ana Souza", phones=("(971) 555-0199",)),),
        vehicles=(Vehicle(plate="7KDX214", plate_state="OR"),),
    )


def load_story(live: LiveFederation) -> None:
    live.ingest("rivertown_pd", [cad_call(), rivertown_plate_stop()])
    live.ingest("tip_hotline", [tip()])
    live.ingest("harbor_pd", [harbor_incident(), harbor_interview()])


def agreement_with(tmp_path: Path, edit: Any) -> Path:
    """The demo agreement, edited; key paths stay relative to the template's folder."""
    doc = yaml.safe_load(default_template().read_text())
    edit(doc)
    path = default_template().parent / f".test-{tmp_path.name}.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


@pytest.fixture
async def deep(tmp_path: Path) -> Any:
    """A federation whose agreement allows sweeps three levels deep."""
    path = agreement_with(tmp_path, lambda d: d.update(sweeps={"max_depth": 3}))
    try:
        live = await start_federation(tmp_path / "fed", template=path)
    finally:
        path.unlink()
    try:
        yield live
    finally:
        await stop_federation(live)


def linked_by_source(live: LiveFederation, response: node_pb2.LocalSearchResponse
                     ) -> dict[str, common_pb2.LinkedPointer]:
    """Each linked pointer, keyed by the source id of the record behind it (read at its node)."""
    out = {}
    for lp in response.result.linked:
        node = live.nodes[lp.pointer.agency]
        row = node.store.pointer(lp.pointer.handle)
        body, _ = node.store.record_by_id(row.record_id)
        out[body["source_id"]] = lp
    return out


async def test_a_sweep_follows_the_phone_in_a_matched_call(federation: LiveFederation) -> None:
    load_story(federation)

    response = await federation.search("lakeside_so", case=CASE, depth=2, **JAZMIN)

    [first] = response.result.pointers
    assert (first.agency, first.record_type) == ("rivertown_pd", "cad_call")
    linked = linked_by_source(federation, response)
    # Her phone, from the call, leads to the tip and both of harbor_pd's records
    # (and to nothing the call's own search found again).
    assert set(linked) == {"TIP-88213", "HPD-26-031877", "HFI-260419"}
    for lp in linked.values():
        assert lp.depth == 2
        assert [(p.via_pointer, p.via_agency, p.kind) for p in lp.paths] == [
            (first.handle, "rivertown_pd", PHONE)]
        assert list(lp.pointer.matched) == [PHONE]
    assert linked["HFI-260419"].pointer.record_type == "field_interview"
    # Depth 2 stops there: the plate in harbor_pd's records is not followed.
    assert "RT26-004400" not in linked
    metrics = await asyncio.to_thread(scrape, federation.hub_config.metrics_listen)
    assert value(metrics, "accord_linked_pointers_total") == 3
    statuses = {(n.agency, n.detail) for n in response.result.sweep_nodes}
    assert ("rivertown_pd", "level 2 pivot") in statuses
    assert ("harbor_pd", "level 2 lookup") in statuses


async def test_without_depth_there_is_no_sweep(federation: LiveFederation) -> None:
    load_story(federation)

    response = await federation.search("lakeside_so", case=CASE, **JAZMIN)

    assert len(response.result.pointers) == 1
    assert list(response.result.linked) == []
    assert list(response.result.sweep_nodes) == []
    search = [e.doc for e in federation.hub.audit.entries() if e.doc["event"] == "search"][-1]
    assert search["details"]["depth"] == 1
    assert not [e for e in federation.hub.audit.entries() if e.doc["event"] == "sweep"]


async def test_deeper_than_the_agreement_allows_is_denied_and_audited(
    federation: LiveFederation,
) -> None:
    load_story(federation)

    with pytest.raises(RemoteError) as denied:
        await federation.search("lakeside_so", case=CASE, depth=3, **JAZMIN)

    assert denied.value.status.name == "PERMISSION_DENIED"
    assert "depth 3 is deeper than agreement 'local-pilot' allows (2)" in denied.value.message
    last = list(federation.hub.audit.entries())[-1].doc
    assert (last["event"], last["reasons"]) == ("search_denied", ["depth_exceeds_agreement"])


async def test_a_depth_beyond_any_agreement_is_malformed(federation: LiveFederation) -> None:
    with pytest.raises(RemoteError) as refused:
        await federation.search("lakeside_so", case=CASE, depth=7, **JAZMIN)

    assert refused.value.status.name == "INVALID_ARGUMENT"
    assert "SearchRequest.depth: got 7, want 1 to 3" in refused.value.message


async def test_three_levels_follow_the_plate_and_end_cycles(deep: LiveFederation) -> None:
    load_story(deep)

    response = await deep.search("lakeside_so", case=CASE, depth=3, **JAZMIN)

    linked = linked_by_source(deep, response)
    # Level 3: the plate in both harbor_pd records leads to rivertown_pd's stop.
    assert set(linked) == {"TIP-88213", "HPD-26-031877", "HFI-260419", "RT26-004400"}
    stop = linked["RT26-004400"]
    assert stop.depth == 3
    harbor = {linked[s].pointer.handle for s in ("HPD-26-031877", "HFI-260419")}
    assert {p.via_pointer for p in stop.paths} == harbor
    assert {(p.via_agency, p.kind) for p in stop.paths} == {("harbor_pd", PLATE)}
    # Every record is pointed to once, whichever way it was reached again: the
    # harbor records share the phone and the plate with each other and with
    # the call, and Marcus's name and birth date (harbor_pd pivots on people).
    handles = [p.handle for p in response.result.pointers] + [
        lp.pointer.handle for lp in response.result.linked]
    assert len(handles) == len(set(handles)) == 5
    levels = [e.doc["details"] for e in deep.hub.audit.entries() if e.doc["event"] == "sweep"]
    assert [lvl["level"] for lvl in levels] == [2, 3]
    # Level 3 asked only for tokens not used before: the phone (a cycle back
    # to level 2) is dropped; the plate and Marcus's name and date are new.
    assert levels[1]["token_kinds"] == ["IDENTIFIER_KIND_NAME_DOB", "IDENTIFIER_KIND_PLATE"]
    assert levels[1]["dropped_tokens"] == 1


async def test_a_node_pivots_only_on_what_its_agreement_lists(tmp_path: Path) -> None:
    # rivertown_pd may be swept only on emails: its call's phone is not followed.
    path = agreement_with(tmp_path, lambda d: d["members"]["rivertown_pd"].update(
        pivot_on=["email"]))
    try:
        live = await start_federation(tmp_path / "fed", template=path)
    finally:
        path.unlink()
    try:
        load_story(live)
        response = await live.search("lakeside_so", case=CASE, depth=2, **JAZMIN)
        assert len(response.result.pointers) == 1
        assert list(response.result.linked) == []
        [level] = [e.doc["details"] for e in live.hub.audit.entries()
                   if e.doc["event"] == "sweep"]
        assert (level["tokens"], level["pivots"]) == (0, {"rivertown_pd": "ok"})
    finally:
        await stop_federation(live)


async def test_a_sweep_never_follows_what_a_release_would_withhold(
    federation: LiveFederation,
) -> None:
    # The same call, but she is recorded as a victim: the agreement withholds
    # victims' phones from releases outside victim services, so no sweep
    # follows hers either.
    victim_call = dataclasses.replace(cad_call(), people=(
        Person(role=Role.VICTIM, name="RAMÍREZ, JAZMIN", dobs=(dt.date(1999, 3, 4),),
               phones=("(503) 555-0142",)),))
    federation.ingest("rivertown_pd", [victim_call])
    federation.ingest("harbor_pd", [harbor_incident()])

    response = await federation.search("lakeside_so", case=CASE, depth=2, **JAZMIN)

    assert len(response.result.pointers) == 1
    assert list(response.result.linked) == []


async def test_a_linked_pointer_can_be_released_like_any_other(
    federation: LiveFederation,
) -> None:
    load_story(federation)
    response = await federation.search("lakeside_so", case=CASE, depth=2, **JAZMIN)
    interview = linked_by_source(federation, response)["HFI-260419"].pointer

    requested = await gateway(federation, "lakeside_so", "LocalRequestRelease",
                              node_pb2.LocalRequestReleaseRequest(
                                  pointer=interview.handle, case_number=CASE,
                                  purpose="human_trafficking",
                                  justification="the phone in the CAD call"))
    fetched = await gateway(federation, "lakeside_so", "LocalFetchRelease",
                            hub_pb2.FetchReleaseRequest(
                                release_id=requested.release.release_id))  # type: ignore[attr-defined]

    assert '"HFI-260419"' in fetched.record_json  # type: ignore[attr-defined]
    # Another investigator of the same agency did not receive it and cannot ask.
    with pytest.raises(RemoteError):
        await gateway(federation, "lakeside_so", "LocalRequestRelease",
                      node_pb2.LocalRequestReleaseRequest(
                          pointer=interview.handle, case_number=CASE,
                          purpose="human_trafficking", justification="curious"),
                      token=federation.token("lakeside_so", sub="det.other"))


async def test_a_node_pivots_only_on_its_own_pointers_from_that_search(
    federation: LiveFederation,
) -> None:
    load_story(federation)
    response = await federation.search("lakeside_so", case=CASE, **JAZMIN)
    [cad] = response.result.pointers
    endpoint = federation.node_configs["rivertown_pd"].listen
    # Asked as the hub asks, with the hub's own certificate.
    credentials = federation.hub_config.tls.channel_credentials()

    async with grpc.aio.secure_channel(endpoint, credentials,
                                       options=channel_options()) as channel:
        stub = node_pb2_grpc.NodeServiceStub(channel)

        async def pivot(search_id: str, agency: str) -> int:
            answer = await call(stub.Pivot, node_pb2.PivotRequest(
                search_id=search_id, requesting_agency=agency, purpose="human_trafficking",
                agreement="local-pilot", handles=[cad.handle]), timeout=10)
            return len(answer.tokens)

        assert await pivot(response.result.search_id, "lakeside_so") > 0
        # The same handle under another search, or for another agency: nothing.
        assert await pivot("0" * 32, "lakeside_so") == 0
        assert await pivot(response.result.search_id, "harbor_pd") == 0


async def test_a_sweep_reads_a_records_phones_in_the_region_it_was_ingested_in(
    federation: LiveFederation,
) -> None:
    # A Mexican source writes its phones without the country code; its mapping
    # says MX. The pivot used to read them in the node's own region (US), so
    # the phone it followed was not the one the record was indexed under.
    local = dataclasses.replace(cad_call(phone="55 1234 5678"), phone_region="MX")
    config = federation.node_configs["rivertown_pd"]
    federation.nodes["rivertown_pd"].store.upsert(
        [Prepared(local, record_tokens(local, config.keyring().all(), "MX"))], NOW)
    federation.ingest("tip_hotline", [dataclasses.replace(tip(), people=(
        Person(role=Role.VICTIM, name="Jazzy", phones=("+52 55 1234 5678",)),))])

    response = await federation.search("lakeside_so", case=CASE, depth=2, **JAZMIN)

    assert [p.agency for p in response.result.pointers] == ["rivertown_pd"]
    assert set(linked_by_source(federation, response)) == {"TIP-88213"}
