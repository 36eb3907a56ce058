"""Error-tolerant keyed encodings: records and queries meet, keys separate everything."""

from __future__ import annotations

import datetime as dt

import pytest

from accord.errors import InvalidArgument
from accord.tokens import FILTER_BYTES, MAX_FILTERS_PER_QUERY, MAX_TOKENS_PER_QUERY
from node.bloom import dice
from node.encodings import (
    FIELD_KINDS,
    INDEX_KINDS,
    Profile,
    encode_person,
    encode_query,
    person_values,
    prepare_record,
)
from node.records import Person, Record, RecordType, Role, Vehicle
from node.tokens import BLOCKING_COMBINATIONS, Kind, Query, TokenKeys

SECRET_A = bytes(range(32))
SECRET_B = bytes(range(1, 33))


def jazmin(**changes: object) -> Person:
    fields: dict[str, object] = {
        "role": Role.VICTIM, "name": "RAMÍREZ, JAZMIN", "nicknames": ("Jazzy",),
        "dobs": (dt.date(1999, 3, 4),), "phones": ("(503) 555-0142",),
        "emails": ("jazzy@example.org",), "addresses": ("12 N. Main Street, Rivertown",),
    }
    fields.update(changes)
    return Person(**fields)  # type: ignore[arg-type]


def record(*people: Person) -> Record:
    return Record(source="cad", source_id="1", record_type=RecordType.CAD_CALL,
                  occurred_on=dt.date(2026, 9, 14), people=people or (jazmin(),),
                  vehicles=(Vehicle(plate="7KDX214", plate_state="OR"),))


def blocking(person: Person, keys: TokenKeys) -> set[bytes]:
    encoded = encode_person(person_values(person, "US"), keys)
    return {t.value for t in encoded.index if t.kind is Kind.BLOCKING_KEY}


@pytest.mark.parametrize(
    "variant",
    [
        jazmin(name="Jasmine Ramirez", dobs=(dt.date(1999, 4, 3),), phones=(), emails=()),
        jazmin(name="Jazmni Ramirez", phones=(), emails=(), addresses=()),
        jazmin(name="Ajzmin Ramirez", dobs=(), phones=(), emails=(), addresses=()),
        jazmin(name="Jazzy Ramirez", dobs=(), phones=(), emails=(), addresses=()),
        jazmin(name="Jazmin Ramires", dobs=(), phones=(), emails=(), addresses=()),
        jazmin(name="J Ramirez", dobs=(dt.date(1999, 3, 4),), phones=(), emails=()),
        jazmin(name="Jazmin Rmairez", dobs=(), phones=(), emails=(), addresses=()),
    ],
)
def test_misspelt_records_share_a_blocking_key(variant: Person) -> None:
    keys = TokenKeys(SECRET_A, "pilot")
    assert blocking(jazmin(), keys) & blocking(variant, keys)


def test_different_people_with_a_common_surname_share_no_blocking_key() -> None:
    keys = TokenKeys(SECRET_A, "pilot")
    other = Person(role=Role.WITNESS, name="Pedro Ramirez", dobs=(dt.date(1971, 8, 30),))
    assert not blocking(jazmin(), keys) & blocking(other, keys)


def test_prepared_record_has_index_tokens_and_a_profile_per_person() -> None:
    keys = TokenKeys(SECRET_A, "pilot")
    two = record(jazmin(), Person(role=Role.SUSPECT, name="Marcus Dell", phones=("503-555-0100",)))
    prepared = prepare_record(two, [keys, TokenKeys(SECRET_A, "other")], "US")
    assert {t.kind for t in prepared.tokens} <= INDEX_KINDS
    assert {Kind.NAME, Kind.NAME_DOB, Kind.PHONE, Kind.PLATE, Kind.BLOCKING_KEY} \
        <= {t.kind for t in prepared.tokens}
    assert sorted((p.person, p.agreement) for p in prepared.profiles) == [
        (0, "other"), (0, "pilot"), (1, "other"), (1, "pilot")]
    profile = Profile.from_bytes(prepared.profiles[0].profile)
    assert set(profile.tokens) <= FIELD_KINDS
    assert set(profile.filters) == {Kind.GIVEN_NAME, Kind.FAMILY_NAME, Kind.ADDRESS}


def test_profile_round_trips() -> None:
    encoded = encode_person(person_values(jazmin(), "US"), TokenKeys(SECRET_A, "pilot"))
    blob = encoded.profile.to_bytes()
    assert Profile.from_bytes(blob) == encoded.profile
    assert b"ramirez" not in blob and b"jazmin" not in blob and b"5035550142" not in blob


