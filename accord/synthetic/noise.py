"""Realistic recording errors: how a true identity turns into what a clerk typed.

:func:`observe` takes an :class:`~accord.synthetic.people.Entity` and returns an
:class:`Appearance`: the values one record holds for that person, after
typos, nicknames, dropped accents, swapped day and month, missing values and
so on, each at a rate set by :class:`ErrorRates`. Sources then lay an
appearance out in their own columns and formats (see :mod:`.sources`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import random
import string
import unicodedata
from dataclasses import dataclass

from accord.synthetic.people import Entity, EntityVehicle


@dataclass(frozen=True)
class ErrorRates:
    """How often each kind of recording error happens, as probabilities.

    Each rate applies independently to each appearance of a person in a
    record. ``drop_accents`` applies to sources that can store accents; legacy
    sources that cannot (the CAD export) always drop them.
    """

    #: One character substituted, deleted or transposed in the given or family name.
    typo: float = 0.05
    #: The nickname written instead of the given name (people who have one).
    nickname: float = 0.12
    #: Accents dropped (``Ramírez`` written ``Ramirez``).
    drop_accents: float = 0.4
    #: Day and month of the birth date swapped (only where that is still a date).
    swap_day_month: float = 0.02
    #: Birth date not recorded.
    missing_dob: float = 0.15
    #: Family name not recorded.
    missing_family: float = 0.03
    #: A one-column name written ``LAST, FIRST`` instead of ``First Last``.
    last_first: float = 0.3
    #: One digit of a recorded phone number mistyped. Off by default (the
    #: demo's data predates it); :data:`REALISTIC` turns it on.
    phone_typo: float = 0.0
    #: A name written in another transliteration or spelling of the same
    #: name (``Mohammed`` / ``Muhammad``, ``Müller`` / ``Mueller``,
    #: ``Jiménez`` / ``Giménez``), for names that have one. Off by default.
    transliteration: float = 0.0

    def __post_init__(self) -> None:
        for item in dataclasses.fields(self):
            value = getattr(self, item.name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"ErrorRates.{item.name}: got {value!r}, want 0.0 to 1.0")


#: No errors at all: every appearance is the true identity.
NO_ERRORS = ErrorRates(
    typo=0.0,
    nickname=0.0,
    drop_accents=0.0,
    swap_day_month=0.0,
    missing_dob=0.0,
    missing_family=0.0,
    last_first=0.0,
)

#: The default rates plus mistyped phone digits and other transliterations:
#: what the matching benchmark scores against.
REALISTIC = ErrorRates(phone_typo=0.02, transliteration=0.08)

#: Other accepted spellings of names in :mod:`accord.synthetic.names`, as a
#: clerk from another agency or another language might write them. One table
#: for given and family names ("Tesfaye" is both).
TRANSLITERATIONS: dict[str, tuple[str, ...]] = {
    # given names
    "Mohammed": ("Muhammad", "Mohamed", "Mohammad"),
    "Muhammad": ("Mohammed", "Muhammed"),
    "Yusuf": ("Youssef", "Yousef"),
    "Aisha": ("Ayesha", "Aysha"),
    "Layla": ("Leila", "Laila"),
    "Hussein": ("Husain", "Hussain"),
    "Omar": ("Umar",),
    "Khalid": ("Khaled",),
    "Mustafa": ("Mostafa",),
    "Fatima": ("Fatimah",),
    "Zainab": ("Zaynab",),
    "Yasmin": ("Yasmine",),
    "Jazmín": ("Jasmine", "Yazmin"),
    "Jazmin": ("Jasmine",),
    "Ximena": ("Jimena",),
    "Dmitri": ("Dmitry", "Dimitri"),
    "Sergei": ("Sergey",),
    "Natalia": ("Natalya",),
    "Jürgen": ("Juergen",),
    "Björn": ("Bjoern",),
    "Ji-hoon": ("Jihoon", "Ji Hoon"),
    "Seo-yeon": ("Seoyeon",),
    "Min-jun": ("Minjun",),
    "Xiu Ying": ("Xiuying",),
    "Oluwaseun": ("Oluwasehun",),
    "Krzysztof": ("Kristof",),
    "Tesfaye": ("Tesfay",),
    # family names
    "Müller": ("Mueller", "Muller"),
    "Al-Sayed": ("El-Sayed", "Alsayed"),
    "Al-Masri": ("El-Masri",),
    "Abdullah": ("Abdallah",),
    "Mansour": ("Mansur",),
    "Suleiman": ("Sulaiman",),
    "Youssef": ("Yousef", "Yusuf"),
    "Qureshi": ("Kureshi",),
    "Jiménez": ("Giménez", "Jimenes"),
    "Vásquez": ("Vázquez", "Basquez"),
    "González": ("Gonzales",),
    "Hernández": ("Ernandez",),
    "Gutiérrez": ("Gutierres",),
    "Velázquez": ("Velasquez",),
    "Chávez": ("Chaves",),
    "Ivanov": ("Ivanoff",),
    "Petrov": ("Petroff",),
}


@dataclass(frozen=True, slots=True)
class Appearance:
    """What one record holds about one person, errors included.

    ``phones`` are ten digits; sources format them. ``dob`` is ``None`` when
    not recorded. ``nickname`` is the person's nickname (for AKA columns),
    which may also have replaced ``given``.
    """

    entity_id: str
    given: str
    family: str
    nickname: str
    dob: dt.date | None
    phones: tuple[str, ...]
    email: str
    address: str
    vehicle: EntityVehicle | None

    def full_name(self, rng: random.Random, rates: ErrorRates, *, upper: bool = False) -> str:
        """The name in one column: ``Given Family`` or, at times, ``FAMILY, GIVEN``."""
        if self.family and rng.random() < rates.last_first:
            name = f"{self.family.upper()}, {self.given.upper()}"
        else:
            name = f"{self.given} {self.family}".strip()
        return name.upper() if upper else name


@functools.lru_cache(maxsize=4096)
def strip_accents(text: str) -> str:
    """``text`` with combining accents removed (``Núñez`` -> ``Nunez``)."""
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return unicodedata.normalize(
        "NFC", "".join(c for c in decomposed if not unicodedata.combining(c))
    )


def typo(rng: random.Random, text: str) -> str:
    """``text`` with one letter substituted, deleted or two transposed."""
    positions = [i for i, c in enumerate(text) if c.isalpha()]
    if len(positions) < 3:
        return text
    i = rng.choice(positions[1:])  # clerks rarely get the first letter wrong
    kind = rng.randrange(3)
    if kind == 1:
        return text[:i] + text[i + 1 :]
    if kind == 2 and text[i - 1].isalpha() and text[i - 1] != text[i]:
        return text[: i - 1] + text[i] + text[i - 1] + text[i + 1 :]
    letter = rng.choice(string.ascii_lowercase)
    letter = letter.upper() if text[i].isupper() else letter
    return text[:i] + letter + text[i + 1 :]


def mistype_digit(rng: random.Random, digits: str) -> str:
    """``digits`` with one of them replaced by another digit."""
    i = rng.randrange(len(digits))
    other = rng.choice([d for d in string.digits if d != digits[i]])
    return digits[:i] + other + digits[i + 1 :]


def _transliterate(rng: random.Random, given: str, family: str) -> tuple[str, str]:
    """Another accepted spelling of the given or the family name, where one exists."""
    options = [("given", v) for v in TRANSLITERATIONS.get(given, ())]
    options += [("family", v) for v in TRANSLITERATIONS.get(family, ())]
    if not options:
        return given, family
    part, variant = rng.choice(options)
    return (variant, family) if part == "given" else (given, variant)


def observe(
    rng: random.Random,
    entity: Entity,
    rates: ErrorRates,
    *,
    ascii_only: bool = False,
    max_phones: int = 1,
    phone_rate: float = 0.8,
) -> Appearance:
    """How ``entity`` is written down in one record.

    ``ascii_only`` is for sources that cannot store accents. At most
    ``max_phones`` of the person's numbers are recorded, each with probability
    ``phone_rate``.
    """
    given, family = entity.given, entity.family
    if entity.nickname and rng.random() < rates.nickname:
        given = entity.nickname
    if rng.random() < rates.missing_family:
        family = ""
    if rates.transliteration and rng.random() < rates.transliteration:
        given, family = _transliterate(rng, given, family)
    if rng.random() < rates.typo:
        if family and rng.random() < 0.5:
            family = typo(rng, family)
        else:
            given = typo(rng, given)
    if ascii_only or rng.random() < rates.drop_accents:
        given, family = strip_accents(given), strip_accents(family)
    true_dob = entity.dob
    dob: dt.date | None = true_dob
    if rng.random() < rates.missing_dob:
        dob = None
    elif (
        rng.random() < rates.swap_day_month
        and true_dob.day <= 12
        and true_dob.day != true_dob.month
    ):
        dob = true_dob.replace(month=true_dob.day, day=true_dob.month)
    phones = tuple(p for p in entity.phones[:max_phones] if rng.random() < phone_rate)
    if rates.phone_typo and phones and rng.random() < rates.phone_typo:
        phones = (mistype_digit(rng, phones[0]), *phones[1:])
    return Appearance(
        entity_id=entity.entity_id,
        given=given,
        family=family,
        nickname=strip_accents(entity.nickname) if ascii_only else entity.nickname,
        dob=dob,
        phones=phones,
        email=entity.email,
        address=entity.address,
        vehicle=entity.vehicle,
    )


def exact(entity: Entity) -> Appearance:
    """``entity`` exactly as it is (used for the planted story)."""
    return Appearance(
        entity_id=entity.entity_id,
        given=entity.given,
        family=entity.family,
        nickname=entity.nickname,
        dob=entity.dob,
        phones=entity.phones,
        email=entity.email,
        address=entity.address,
        vehicle=entity.vehicle,
    )


# --------------------------------------------------------------------------- formats

#: Ways a ten-digit number is written, by name.
PHONE_STYLES = ("paren", "dots", "dashes", "digits", "e164", "spaced", "one_dash")


def format_phone(digits: str, style: str) -> str:
    """``5035550142`` in ``style`` (one of :data:`PHONE_STYLES`)."""
    area, exchange, line = digits[:3], digits[3:6], digits[6:]
    if style == "paren":
        return f"({area}) {exchange}-{line}"
    if style == "dots":
        return f"{area}.{exchange}.{line}"
    if style == "dashes":
        return f"{area}-{exchange}-{line}"
    if style == "digits":
        return digits
    if style == "e164":
        return f"+1{digits}"
    if style == "spaced":
        return f"+1 {area} {exchange} {line}"
    if style == "one_dash":
        return f"1-{area}-{exchange}-{line}"
    raise ValueError(f"phone style: got {style!r}, want one of {list(PHONE_STYLES)}")


def format_plate(rng: random.Random, plate: str) -> str:
    """A plate as typed: usually as issued, sometimes with a space or dash."""
    roll = rng.random()
    if roll < 0.06 and len(plate) > 3:
        return f"{plate[:3]} {plate[3:]}"
    if roll < 0.09 and len(plate) > 3:
        return f"{plate[:3]}-{plate[3:]}"
    return plate
