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
    ("plate 7KDX214, then tag OR ABC1234", [("a plate", "7KDX214"), ("a plate", "ABC1234")]),
    ("she drives 7KDX 214; plate no. ABC-123", [("a plate", "7KDX 214"), ("a plate", "ABC-123")]),
    ("born 31/12/1999, seen 2026-11-30", [("a date", "31/12/1999"), ("a date", "2026-11-30")]),
])
def test_identifier_like_text_is_found(text: str, found: list[tuple[str, str]]) -> None:
    assert identifiers_in(text, "US") == found


@pytest.mark.parametrize("text", [
    "victim identification in an active trafficking case",
    "see case LS-2026-0117 and ticket HR-2291",
    "she is 19, seen 3 times on I-5 near exit 294 at 14:30",
    "COVID19 protocol; unit 2B, room 114; the A380 flight",
    "approved: the request matches the agreement's purpose",
    # Case, report and grant numbers, statutes, roads, flights, forms (a
    # review found each refused by the first version).
    "linked to CAD-240517-0042 and Report #2024-001234, case RT-24-00031",
    "per Ga. Code 16-5-46, TCA 39-13-309, C.R.S. 18-3-504, Va. Code 18.2-357",
    "S.C. Code § 16-3-2020; ORS 163.266; 18 U.S.C. 1591; RCW 9A.40.100",
    "files 24-05-17, 24-05-117 and 2024-05-17-0042",
    "seen on US101 and SR520 after flight UA1234; 24CR1234, SB1070, DD214, OVC2024",
    "her car was parked at the motel; the vehicle is registered to her",
    "not a date: 2026-13-45",
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


def test_text_longer_than_the_hub_keeps_is_refused_unread() -> None:
    with pytest.raises(InvalidArgument, match=r"^justification: 2001 characters, want at most "
                                              r"2000$"):
        check_free_text("justification", "a" * 2001, "US")


def test_phone_numbers_are_read_as_the_agency_reads_them() -> None:
    # A UK number written nationally is a phone number to a UK agency.
    assert identifiers_in("ring 020 7946 0958", "GB") == [("a phone number", "020 7946 0958")]


async def test_the_consoles_decision_is_checked_before_anything_is_sent() -> None:
    """The console decides through node.console.backend.Backend (its tests use a fake)."""
    import grpc

    from node.console.backend import Backend

    class Gateway:
        region = "US"

    channel = grpc.aio.insecure_channel("127.0.0.1:9")  # nothing listens: nothing may be sent
    try:
        backend = Backend(Gateway(), channel, lambda: None)  # type: ignore[arg-type]
        with pytest.raises(InvalidArgument, match=r"^reason: looks like it holds a phone number "
                                                  r"\('503-555-0142'\)"):
            await backend.decide("token", "rel_" + "a" * 20, True, "call her at 503-555-0142")
    finally:
        await channel.close()
