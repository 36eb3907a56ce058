"""Tests for :mod:`node.normalize`: every accepted form, and every refusal."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Callable

import phonenumbers
import pytest

from accord.errors import InvalidArgument
from node import normalize
from node.normalize import (
    DateOrder,
    NameParts,
    fold_text,
    normalize_address,
    normalize_email,
    normalize_phone,
    normalize_plate,
    normalize_vin,
    parse_date,
    parse_name,
)


def _raises(field: str, bad: str) -> pytest.RaisesExc[InvalidArgument]:
    """Expect InvalidArgument whose message starts with ``field:`` and shows ``bad``."""
    return pytest.raises(InvalidArgument, match=rf"^{re.escape(field)}: .*{re.escape(repr(bad))}")


# --------------------------------------------------------------------------
# fold_text
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "want"),
    [
        ("Ramírez", "ramirez"),
        ("RAMIREZ", "ramirez"),
        ("Zoë", "zoe"),
        ("Nguyễn", "nguyen"),
        ("Müller", "muller"),
        ("Straße", "strasse"),
        ("Иван", "ivan"),
        ("O'Brien", "obrien"),
        ("O’Brien", "obrien"),  # typographic apostrophe
        ("Hawaiʻi", "hawaii"),  # okina
        ("Ramírez-García", "ramirez garcia"),
        ("St. John, Jr.", "st john jr"),
        ("  two   spaces\tand\ttabs \n", "two spaces and tabs"),
        ("Apt #4", "apt 4"),
        ("", ""),
        ("-.,'", ""),
    ],
)
def test_fold_text(raw: str, want: str) -> None:
    assert fold_text(raw) == want


# --------------------------------------------------------------------------
# parse_name
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("full", "given", "middle", "family"),
    [
        # accents and case
        ("Jazmin Ramírez", "jazmin", "", "ramirez"),
        ("JAZMIN RAMIREZ", "jazmin", "", "ramirez"),
        ("Zoë Nguyễn", "zoe", "", "nguyen"),
        ("Hans Müller", "hans", "", "muller"),
        # comma => family first
        ("Ramírez, Jazmin", "jazmin", "", "ramirez"),
        ("RAMIREZ, JAZMIN M", "jazmin", "m", "ramirez"),
        ("Ramirez,Jazmin M.", "jazmin", "m", "ramirez"),
        ("Ramirez, Jazmin, M", "jazmin", "m", "ramirez"),
        ("RAMIREZ,", "", "", "ramirez"),
        (", Jazmin", "jazmin", "", ""),
        ("De La Cruz, María", "maria", "", "de la cruz"),
        ("Ramírez-García, Juan Carlos", "juan", "carlos", "ramirez garcia"),
        # given first, initials and middle names
        ("Jazmin M. Ramírez", "jazmin", "m", "ramirez"),
        ("Juan Carlos Ramírez", "juan", "carlos", "ramirez"),
        ("J.R. Smith", "j", "r", "smith"),
        ("Jean-Luc Picard", "jean", "luc", "picard"),
        # hyphenated family names stay whole
        ("Juan Carlos Ramírez-García", "juan", "carlos", "ramirez garcia"),
        ("Ana Ramirez - Garcia", "ana", "ramirez", "garcia"),  # spaced dash is not a hyphen
        # particles
        ("María de la Cruz", "maria", "", "de la cruz"),
        ("MARIA DE LA CRUZ", "maria", "", "de la cruz"),
        ("José del Río", "jose", "", "del rio"),
        ("Ana de los Santos", "ana", "", "de los santos"),
        ("Ana de las Heras", "ana", "", "de las heras"),
        ("Maria da Silva", "maria", "", "da silva"),
        ("Joao dos Santos", "joao", "", "dos santos"),
        ("Leonardo di Caprio", "leonardo", "", "di caprio"),
        ("Ludwig van Beethoven", "ludwig", "", "van beethoven"),
        ("Pieter van der Berg", "pieter", "", "van der berg"),
        ("Jan van den Heuvel", "jan", "", "van den heuvel"),
        ("Werner von Braun", "werner", "", "von braun"),
        ("Jean Le Blanc", "jean", "", "le blanc"),
        ("Marie St. Pierre", "marie", "", "st pierre"),
        ("Mohammed bin Salman", "mohammed", "", "bin salman"),
        ("Ahmad ibn Hanbal", "ahmad", "", "ibn hanbal"),
        ("Omar Al Hassan", "omar", "", "al hassan"),
        ("Omar Al-Hassan", "omar", "", "al hassan"),
        ("Mona El Sayed", "mona", "", "el sayed"),
        ("Juan Pablo de la Cruz", "juan", "pablo", "de la cruz"),
        # mac/mc stay glued; a lone particle before the family name can be a given name
        ("Angus MacDonald", "angus", "", "macdonald"),
        ("Van Morrison", "van", "", "morrison"),
        ("La Toya Jackson", "la", "toya", "jackson"),
        # "Van" before a Vietnamese family name is a middle name
        ("An Van Nguyen", "an", "van", "nguyen"),
        ("Nguyen, An Van", "an", "van", "nguyen"),
        # apostrophes
        ("Conan O'Brien", "conan", "", "obrien"),
        ("Conan O’Brien", "conan", "", "obrien"),
        ("D'Angelo Russell", "dangelo", "", "russell"),
        # suffixes dropped
        ("Jazmin Ramirez Jr.", "jazmin", "", "ramirez"),
        ("Jazmin Ramirez, Jr.", "jazmin", "", "ramirez"),
        ("Juan Ramírez-García, Jr.", "juan", "", "ramirez garcia"),
        ("Ana de la Cruz, III", "ana", "", "de la cruz"),
        ("Jazmin Ramirez III", "jazmin", "", "ramirez"),
        ("RAMIREZ JR, JAZMIN", "jazmin", "", "ramirez"),
        ("Ramirez, Jazmin Sr", "jazmin", "", "ramirez"),
        ("Ramirez, Jr., Jazmin", "jazmin", "", "ramirez"),
        ("John Smith II", "john", "", "smith"),
        ("John Smith IV", "john", "", "smith"),
        # a single word is a given name or moniker
        ("Jazzy", "jazzy", "", ""),
        ("  JAZZY  ", "jazzy", "", ""),
        ("Jazzy Jr", "jazzy", "", ""),
    ],
)
def test_parse_full_name(full: str, given: str, middle: str, family: str) -> None:
    assert parse_name(full) == NameParts(given=given, middle=middle, family=family)


@pytest.mark.parametrize(
    "variant",
    [
        "Jazmin Ramírez",
        "Jazmin Ramirez",
        "JAZMIN RAMIREZ",
        "Ramírez, Jazmin",
        "RAMIREZ, JAZMIN M",
        "Jazmin M. Ramírez",
        "Jazmin Marisol Ramirez Jr.",
    ],
)
def test_name_variants_share_one_key(variant: str) -> None:
    assert parse_name(variant).key == "jazmin ramirez"


@pytest.mark.parametrize(
    ("given", "family", "want"),
    [
        ("Jazmin M.", "Ramírez", NameParts("jazmin", "m", "ramirez")),
        ("Juan Carlos", "Ramírez-García", NameParts("juan", "carlos", "ramirez garcia")),
        ("María", "de la Cruz", NameParts("maria", "", "de la cruz")),
        ("Conan", "O'Brien Jr.", NameParts("conan", "", "obrien")),
        ("", "Ramirez", NameParts("", "", "ramirez")),
        ("Jazzy", "", NameParts("jazzy", "", "")),
        # the source said which part is which: no particle guessing
        ("Van", "Morrison", NameParts("van", "", "morrison")),
    ],
)
def test_parse_split_name(given: str, family: str, want: NameParts) -> None:
    assert parse_name(given=given, family=family) == want


@pytest.mark.parametrize(
    ("parts", "key"),
    [
        (NameParts("jazmin", "m", "ramirez"), "jazmin ramirez"),
        (NameParts("jazzy", "", ""), "jazzy"),
        (NameParts("", "", "ramirez"), "ramirez"),
    ],
)
def test_name_key(parts: NameParts, key: str) -> None:
    assert parts.key == key


def test_name_parts_are_frozen() -> None:
    parts = parse_name("Jazmin Ramirez")
    with pytest.raises(dataclasses.FrozenInstanceError):
        parts.given = "x"  # type: ignore[misc]


@pytest.mark.parametrize("full", ["", "   ", "-", "., '", "Jr.", "III", ", Jr."])
def test_empty_full_name_is_refused(full: str) -> None:
    with pytest.raises(InvalidArgument, match=r"^name: got .*nothing left after normalisation"):
        parse_name(full)


@pytest.mark.parametrize(("given", "family"), [(".", "-"), ("Jr", ""), ("", "III")])
def test_empty_split_name_is_refused(given: str, family: str) -> None:
    want = f"name: got given={given!r}, family={family!r}, nothing left after normalisation"
    with pytest.raises(InvalidArgument) as caught:
        parse_name(given=given, family=family)
    assert caught.value.message == want


def test_full_and_split_name_together_are_refused() -> None:
    with _raises("name", "Jazmin Ramirez") as caught:
        parse_name("Jazmin Ramirez", given="Jazmin")
    assert "not both" in caught.value.message


# --------------------------------------------------------------------------
# normalize_phone
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "(555) 014-2231",
        "555.014.2231",
        "555-014-2231",
        "555 014 2231",
        "+1 555 014 2231",
        "+1 (555) 014-2231",
        "+1-555-014-2231",
        "+15550142231",
        "1-555-014-2231",
        "1 (555) 014-2231",
        "15550142231",
        "5550142231",
        "  555-014-2231  ",
        "555-014-2231 x12",
        "555-014-2231 ext. 12",
        "(555) 014-2231 #12",
    ],
)
def test_us_phone_formats_agree(raw: str) -> None:
    assert normalize_phone(raw) == "+15550142231"


@pytest.mark.parametrize(
    ("raw", "region", "want"),
    [
        ("+52 55 1234 5678", "US", "+525512345678"),
        ("011 52 55 1234 5678", "US", "+525512345678"),  # US international prefix
        ("55 1234 5678", "MX", "+525512345678"),
        ("+44 20 7946 0958", "US", "+442079460958"),
        ("020 7946 0958", "GB", "+442079460958"),
        ("555-014-2231", "us", "+15550142231"),  # region case does not matter
    ],
)
def test_phone_other_countries(raw: str, region: str, want: str) -> None:
    assert normalize_phone(raw, region) == want


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ("12", "too short"),
        ("+1 555", "too short"),
        ("555-014-22319999", "too long"),
        ("014-2231", "a local number without its area code"),
    ],
)
def test_impossible_phone_is_refused(raw: str, why: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        normalize_phone(raw)
    assert caught.value.message == f"phone: got {raw!r}, not a possible phone number ({why})"


@pytest.mark.parametrize("raw", ["", "abc", "call me", "+"])
def test_non_phone_is_refused_with_cause(raw: str) -> None:
    with _raises("phone", raw) as caught:
        normalize_phone(raw)
    assert not isinstance(caught.value, ValueError)
    assert isinstance(caught.value.__cause__, phonenumbers.NumberParseException)


@pytest.mark.parametrize("region", ["XX", "", "USA"])
def test_unknown_phone_region_is_refused(region: str) -> None:
    with pytest.raises(InvalidArgument, match=rf"^phone: default_region got {region!r}"):
        normalize_phone("+1 555 014 2231", region)


# --------------------------------------------------------------------------
# normalize_email
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "want"),
    [
        ("jazmin@example.org", "jazmin@example.org"),
        ("  Jazmin.Ramirez@Example.ORG ", "jazmin.ramirez@example.org"),
        ("j+tag@mail.example.co.uk", "j+tag@mail.example.co.uk"),
    ],
)
def test_normalize_email(raw: str, want: str) -> None:
    assert normalize_email(raw) == want


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ("", "want exactly one '@', found 0"),
        ("jazmin.example.org", "want exactly one '@', found 0"),
        ("a@b@example.org", "want exactly one '@', found 2"),
        ("@example.org", "empty local part before '@'"),
        ("jazmin@", "domain '' is not like 'example.org'"),
        ("jazmin@localhost", "domain 'localhost' is not like 'example.org'"),
        ("jazmin@example..org", "domain 'example..org' is not like 'example.org'"),
        ("jazmin@.org", "domain '.org' is not like 'example.org'"),
        ("jazmin@example.org.", "domain 'example.org.' is not like 'example.org'"),
        ("jaz min@example.org", "contains whitespace"),
    ],
)
def test_malformed_email_is_refused(raw: str, why: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        normalize_email(raw)
    assert caught.value.message == f"email: got {raw!r}, {why}"


# --------------------------------------------------------------------------
# normalize_plate
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("plate", "state", "want"),
    [
        ("7ABC123", "CA", "CA:7ABC123"),
        ("7abc123", "ca", "CA:7ABC123"),
        ("7 ABC 123", "California", "CA:7ABC123"),
        ("7-ABC-123", "CALIFORNIA", "CA:7ABC123"),
        ("7.ABC.123", " california ", "CA:7ABC123"),
        ("ABC1234", "New York", "NY:ABC1234"),
        ("ABC1234", "N.Y.", "NY:ABC1234"),
        ("ABC1234", "District of Columbia", "DC:ABC1234"),
        ("ABC1234", "D.C.", "DC:ABC1234"),
        ("ABC1234", "Puerto Rico", "PR:ABC1234"),
        ("ABCD123", "ON", "ON:ABCD123"),
        ("ABCD123", "Québec", "QC:ABCD123"),
        ("ABCD123", "PQ", "QC:ABCD123"),
        ("ABC123", "NF", "NL:ABC123"),
        ("ABC123", "Newfoundland and Labrador", "NL:ABC123"),
        ("JKL-12-34", "Jalisco", "JAL:JKL1234"),
        ("JKL-12-34", "jal", "JAL:JKL1234"),
        ("JKL-12-34", "Nuevo León", "NLE:JKL1234"),
        ("JKL-12-34", "Ciudad de México", "CMX:JKL1234"),
        ("JKL-12-34", "D.F.", "CMX:JKL1234"),
        ("A", "TX", "TX:A"),
        ("ABCD1234", "VA", "VA:ABCD1234"),  # eight characters, the longest allowed
    ],
)
def test_normalize_plate(plate: str, state: str, want: str) -> None:
    assert normalize_plate(plate, state) == want


@pytest.mark.parametrize("state", ["", "C", "XX", "Californa", "Texas!!1", "Mexico City"])
def test_unknown_plate_state_is_refused(state: str) -> None:
    with _raises("plate.state", state):
        normalize_plate("7ABC123", state)


@pytest.mark.parametrize(
    ("plate", "why"),
    [
        ("", "empty"),
        (" - . ", "empty"),
        ("7ABC*123", "want letters and digits only (spaces, dashes and dots are ignored)"),
        ("ÑAB123", "want letters and digits only (spaces, dashes and dots are ignored)"),
        ("ABCDE1234", "9 characters, at most 8 allowed"),
        ("ABC-DE 12.34", "9 characters, at most 8 allowed"),
    ],
)
def test_malformed_plate_is_refused(plate: str, why: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        normalize_plate(plate, "CA")
    assert caught.value.message == f"plate.number: got {plate!r}, {why}"


# --------------------------------------------------------------------------
# normalize_vin
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "1HGCM82633A004352",
        "1hgcm82633a004352",
        " 1HGCM82633A004352 ",
        "1HG-CM826-33A004352",
        "1HG CM826 33A 004352",
    ],
)
def test_normalize_vin(raw: str) -> None:
    assert normalize_vin(raw) == "1HGCM82633A004352"


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ("", "want 17 characters, found 0"),
        ("1HGCM82633A00435", "want 17 characters, found 16"),
        ("1HGCM82633A0043521", "want 17 characters, found 18"),
        ("1HGCM82633A00435*", "want letters and digits only"),
        ("1HGCM82633A00435É", "want letters and digits only"),
        ("1HGCM82633A0O4352", "contains O (I, O and Q never occur in a VIN)"),
        ("IHGCM82633A0Q4352", "contains I, Q (I, O and Q never occur in a VIN)"),
        ("ihgcm82633a004352", "contains I (I, O and Q never occur in a VIN)"),
    ],
)
def test_malformed_vin_is_refused(raw: str, why: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        normalize_vin(raw)
    assert caught.value.message == f"vin: got {raw!r}, {why}"


# --------------------------------------------------------------------------
# normalize_address
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "123 N. Main Street, Apt #4",
        "123 north main st apt 4",
        "123 NORTH MAIN STREET APARTMENT 4",
        "123 N Main St. #4",
        "123 N Main St Unit 4",
        "123 N. Main Str., Suite 4",
        "123 n main st apt. # 4",
    ],
)
def test_address_variants_agree(raw: str) -> None:
    assert normalize_address(raw) == "123 n main st apt 4"


@pytest.mark.parametrize(
    ("raw", "want"),
    [
        ("500 Fifth Avenue", "500 5th ave"),
        ("500 5th Ave.", "500 5th ave"),
        ("500 5th Av", "500 5th ave"),
        ("1 Sunset Boulevard", "1 sunset blvd"),
        ("1 Sunset Blvd", "1 sunset blvd"),
        ("9 Oak Road", "9 oak rd"),
        ("9 Elm Drive", "9 elm dr"),
        ("9 Elm Lane", "9 elm ln"),
        ("9 Elm Court", "9 elm ct"),
        ("9 Elm Place", "9 elm pl"),
        ("9 Elm Circle", "9 elm cir"),
        ("9 Pacific Highway", "9 pacific hwy"),
        ("9 Garden State Parkway", "9 garden state pkwy"),
        ("77 South West Terrace", "77 s w ter"),
        ("1600 Pennsylvania Avenue NW", "1600 pennsylvania ave nw"),
        ("1600 Pennsylvania Ave. N.W.", "1600 pennsylvania ave nw"),
        ("1600 Pennsylvania Ave Northwest", "1600 pennsylvania ave nw"),
        ("12 E. 34th St.", "12 e 34th st"),
        ("12 East 34th Street", "12 e 34th st"),
        ("5 Saint Paul Ave", "5 st paul ave"),
        ("5 St. Paul Ave", "5 st paul ave"),
        ("12 Ramírez Lane, Floor 2", "12 ramirez ln fl 2"),
        ("10 Main St, Springfield, IL 62704-1234", "10 main st springfield il 62704"),
        ("10 Main St, Springfield, IL 62704", "10 main st springfield il 62704"),
        ("#4", "apt 4"),
    ],
)
def test_normalize_address(raw: str, want: str) -> None:
    assert normalize_address(raw) == want


@pytest.mark.parametrize("raw", ["", "   ", ",.-", "'"])
def test_empty_address_is_refused(raw: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        normalize_address(raw)
    assert caught.value.message == f"address: got {raw!r}, nothing left after normalisation"


# --------------------------------------------------------------------------
# parse_date
# --------------------------------------------------------------------------

MARCH_4 = dt.date(1999, 3, 4)
APRIL_3 = dt.date(1999, 4, 3)


@pytest.mark.parametrize(
    "raw",
    [
        # ISO and relatives: the order argument never matters
        "1999-03-04",
        "1999-3-4",
        "1999/03/04",
        "1999.03.04",
        "19990304",
        # month names
        "March 4, 1999",
        "March 4 1999",
        "MARCH 4, 1999",
        "Mar 4 1999",
        "Mar. 4, 1999",
        "Mar 4th, 1999",
        "4 March 1999",
        "4 Mar 1999",
        "4th of March 1999",
        "04-Mar-1999",
        "04-MAR-99",
        "04MAR1999",
        "4mar99",
        "Mar-04-1999",
        "Thursday, March 4, 1999",
        "Thu, 4 Mar 1999",
        # with times, which are ignored
        "1999-03-04T14:05:00Z",
        "1999-03-04T14:05:00.123+00:00",
        "1999-03-04T14:05:00-0500",
        "1999-03-04 14:05",
        "1999-03-04 00:00:00.000",
        "19990304 14:05",
        "March 4, 1999 2:05 PM",
        "March 4, 1999, 2:05 p.m. EST",
        "  1999-03-04  ",
    ],
)
@pytest.mark.parametrize("order", ["MDY", "DMY"])
def test_unambiguous_dates(raw: str, order: DateOrder) -> None:
    assert parse_date(raw, order) == MARCH_4


@pytest.mark.parametrize(
    "raw",
    [
        "03/04/1999",
        "3/4/1999",
        "03-04-1999",
        "03.04.1999",
        "3/4/99",
        "03-04-99",
        "03041999",
        "03/04/1999 14:05",
        "03/04/1999 2:05 PM",
        "3/4/99 14:05:59",
    ],
)
def test_numeric_dates_follow_order(raw: str) -> None:
    assert parse_date(raw) == MARCH_4  # MDY is the default
    assert parse_date(raw, "MDY") == MARCH_4
    assert parse_date(raw, "DMY") == APRIL_3


@pytest.mark.parametrize(
    ("raw", "want"),
    [
        ("13/04/1999", dt.date(1999, 4, 13)),
        ("04/13/1999", dt.date(1999, 4, 13)),
        ("31.12.1999", dt.date(1999, 12, 31)),
        ("12-31-99", dt.date(1999, 12, 31)),
        ("31121999", dt.date(1999, 12, 31)),
        ("12311999", dt.date(1999, 12, 31)),
        ("12/12/1999", dt.date(1999, 12, 12)),
    ],
)
@pytest.mark.parametrize("order", ["MDY", "DMY"])
def test_day_above_twelve_wins_over_order(raw: str, want: dt.date, order: DateOrder) -> None:
    assert parse_date(raw, order) == want


@pytest.mark.parametrize(
    ("raw", "pivot_year", "want_year"),
    [
        ("3/4/00", 2030, 2000),
        ("3/4/29", 2030, 2029),
        ("3/4/30", 2030, 1930),
        ("3/4/99", 2030, 1999),
        ("04-Mar-29", 2030, 2029),
        ("04-Mar-30", 2030, 1930),
        ("3/4/25", 2025, 1925),
        ("3/4/24", 2025, 2024),
        ("3/4/99", 2100, 2099),
        ("3/4/1930", 2000, 1930),  # four-digit years ignore the pivot
    ],
)
def test_two_digit_year_pivot(raw: str, pivot_year: int, want_year: int) -> None:
    assert parse_date(raw, pivot_year=pivot_year) == dt.date(want_year, 3, 4)


def test_leap_day() -> None:
    assert parse_date("2/29/2000") == dt.date(2000, 2, 29)


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        ("02/30/1999", "no such date"),
        ("1999-02-30", "no such date"),
        ("2/29/1999", "no such date"),
        ("Feb 30, 1999", "no such date"),
        ("31 Apr 1999", "no such date"),
        ("1999-13-01", "no such date"),
        ("1999-00-10", "no such date"),
        ("00/10/1999", "no such date"),
        ("13/14/1999", "neither 13 nor 14 can be a month"),
        ("99999999", "neither 99 nor 99 can be a month"),
        ("0001-01-01", "year 1 outside 1800..2199"),
        ("9999-12-31", "year 9999 outside 1800..2199"),
        ("Foo 4, 1999", "'foo' is not a month name"),
        ("4 Marchember 1999", "'marchember' is not a month name"),
        ("", "not a date in a known format"),
        ("yesterday", "not a date in a known format"),
        ("1999", "not a date in a known format"),
        ("March 1999", "not a date in a known format"),
        ("Mar 41999", "not a date in a known format"),
        ("1999-03", "not a date in a known format"),
        ("03/04", "not a date in a known format"),
        ("03/04-1999", "not a date in a known format"),  # mixed separators
        ("3/4/199", "not a date in a known format"),
        ("1999-03-04 garbage", "not a date in a known format"),
    ],
)
def test_malformed_date_is_refused(raw: str, why: str) -> None:
    with _raises("date", raw) as caught:
        parse_date(raw)
    assert why in caught.value.message
    assert not isinstance(caught.value, ValueError)


def test_impossible_date_chains_the_cause() -> None:
    with pytest.raises(InvalidArgument) as caught:
        parse_date("02/30/1999")
    assert isinstance(caught.value.__cause__, ValueError)


def test_unknown_date_order_is_refused() -> None:
    with pytest.raises(InvalidArgument, match=r"^date: order got 'YMD'"):
        parse_date("1999-03-04", "YMD")  # type: ignore[arg-type]


# --------------------------------------------------------------------------
# More of the forms agencies write (pinned for error-tolerant matching)
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("full", "want"),
    [
        ("Ramírez García, María José", NameParts("maria", "jose", "ramirez garcia")),
        ("María José Ramírez-García", NameParts("maria", "jose", "ramirez garcia")),
        ("GARCÍA MÁRQUEZ, GABRIEL", NameParts("gabriel", "", "garcia marquez")),
        ("DE LA CRUZ, JUAN", NameParts("juan", "", "de la cruz")),
        ("Juan de la Cruz-Reyes", NameParts("juan", "", "de la cruz reyes")),
        ("Ponce de León, Juan", NameParts("juan", "", "ponce de leon")),
        ("Sean O'Neill", NameParts("sean", "", "oneill")),
        ("Núñez, Iñigo", NameParts("inigo", "", "nunez")),
        ("Björn Müller", NameParts("bjorn", "", "muller")),
    ],
)
def test_more_names(full: str, want: NameParts) -> None:
    assert parse_name(full) == want


@pytest.mark.parametrize(
    "raw",
    [
        "(555)014-2231",
        "(555)-014-2231",
        "555/014-2231",
        "555 0142231",
        "+1.555.014.2231",
        "1.555.014.2231",
        "tel:+1-555-014-2231",
        "+1 555-014-2231 ext 4",
        "5550142231 x 9",
    ],
)
def test_more_us_phone_formats_agree(raw: str) -> None:
    assert normalize_phone(raw) == "+15550142231"


@pytest.mark.parametrize(
    ("raw", "mdy", "dmy"),
    [
        ("4.3.1999", APRIL_3, MARCH_4),
        ("04/03/99", APRIL_3, MARCH_4),
        ("03/04/1999 14:05:00", MARCH_4, APRIL_3),
        ("1999-3-4", MARCH_4, MARCH_4),
        ("1999.3.4 14:05", MARCH_4, MARCH_4),
        ("March 4th 1999", MARCH_4, MARCH_4),
        ("Mar 04, 1999", MARCH_4, MARCH_4),
        ("4-MAR-1999", MARCH_4, MARCH_4),
    ],
)
def test_more_date_formats(raw: str, mdy: dt.date, dmy: dt.date) -> None:
    assert parse_date(raw, "MDY") == mdy
    assert parse_date(raw, "DMY") == dmy


@pytest.mark.parametrize(
    "raw",
    ["(503) 555-0142", "503.555.0142", "503-555-0142", "5035550142", "+15035550142",
     "+1 503 555 0142", "1-503-555-0142", "1 (503) 555-0142", "(503)5550142", "15035550142",
     "+1(503)555.0142", " 503-555-0142 ", "(123) 555-0142", "503-055-0142", "+1 555 014 2231"],
)
@pytest.mark.parametrize("region", ["US", "CA", "GB", "MX"])
def test_north_american_fast_path_agrees_with_phonenumbers(raw: str, region: str) -> None:
    """The regex path for common NANP forms gives exactly phonenumbers' answer."""
    def outcome(fn: Callable[[str, str], str]) -> str:
        try:
            return fn(raw, region)
        except InvalidArgument as exc:
            return f"error: {exc.message}"

    assert outcome(normalize.normalize_phone) == outcome(normalize._normalize_phone)
