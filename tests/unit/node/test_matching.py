"""The node's side of a match request: validation of encodings, scoring of candidates."""

from __future__ import annotations

import datetime as dt

import pytest

from accord.errors import InvalidArgument
from accord.tokens import FILTER_BYTES, MAX_FILTERS_PER_QUERY
from accord.v1 import common_pb2, node_pb2
from node.encodings import Profile, encode_query, prepare_record
from node.matching import MatchQuery, score_candidates
from node.records import Person, Record, RecordType, Role
from node.store import Match
from node.tokens import Kind, Query, TokenKeys

KEYS = TokenKeys(bytes(range(32)), "pilot")


def request(**changes: object) -> node_pb2.MatchTokensRequest:
    encoded = encode_query(Query(name="Jasmine Ramirez", dob="1999-04-03"), KEYS, "US")
    fields: dict[str, object] = {
        "search_id": "s1", "requesting_agency": "lakeside_so", "purpose": "p", "agreement": "pilot",
        "tokens": [t.to_proto() for t in encoded.tokens],
        "filters": [common_pb2.BloomFilter(kind=int(k), bits=b) for k, b in encoded.filters],
    }
    fields.update(changes)
    return node_pb2.MatchTokensRequest(**fields)  # type: ignore[arg-type]


def test_query_splits_lookups_from_field_encodings() -> None:
    query = MatchQuery.from_proto(request(), 50)
    assert {t.kind for t in query.lookup_tokens} == {Kind.NAME, Kind.NAME_DOB, Kind.BLOCKING_KEY}
    profile = query.profile
    assert Kind.GIVEN_PHONETIC in profile.tokens
    assert set(profile.filters) == {Kind.GIVEN_NAME, Kind.FAMILY_NAME}


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ([common_pb2.BloomFilter(kind=Kind.GIVEN_NAME, bits=bytes(FILTER_BYTES))]
         * (MAX_FILTERS_PER_QUERY + 1), "MatchTokensRequest.filters: 9 filters"),
        ([common_pb2.BloomFilter(kind=Kind.GIVEN_NAME, bits=bytes(FILTER_BYTES + 1))],
         "MatchTokensRequest.filters[0].bits: 129 bytes"),
        ([common_pb2.BloomFilter(kind=Kind.DOB, bits=bytes(FILTER_BYTES))],
         "MatchTokensRequest.filters[0].kind: got 14"),
    ],
)
def test_bad_filters_are_refused(filters: list[common_pb2.BloomFilter], message: str) -> None:
    with pytest.raises(InvalidArgument) as info:
        MatchQuery.from_proto(request(filters=filters), 50)
    assert info.value.message.startswith(message)


@pytest.mark.parametrize(("changes", "message"), [
    ({"search_id": "a b"}, "MatchTokensRequest.search_id: got 'a b', want a search id"),
    ({"requesting_agency": "Lakeside SO"},
     "MatchTokensRequest.requesting_agency: got 'Lakeside SO', want an agency id"),
    # Only "empty" was refused before: any other text went into the policy input.
    ({"purpose": ""}, "MatchTokensRequest.purpose: got '', want a purpose id"),
    ({"purpose": "Human Trafficking\n"},
     "MatchTokensRequest.purpose: got 'Human Trafficking\\n', want a purpose id"),
    ({"agreement": "../pilot"}, "MatchTokensRequest.agreement: got '../pilot', want an agreement id"),
])
def test_a_malformed_request_names_the_field_and_the_value(changes: dict[str, object],
                                                          message: str) -> None:
    with pytest.raises(InvalidArgument) as info:
        MatchQuery.from_proto(request(**changes), 50)
    assert info.value.message.startswith(message), info.value.message


def candidate(record_id: int, name: str, dob: dt.date | None, kinds: set[Kind]) -> Match:
    record = Record(source="s", source_id=str(record_id), record_type=RecordType.ARREST,
                    occurred_on=dt.date(2026, 1, record_id),
                    people=(Person(role=Role.SUSPECT, name=name, dobs=(dob,) if dob else ()),))
    prepared = prepare_record(record, KEYS, "US")
    return Match(record_id, RecordType.ARREST, record.occurred_on, frozenset(), frozenset(kinds),
                 tuple((p.person, p.profile) for p in prepared.profiles))


def test_candidates_below_the_threshold_are_dropped_and_the_rest_ranked() -> None:
    query = MatchQuery.from_proto(request(), 50).profile
    found = score_candidates(query, [
        candidate(1, "Pedro Ramirez", dt.date(1971, 8, 30), {Kind.BLOCKING_KEY}),
        candidate(2, "Jazmín Ramírez", dt.date(1999, 3, 4), {Kind.BLOCKING_KEY}),
        candidate(3, "Jasmine Ramirez", dt.date(1999, 4, 3),
                  {Kind.NAME, Kind.NAME_DOB, Kind.BLOCKING_KEY}),
    ])
    assert [s.match.record_id for s in found] == [3, 2]
    assert found[0].strength == common_pb2.MATCH_STRENGTH_STRONG
    assert found[0].exact_kinds == [Kind.NAME, Kind.NAME_DOB]
    assert found[1].exact_kinds == []
    assert {a.kind for a in found[1].comparison.to_proto()} == {
        Kind.GIVEN_NAME, Kind.FAMILY_NAME, Kind.DOB}


def test_a_profile_from_no_encodings_is_empty() -> None:
    assert Profile.from_query([], []) == Profile()