@pytest.mark.parametrize("blob", [b"\x09", b"\x09\x02" + bytes(20), b"\x7f\x01" + bytes(16),
                                  b"\x89\x01" + bytes(FILTER_BYTES - 1), b"\x8e\x01" + bytes(128)])
def test_malformed_profile_raises_our_error(blob: bytes) -> None:
    with pytest.raises(InvalidArgument, match="profile: malformed"):
        Profile.from_bytes(blob)


def test_query_meets_the_record_and_stays_within_bounds() -> None:
    keys = TokenKeys(SECRET_A, "pilot")
    indexed = prepare_record(record(), keys, "US").tokens
    encoded = encode_query(Query(name="Jasmine Ramirez", dob="04/03/1999", phone="503 555 0142",
                                 email="jazzy@example.org", address="12 north main st",
                                 plate="OR:7KDX214", vin="1HGCM82633A004352"), keys, "US")
    assert len(encoded.tokens) <= MAX_TOKENS_PER_QUERY
    assert len(encoded.filters) <= MAX_FILTERS_PER_QUERY
    assert all(len(bits) == FILTER_BYTES for _, bits in encoded.filters)
    lookups = {t for t in encoded.tokens if t.kind in INDEX_KINDS}
    assert {t.kind for t in lookups & indexed} >= {Kind.BLOCKING_KEY, Kind.PHONE, Kind.PLATE}


def test_a_query_with_many_nicknames_and_long_names_still_fits() -> None:
    encoded = encode_query(Query(name="Chris de la Cruz Ramirez-Garcia", dob="1999-03-04",
                                 phone="5035550142", email="c@example.org", address="1 Main St",
                                 plate="OR:7KDX214", vin="1HGCM82633A004352"),
                           TokenKeys(SECRET_A, "pilot"), "US")
    assert len(encoded.tokens) <= MAX_TOKENS_PER_QUERY


def test_two_federation_keys_share_nothing() -> None:
    """Tokens and Bloom filters of the same person under two secrets are unrelated."""
    values = person_values(jazmin(), "US")
    a = encode_person(values, TokenKeys(SECRET_A, "pilot"))
    b = encode_person(values, TokenKeys(SECRET_B, "pilot"))
    tokens_a = {t.value for t in a.index | a.field_tokens}
    tokens_b = {t.value for t in b.index | b.field_tokens}
    assert tokens_a.isdisjoint(tokens_b)
    grams_a = {v[i:i + 4] for v in tokens_a for i in range(29)}
    grams_b = {v[i:i + 4] for v in tokens_b for i in range(29)}
    assert grams_a.isdisjoint(grams_b)
    for kind in (Kind.GIVEN_NAME, Kind.FAMILY_NAME, Kind.ADDRESS):
        [fa] = a.profile.filters[kind]
        [fb] = b.profile.filters[kind]
        assert dice(fa, fa) == 1.0
        assert dice(fa, fb) < 0.62  # chance is about 0.5; the same name under one key is 1.0


def test_agreements_and_kinds_are_domain_separated() -> None:
    values = person_values(jazmin(), "US")
    a = encode_person(values, TokenKeys(SECRET_A, "pilot"))
    b = encode_person(values, TokenKeys(SECRET_A, "other"))
    assert {t.value for t in a.index | a.field_tokens}.isdisjoint(
        {t.value for t in b.index | b.field_tokens})
    # The given and the family name filter of the same string do not line up.
    keys = TokenKeys(SECRET_A, "pilot")
    given = keys.bloom(Kind.GIVEN_NAME).encode_int("jazmin")
    family = keys.bloom(Kind.FAMILY_NAME).encode_int("jazmin")
    assert dice(given, family) < 0.62
    # Two blocking combinations never share a token for the same string.
    assert keys.blocking_token("given_initial+family_phonetic", "j|RMRS") != \
        keys.blocking_token("given_phonetic+family_initial", "j|RMRS")


def test_unnormalisable_value_names_the_person_and_field() -> None:
    bad = record(jazmin(), Person(role=Role.SUSPECT, name="C D", phones=("12",)))
    with pytest.raises(InvalidArgument) as info:
        prepare_record(bad, TokenKeys(SECRET_A, "pilot"), "US")
    assert info.value.message.startswith("people[1].phone: got '12'")


