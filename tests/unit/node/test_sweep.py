"""The node's side of a sweep: request validation, and which identifiers it pivots on."""

from __future__ import annotations

import datetime as dt

import pytest

from accord.errors import InvalidArgument
from accord.v1 import common_pb2, node_pb2
from node.records import Person, Record, RecordType, Role, Vehicle
from node.sweep import MAX_PIVOT_HANDLES, PivotQuery, SweepQuery, pivot_values
from node.tokens import Kind

HANDLE = "ptr_" + "A" * 24


def pivot_request(**overrides: object) -> node_pb2.PivotRequest:
    fields: dict[str, object] = {"search_id": "s1", "requesting_agency": "lakeside_so",
                                 "purpose": "human_trafficking", "agreement": "local-pilot",
                                 "handles": [HANDLE]}
    fields.update(overrides)
    return node_pb2.PivotRequest(**fields)  # type: ignore[arg-type]


def sweep_request(*tokens: common_pb2.Token) -> node_pb2.SweepTokensRequest:
    return node_pb2.SweepTokensRequest(search_id="s1", requesting_agency="lakeside_so",
                                       purpose="human_trafficking", agreement="local-pilot",
                                       tokens=list(tokens))


def test_a_pivot_request_is_parsed_with_duplicates_dropped() -> None:
    query = PivotQuery.from_proto(pivot_request(handles=[HANDLE, HANDLE], max_tokens=500))
    assert query.handles == (HANDLE,)
    assert query.max_tokens == 128  # capped at a query's token limit


@pytest.mark.parametrize(("overrides", "message"), [
    ({"handles": []}, "PivotRequest.handles: 0 handles, want 1 to 100"),
    ({"handles": [HANDLE] * (MAX_PIVOT_HANDLES + 1)}, "PivotRequest.handles: 101 handles"),
    ({"handles": ["ptr_short"]}, "PivotRequest.handles[0]: malformed"),
    ({"search_id": "a b"}, "PivotRequest.search_id: got 'a b', want a search id"),
    ({"requesting_agency": "Lakeside"},
     "PivotRequest.requesting_agency: got 'Lakeside', want an agency id like 'rivertown_pd'"),
    ({"purpose": ""}, "PivotRequest.purpose: got '', want a purpose id"),
    ({"purpose": "9.x-y"}, "PivotRequest.purpose: got '9.x-y', want a purpose id"),
    ({"agreement": "../x"}, "PivotRequest.agreement: got '../x'"),
])
def test_a_malformed_pivot_request_is_named(overrides: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidArgument, match=message.replace("[", r"\[").replace("(", r"\(")):
        PivotQuery.from_proto(pivot_request(**overrides))


def test_a_sweep_lookup_takes_only_identifiers_a_sweep_follows() -> None:
    phone = common_pb2.Token(kind=common_pb2.IDENTIFIER_KIND_PHONE, value=bytes(32))
    query = SweepQuery.from_proto(sweep_request(phone), default_max=50)
    assert [t.kind for t in query.tokens] == [Kind.PHONE]
    assert query.max_pointers == 50

    surname = common_pb2.Token(kind=common_pb2.IDENTIFIER_KIND_FAMILY_NAME, value=bytes(32))
    with pytest.raises(InvalidArgument, match=r"tokens\[1\].kind: got 10, want an identifier"):
        SweepQuery.from_proto(sweep_request(phone, surname), default_max=50)
    short = common_pb2.Token(kind=common_pb2.IDENTIFIER_KIND_PHONE, value=bytes(31))
    with pytest.raises(InvalidArgument, match=r"tokens\[0\].value: 31 bytes, want 32"):
        SweepQuery.from_proto(sweep_request(short), default_max=50)
    with pytest.raises(InvalidArgument, match=r"SweepTokensRequest\.tokens: 0 tokens"):
        SweepQuery.from_proto(sweep_request(), default_max=50)


def call() -> dict[str, object]:
    return Record(
        source="cad", source_id="CAD-1", record_type=RecordType.CAD_CALL,
        occurred_on=dt.date(2026, 9, 14),
        people=(
            Person(role=Role.VICTIM, name="Jazmin Ramirez", dobs=(dt.date(1999, 3, 4),),
                   phones=("(503) 555-0142",), emails=("jr@example.org",)),
            Person(role=Role.SUSPECT, name="Marcus Dell", dobs=(dt.date(1986, 11, 21),),
                   phones=("503-555-0199",), addresses=("88 Water St, Harbor City, OR",)),
        ),
        vehicles=(Vehicle(plate="7KDX214", plate_state="OR"),),
    ).to_dict()


def test_pivot_values_are_the_listed_kinds_of_everyone_in_the_record() -> None:
    values = set(pivot_values(call(), frozenset({Kind.PHONE, Kind.PLATE, Kind.NAME_DOB}), [],
                              "US"))
    assert values == {
        (Kind.PHONE, "+15035550142"), (Kind.PHONE, "+15035550199"), (Kind.PLATE, "OR:7KDX214"),
        (Kind.NAME_DOB, "jazmin ramirez|1999-03-04"), (Kind.NAME_DOB, "marcus dell|1986-11-21"),
    }


def test_pivot_values_leave_out_what_a_release_would_withhold() -> None:
    rules = [(("phones", "emails", "addresses"), ("victim",))]
    values = set(pivot_values(call(), frozenset({Kind.PHONE, Kind.EMAIL, Kind.ADDRESS}), rules,
                              "US"))
    assert values == {(Kind.PHONE, "+15035550199"),
                      (Kind.ADDRESS, next(v for k, v in values if k is Kind.ADDRESS))}
    assert (Kind.EMAIL, "jr@example.org") not in values


def test_a_person_left_with_nothing_is_skipped_not_an_error() -> None:
    # Withholding every identifying field of everyone leaves only the vehicle.
    rules = [(("name", "aliases", "nicknames", "dobs", "phones", "emails", "addresses"), ())]
    values = set(pivot_values(call(), frozenset(Kind), rules, "US"))
    assert values == {(Kind.PLATE, "OR:7KDX214")}
