"""CountRecords: a node counts only what its own pointer policy lets it point to.

The hub's scope decides what it asks for; the node decides what it answers, as
MatchTokens, Pivot and SweepTokens do (T45). It used to count whatever record
types and labels the request named, for any requesting agency: a compromised
hub (or a scope policy bug) learnt counts the agreement withholds.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import replace

import grpc
import pytest

from accord.errors import RemoteError
from accord.v1 import node_pb2
from node.records import Person, Record, RecordType, Role
from tests.adversarial.conftest import Federation, running_federation
from tests.integration.test_search import cad_call

UNDER = {"agreement": "local-pilot", "purpose": "human_trafficking"}


@pytest.fixture(scope="module")
def fed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Federation]:
    for live in running_federation(tmp_path_factory.mktemp("counts") / "fed"):
        # rivertown_pd shares cad_call and rms_incident, never juvenile records,
        # and no arrests (deploy/agreements/local-pilot.yaml).
        live.live.ingest("rivertown_pd", [
            cad_call(f"CAD-N-{i:04d}", phone=f"503-555-3{i:03d}") for i in range(13)])
        live.live.ingest("rivertown_pd", [
            replace(cad_call(f"CAD-J-{i:04d}", phone=f"503-555-1{i:03d}"),
                    labels=frozenset({"juvenile"})) for i in range(15)])
        live.live.ingest("rivertown_pd", [
            Record(source="rivertown_rms", source_id=f"ARR-{i:04d}",
                   record_type=RecordType.ARREST, occurred_on=dt.date(2026, 9, 1),
                   people=(Person(role=Role.SUSPECT, name=f"Person {i}",
                                  phones=(f"503-555-2{i:03d}",)),))
            for i in range(15)])
        yield live


def count(fed: Federation, **fields: object) -> dict[str, int]:
    request = node_pb2.CountRecordsRequest(min_cell=11, **fields)  # type: ignore[arg-type]
    response = fed.node("CountRecords", request, agency="rivertown_pd")
    return {c.record_type: c.count for c in response.cells if c.record_type}


def test_a_hub_asking_for_more_than_the_node_shares_gets_what_it_shares(fed: Federation) -> None:
    honest = count(fed, requesting_agency="lakeside_so", **UNDER,
                   record_types=["cad_call", "rms_incident"],
                   exclude_labels=["juvenile", "sealed"])
    widened = count(fed, requesting_agency="lakeside_so", **UNDER,
                    record_types=["cad_call", "rms_incident", "arrest"], exclude_labels=[])
    assert honest == {"cad_call": 13}
    assert widened == honest  # no juvenile calls, no arrests


def test_a_node_counts_nothing_for_an_agency_its_policy_does_not_point_to(
        fed: Federation) -> None:
    for agency, fields in (("not_a_member", UNDER),
                           ("lakeside_so", {"agreement": "other-pact",
                                            "purpose": "human_trafficking"})):
        with pytest.raises(RemoteError) as refused:
            count(fed, requesting_agency=agency, record_types=["cad_call"], **fields)
        assert refused.value.status == grpc.StatusCode.PERMISSION_DENIED
        assert refused.value.message.startswith("rivertown_pd policy denies pointers: ")


def test_a_count_names_what_it_is_asked_under(fed: Federation) -> None:
    with pytest.raises(RemoteError) as refused:
        count(fed, requesting_agency="lakeside_so", record_types=["cad_call"])
    assert (refused.value.status, refused.value.message) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "CountRecordsRequest.agreement: got '', want an agreement id")
