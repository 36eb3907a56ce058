"""Free text bound for the hub: refuse what is recognisably an identifier.

A release's justification and a custodian's reason are kept by the hub (in
its releases table and, the reason, in the permanent audit log), where the
hub must never see a plaintext identifier. A person writing "call back Jazmin
at 503-555-0142" means no harm; this check stops the machine-recognisable
part before it leaves the agency: phone numbers (as the agency's region reads
them), email addresses, dates (a birth date?), Social Security numbers, VINs
and plate-like codes. It is applied where the text is typed (the gateway,
the CLI, the console), so the hub never receives it.

What it cannot recognise are names: a name in free text still reaches the hub
(an open finding, pinned by ``tests/integration/test_privacy_open_free_text.py``
and in the README's "What each party can and cannot learn").
"""

from __future__ import annotations

import re

import phonenumbers

from accord.errors import InvalidArgument

_EMAIL = re.compile(r"[^\s@]+@[^\s@]+\.[A-Za-z]{2,}")
_SSN = re.compile(r"\b\d{3}-\d{2}-\d{4}\b")
#: 2026-03-04, 03/04/1999, 4.3.99, 04-03-1999 and similar.
_DATE = re.compile(r"\b(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4})\b")
#: A VIN: 17 of the letters and digits VINs use (no I, O, Q), with both kinds.
_VIN = re.compile(r"\b(?=[A-HJ-NPR-Z0-9]*[A-HJ-NPR-Z])(?=[A-HJ-NPR-Z0-9]*\d)[A-HJ-NPR-Z0-9]{17}\b",
                  re.IGNORECASE)
#: A plate-like code: 5 to 8 capitals and digits, at least two letters and three
#: digits ("7KDX214", "ABC1234"; not "COVID19").
_PLATE = re.compile(r"\b(?=(?:[A-Z0-9]*[A-Z]){2})(?=(?:[A-Z0-9]*\d){3})[A-Z0-9]{5,8}\b")


def identifiers_in(text: str, region: str) -> list[tuple[str, str]]:
    """(kind, the text found) of each identifier-like part of ``text``, in order."""
    found: list[tuple[int, str, str]] = []
    for match in phonenumbers.PhoneNumberMatcher(text, region,
                                                 leniency=phonenumbers.Leniency.VALID):
        found.append((match.start, "a phone number", match.raw_string))
    for kind, pattern in (("an email address", _EMAIL), ("a Social Security number", _SSN),
                          ("a date", _DATE), ("a VIN", _VIN), ("a plate", _PLATE)):
        for m in pattern.finditer(text):
            # A phone number matched above may also read as a date or an SSN.
            if not any(start <= m.start() < start + len(raw) for start, _, raw in found):
                found.append((m.start(), kind, m.group()))
    return [(kind, raw) for _, kind, raw in sorted(found)]


def check_free_text(field: str, text: str, region: str) -> str:
    """``text`` if it holds nothing identifier-like; else InvalidArgument naming what.

    ``field`` names the text in the message (``justification``, ``reason``).
    """
    found = identifiers_in(text, region)
    if found:
        kind, raw = found[0]
        more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
        raise InvalidArgument(
            f"{field}: looks like it holds {kind} ({raw!r}){more}; the hub keeps this text, "
            "and it must not hold identifiers: say why without them (the case number and "
            "the pointer already say which record)")
    return text
