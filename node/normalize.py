"""Normalisation of identifiers before they are turned into keyed tokens.

Two agencies rarely write an identifier the same way: ``"Ramírez, Jazmin M."``
and ``"JAZMIN RAMIREZ"``, ``"(555) 014-2231"`` and ``"+1 555 014 2231"``,
``"03/04/1999"`` and ``"1999-03-04"``. Every function here maps the forms in
common use onto one canonical string (or :class:`datetime.date`), so the same
identifier yields the same keyed token at every node.

All functions are pure: the only module state is constant tables and
precompiled regular expressions, plus ``functools.lru_cache`` memos on the
costlier parsers (ingest sees the same names, phones and dates many times).
Bad input raises :class:`accord.errors.InvalidArgument` whose message names the
field and shows the value, e.g. ``phone: got '12', not a possible phone number
(too short)``; no stray ``ValueError`` or library exception escapes.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, Literal, ParamSpec, TypeVar, cast

import phonenumbers
from unidecode import unidecode

from accord.errors import InvalidArgument

__all__ = [
    "DateOrder",
    "NameParts",
    "fold_text",
    "normalize_address",
    "normalize_email",
    "normalize_phone",
    "normalize_plate",
    "normalize_vin",
    "parse_date",
    "parse_name",
]

DateOrder = Literal["MDY", "DMY"]

_CACHE_SIZE: Final = 1 << 16

_P = ParamSpec("_P")
_R = TypeVar("_R")


def _memo(fn: Callable[_P, _R]) -> Callable[_P, _R]:
    """``functools.lru_cache`` that keeps ``fn``'s signature visible to mypy.

    A bare ``lru_cache`` wrapper accepts any hashable arguments, so callers
    would lose type checking. Only pure functions of immutable arguments that
    return immutable values are memoised.
    """
    return cast("Callable[_P, _R]", functools.lru_cache(maxsize=_CACHE_SIZE)(fn))


# --------------------------------------------------------------------------
# Text folding
# --------------------------------------------------------------------------

# Apostrophes vanish ("O'Brien" -> "obrien"); unidecode turns the typographic
# ones (’ ‘ ʼ) into "'" and the Hawaiian okina into "`".
_APOSTROPHES_RE: Final = re.compile(r"['`]")
_NON_ALNUM_RE: Final = re.compile(r"[^a-z0-9]+")


@_memo
def fold_text(raw: str) -> str:
    """Fold free text to lowercase ASCII words separated by single spaces.

    Accents and other scripts are transliterated (``"Nguyễn"`` -> ``"nguyen"``,
    ``"Müller"`` -> ``"muller"``, ``"Иван"`` -> ``"ivan"``), apostrophes are
    removed (``"O'Brien"`` -> ``"obrien"``), every other character that is not a
    letter or digit (hyphens, periods, commas, ``#`` ...) becomes a space, and
    runs of spaces collapse. The result may be ``""``.
    """
    text = raw if raw.isascii() else unidecode(raw)
    text = _APOSTROPHES_RE.sub("", text.lower())
    return _NON_ALNUM_RE.sub(" ", text).strip()


# --------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NameParts:
    """A person's name split into normalised parts (see :func:`parse_name`).

    Every part is already folded by :func:`fold_text`; a part that is unknown
    is ``""``.
    """

    #: First given name ("jazmin"); "" when only a family name is known.
    given: str
    #: Further given names and initials, space-joined ("carlos", "m"); "" if none.
    middle: str
    #: Family name(s) with particles and hyphen parts ("de la cruz", "ramirez garcia").
    family: str

    @property
    def key(self) -> str:
        """``"given family"``: the string exact-name tokens are built from."""
        return f"{self.given} {self.family}".strip()


#: Particles that belong to the family name that follows them. Matched as
#: whole words, longest first, walking left from the last word of a name.
#: "mac"/"mc" are deliberately absent: they stay glued ("macdonald").
_PARTICLES: Final = frozenset(
    {
        ("de",), ("del",), ("della",), ("de", "la"), ("de", "los"), ("de", "las"),
        ("la",), ("las",), ("los",), ("da",), ("das",), ("do",), ("dos",), ("di",),
        ("du",), ("van",), ("van", "der"), ("van", "den"), ("van", "de"), ("von",),
        ("von", "der"), ("le",), ("st",), ("saint",), ("bin",), ("bint",), ("ibn",),
        ("al",), ("el",),
    }
)  # fmt: skip
_MAX_PARTICLE_WORDS: Final = max(len(p) for p in _PARTICLES)

#: The most common Vietnamese family names. "Van" is the most common Vietnamese
#: middle name, so in "An Van Nguyen" it is not the Dutch particle: the family
#: name is "nguyen", as "Nguyen, An Van" also says.
_VIETNAMESE_FAMILY: Final = frozenset(
    {
        "nguyen", "tran", "le", "pham", "hoang", "huynh", "phan", "vu", "vo",
        "dang", "bui", "do", "ho", "ngo", "duong", "ly", "truong", "dinh",
    }
)  # fmt: skip

#: Generational suffixes, dropped wherever they end a name or a comma part.
_SUFFIXES: Final = frozenset({"jr", "sr", "ii", "iii", "iv"})


def _words(raw: str) -> list[str]:
    """Fold ``raw`` and split it into words."""
    folded = fold_text(raw)
    return folded.split() if folded else []


def _drop_suffixes(words: list[str]) -> list[str]:
    """Remove generational suffixes from the end of ``words``."""
    end = len(words)
    while end and words[end - 1] in _SUFFIXES:
        end -= 1
    return words[:end]


def _given_parts(words: list[str]) -> tuple[str, str]:
    """Split given-name words into (first given name, the others space-joined)."""
    if not words:
        return "", ""
    return words[0], " ".join(words[1:])


def _family_start(units: list[list[str]]) -> int:
    """Index of the unit where the family name starts in a given-first name.

    The family name is the last unit plus any particles just before it
    ("maria de la cruz" -> "de la cruz"). At least one unit is always left for
    the given name, so "Van Morrison" keeps "van" as the given name. Before a
    common Vietnamese family name no particle is taken ("An Van Nguyen").
    """
    start = len(units) - 1
    if len(units[start]) == 1 and units[start][0] in _VIETNAMESE_FAMILY:
        return start
    matched = True
    while matched:
        matched = False
        for length in range(_MAX_PARTICLE_WORDS, 0, -1):
            if start - length < 1:
                continue
            candidate = units[start - length : start]
            if all(len(u) == 1 for u in candidate) and (
                tuple(u[0] for u in candidate) in _PARTICLES
            ):
                start -= length
                matched = True
                break
    return start


def _parse_given_first(raw: str) -> NameParts:
    """Parse a name written given names first ("Juan Carlos Ramírez-García")."""
    # A unit is one whitespace-separated word of the source, folded; a hyphenated
    # word becomes a unit of several words ("ramirez garcia") so it stays whole.
    units = [w for w in (_words(part) for part in raw.split()) if w]
    while units and len(units[-1]) == 1 and units[-1][0] in _SUFFIXES:
        units.pop()
    if not units:
        return NameParts("", "", "")
    if len(units) == 1:
        given, middle = _given_parts(units[0])
        return NameParts(given, middle, "")
    start = _family_start(units)
    given, middle = _given_parts([w for u in units[:start] for w in u])
    family = " ".join(w for u in units[start:] for w in u)
    return NameParts(given, middle, family)


@_memo
def _parse_full(full: str) -> NameParts:
    """Parse a full name; see :func:`parse_name`."""
    if "," not in full:
        parts = _parse_given_first(full)
    else:
        # A comma puts the family name first ("Ramírez, Jazmin M"; "RAMIREZ,"
        # is a family name alone). A part made only of suffixes ("Jazmin
        # Ramírez, Jr.") does not count; an empty part does.
        raw_segments: list[str] = []
        segments: list[list[str]] = []
        for segment in full.split(","):
            words = _words(segment)
            kept = _drop_suffixes(words)
            if kept or not words:
                raw_segments.append(segment)
                segments.append(kept)
        if len(segments) == 1:
            # Re-read the source text: hyphenated words must stay whole.
            parts = _parse_given_first(raw_segments[0])
        elif segments:
            given, middle = _given_parts([w for seg in segments[1:] for w in seg])
            parts = NameParts(given, middle, " ".join(segments[0]))
        else:
            parts = NameParts("", "", "")
    if not parts.key:
        raise InvalidArgument(f"name: got {full!r}, nothing left after normalisation")
    return parts


@_memo
def _parse_split(given: str, family: str) -> NameParts:
    """Parse a name whose given and family parts the source kept apart."""
    first, middle = _given_parts(_drop_suffixes(_words(given)))
    parts = NameParts(first, middle, " ".join(_drop_suffixes(_words(family))))
    if not parts.key:
        raise InvalidArgument(
            f"name: got given={given!r}, family={family!r}, nothing left after normalisation"
        )
    return parts


def parse_name(full: str = "", *, given: str = "", family: str = "") -> NameParts:
    """Split and normalise a person's name.

    Pass either ``full`` (the name as one string) or ``given``/``family`` when
    the source keeps them apart (then no guessing is needed).

    A full name with a comma is family-first (``"Ramírez, Jazmin M"``);
    without one it is given-first (``"Jazmin M. Ramírez"``), and the family name
    is the last word together with the particles before it (``"María de la
    Cruz"`` -> family ``"de la cruz"``) or a hyphenated last word
    (``"Ramírez-García"`` -> ``"ramirez garcia"``). The first given word is
    ``given``; further given words and initials form ``middle``. A single word
    is taken as a given name or moniker (``"Jazzy"`` -> given ``"jazzy"``).
    Generational suffixes (jr, sr, ii, iii, iv) are dropped.

    Raises:
        InvalidArgument: if both forms are passed, or nothing is left after
            normalisation.
    """
    if full.strip():
        if given.strip() or family.strip():
            raise InvalidArgument(
                f"name: got full={full!r} and given={given!r}, family={family!r}; "
                "pass either a full name or given/family, not both"
            )
        return _parse_full(full)
    if not (given.strip() or family.strip()):
        raise InvalidArgument(f"name: got {full!r}, nothing left after normalisation")
    return _parse_split(given, family)


# --------------------------------------------------------------------------
# Phones and emails
# --------------------------------------------------------------------------

_VR = phonenumbers.ValidationResult
_PHONE_REASONS: Final[dict[int, str]] = {
    _VR.INVALID_COUNTRY_CODE: "unknown country code",
    _VR.TOO_SHORT: "too short",
    _VR.TOO_LONG: "too long",
    _VR.INVALID_LENGTH: "wrong number of digits",
    _VR.IS_POSSIBLE_LOCAL_ONLY: "a local number without its area code",
}


#: A North American number in one of the common written forms: optional
#: ``+1``/``1``, an area code and exchange that do not start with 0 or 1 (so
#: nothing can be read as a national prefix), and ten digits in all. Their
#: E.164 form is ``+1`` and the ten digits, exactly what ``phonenumbers``
#: gives (pinned by tests); reading them without ``phonenumbers`` is about 50
#: times faster, and ingest normalises hundreds of thousands of them.
_NANP_RE: Final = re.compile(
    r"(?:\+?1[ .-]?)?\(?([2-9]\d{2})\)?[ .-]?([2-9]\d{2})[ .-]?(\d{4})")


def normalize_phone(raw: str, default_region: str = "US") -> str:
    """Normalise a phone number to E.164 (``"+15550142231"``).

    Accepts the common written forms: ``"(555) 014-2231"``, ``"555.014.2231"``,
    ``"1-555-014-2231"``, ``"+1 555 014 2231"``, ``"+52 55 1234 5678"``, ...
    Numbers without a country code are read in ``default_region`` (an ISO
    3166 region code such as ``"US"``). Extensions (``"x12"``, ``"ext. 12"``)
    are dropped. The number must be *possible* (right length for its country),
    not *valid*: fictional 555-01xx numbers pass. A local number without its
    area code (``"014-2231"``) is refused, since its E.164 form would be wrong.

    Raises:
        InvalidArgument: if ``default_region`` is unknown or ``raw`` is not a
            possible phone number.
    """
    if (match := _NANP_RE.fullmatch(raw.strip())) and (
            default_region == "US" or raw.lstrip().startswith("+1")):
        return "+1" + "".join(match.groups())
    return _normalize_phone(raw, default_region)


@_memo
def _normalize_phone(raw: str, default_region: str) -> str:
    region = default_region.strip().upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise InvalidArgument(
            f"phone: default_region got {default_region!r}, not a known region code"
        )
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as e:
        raise InvalidArgument(f"phone: got {raw!r}, not a phone number") from e
    reason = phonenumbers.is_possible_number_with_reason(number)
    if reason != _VR.IS_POSSIBLE:
        detail = _PHONE_REASONS.get(reason, "impossible length")
        raise InvalidArgument(f"phone: got {raw!r}, not a possible phone number ({detail})")
    e164: str = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return e164


_WHITESPACE_RE: Final = re.compile(r"\s")


def normalize_email(raw: str) -> str:
    """Normalise an email address: strip surrounding space and lowercase it.

    Raises:
        InvalidArgument: unless the address has exactly one ``@``, a non-empty
            local part, and a domain of at least two non-empty dot-separated
            labels, with no whitespace anywhere.
    """
    email = raw.strip().lower()
    if email.count("@") != 1:
        raise InvalidArgument(f"email: got {raw!r}, want exactly one '@', found {email.count('@')}")
    if _WHITESPACE_RE.search(email):
        raise InvalidArgument(f"email: got {raw!r}, contains whitespace")
    local, domain = email.split("@")
    if not local:
        raise InvalidArgument(f"email: got {raw!r}, empty local part before '@'")
    labels = domain.split(".")
    if len(labels) < 2 or not all(labels):
        raise InvalidArgument(f"email: got {raw!r}, domain {domain!r} is not like 'example.org'")
    return email


# --------------------------------------------------------------------------
# Vehicles
# --------------------------------------------------------------------------

_US_STATES: Final = {
    "AL": "alabama", "AK": "alaska", "AZ": "arizona", "AR": "arkansas",
    "CA": "california", "CO": "colorado", "CT": "connecticut", "DE": "delaware",
    "DC": "district of columbia", "FL": "florida", "GA": "georgia", "HI": "hawaii",
    "ID": "idaho", "IL": "illinois", "IN": "indiana", "IA": "iowa", "KS": "kansas",
    "KY": "kentucky", "LA": "louisiana", "ME": "maine", "MD": "maryland",
    "MA": "massachusetts", "MI": "michigan", "MN": "minnesota", "MS": "mississippi",
    "MO": "missouri", "MT": "montana", "NE": "nebraska", "NV": "nevada",
    "NH": "new hampshire", "NJ": "new jersey", "NM": "new mexico", "NY": "new york",
    "NC": "north carolina", "ND": "north dakota", "OH": "ohio", "OK": "oklahoma",
    "OR": "oregon", "PA": "pennsylvania", "RI": "rhode island", "SC": "south carolina",
    "SD": "south dakota", "TN": "tennessee", "TX": "texas", "UT": "utah",
    "VT": "vermont", "VA": "virginia", "WA": "washington", "WV": "west virginia",
    "WI": "wisconsin", "WY": "wyoming",
    "AS": "american samoa", "GU": "guam", "MP": "northern mariana islands",
    "PR": "puerto rico", "VI": "us virgin islands",
    # NCIC: plates reading "U.S. Government".
    "US": "us government",
}  # fmt: skip

_CA_PROVINCES: Final = {
    "AB": "alberta", "BC": "british columbia", "MB": "manitoba", "NB": "new brunswick",
    "NL": "newfoundland and labrador", "NS": "nova scotia", "NT": "northwest territories",
    "NU": "nunavut", "ON": "ontario", "PE": "prince edward island", "QC": "quebec",
    "SK": "saskatchewan", "YT": "yukon",
}  # fmt: skip

# Mexico has no official two-letter state codes, and the ones in use collide
# with US and Canadian codes (CO Coahuila/Colorado, ME México/Maine, NL Nuevo
# León/Newfoundland), so Mexican states use their ISO 3166-2:MX codes.
_MX_STATES: Final = {
    "AGU": "aguascalientes", "BCN": "baja california", "BCS": "baja california sur",
    "CAM": "campeche", "CHP": "chiapas", "CHH": "chihuahua", "CMX": "ciudad de mexico",
    "COA": "coahuila", "COL": "colima", "DUR": "durango", "GUA": "guanajuato",
    "GRO": "guerrero", "HID": "hidalgo", "JAL": "jalisco", "MEX": "estado de mexico",
    "MIC": "michoacan", "MOR": "morelos", "NAY": "nayarit", "NLE": "nuevo leon",
    "OAX": "oaxaca", "PUE": "puebla", "QUE": "queretaro", "ROO": "quintana roo",
    "SLP": "san luis potosi", "SIN": "sinaloa", "SON": "sonora", "TAB": "tabasco",
    "TAM": "tamaulipas", "TLA": "tlaxcala", "VER": "veracruz", "YUC": "yucatan",
    "ZAC": "zacatecas",
}  # fmt: skip

#: Retired or alternative codes and names (folded, spaces removed) -> code.
_STATE_ALIASES: Final = {
    "nf": "NL",  # Newfoundland before 2002, still used by NCIC
    "pq": "QC",  # Province de Québec, before the 1990s
    "dif": "CMX",  # Distrito Federal, renamed Ciudad de México in 2016
    "df": "CMX", "distritofederal": "CMX", "cdmx": "CMX",
    "washingtondc": "DC", "virginislands": "VI",
    "newfoundland": "NL", "labrador": "NL",
    "mexico": "MEX", "coahuiladezaragoza": "COA", "michoacandeocampo": "MIC",
    "veracruzdeignaciodelallave": "VER",
}  # fmt: skip

#: Every accepted spelling, folded with spaces removed ("D.C." -> "dc",
#: "New York" -> "newyork"), -> the canonical code. Codes (2-3 letters) and
#: names (4+ letters) cannot collide.
_STATE_LOOKUP: Final[dict[str, str]] = {
    **{
        key: code
        for table in (_US_STATES, _CA_PROVINCES, _MX_STATES)
        for code, name in table.items()
        for key in (code.lower(), name.replace(" ", ""))
    },
    **_STATE_ALIASES,
}

_PLATE_DROP_RE: Final = re.compile(r"[\s.\-]+")
_PLATE_MAX: Final = 8  # NCIC LIC field


def _normalize_state(state: str) -> str:
    """Map a US state, Canadian province or Mexican state to its code."""
    if code := _STATE_LOOKUP.get(fold_text(state).replace(" ", "")):
        return code
    raise InvalidArgument(
        f"plate.state: got {state!r}, want a US state, Canadian province or "
        "Mexican state (e.g. 'CA', 'California', 'ON', 'JAL')"
    )


def normalize_plate(plate: str, state: str) -> str:
    """Normalise a licence plate with its issuing jurisdiction: ``"CA:7ABC123"``.

    ``state`` is a two-letter US (USPS, incl. DC and territories) or Canadian
    code, a Mexican ISO 3166-2:MX three-letter code, or the full name of any of
    these, in any case and with or without accents or periods. The plate keeps
    only its letters and digits, uppercased; spaces, dashes and dots are
    dropped, anything else is refused. At most 8 characters remain (the NCIC
    limit).

    Raises:
        InvalidArgument: naming ``plate.state`` or ``plate.number``.
    """
    code = _normalize_state(state)
    number = _PLATE_DROP_RE.sub("", plate).upper()
    if not number:
        raise InvalidArgument(f"plate.number: got {plate!r}, empty")
    if not (number.isascii() and number.isalnum()):
        raise InvalidArgument(
            f"plate.number: got {plate!r}, want letters and digits only "
            "(spaces, dashes and dots are ignored)"
        )
    if len(number) > _PLATE_MAX:
        raise InvalidArgument(
            f"plate.number: got {plate!r}, {len(number)} characters, at most {_PLATE_MAX} allowed"
        )
    return f"{code}:{number}"


_VIN_DROP_RE: Final = re.compile(r"[\s\-]+")
_VIN_LENGTH: Final = 17


def normalize_vin(raw: str) -> str:
    """Normalise a vehicle identification number: uppercase, no spaces or dashes.

    A VIN is 17 letters and digits without I, O or Q (ISO 3779). The check
    digit is not verified: only North American VINs carry one.

    Raises:
        InvalidArgument: naming the length, the foreign characters, or the
            forbidden letters found.
    """
    vin = _VIN_DROP_RE.sub("", raw).upper()
    if len(vin) != _VIN_LENGTH:
        raise InvalidArgument(f"vin: got {raw!r}, want {_VIN_LENGTH} characters, found {len(vin)}")
    if not (vin.isascii() and vin.isalnum()):
        raise InvalidArgument(f"vin: got {raw!r}, want letters and digits only")
    if forbidden := sorted(set(vin) & {"I", "O", "Q"}):
        raise InvalidArgument(
            f"vin: got {raw!r}, contains {', '.join(forbidden)} (I, O and Q never occur in a VIN)"
        )
    return vin


# --------------------------------------------------------------------------
# Addresses
# --------------------------------------------------------------------------

#: Word -> USPS standard form (Publication 28, appendices B/C/D), for the
#: suffixes, directionals and unit designators that matter in practice.
_ADDRESS_WORDS: Final = {
    # street suffixes
    **dict.fromkeys(("street", "st", "str", "strt"), "st"),
    **dict.fromkeys(("avenue", "ave", "av", "aven", "avenu", "avn", "avnue"), "ave"),
    **dict.fromkeys(("road", "rd"), "rd"),
    **dict.fromkeys(("boulevard", "blvd", "boul", "boulv"), "blvd"),
    **dict.fromkeys(("drive", "dr", "drv", "driv"), "dr"),
    **dict.fromkeys(("lane", "ln"), "ln"),
    **dict.fromkeys(("court", "ct"), "ct"),
    **dict.fromkeys(("place", "pl"), "pl"),
    **dict.fromkeys(("circle", "cir", "circ"), "cir"),
    **dict.fromkeys(("highway", "hwy", "hiway", "hiwy"), "hwy"),
    **dict.fromkeys(("parkway", "pkwy", "parkwy", "pky", "pkway"), "pkwy"),
    **dict.fromkeys(("terrace", "ter", "terr"), "ter"),
    **dict.fromkeys(("trail", "trl"), "trl"),
    **dict.fromkeys(("square", "sq"), "sq"),
    **dict.fromkeys(("expressway", "expy", "expwy"), "expy"),
    **dict.fromkeys(("freeway", "fwy"), "fwy"),
    **dict.fromkeys(("route", "rte"), "rte"),
    # directionals
    **dict.fromkeys(("north", "n"), "n"),
    **dict.fromkeys(("south", "s"), "s"),
    **dict.fromkeys(("east", "e"), "e"),
    **dict.fromkeys(("west", "w"), "w"),
    **dict.fromkeys(("northeast", "ne"), "ne"),
    **dict.fromkeys(("northwest", "nw"), "nw"),
    **dict.fromkeys(("southeast", "se"), "se"),
    **dict.fromkeys(("southwest", "sw"), "sw"),
    # unit designators: all mean "the unit within the building"
    **dict.fromkeys(("apartment", "apt", "unit", "suite", "ste"), "apt"),
    **dict.fromkeys(("floor", "fl"), "fl"),
    **dict.fromkeys(("building", "bldg"), "bldg"),
    **dict.fromkeys(("room", "rm"), "rm"),
    "saint": "st",  # "Saint Paul Ave" == "St. Paul Ave"
    # ordinal street names: "Fifth Avenue" == "5th Ave"
    "first": "1st", "second": "2nd", "third": "3rd", "fourth": "4th", "fifth": "5th",
    "sixth": "6th", "seventh": "7th", "eighth": "8th", "ninth": "9th", "tenth": "10th",
}  # fmt: skip

# "#4" is a unit number; fold_text would erase the "#", so spell it out first.
_HASH_RE: Final = re.compile(r"#")
# "N.E." / "S. W." are one directional, not two.
_DOTTED_DIRECTIONAL_RE: Final = re.compile(r"\b([NnSs])\.\s*([EeWw])\.")
# ZIP+4: the +4 part is often missing; keep the five-digit ZIP.
_ZIP4_RE: Final = re.compile(r"\b(\d{5})-\d{4}\b")


@_memo
def normalize_address(raw: str) -> str:
    """Normalise a street address to folded words in USPS standard forms.

    ``"123 N. Main Street, Apt #4"`` and ``"123 north main st apt 4"`` both give
    ``"123 n main st apt 4"``. Suffixes (street -> st, avenue -> ave, ...),
    directionals (north -> n, N.E. -> ne) and unit designators (apartment,
    unit, suite, ``#`` -> apt) take one form; ordinal words become numbers
    (fifth -> 5th); a ZIP+4 keeps its five-digit ZIP.

    Raises:
        InvalidArgument: if nothing is left after normalisation.
    """
    text = _ZIP4_RE.sub(r"\1", raw)
    text = _DOTTED_DIRECTIONAL_RE.sub(r"\1\2", text)
    text = _HASH_RE.sub(" apt ", text)
    words: list[str] = []
    for word in fold_text(text).split():
        std = _ADDRESS_WORDS.get(word, word)
        if std == "apt" and words and words[-1] == "apt":
            continue  # "Apt #4" -> "apt apt 4" -> "apt 4"
        words.append(std)
    if not words:
        raise InvalidArgument(f"address: got {raw!r}, nothing left after normalisation")
    return " ".join(words)


# --------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------

#: Years outside this range are placeholders ("0001-01-01", "9999-12-31") or
#: typos, never real dates of birth or incidents; refusing them keeps them out
#: of the tokens.
MIN_YEAR: Final = 1800
MAX_YEAR: Final = 2199

_MONTHS: Final = {
    "jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3,
    "apr": 4, "april": 4, "may": 5, "jun": 6, "june": 6, "jul": 7, "july": 7,
    "aug": 8, "august": 8, "sep": 9, "sept": 9, "september": 9, "oct": 10,
    "october": 10, "nov": 11, "november": 11, "dec": 12, "december": 12,
}  # fmt: skip

# Day and year need a separator in "March 4, 1999" ("March 1999" is no
# date); "04MAR1999" (SAS DATE9) needs none.
# Everything after the date: an optional time of day with optional seconds,
# fraction, AM/PM and zone ("T14:05:00Z", " 2:05 PM", " 14:05:00.000 -05:00").
_TIME = (
    r"(?:(?:t|\s+|\s*,\s*)\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?"
    r"(?:\s*[ap]\.?m\.?)?(?:\s*(?:z|[+-]\d{2}(?::?\d{2})?|[a-z]{2,5}))?)?"
)
_ORD = r"(?:st|nd|rd|th)?"
_WEEKDAY = r"(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+)?"
_YMD_RE: Final = re.compile(rf"(\d{{4}})([-/.])(\d{{1,2}})\2(\d{{1,2}}){_TIME}")
_COMPACT_RE: Final = re.compile(rf"(\d{{8}}){_TIME}")
_NUMERIC_RE: Final = re.compile(rf"(\d{{1,2}})([-/.])(\d{{1,2}})\2(\d{{4}}|\d{{2}}){_TIME}")
_NAME_MDY_RE: Final = re.compile(
    rf"{_WEEKDAY}([a-z]+)\.?[\s-]*(\d{{1,2}}){_ORD}(?:\s*,\s*|[\s-]+)(\d{{4}}|\d{{2}}){_TIME}"
)
_NAME_DMY_RE: Final = re.compile(
    rf"{_WEEKDAY}(\d{{1,2}}){_ORD}[\s-]*(?:of\s+)?([a-z]+)\.?(?:\s*,\s*|[\s-]*)(\d{{4}}|\d{{2}}){_TIME}"
)

_DATE_EXAMPLES: Final = "e.g. 1999-03-04, 03/04/1999, 19990304 or March 4, 1999"


def _year(text: str, pivot_year: int) -> int:
    """A four-digit year as is; a two-digit one in ``[pivot_year-100, pivot_year)``."""
    year = int(text)
    if len(text) == 2:
        year += pivot_year // 100 * 100
        if year >= pivot_year:
            year -= 100
    return year


def _make_date(raw: str, year: int, month: int, day: int) -> dt.date:
    """Build a date, turning an impossible one into InvalidArgument."""
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise InvalidArgument(f"date: got {raw!r}, year {year} outside {MIN_YEAR}..{MAX_YEAR}")
    try:
        return dt.date(year, month, day)
    except ValueError as e:
        raise InvalidArgument(
            f"date: got {raw!r}, no such date (year {year}, month {month}, day {day}: {e})"
        ) from e


def _month(raw: str, name: str) -> int:
    """Month number of an English month name or abbreviation."""
    if (month := _MONTHS.get(name)) is None:
        raise InvalidArgument(f"date: got {raw!r}, {name!r} is not a month name")
    return month


def _day_month(raw: str, first: int, second: int, order: DateOrder) -> tuple[int, int]:
    """Resolve the two leading numbers of a numeric date into (day, month).

    ``order`` decides, unless one number cannot be a month (> 12): then the
    only possible reading is used.
    """
    if first > 12 and second > 12:
        raise InvalidArgument(f"date: got {raw!r}, neither {first} nor {second} can be a month")
    if order == "MDY":
        return (first, second) if first > 12 else (second, first)
    return (second, first) if second > 12 else (first, second)


@_memo
def parse_date(raw: str, order: DateOrder = "MDY", *, pivot_year: int = 2030) -> dt.date:
    """Parse a calendar date written in any common form.

    Accepted: ISO and its relatives (``1999-03-04``, ``1999/03/04``,
    ``1999.3.4``, ``19990304``); numeric day/month forms (``03/04/1999``,
    ``3-4-1999``, ``03.04.99``, ``03041999``); month names (``March 4, 1999``,
    ``Mar 4 1999``, ``4 March 1999``, ``04-Mar-1999``, ``Thu, 4th of March 99``).
    Any of these may be followed by a time of day, which is ignored
    (``03/04/1999 14:05``, ``1999-03-04T14:05:00Z``).

    Numeric day/month order follows ``order``, except that a number above 12
    is always the day. A two-digit year falls in the hundred years before
    ``pivot_year``: with the default 2030, ``00``-``29`` are 2000-2029 and
    ``30``-``99`` are 1930-1999. Years outside ``MIN_YEAR..MAX_YEAR`` are
    refused. An eight-digit number is ``YYYYMMDD`` if that is a real date,
    else read by ``order`` (``MMDDYYYY`` / ``DDMMYYYY``).

    Raises:
        InvalidArgument: for an unknown ``order``, an unknown format, or a date
            that does not exist (``02/30/1999``, month 13 in both readings).
    """
    if order not in ("MDY", "DMY"):
        raise InvalidArgument(f"date: order got {order!r}, want one of ['MDY', 'DMY']")
    text = raw.strip().lower()
    if m := _YMD_RE.fullmatch(text):
        return _make_date(raw, int(m[1]), int(m[3]), int(m[4]))
    if m := _NUMERIC_RE.fullmatch(text):
        day, month = _day_month(raw, int(m[1]), int(m[3]), order)
        return _make_date(raw, _year(m[4], pivot_year), month, day)
    if m := _COMPACT_RE.fullmatch(text):
        digits = m[1]
        try:
            return _make_date(raw, int(digits[:4]), int(digits[4:6]), int(digits[6:]))
        except InvalidArgument:
            day, month = _day_month(raw, int(digits[:2]), int(digits[2:4]), order)
            return _make_date(raw, int(digits[4:]), month, day)
    if m := _NAME_MDY_RE.fullmatch(text):
        month = _month(raw, m[1])
        return _make_date(raw, _year(m[3], pivot_year), month, int(m[2]))
    if m := _NAME_DMY_RE.fullmatch(text):
        month = _month(raw, m[2])
        return _make_date(raw, _year(m[3], pivot_year), month, int(m[1]))
    raise InvalidArgument(f"date: got {raw!r}, not a date in a known format ({_DATE_EXAMPLES})")
