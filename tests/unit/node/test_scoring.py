"""Fellegi–Sunter scoring on keyed encodings: known answers."""

from __future__ import annotations

import datetime as dt

import pytest

from accord.v1 import common_pb2
from node import scoring
from node.encodings import Profile, encode_person, encode_query, person_values
from node.records import Person, Role
from node.scoring import Field, Level
from node.tokens import Kind, Query, TokenKeys

KEYS = TokenKeys(bytes(range(32)), "pilot")
STRONG = common_pb2.MATCH_STRENGTH_STRONG
PROBABLE = common_pb2.MATCH_STRENGTH_PROBABLE
POSSIBLE = common_pb2.MATCH_STRENGTH_POSSIBLE
NONE = common_pb2.MATCH_STRENGTH_UNSPECIFIED


def profile(name: str = "", dob: dt.date | None = None, phone: str = "", address: str = "",
            nickname: str = "") -> Profile:
    person = Person(role=Role.OTHER, name=name, dobs=(dob,) if dob else (),
                    phones=(phone,) if phone else (), addresses=(address,) if address else (),
                    nicknames=(nickname,) if nickname else ())
    return encode_person(person_values(person, "US"), KEYS).profile


def query(**fields: str) -> Profile:
    encoded = encode_query(Query(**fields), KEYS, "US")
    return Profile.from_query(encoded.tokens, encoded.filters)


def decide(q: Profile, record: Profile, kinds: frozenset[Kind] = frozenset()
           ) -> tuple[int, scoring.Comparison]:
    comparison = scoring.compare_record(q, [record], kinds)
    assert comparison is not None
    return scoring.strength(comparison.score, kinds), comparison


MARCH_4 = dt.date(1999, 3, 4)


def test_jazmin_ramirez_and_jasmine_ramirez_with_swapped_dob_match() -> None:
    got, comparison = decide(query(name="Jasmine Ramirez", dob="1999-04-03"),
                             profile("Jazmín Ramírez", MARCH_4))
    assert got in (PROBABLE, STRONG)
    assert comparison.levels[Field.FAMILY] is Level.EXACT
    assert comparison.levels[Field.GIVEN] in (Level.NICKNAME, Level.PHONETIC)
    assert comparison.levels[Field.DOB] is Level.SWAPPED
    explained = {(a.kind, a.level) for a in comparison.to_proto()}
    assert (Kind.FAMILY_NAME, common_pb2.AGREEMENT_LEVEL_EXACT) in explained
    assert (Kind.GIVEN_NAME, common_pb2.AGREEMENT_LEVEL_APPROXIMATE) in explained
    assert (Kind.DOB, common_pb2.AGREEMENT_LEVEL_APPROXIMATE) in explained


def test_exact_name_and_dob_is_strong() -> None:
    got, comparison = decide(query(name="Jazmin Ramirez", dob="03/04/1999"),
                             profile("RAMIREZ, JAZMIN", MARCH_4))
    assert got == STRONG
    assert all(lvl is Level.EXACT for lvl in comparison.levels.values())


def test_nickname_with_dob_matches() -> None:
    got, comparison = decide(query(name="Mo Freeman", dob="1980-06-02"),
                             profile("Maurice Freeman", dt.date(1980, 6, 2)))
    assert got in (PROBABLE, STRONG)
    assert comparison.levels[Field.GIVEN] is Level.NICKNAME


def test_typo_in_the_family_name_with_dob_matches() -> None:
    got, comparison = decide(query(name="Jazmin Ramriez", dob="1999-03-04"),
                             profile("Jazmin Ramirez", MARCH_4))
    assert got in (PROBABLE, STRONG)
    assert comparison.levels[Field.FAMILY] in (Level.SIMILAR_HIGH, Level.SIMILAR, Level.PHONETIC)


