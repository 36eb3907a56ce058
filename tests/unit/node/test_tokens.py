"""Keyed tokens: deterministic, domain-separated, useless without the key."""

from __future__ import annotations

import datetime as dt
import pickle

import pytest

from accord.errors import ConfigError, InvalidArgument
from node.records import Person, Record, RecordType, Role, Vehicle
from node.tokens import Kind, Query, TokenKeys, query_tokens, record_tokens

SECRET_A = bytes(range(32))
SECRET_B = bytes(range(1, 33))


def record() -> Record:
    return Record(
        source="cad", source_id="1", record_type=RecordType.CAD_CALL,
        occurred_on=dt.date(2026, 9, 14),
        people=(Person(role=Role.VICTIM, name="RAMÍREZ, JAZMIN", aliases=("Jasmine Ramirez",),
                       dobs=(dt.date(1999, 3, 4),), phones=("(503) 555-0142",),
                       emails=("Jazzy@Example.org",), addresses=("12 N. Main Street",)),),
        vehicles=(Vehicle(plate="7kdx-214", plate_state="Oregon", vin="1HGCM82633A004352"),),
    )


def test_same_identifier_gives_the_same_token_however_written() -> None:
    keys = TokenKeys(SECRET_A, "pilot")
    assert keys.token(Kind.PHONE, "+15035550142") == keys.token(Kind.PHONE, "+15035550142")
    q1 = query_tokens(Query(phone="503.555.0142"), keys, "US")
    q2 = query_tokens(Query(phone="+1 (503) 555-0142"), keys, "US")
    assert q1 == q2 and len(q1) == 1


def test_record_and_query_tokens_meet() -> None:
    keys = TokenKeys(SECRET_A, "pilot")
    indexed = record_tokens(record(), keys, "US")
    for query in (
        Query(name="Jazmin Ramirez", dob="03/04/1999"),
        Query(name="jasmine ramírez"),
        Query(phone="5035550142"),
        Query(email="jazzy@example.org"),
        Query(plate="OR:7KDX214"),
        Query(plate="7KDX214 OR"),
        Query(vin="1hgcm82633a004352"),
        Query(address="12 north main st"),
    ):
        assert set(query_tokens(query, keys, "US")) <= indexed, query
    kinds = {t.kind for t in indexed}
    # Every exact kind (the field kinds of approximate matching come from
    # node.encodings, not from record_tokens).
    assert kinds == {Kind.NAME, Kind.NAME_DOB, Kind.PHONE, Kind.EMAIL, Kind.PLATE, Kind.VIN,
                     Kind.ADDRESS}
    # two names (name and alias) x one dob, one each of the rest
    assert len(indexed) == 2 + 2 + 5


def test_kinds_are_domain_separated() -> None:
    keys = TokenKeys(SECRET_A, "pilot")
    values = {keys.token(kind, "same-string").value for kind in Kind}
    assert len(values) == len(Kind)


def test_two_federation_keys_share_nothing() -> None:
    a = record_tokens(record(), TokenKeys(SECRET_A, "pilot"), "US")
    b = record_tokens(record(), TokenKeys(SECRET_B, "pilot"), "US")
    assert {t.value for t in a}.isdisjoint({t.value for t in b})
    # Not even a shared byte string of length 4 anywhere: no structure carries over.
    grams_a = {t.value[i:i + 4] for t in a for i in range(29)}
    grams_b = {t.value[i:i + 4] for t in b for i in range(29)}
    assert grams_a.isdisjoint(grams_b)


def test_agreements_are_domain_separated() -> None:
    a = record_tokens(record(), TokenKeys(SECRET_A, "pilot"), "US")
    b = record_tokens(record(), TokenKeys(SECRET_A, "other"), "US")
    assert {t.value for t in a}.isdisjoint({t.value for t in b})


def test_tokens_are_32_bytes_and_not_the_plaintext() -> None:
    keys = TokenKeys(SECRET_A, "pilot")
    for token in record_tokens(record(), keys, "US"):
        assert len(token.value) == 32
        assert b"ramirez" not in token.value and b"503" not in token.value


def test_keys_pickle_without_their_memos_and_give_the_same_tokens() -> None:
    keys = TokenKeys(SECRET_A, "pilot")
    before = record_tokens(record(), keys, "US")
    copy = pickle.loads(pickle.dumps(keys))  # what an ingest worker is sent
    assert keys._memo and not copy._memo
    assert record_tokens(record(), copy, "US") == before
    assert (copy.agreement, copy.generation) == ("pilot", "")


def test_short_secret_is_refused() -> None:
    with pytest.raises(ConfigError, match="32"):
        TokenKeys(b"short", "pilot")


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (Query(), "query: empty"),
        (Query(dob="1999-03-04"), "dob: a date of birth is searched together with a name"),
        (Query(name="Ramirez"), "name: got 'Ramirez', want a given and a family name"),
        (Query(plate="7KDX214"), "plate: got '7KDX214', want the plate with its state"),
        (Query(phone="12"), "phone: got '12'"),
        (Query(name="Jazmin Ramirez", dob="13/45/1999"), "date: got '13/45/1999'"),
    ],
)
def test_bad_queries_name_the_field(query: Query, message: str) -> None:
    with pytest.raises(InvalidArgument) as info:
        query_tokens(query, TokenKeys(SECRET_A, "pilot"), "US")
    assert info.value.message.startswith(message)


def test_unnormalisable_record_value_names_person_and_field() -> None:
    bad = Record(source="s", source_id="1", record_type=RecordType.ARREST,
                 occurred_on=dt.date(2026, 1, 1),
                 people=(Person(role=Role.SUSPECT, name="A B"),
                         Person(role=Role.SUSPECT, name="C D", phones=("12",))))
    with pytest.raises(InvalidArgument) as info:
        record_tokens(bad, TokenKeys(SECRET_A, "pilot"), "US")
    assert info.value.message.startswith("people[1].phone: got '12'")
