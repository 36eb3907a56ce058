"""Free text bound for the hub: identifier-like parts are found; ordinary prose is not."""

from __future__ import annotations

import pytest

from accord.errors import InvalidArgument
from accord.freetext import check_free_text, identifiers_in


@pytest.mark.parametrize(("text", "found"), [
    ("call back at 503-555-0142", [("a phone number", "503-555-0142")]),
    ("call (503) 555 0142 or 503.555.0143",
     [("a phone number", "(503) 555 0142"), ("a phone number", "503.555.0143")]),
    ("abroad: +44 20 7946 0958", [("a phone number", "+44 20 7946 0958")]),
    ("write to jr.ramirez@example.org", [("an email address", "jr.ramirez@example.org")]),
    ("DOB 1999-03-04", [("a date", "1999-03-04")]),
    ("born 3/4/99, seen 04.03.1999", [("a date", "3/4/99"), ("a date", "04.03.1999")]),
    ("ssn 123-45-6789", [("a Social Security number", "123-45-6789")]),
    ("vin 1hgcm82633a004352", [("a VIN", "1hgcm82633a004352")]),
    ("plate 7KDX214, then ABC1234", [("a plate", "7KDX214"), ("a plate", "ABC1234")]),
])
def test_identifier_like_text_is_found(text: str, found: list[tuple[str, str]]) -> None:
    assert identifiers_in(text, "US") == found


@pytest.mark.parametrize("text", [
    "victim identification in an active trafficking case",
    "see case LS-2026-0117 and ticket HR-2291",
    "she is 19, seen 3 times on I-5 near exit 294",
    "COVID19 protocol; unit 2B, room 114; the A380 flight",
    "approved: the request matches the agreement's purpose",
])
def test_ordinary_prose_passes(text: str) -> None:
    assert identifiers_in(text, "US") == []
    assert check_free_text("justification", text, "US") == text


def test_a_refusal_names_the_field_what_it_found_and_what_to_do() -> None:
    with pytest.raises(InvalidArgument) as info:
        check_free_text("justification", "DOB 1999-03-04, phone 503-555-0142", "US")
    assert info.value.message.startswith(
        "justification: looks like it holds a date ('1999-03-04') (and 1 more); the hub keeps "
        "this text, and it must not hold identifiers: say why without them")


def test_phone_numbers_are_read_as_the_agency_reads_them() -> None:
    # A UK number written nationally is a phone number to a UK agency.
    assert identifiers_in("ring 020 7946 0958", "GB") == [("a phone number", "020 7946 0958")]