@pytest.mark.parametrize(
    ("q", "record"),
    [
        # Different people sharing a common surname.
        ({"name": "Jazmin Garcia", "dob": "1999-03-04"}, ("Pedro Garcia", dt.date(1971, 8, 30))),
        ({"name": "Maria Garcia"}, ("Jose Garcia", None)),
        # Same name, a different date of birth: two people.
        ({"name": "Maria Garcia", "dob": "1985-01-20"}, ("Maria Garcia", dt.date(1962, 11, 3))),
        # Same birth date, nothing else alike.
        ({"name": "Tom Baker", "dob": "1999-03-04"}, ("Jazmin Ramirez", MARCH_4)),
    ],
)
def test_different_people_get_no_pointer(q: dict[str, str],
                                         record: tuple[str, dt.date | None]) -> None:
    got, _ = decide(query(**q), profile(*record))
    assert got == NONE


def test_name_alone_is_possible_and_phone_alone_probable() -> None:
    assert decide(query(name="Jazmin Ramirez"), profile("Jazmin Ramirez", MARCH_4))[0] == POSSIBLE
    got, comparison = decide(query(phone="503.555.0142"), profile("Jazzy", phone="(503) 555-0142"),
                             frozenset({Kind.PHONE}))
    assert got == PROBABLE
    assert comparison.levels == {Field.PHONE: Level.EXACT}


def test_one_mistyped_phone_digit_is_approximate() -> None:
    levels = scoring.compare_fields(query(name="Jazmin Ramirez", phone="503 555 0143"),
                                    profile("Jazmin Ramirez", phone="503 555 0142"))
    assert levels[Field.PHONE] is Level.ONE_DIGIT


def test_vehicles_and_exact_tokens_without_profiles_keep_their_old_strength() -> None:
    """Records indexed with exact tokens only are scored from the kinds that matched."""
    empty = Profile()
    for kinds, want in (
        ({Kind.NAME, Kind.NAME_DOB}, STRONG),
        ({Kind.PHONE, Kind.PLATE}, STRONG),
        ({Kind.PHONE}, PROBABLE),
        ({Kind.PLATE}, PROBABLE),
        ({Kind.VIN}, PROBABLE),
        ({Kind.NAME}, POSSIBLE),
        ({Kind.ADDRESS}, POSSIBLE),
    ):
        comparison = scoring.compare_record(empty, [], frozenset(kinds))
        assert comparison is not None
        assert scoring.strength(comparison.score, frozenset(kinds)) == want, kinds


def test_nothing_in_common_is_no_comparison() -> None:
    assert scoring.compare_record(query(name="Tom Baker"), [profile("Jazmin Ramirez")],
                                  frozenset({Kind.BLOCKING_KEY})) is None


def test_the_best_person_of_a_record_counts() -> None:
    q = query(name="Jazmin Ramirez", dob="1999-03-04")
    comparison = scoring.compare_record(
        q, [profile("Pedro Garcia", dt.date(1971, 8, 30)), profile("Jazmin Ramirez", MARCH_4)],
        frozenset())
    assert comparison is not None
    assert scoring.strength(comparison.score, frozenset()) == STRONG


def test_swapped_given_and_family_names_compare_crosswise() -> None:
    record = encode_person(person_values(
        Person(role=Role.OTHER, given="Ramirez", family="Jazmin", dobs=(MARCH_4,)), "US"),
        KEYS).profile
    got, comparison = decide(query(name="Jazmin Ramirez", dob="1999-03-04"), record)
    assert got == STRONG
    assert comparison.levels[Field.GIVEN] is Level.EXACT
    assert comparison.levels[Field.FAMILY] is Level.EXACT


def test_crosswise_names_need_both_names_on_both_sides() -> None:
    # "Thomas" alone is not read as the family name of "Ana Thomas".
    levels = scoring.compare_fields(query(name="Ana Thomas"), profile("Thomas"))
    assert levels[Field.GIVEN] is Level.DISAGREE
    assert Field.FAMILY not in levels