def test_unknown_blocking_combination_and_filter_kind_are_refused() -> None:
    keys = TokenKeys(SECRET_A, "pilot")
    with pytest.raises(InvalidArgument, match="blocking key"):
        keys.blocking_token("surname_only", "x")
    with pytest.raises(InvalidArgument, match="bloom"):
        keys.bloom(Kind.PHONE)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        # given and family name swapped, nothing else (name letters in either order)
        (Person(role=Role.OTHER, given="Thomas", family="Paine"),
         Person(role=Role.OTHER, given="Paine", family="Thomas")),
        # swapped, a typo in one of them, and the birth date (either name with the date)
        (Person(role=Role.OTHER, given="Charlotte", family="Baynes", dobs=(dt.date(1922, 12, 30),)),
         Person(role=Role.OTHER, given="Bayns", family="Charlotte", dobs=(dt.date(1922, 12, 30),))),
        # every name and the birth date different, same house on the same street
        (Person(role=Role.OTHER, name="Mia Shepherd", addresses=("7 Churchill Way, Greenslopes",)),
         Person(role=Role.OTHER, name="Jia Fenwick", addresses=("7 Churchill Way Greenskopes",))),
    ],
)
def test_swapped_names_and_same_address_share_a_blocking_key(first: Person,
                                                              second: Person) -> None:
    keys = TokenKeys(SECRET_A, "pilot")
    assert blocking(first, keys) & blocking(second, keys)


def test_addresses_without_a_house_number_give_no_address_key() -> None:
    keys = TokenKeys(SECRET_A, "pilot")
    a = Person(role=Role.OTHER, given="Mia", addresses=("Churchill Way, Greenslopes",))
    b = Person(role=Role.OTHER, given="Jia", addresses=("Churchill Way, Greenslopes",))
    assert not blocking(a, keys) & blocking(b, keys)


def test_stored_profile_has_a_swapped_section_that_round_trips() -> None:
    encoded = encode_person(person_values(jazmin(), "US"), TokenKeys(SECRET_A, "pilot"))
    profile = encoded.profile
    assert set(profile.swapped_tokens) == {Kind.GIVEN_NAME, Kind.GIVEN_PHONETIC,
                                           Kind.FAMILY_NAME, Kind.FAMILY_PHONETIC}
    assert set(profile.swapped_filters) == {Kind.GIVEN_NAME, Kind.FAMILY_NAME}
    # The given-name tokens of the swapped section are those of the family
    # name written as a given name, and the other way round.
    keys = TokenKeys(SECRET_A, "pilot")
    as_given = keys.token(Kind.GIVEN_NAME, "ramirez").value[:16]
    assert profile.swapped_tokens[Kind.GIVEN_NAME] == frozenset({as_given})
    assert encoded.profile_bytes == profile.to_bytes()
    assert Profile.from_bytes(encoded.profile_bytes) == profile
    view = profile.swapped()
    assert view is not None
    assert view.tokens[Kind.FAMILY_NAME] == profile.swapped_tokens[Kind.FAMILY_NAME]
    # A person with one name part has no swapped section, and a query never has one.
    single = encode_person(person_values(Person(role=Role.OTHER, name="Jazmin"), "US"), keys)
    assert single.profile.swapped() is None


@pytest.mark.parametrize(
    "blob",
    [
        bytes((0x40 | int(Kind.DOB), 0)),            # a swapped kind that is not a name
        bytes((0xC0 | int(Kind.ADDRESS), 0)),        # a swapped address filter
        bytes((0x40 | int(Kind.GIVEN_NAME), 1)) + b"\x00" * 8,  # truncated
    ],
)
def test_malformed_swapped_section_raises_our_error(blob: bytes) -> None:
    with pytest.raises(InvalidArgument, match="profile: malformed"):
        Profile.from_bytes(blob)


def test_every_blocking_combination_is_its_own_keyed_domain() -> None:
    keys = TokenKeys(SECRET_A, "pilot")
    tokens = {keys.blocking_token(c, "j|RMRS").value for c in BLOCKING_COMBINATIONS}
    assert len(tokens) == len(BLOCKING_COMBINATIONS)


def test_swapped_sections_under_two_federation_keys_share_nothing() -> None:
    values = person_values(jazmin(), "US")
    a = encode_person(values, TokenKeys(SECRET_A, "pilot")).profile
    b = encode_person(values, TokenKeys(SECRET_B, "pilot")).profile
    for kind, tokens in a.swapped_tokens.items():
        assert tokens.isdisjoint(b.swapped_tokens[kind])
    for kind in (Kind.GIVEN_NAME, Kind.FAMILY_NAME):
        [fa] = a.swapped_filters[kind]
        [fb] = b.swapped_filters[kind]
        assert dice(fa, fb) < 0.62
