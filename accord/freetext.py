"""Free text bound for the hub: refuse what is recognisably an identifier.

A release's justification and a custodian's reason are kept by the hub (in
its releases table and, the reason, in the permanent audit log), where the
hub must never see a plaintext identifier. A person writing "call back Jazmin
at 503-555-0142" means no harm; this check stops the machine-recognisable
part before it leaves the agency: phone numbers (as the agency's region reads
them), email addresses, dates with a real month and day, Social Security
numbers in their dashed form, VINs, and plate-like codes next to a word that
says "vehicle" (plate, tag, car, ...). It is applied where the text is typed
(the gateway, the CLI, the console), so the hub never receives what it finds.

It is a best effort, tuned not to refuse what investigators ordinarily write
(case and report numbers such as ``RT-24-00031`` or ``CAD-240517-0042``,
statutes such as ``ORS 163.266`` or ``§ 16-3-2020``, highways, times). What it
does not recognise reaches the hub: names above all, and identifiers written
unusually (``SSN 123456789``, ``born March 4, 1999``), as the README's "What
each party can and cannot learn" says (and
``tests/integration/test_privacy_open_free_text.py`` pins).
"""

from __future__ import annotations

import datetime as dt
import re

import phonenumbers

from accord.errors import InvalidArgument

#: The longest free text checked: the hub's own limit on a justification
#: (hub/releases.py MAX_JUSTIFICATION). Longer text is refused unread.
MAX_CHARS = 2000

# Every pattern is bounded (no nested or unbounded repeats), so a check is
# linear in the text.
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){0,4}"
                    r"\.[A-Za-z]{2,24}")
_SSN = re.compile(r"(?<![\d-])\d{3}-\d{2}-\d{4}(?![\d-])")
#: Candidates only: year-month-day, or day/month (either order) and a year;
#: _real_date() keeps those with a real month and day. Not part of a longer
#: code (2024-05-17-0042) and, with a two-digit year, only with slashes.
_DATE = re.compile(r"(?<![\w./-])(?:(\d{4})([-/.])(\d{1,2})\2(\d{1,2})"
                   r"|(\d{1,2})([-/.])(\d{1,2})\6(\d{4})"
                   r"|(\d{1,2})/(\d{1,2})/(\d{2}))(?![\w/-]|\.\d)")
#: What a statute citation starts with: a "date" right after one is its number.
_STATUTE = re.compile(r"(?:§|§§|sec\.?|section|statute|code|ORS|RCW|NRS|ARS|CRS|RSA|MCL|"
                      r"U\.S\.C\.?|USC)\s*$", re.IGNORECASE)
#: A VIN: 17 of the letters and digits VINs use (no I, O, Q), with both kinds.
_VIN = re.compile(r"\b(?=[A-HJ-NPR-Z0-9]{0,16}[A-HJ-NPR-Z])(?=[A-HJ-NPR-Z0-9]{0,16}\d)"
                  r"[A-HJ-NPR-Z0-9]{17}\b", re.IGNORECASE)
#: A plate: 2 to 8 letters and digits (a space or dash allowed once) with at
#: least one digit, right after a word that names a vehicle or its plate.
_PLATE = re.compile(r"(?i:\b(?:plates?|tags?|lic(?:ense|ence)?|reg(?:istration)?|vehicles?|cars?|"
                    r"trucks?|vans?|suvs?|sedans?|motorcycles?|driving|drives|drove)\b)"
                    r"[\s:#.,-]{1,4}(?:(?:[A-Z]{2}|(?i:no)\.?)\s{0,2}:?\s{0,2})?"
                    # the plate's first part in capitals (or lower case with a digit),
                    # so the next word of a sentence is not taken for it
                    r"((?=[A-Za-z0-9 -]{0,9}\d)(?:[A-Z0-9]{1,7}|[a-z0-9]{0,6}\d[a-z0-9]{0,6})"
                    r"(?:[ -][A-Za-z0-9]{1,7})?)\b")


def identifiers_in(text: str, region: str) -> list[tuple[str, str]]:
    """(kind, the text found) of each identifier-like part of ``text``, in order."""
    found: list[tuple[int, str, str]] = []
    for match in phonenumbers.PhoneNumberMatcher(text, region,
                                                 leniency=phonenumbers.Leniency.VALID):
        if not _glued(text, match.start, match.end):
            found.append((match.start, "a phone number", match.raw_string))
    candidates: list[tuple[int, str, str]] = []
    candidates += [(m.start(), "an email address", m.group()) for m in _EMAIL.finditer(text)]
    candidates += [(m.start(), "a Social Security number", m.group())
                   for m in _SSN.finditer(text)]
    candidates += [(m.start(), "a date", m.group()) for m in _DATE.finditer(text)
                   if _real_date(m) and not _STATUTE.search(text[max(0, m.start() - 12):m.start()])]
    candidates += [(m.start(), "a VIN", m.group()) for m in _VIN.finditer(text)]
    candidates += [(m.start(1), "a plate", m.group(1)) for m in _PLATE.finditer(text)
                   if any(c.isalpha() for c in m.group(1)) or len(m.group(1)) >= 5]
    for start, kind, raw in candidates:
        # A phone number found above may also read as a date or an SSN.
        if not any(s <= start < s + len(r) for s, _, r in found):
            found.append((start, kind, raw))
    return [(kind, raw) for _, kind, raw in sorted(found)]


def check_free_text(field: str, text: str, region: str) -> str:
    """``text`` if it holds nothing identifier-like; else InvalidArgument naming what.

    ``field`` names the text in the message (``justification``, ``--reason``).
    """
    if len(text) > MAX_CHARS:
        raise InvalidArgument(f"{field}: {len(text)} characters, want at most {MAX_CHARS}")
    found = identifiers_in(text, region)
    if found:
        kind, raw = found[0]
        more = f" (and {len(found) - 1} more)" if len(found) > 1 else ""
        raise InvalidArgument(
            f"{field}: looks like it holds {kind} ({raw!r}){more}; the hub keeps this text, "
            "and it must not hold identifiers: say why without them (the case number and "
            "the pointer already say which record)")
    return text


def _glued(text: str, start: int, end: int) -> bool:
    """Whether a match is part of a longer code (CAD-240517-0042, #2024-001234)."""
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    return before in "-#/" or before.isalnum() or after == "-" or after.isalnum()


def _real_date(m: re.Match[str]) -> bool:
    """Whether a _DATE candidate has a real month and day (in either order)."""
    g = m.groups()
    if g[0] is not None:  # year first
        return _valid(int(g[0]), int(g[2]), int(g[3]))
    if g[4] is not None:
        first, second, year = int(g[4]), int(g[6]), int(g[7])
    else:
        first, second, year = int(g[8]), int(g[9]), 2000 + int(g[10])
    return _valid(year, first, second) or _valid(year, second, first)


def _valid(year: int, month: int, day: int) -> bool:
    if not 1900 <= year <= 2100:
        return False
    try:
        dt.date(year, month, day)
    except ValueError:
        return False
    return True
