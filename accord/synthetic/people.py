"""The synthetic population: who the generated records are about.

A :class:`PersonPool` holds ``size`` invented people. Person ``i`` is a pure
function of ``(seed, i)``: it is built on first use from its own
``random.Random`` and cached, so a pool of a million people costs nothing until
records draw from it, and drawing order never changes who person ``i`` is.

Records pick people with :meth:`PersonPool.draw`, which is Zipf-like: a few
people turn up again and again (across agencies too), most only once or twice.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import random
import string
import unicodedata
from collections.abc import Collection, Iterable
from dataclasses import dataclass

from accord.synthetic import names

#: Ages are computed against this day (the first day records are dated), so a
#: seed gives the same people forever and adults are adults in every record.
REFERENCE_DATE = dt.date(2024, 1, 1)

#: Share of draws that pick uniformly from the whole pool; the rest are Zipf-like.
UNIFORM_SHARE = 0.35
#: Offset of the Zipf-Mandelbrot-like draw: larger spreads draws more evenly
#: over the most frequent people.
ZIPF_OFFSET = 8.0
#: People built and kept in memory at once (about 400 bytes each); the pool
#: rebuilds the rest on demand.
CACHE_SIZE = 1 << 17

_VIN_CHARS = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"  # VINs never use I, O or Q
#: Multipliers for the phone permutation; any of them coprime with the count works.
_PRIMES = (7919, 7927, 7933, 7937)


@dataclass(frozen=True, slots=True)
class EntityVehicle:
    """A person's vehicle: plate, issuing state and (sometimes) VIN."""

    plate: str
    state: str
    vin: str = ""


@dataclass(frozen=True, slots=True)
class Entity:
    """One invented person, with the true values of their identifiers.

    ``phones`` are ten NANP digits (``5035550142``); each source writes them
    in its own format. ``entity_id`` is what the ground truth calls them.
    """

    entity_id: str
    given: str
    family: str
    dob: dt.date
    nickname: str = ""
    phones: tuple[str, ...] = ()
    email: str = ""
    address: str = ""
    vehicle: EntityVehicle | None = None

    def age_on(self, day: dt.date) -> int:
        """Age in whole years on ``day``."""
        before_birthday = (day.month, day.day) < (self.dob.month, self.dob.day)
        return day.year - self.dob.year - int(before_birthday)


