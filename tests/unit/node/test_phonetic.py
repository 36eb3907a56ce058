"""Phonetic codes, nickname-canonical names, date and phone variants."""

from __future__ import annotations

import datetime as dt

import pytest

from node.phonetic import (
    canonical_names,
    dob_unordered,
    family_words,
    phone_masks,
    phonetic_codes,
    spanish_key,
)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("jazmin", "jasmine"),
        ("ramirez", "ramires"),
        ("vasquez", "vazquez"),
        ("gimenez", "jimenez"),
        ("ximena", "jimena"),
        ("gonzalez", "gonzales"),
        ("hernandez", "ernandez"),
        ("yesenia", "llesenia"),
        ("mohammed", "muhammad"),
        ("smith", "smyth"),
        ("nunez", "nunes"),
    ],
)
def test_spellings_that_sound_alike_share_a_code(a: str, b: str) -> None:
    assert set(phonetic_codes(a)) & set(phonetic_codes(b))


@pytest.mark.parametrize(("a", "b"), [("ramirez", "rodriguez"), ("maria", "marcus"),
                                      ("smith", "jones"), ("jazmin", "jessica")])
def test_different_names_do_not(a: str, b: str) -> None:
    assert not set(phonetic_codes(a)) & set(phonetic_codes(b))


@pytest.mark.parametrize(
    ("word", "key"),
    [("vasquez", "baskes"), ("jasmine", "jasmin"), ("guillermo", "giermo"),
     ("cesar", "sesar"), ("chavez", "0abes"), ("llamas", "iamas"), ("xavier", "jabier")],
)
def test_spanish_key(word: str, key: str) -> None:
    assert spanish_key(word) == key


def test_codes_are_tagged_by_algorithm_and_short_words_have_none() -> None:
    assert phonetic_codes("jazmin") == ("m:JSMN", "s:jasmin")
    assert phonetic_codes("j") == ()


@pytest.mark.parametrize(
    ("nickname", "name"),
    [("mo", "maurice"), ("mo", "mohammed"), ("bill", "william"), ("jazzy", "jazmin"),
     ("pepe", "jose"), ("paco", "francisco"), ("lupe", "guadalupe"), ("chuy", "jesus"),
     ("peggy", "margaret"), ("mike", "michael"), ("jasmine", "jazmin")],
)
def test_nicknames_meet_their_names(nickname: str, name: str) -> None:
    assert canonical_names(nickname) & canonical_names(name)


@pytest.mark.parametrize(("a", "b"), [("maurice", "mohammed"), ("jose", "jesus"),
                                      ("bill", "james")])
def test_different_names_have_no_canonical_in_common(a: str, b: str) -> None:
    assert not canonical_names(a) & canonical_names(b)


def test_canonical_names_always_hold_the_name() -> None:
    assert "zzyzx" in canonical_names("zzyzx")
    assert canonical_names("") == frozenset()


def test_family_words_drop_particles() -> None:
    assert family_words("de la cruz") == ("cruz",)
    assert family_words("garcia marquez") == ("garcia", "marquez")
    assert family_words("al sayed") == ("sayed",)
    assert family_words("de la") == ("de", "la")


def test_dob_unordered_meets_the_swapped_date() -> None:
    assert dob_unordered(dt.date(1999, 3, 4)) == dob_unordered(dt.date(1999, 4, 3)) == "1999|03|04"
    assert dob_unordered(dt.date(1999, 3, 4)) != dob_unordered(dt.date(1998, 3, 4))


def test_phone_masks_meet_one_mistyped_digit() -> None:
    a, b = phone_masks("+15035550142"), phone_masks("+15035550742")
    assert len(a) == 10
    assert len(set(a) & set(b)) == 1
    assert not set(a) & set(phone_masks("+15035557799"))