def fold(text: str) -> str:
    """``text`` without accents, lowercased: how two spellings are compared here."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def phone_number(area: str, line: int) -> str:
    """The fictional number ``(area) 555-01LL`` as ten digits."""
    return f"{area}55501{line:02d}"


class _Shuffled:
    """A list of numbers in a seed-dependent order (an affine permutation of indices)."""

    def __init__(self, numbers: list[str], seed: int) -> None:
        self._numbers = numbers
        count = len(numbers)
        self._step = next(p for p in _PRIMES if count % p != 0)  # coprime with count
        self._offset = (seed * 7919) % count

    def __len__(self) -> int:
        return len(self._numbers)

    def __getitem__(self, index: int) -> str:
        return self._numbers[(index * self._step + self._offset) % len(self._numbers)]


class _PhoneBook:
    """Hands out fictional numbers: unique while they last, then repeating.

    The first slots get numbers under the familiar area codes of
    :data:`~accord.synthetic.names.AREA_CODES` (3,000 numbers), later slots
    numbers under every other plausible area code (about 67,000 more), each
    tier in a seed-dependent order, so consecutive people get unrelated
    numbers. Reserved numbers (the story's) are never handed out.
    """

    def __init__(self, seed: int, reserved: Collection[str]) -> None:
        def numbers(areas: Iterable[str]) -> list[str]:
            every = (phone_number(area, line) for area in areas for line in range(100))
            return [n for n in every if n not in reserved]

        self._common = _Shuffled(numbers(names.AREA_CODES), seed)
        self._rest = _Shuffled(numbers(_other_area_codes()), seed)

    def number(self, slot: int) -> str:
        slot %= len(self._common) + len(self._rest)
        if slot < len(self._common):
            return self._common[slot]
        return self._rest[slot - len(self._common)]


def _other_area_codes() -> list[str]:
    """Plausible area codes not in AREA_CODES: NXX, no N11, N9X, 555, toll-free or 900."""
    special = {"555", "900", *(f"8{d}{d}" for d in range(10))}
    codes = []
    for first in range(2, 10):
        for second in range(9):
            for third in range(10):
                code = f"{first}{second}{third}"
                if (second, third) == (1, 1) or code in special or code in names.AREA_CODES:
                    continue
                codes.append(code)
    return codes


class PersonPool:
    """``size`` invented people, built on demand from ``seed``.

    ``reserved_names`` are folded ``(given, family)`` pairs no pool member may
    have; ``reserved_nicknames``, ``reserved_phones`` (ten digits) and
    ``reserved_plates`` are never handed out. They belong to the planted story,
    which must stay unambiguous.
    """

    def __init__(
        self,
        seed: int,
        size: int,
        *,
        reserved_names: Collection[tuple[str, str]] = (),
        reserved_nicknames: Collection[str] = (),
        reserved_phones: Collection[str] = (),
        reserved_plates: Collection[str] = (),
    ) -> None:
        if size < 1:
            raise ValueError(f"people: got {size}, want at least 1")
        self.seed = seed
        self.size = size
        self._reserved_names = frozenset(reserved_names)
        self._reserved_nicknames = frozenset(reserved_nicknames)
        self._reserved_plates = frozenset(reserved_plates)
        self._phones = _PhoneBook(seed, frozenset(reserved_phones))
        self._log_span = math.log((size + ZIPF_OFFSET) / ZIPF_OFFSET)
        self._cached = functools.lru_cache(maxsize=CACHE_SIZE)(self._build)

    @staticmethod
    def entity_id(index: int) -> str:
        """The ground-truth id of pool member ``index``."""
        return f"P{index:07d}"

    def entity(self, index: int) -> Entity:
        """Pool member ``index`` (``0 <= index < size``)."""
        if not 0 <= index < self.size:
            raise IndexError(f"person index {index} outside 0..{self.size - 1}")
        return self._cached(index)

    def draw_index(self, rng: random.Random) -> int:
        """A Zipf-like random index: low indices are drawn far more often."""
        if rng.random() < UNIFORM_SHARE:
            return rng.randrange(self.size)
        # Inverse CDF of a continuous 1/(x + offset) density on [0, size).
        x = ZIPF_OFFSET * math.exp(rng.random() * self._log_span) - ZIPF_OFFSET
        return min(int(x), self.size - 1)

    def draw(self, rng: random.Random, count: int) -> list[Entity]:
        """``count`` distinct people (fewer if the pool is smaller)."""
        count = min(count, self.size)
        picked: dict[int, None] = {}
        while len(picked) < count:
            picked[self.draw_index(rng)] = None
        return [self.entity(i) for i in picked]

    # -- building one person

    def _build(self, index: int) -> Entity:
        rng = random.Random(f"accord.synthetic:{self.seed}:person:{index}")
        given, family = self._name(rng)
        dob = _dob(rng)
        nickname = ""
        if rng.random() < 0.45 and given in names.NICKNAMES:
            nickname = rng.choice(names.NICKNAMES[given])
        elif rng.random() < 0.06:
            nickname = rng.choice(names.MONIKERS)
        if nickname in self._reserved_nicknames:
            nickname = ""
        phone_count = rng.choices((0, 1, 2), weights=(25, 55, 20))[0]
        phones = tuple(self._phones.number(2 * index + k) for k in range(phone_count))
        email = _email(rng, given, family, dob) if rng.random() < 0.35 else ""
        vehicle = self._vehicle(rng) if rng.random() < 0.4 else None
        return Entity(
            entity_id=self.entity_id(index),
            given=given,
            family=family,
            dob=dob,
            nickname=nickname,
            phones=phones,
            email=email,
            address=_address(rng),
            vehicle=vehicle,
        )

    def _name(self, rng: random.Random) -> tuple[str, str]:
        while True:
            given = rng.choice(names.GIVEN_NAMES)
            family = rng.choice(names.FAMILY_NAMES)
            if (fold(given), fold(family)) not in self._reserved_names:
                return given, family

    def _vehicle(self, rng: random.Random) -> EntityVehicle:
        while True:
            plate = random_plate(rng)
            if plate not in self._reserved_plates:
                break
        vin = random_vin(rng) if rng.random() < 0.3 else ""
        return EntityVehicle(plate=plate, state=rng.choice(names.PLATE_STATES), vin=vin)


def _dob(rng: random.Random) -> dt.date:
    """A birth date: about 1.5% of people are 13 to 17, the rest 18 to 75."""
    if rng.random() < 0.015:
        age_days = rng.randrange(13 * 365 + 4, 18 * 365)
    else:
        age_days = int(365.25 * min(75.0, 18.0 + rng.expovariate(1 / 14)))
    return REFERENCE_DATE - dt.timedelta(days=age_days)


def _ascii_word(text: str) -> str:
    return "".join(c for c in fold(text) if c in string.ascii_lowercase)


def _email(rng: random.Random, given: str, family: str, dob: dt.date) -> str:
    user = f"{_ascii_word(given)}.{_ascii_word(family)}"
    if rng.random() < 0.6:
        user += f"{dob.year % 100:02d}"
    return f"{user}@{rng.choice(names.EMAIL_DOMAINS)}"


def _address(rng: random.Random) -> str:
    town, state, zip_prefix = rng.choice(names.TOWNS)
    street = f"{rng.choice(names.STREETS)} {rng.choice(names.STREET_SUFFIXES)}"
    unit = f" Apt {rng.randint(1, 40)}" if rng.random() < 0.25 else ""
    number = rng.randint(100, 19999)
    return f"{number} {street}{unit}, {town}, {state} {zip_prefix}{rng.randint(0, 99):02d}"


def random_plate(rng: random.Random) -> str:
    """A plate in one of the common patterns (``7KDX214``, ``ABC1234``, ``123ABC``)."""
    letters = string.ascii_uppercase
    pattern = rng.randrange(3)
    if pattern == 0:
        return (
            str(rng.randint(1, 9))
            + "".join(rng.choice(letters) for _ in range(3))
            + f"{rng.randrange(1000):03d}"
        )
    if pattern == 1:
        return "".join(rng.choice(letters) for _ in range(3)) + f"{rng.randrange(10000):04d}"
    return f"{rng.randrange(1000):03d}" + "".join(rng.choice(letters) for _ in range(3))


def random_vin(rng: random.Random) -> str:
    """Seventeen VIN characters (the check digit is not computed)."""
    return "".join(rng.choice(_VIN_CHARS) for _ in range(17))
