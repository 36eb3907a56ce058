"""Error-tolerant keyed encodings of people: field tokens, blocking keys, Bloom filters.

Exact tokens (:mod:`node.tokens`) find a person only when every agency wrote
the identifier the same way. This module adds, for every person in a record
and for a query, under the same agreement keys:

* **field tokens**, compared field by field by :mod:`node.scoring`: the given
  and family name alone, their phonetic codes, the nickname-canonical forms
  of the given name (and of recorded nicknames), the date of birth exactly,
  with day and month unordered, and its year, the phone exactly and with each
  digit masked in turn, email and address;
* **Bloom filters** of the given name, family name and address bigrams
  (:mod:`node.bloom`), compared by Dice coefficient;
* **blocking keys**: combinations of partial identifiers (given initial with
  the family name's sound, the given name's sound with the family initial,
  a nickname-canonical given name with the family name's sound, the family
  name's sound with the birth year, the given initial or a nickname-canonical
  given name with the unordered birth date, the letters of both names in
  sorted order, the given name's letters with the unordered birth date).
  Only blocking keys and exact tokens are looked up in the node's index; a
  candidate found through them is then scored.

Every value is MACed (or, for Bloom filters, hashed into bit positions) under
a key derived from the federation secret and separate per kind, combination
and agreement; the hub relays the results without being able to make or
read any of them.

A person's field tokens and filters form a :class:`Profile`, stored per
person and agreement (field tokens cut to their first 16 bytes, which is
plenty to compare: a chance collision has probability 2**-128).
"""

from __future__ import annotations

import datetime as dt
import functools
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from accord.errors import InvalidArgument
from node import normalize
from node.bloom import FILTER_BYTES
from node.phonetic import (
    canonical_names,
    dob_unordered,
    family_words,
    phone_masks,
    phonetic_codes,
)
from node.records import Person, Record
from node.store import Prepared, ProfileRow
from node.tokens import Kind, Query, Token, TokenKeys, query_tokens, vehicle_values

__all__ = [
    "FIELD_KINDS",
    "FILTER_KINDS",
    "INDEX_KINDS",
    "MAX_CANONICALS",
    "PROFILE_TOKEN_BYTES",
    "PersonValues",
    "Profile",
    "QueryEncoding",
    "encode_person",
    "encode_query",
    "person_values",
    "prepare_record",
]

#: Kinds compared field by field (they live in a person's profile).
FIELD_KINDS: frozenset[Kind] = frozenset({
    Kind.GIVEN_NAME, Kind.FAMILY_NAME, Kind.GIVEN_PHONETIC, Kind.FAMILY_PHONETIC,
    Kind.GIVEN_CANONICAL, Kind.DOB, Kind.DOB_UNORDERED, Kind.BIRTH_YEAR, Kind.PHONE,
    Kind.PHONE_MASKED, Kind.EMAIL, Kind.ADDRESS, Kind.NICKNAME,
})
#: Kinds looked up in the index to find candidates.
INDEX_KINDS: frozenset[Kind] = frozenset({
    Kind.NAME, Kind.NAME_DOB, Kind.PHONE, Kind.EMAIL, Kind.PLATE, Kind.VIN, Kind.ADDRESS,
    Kind.BLOCKING_KEY,
})
#: Field kinds that have a Bloom filter.
FILTER_KINDS: frozenset[Kind] = frozenset({Kind.GIVEN_NAME, Kind.FAMILY_NAME, Kind.ADDRESS})
#: Stored field tokens keep this many leading bytes.
PROFILE_TOKEN_BYTES = 16
#: At most this many nickname-canonical names per given name (alphabetical
#: after the name itself): a few short names ("chris", "ann") are nicknames of
#: a dozen or more, and every one would cost a token and a blocking key.
MAX_CANONICALS = 8
#: At most this many values of one field kind in one profile (a person with
#: many aliases, phones or addresses is cut there).
MAX_VALUES_PER_KIND = 64
#: At most this many filters of one kind in one profile.
MAX_FILTERS_PER_KIND = 8


# --------------------------------------------------------------------------
# Plaintext values of a person (never leave the node)
# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PersonValues:
    """The normalised identifiers of one person, before any keying."""

    #: First given names, folded (one per name or alias that has one).
    givens: tuple[str, ...] = ()
    #: Family names, folded ("de la cruz").
    families: tuple[str, ...] = ()
    #: Exact name keys "given family" (both parts known).
    names: tuple[str, ...] = ()
    #: First words of recorded nicknames, folded ("jazzy").
    nicknames: tuple[str, ...] = ()
    dobs: tuple[dt.date, ...] = ()
    phones: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    addresses: tuple[str, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not (self.givens or self.families or self.nicknames or self.phones
                    or self.emails or self.addresses)


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for v in values if v))


def person_values(person: Person, default_region: str) -> PersonValues:
    """Normalise one person's identifiers.

    Raises:
        InvalidArgument: naming the field of a value that cannot be normalised.
    """
    parts = []
    if person.full_name:
        parts.append(normalize.parse_name(person.name, given=person.given, family=person.family))
    parts += [normalize.parse_name(alias) for alias in person.aliases]
    nicknames = []
    for nickname in person.nicknames:
        words = normalize.fold_text(nickname).split()
        if words:
            nicknames.append(words[0])
    return PersonValues(
        givens=_unique(p.given for p in parts),
        families=_unique(p.family for p in parts),
        names=_unique(p.key for p in parts if p.given and p.family),
        nicknames=_unique(nicknames),
        dobs=tuple(dict.fromkeys(person.dobs)),
        phones=_unique(normalize.normalize_phone(p, default_region) for p in person.phones),
        emails=_unique(normalize.normalize_email(e) for e in person.emails),
        addresses=_unique(normalize.normalize_address(a) for a in person.addresses),
    )


def _canonicals(name: str) -> tuple[str, ...]:
    others = sorted(canonical_names(name) - {name})
    return (name, *others[: MAX_CANONICALS - 1])


@functools.lru_cache(maxsize=1 << 16)
def _metaphones(word: str) -> tuple[str, ...]:
    return tuple(c for c in phonetic_codes(word) if c.startswith("m:"))


def _full_dates(dobs: Iterable[dt.date]) -> tuple[dt.date, ...]:
    """Birth dates whose day and month can be trusted.

    January 1st is what many records systems write when only the year is
    known (and what a clerk types for an unknown birthday), so thousands of
    people share it: such a date counts for its year only.
    """
    return tuple(d for d in dobs if (d.month, d.day) != (1, 1))


def _given_canonicals(values: PersonValues) -> tuple[str, ...]:
    """The given names' canonical forms (recorded nicknames are kept apart).

    A recorded nickname ("Maurice, AKA Mo") is compared with the other side's
    given names, not with its nicknames: two men both known as "Mo" are not
    for that reason the same man.
    """
    return _name_forms(values.givens, values.families, values.nicknames).canonicals


@dataclass(frozen=True, slots=True)
class _NameForms:
    """Everything field tokens and blocking keys derive from a person's names."""

    given_codes: tuple[str, ...]
    family_codes: tuple[str, ...]
    canonicals: tuple[str, ...]
    given_initials: tuple[str, ...]
    given_metaphones: tuple[str, ...]
    family_metaphones: tuple[str, ...]
    family_initials: tuple[str, ...]
    #: Canonical given names, then recorded nicknames.
    canonicals_and_nicknames: tuple[str, ...]
    given_letters: tuple[str, ...]
    family_letters: tuple[str, ...]


@functools.lru_cache(maxsize=1 << 16)
def _name_forms(givens: tuple[str, ...], families: tuple[str, ...],
                nicknames: tuple[str, ...]) -> _NameForms:
    """Memoised: a name's forms are needed again for each record and each agreement."""
    family_heads = [family_words(f) for f in families]
    canonicals = _unique(c for g in givens for c in _canonicals(g))
    return _NameForms(
        given_codes=_unique(c for g in givens for c in phonetic_codes(g)),
        family_codes=_unique(c for words in family_heads for w in words
                             for c in phonetic_codes(w)),
        canonicals=canonicals,
        given_initials=_unique(g[0] for g in givens),
        given_metaphones=_unique(c for g in givens for c in _metaphones(g)),
        family_metaphones=_unique(c for words in family_heads for w in words
                                  for c in _metaphones(w)),
        family_initials=_unique(words[0][0] for words in family_heads if words),
        canonicals_and_nicknames=_unique((*canonicals, *nicknames)),
        given_letters=tuple(_letters(g) for g in givens),
        family_letters=tuple(_letters(f) for f in families),
    )


def field_values(values: PersonValues) -> dict[Kind, tuple[str, ...]]:
    """The plaintext of every field token of a person, by kind."""
    out: dict[Kind, tuple[str, ...]] = {}
    if values.givens or values.families:
        forms = _name_forms(values.givens, values.families, values.nicknames)
        out[Kind.GIVEN_NAME] = values.givens
        out[Kind.FAMILY_NAME] = values.families
        out[Kind.GIVEN_PHONETIC] = forms.given_codes
        out[Kind.FAMILY_PHONETIC] = forms.family_codes
        out[Kind.GIVEN_CANONICAL] = forms.canonicals
    if values.dobs:
        full = _full_dates(values.dobs)
        out[Kind.DOB] = _unique(d.isoformat() for d in full)
        out[Kind.DOB_UNORDERED] = _unique(dob_unordered(d) for d in full)
        out[Kind.BIRTH_YEAR] = _unique(f"{d.year:04d}" for d in values.dobs)
    if values.phones:
        out[Kind.PHONE] = values.phones
        out[Kind.PHONE_MASKED] = _unique(m for p in values.phones for m in phone_masks(p))
    out[Kind.EMAIL] = values.emails
    out[Kind.ADDRESS] = values.addresses
    out[Kind.NICKNAME] = values.nicknames
    return {k: v[:MAX_VALUES_PER_KIND] for k, v in out.items() if v}


def _letters(name: str) -> str:
    return "".join(sorted(name.replace(" ", "")))


def blocking_values(values: PersonValues) -> Iterator[tuple[str, str]]:
    """(combination, plaintext) of every blocking key of a person."""
    yield from _name_blocking_values(values)
    yield from _dob_blocking_values(values)
    yield from _address_blocking_values(values)


def _name_blocking_values(values: PersonValues) -> Iterator[tuple[str, str]]:
    """The blocking keys made of names alone."""
    forms = _name_forms(values.givens, values.families, values.nicknames)
    for initial in forms.given_initials:
        for code in forms.family_metaphones:
            yield "given_initial+family_phonetic", f"{initial}|{code}"
    for code in forms.given_metaphones:
        for initial in forms.family_initials:
            yield "given_phonetic+family_initial", f"{code}|{initial}"
    for name in forms.canonicals_and_nicknames:
        for code in forms.family_metaphones:
            yield "given_canonical+family_phonetic", f"{name}|{code}"
    # Letters in sorted order survive a transposition anywhere, even of the
    # first letter, which the initial- and sound-based keys do not.
    for given in forms.given_letters:
        for family in forms.family_letters:
            yield "given_letters+family_letters", f"{given}|{family}"
            # The same pair in either order: a given name written as the
            # family name and the other way round.
            low, high = sorted((given, family))
            yield "name_letters_unordered", f"{low}|{high}"


def _address_blocking_values(values: PersonValues) -> Iterator[tuple[str, str]]:
    """The house number with the sound of the street's name, for each address.

    ``"123 n main st apt 4"`` gives ``"123|MN"``: the first word of three or
    more letters after a leading number is the street's name (directionals
    and unit words are shorter once normalised). Addresses without a leading
    number give none.
    """
    for address in values.addresses:
        words = address.split()
        if len(words) < 2 or not words[0].isdigit():
            continue
        street = next((w for w in words[1:] if len(w) >= 3 and w.isalpha()), None)
        if street is None:
            continue
        for code in _metaphones(street):
            yield "address_number+street_phonetic", f"{words[0]}|{code}"


def _dob_blocking_values(values: PersonValues) -> Iterator[tuple[str, str]]:
    """The blocking keys that combine a name with the birth date or year."""
    if not values.dobs:
        return
    forms = _name_forms(values.givens, values.families, values.nicknames)
    unordered = [dob_unordered(d) for d in _full_dates(values.dobs)]
    years = _unique(f"{d.year:04d}" for d in values.dobs)
    for initial in forms.given_initials:
        for dob in unordered:
            yield "given_initial+dob_unordered", f"{initial}|{dob}"
    for code in forms.family_metaphones:
        for year in years:
            yield "family_phonetic+birth_year", f"{code}|{year}"
    for name in forms.canonicals_and_nicknames:
        for dob in unordered:
            yield "given_canonical+dob_unordered", f"{name}|{dob}"
    for given in forms.given_letters:
        for dob in unordered:
            yield "given_letters+dob_unordered", f"{given}|{dob}"
    # Either name with the birth date, in one keyed domain for both fields:
    # finds swapped names, and a wrong given name with the right family name.
    for name in _unique((*forms.given_letters, *forms.family_letters)):
        for dob in unordered:
            yield "name_letters+dob_unordered", f"{name}|{dob}"


# --------------------------------------------------------------------------
# Keyed encodings
# --------------------------------------------------------------------------


#: Kinds of the *swapped* section of a stored profile: the given-name
#: encodings of the family name and the family-name encodings of the given
#: name, so that a record whose clerk swapped the two fields still compares.
SWAPPED_KINDS: frozenset[Kind] = frozenset({
    Kind.GIVEN_NAME, Kind.GIVEN_PHONETIC, Kind.FAMILY_NAME, Kind.FAMILY_PHONETIC,
})
_SWAPPED_FLAG = 0x40
_FILTER_FLAG = 0x80


@dataclass(frozen=True, slots=True)
class Profile:
    """One person's field tokens (16-byte prefixes) and Bloom filters, by kind.

    A stored profile also has a *swapped* section (``swapped_tokens``,
    ``swapped_filters``): the person's names encoded in each other's field
    (:data:`SWAPPED_KINDS`, and the given- and family-name filters). The
    scorer compares a query's names with it too (:mod:`node.scoring`). Query
    profiles have none: one side's swapped section is enough to meet.
    """

    tokens: Mapping[Kind, frozenset[bytes]] = field(default_factory=dict)
    filters: Mapping[Kind, tuple[int, ...]] = field(default_factory=dict)
    swapped_tokens: Mapping[Kind, frozenset[bytes]] = field(default_factory=dict)
    swapped_filters: Mapping[Kind, tuple[int, ...]] = field(default_factory=dict)

    def swapped(self) -> Profile | None:
        """This profile with its given and family names swapped, if it has them."""
        if not self.swapped_tokens:
            return None
        tokens: dict[Kind, frozenset[bytes]] = {
            k: v for k, v in self.tokens.items()
            if k not in SWAPPED_KINDS and k not in (Kind.GIVEN_CANONICAL, Kind.NICKNAME)}
        filters: dict[Kind, tuple[int, ...]] = {
            k: v for k, v in self.filters.items() if k not in (Kind.GIVEN_NAME, Kind.FAMILY_NAME)}
        return Profile({**tokens, **self.swapped_tokens}, {**filters, **self.swapped_filters})

    def to_bytes(self) -> bytes:
        """A compact form: per kind, ``kind, count`` then the values.

        Filter entries set the top bit of the kind byte, entries of the
        swapped section the next bit.
        """
        out = bytearray()
        for flag, tokens, filters in ((0, self.tokens, self.filters),
                                      (_SWAPPED_FLAG, self.swapped_tokens, self.swapped_filters)):
            for kind in sorted(tokens):
                values = sorted(tokens[kind])
                out += bytes((flag | int(kind), len(values)))
                for value in values:
                    out += value
            for kind in sorted(filters):
                bits_list = filters[kind]
                out += bytes((_FILTER_FLAG | flag | int(kind), len(bits_list)))
                for bits in bits_list:
                    out += bits.to_bytes(FILTER_BYTES, "big")
        return bytes(out)

    @classmethod
    def from_bytes(cls, data: bytes) -> Profile:
        """Parse :meth:`to_bytes`; raises InvalidArgument on anything malformed."""
        sections: tuple[dict[Kind, Any], ...] = ({}, {}, {}, {})
        pos, size = 0, len(data)
        while pos < size:
            if pos + 2 > size or (entry := _PROFILE_TAGS[data[pos]]) is None:
                raise InvalidArgument("profile: malformed")
            kind, section, width = entry
            start = pos + 2
            end = start + data[pos + 1] * width
            if end > size:
                raise InvalidArgument("profile: malformed")
            if width == PROFILE_TOKEN_BYTES:
                sections[section][kind] = frozenset(
                    data[p : p + PROFILE_TOKEN_BYTES] for p in range(start, end, width))
            else:
                sections[section][kind] = tuple(
                    int.from_bytes(data[p : p + FILTER_BYTES], "big")
                    for p in range(start, end, width))
            pos = end
        tokens, filters, swapped_tokens, swapped_filters = sections
        return cls(tokens, filters, swapped_tokens, swapped_filters)

    @classmethod
    def from_query(cls, tokens: Iterable[Token], filters: Iterable[tuple[Kind, bytes]]) -> Profile:
        """The profile a query's field tokens and filters describe."""
        by_kind: dict[Kind, set[bytes]] = {}
        for token in tokens:
            if token.kind in FIELD_KINDS:
                by_kind.setdefault(token.kind, set()).add(token.value[:PROFILE_TOKEN_BYTES])
        blooms: dict[Kind, list[int]] = {}
        for kind, bits in filters:
            blooms.setdefault(kind, []).append(int.from_bytes(bits, "big"))
        return cls({k: frozenset(v) for k, v in by_kind.items()},
                   {k: tuple(v) for k, v in blooms.items()})


def _profile_tags() -> list[tuple[Kind, int, int] | None]:
    """What each tag byte of a stored profile means: (kind, section, value width).

    Sections are those of :meth:`Profile.from_bytes` (tokens, filters, swapped
    tokens, swapped filters); None for a tag no profile may hold.
    """
    tags: list[tuple[Kind, int, int] | None] = [None] * 256
    for kind in Kind:
        for swapped in (False, True):
            if kind in FIELD_KINDS and (not swapped or kind in SWAPPED_KINDS):
                tags[int(kind) | (_SWAPPED_FLAG if swapped else 0)] = (
                    kind, 2 if swapped else 0, PROFILE_TOKEN_BYTES)
            if kind in FILTER_KINDS and not (swapped and kind is Kind.ADDRESS):
                tags[_FILTER_FLAG | int(kind) | (_SWAPPED_FLAG if swapped else 0)] = (
                    kind, 3 if swapped else 1, FILTER_BYTES)
    return tags


#: Parsing a profile is on every search's path: one table lookup per entry.
_PROFILE_TAGS: Final = _profile_tags()


@dataclass(frozen=True, slots=True)
class PersonEncoding:
    """One person under one agreement's keys: what is indexed and what is compared."""

    index: frozenset[Token]
    profile: Profile
    #: Full 32-byte field tokens (what a query sends).
    field_tokens: frozenset[Token]
    #: Bloom filters as bytes (what a query sends).
    filters: tuple[tuple[Kind, bytes], ...]
    #: ``profile.to_bytes()``, made once.
    profile_bytes: bytes = b""


@dataclass(frozen=True, slots=True)
class _Part:
    """The encodings of one group of a person's fields (names, birth dates, phones...).

    A person is encoded as the union of the parts of their field groups, each
    memoised on its own: the same name, birth date or phone recurs in many
    records of different appearances of a person (one record has the birth
    date, the next only the phone), so a part is far more often already made
    than a whole person is. Every kind belongs to exactly one part, so the
    union is exactly what encoding the whole person at once gives.
    """

    index: frozenset[Token]
    field_tokens: frozenset[Token]
    tokens: Mapping[Kind, frozenset[bytes]]
    filters: Mapping[Kind, tuple[int, ...]]
    filter_bytes: tuple[tuple[Kind, bytes], ...]
    #: ``(tag, bytes)`` pieces of :meth:`Profile.to_bytes`, tokens and filters.
    token_segments: tuple[tuple[int, bytes], ...]
    filter_segments: tuple[tuple[int, bytes], ...]
    swapped_tokens: Mapping[Kind, frozenset[bytes]] = field(default_factory=dict)
    swapped_filters: Mapping[Kind, tuple[int, ...]] = field(default_factory=dict)
    swapped_segments: tuple[tuple[int, bytes], ...] = ()


def _build_part(values: PersonValues, keys: TokenKeys) -> _Part:
    """Key the field tokens, name tokens, name-only blocking keys and filters of ``values``."""
    token = keys.token
    fields = field_values(values)
    field_tokens = frozenset(
        # A nickname is keyed as a given name, so the two can meet.
        Token(Kind.NICKNAME, token(Kind.GIVEN_NAME, v).value) if kind is Kind.NICKNAME
        else token(kind, v)
        for kind, vs in fields.items() for v in vs
    )
    index = {token(Kind.NAME, n) for n in values.names}
    index.update(t for t in field_tokens if t.kind in INDEX_KINDS)
    index.update(keys.blocking_token(c, v) for c, v in _name_blocking_values(values))
    index.update(keys.blocking_token(c, v) for c, v in _address_blocking_values(values))
    ints: dict[Kind, tuple[int, ...]] = {}
    for kind in sorted(FILTER_KINDS):
        texts = fields.get(kind, ())[:MAX_FILTERS_PER_KIND]
        if texts:
            encoder = keys.bloom(kind)
            ints[kind] = tuple(encoder.encode_int(t) for t in texts)
    by_kind: dict[Kind, set[bytes]] = {}
    for t in field_tokens:
        by_kind.setdefault(t.kind, set()).add(t.value[:PROFILE_TOKEN_BYTES])
    tokens = {k: frozenset(v) for k, v in by_kind.items()}
    filter_bytes = tuple((k, b.to_bytes(FILTER_BYTES, "big")) for k, f in ints.items() for b in f)
    swapped_tokens: dict[Kind, frozenset[bytes]] = {}
    swapped_filters: dict[Kind, tuple[int, ...]] = {}
    if values.givens and values.families:
        # The names in each other's field (see Profile): a clerk who wrote
        # the family name as the given name still compares.
        other = field_values(PersonValues(givens=values.families, families=values.givens))
        swapped_tokens = {kind: frozenset(token(kind, v).value[:PROFILE_TOKEN_BYTES]
                                          for v in other[kind])
                          for kind in sorted(SWAPPED_KINDS) if kind in other}
        swapped_filters = {kind: tuple(keys.bloom(kind).encode_int(t)
                                       for t in other[kind][:MAX_FILTERS_PER_KIND])
                           for kind in (Kind.GIVEN_NAME, Kind.FAMILY_NAME) if kind in other}
    return _Part(
        index=frozenset(index), field_tokens=field_tokens, tokens=tokens, filters=ints,
        filter_bytes=filter_bytes,
        token_segments=_token_segments(tokens, 0),
        filter_segments=_filter_segments(ints, 0),
        swapped_tokens=swapped_tokens, swapped_filters=swapped_filters,
        swapped_segments=(_token_segments(swapped_tokens, _SWAPPED_FLAG)
                          + _filter_segments(swapped_filters, _SWAPPED_FLAG)),
    )


def _token_segments(tokens: Mapping[Kind, frozenset[bytes]],
                    flag: int) -> tuple[tuple[int, bytes], ...]:
    return tuple(sorted((flag | int(k), bytes((flag | int(k), len(v))) + b"".join(sorted(v)))
                        for k, v in tokens.items()))


def _filter_segments(filters: Mapping[Kind, tuple[int, ...]],
                     flag: int) -> tuple[tuple[int, bytes], ...]:
    tag = _FILTER_FLAG | flag
    return tuple(sorted((tag | int(k), bytes((tag | int(k), len(f)))
                         + b"".join(b.to_bytes(FILTER_BYTES, "big") for b in f))
                        for k, f in filters.items()))


def _build_cross_part(values: PersonValues, keys: TokenKeys) -> _Part:
    """Index tokens that combine names with birth dates: name with date, blocking keys."""
    index = {keys.token(Kind.NAME_DOB, f"{n}|{d.isoformat()}")
             for n in values.names for d in values.dobs}
    index.update(keys.blocking_token(c, v) for c, v in _dob_blocking_values(values))
    return _Part(frozenset(index), frozenset(), {}, {}, (), (), ())


#: Parts per keyset (see :class:`_Part`), and whole encodings per keyset,
#: memoised by the person's values: the same person is written the same way in
#: many records (repeat offenders, regular callers).
_PARTS: weakref.WeakKeyDictionary[TokenKeys, dict[tuple[object, ...], _Part]] = (
    weakref.WeakKeyDictionary()
)
_ENCODED: weakref.WeakKeyDictionary[TokenKeys, dict[PersonValues, PersonEncoding]] = (
    weakref.WeakKeyDictionary()
)
#: Bounded: each encoding holds Bloom filters and dozens of tokens (~10 KB), so
#: 4,096 of them stay near 40 MB however many records a node ingests; parts
#: are smaller (a name's is about 4 KB, a date's or phone's well under 1 KB).
_ENCODED_LIMIT = 1 << 12
_PARTS_LIMIT = 1 << 15


def encode_person(values: PersonValues, keys: TokenKeys) -> PersonEncoding:
    """Key one person's values: index tokens (exact and blocking), profile, filters."""
    memo = _ENCODED.setdefault(keys, {})
    found = memo.get(values)
    if found is None:
        if len(memo) >= _ENCODED_LIMIT:
            memo.clear()
        found = memo[values] = _encode_person(values, keys)
    return found


def _part(memo: dict[tuple[object, ...], _Part], key: tuple[object, ...],
          make: Callable[[], _Part]) -> _Part:
    found = memo.get(key)
    if found is None:
        if len(memo) >= _PARTS_LIMIT:
            memo.clear()
        found = memo[key] = make()
    return found


def _encode_person(values: PersonValues, keys: TokenKeys) -> PersonEncoding:
    memo = _PARTS.setdefault(keys, {})
    names = (values.givens, values.families, values.names, values.nicknames)
    parts: list[_Part] = []
    if values.givens or values.families or values.nicknames:
        parts.append(_part(memo, ("names", *names), lambda: _build_part(PersonValues(
            givens=values.givens, families=values.families, names=values.names,
            nicknames=values.nicknames), keys)))
        if values.dobs:
            parts.append(_part(memo, ("names+dobs", *names, values.dobs),
                               lambda: _build_cross_part(values, keys)))
    if values.dobs:
        parts.append(_part(memo, ("dobs", values.dobs),
                           lambda: _build_part(PersonValues(dobs=values.dobs), keys)))
    if values.phones:
        parts.append(_part(memo, ("phones", values.phones),
                           lambda: _build_part(PersonValues(phones=values.phones), keys)))
    if values.emails:
        parts.append(_part(memo, ("emails", values.emails),
                           lambda: _build_part(PersonValues(emails=values.emails), keys)))
    if values.addresses:
        parts.append(_part(memo, ("addresses", values.addresses),
                           lambda: _build_part(PersonValues(addresses=values.addresses), keys)))
    tokens: dict[Kind, frozenset[bytes]] = {}
    filters: dict[Kind, tuple[int, ...]] = {}
    swapped_tokens: Mapping[Kind, frozenset[bytes]] = {}
    swapped_filters: Mapping[Kind, tuple[int, ...]] = {}
    for part in parts:
        tokens.update(part.tokens)
        filters.update(part.filters)
        if part.swapped_tokens:
            swapped_tokens, swapped_filters = part.swapped_tokens, part.swapped_filters
    # Profile.to_bytes order: straight tokens, straight filters, then the
    # swapped section (tags sort that way: filters and swapped set high bits).
    segments = sorted((s for p in parts for s in p.token_segments), key=_tag)
    segments += sorted((s for p in parts for s in p.filter_segments), key=_tag)
    segments += [s for p in parts for s in p.swapped_segments]
    return PersonEncoding(
        frozenset().union(*(p.index for p in parts)),
        Profile(tokens, filters, swapped_tokens, swapped_filters),
        frozenset().union(*(p.field_tokens for p in parts)),
        tuple(sorted((f for p in parts for f in p.filter_bytes), key=lambda f: f[0])),
        b"".join(seg for _, seg in segments),
    )


def _tag(segment: tuple[int, bytes]) -> int:
    return segment[0]


# --------------------------------------------------------------------------
# Records and queries
# --------------------------------------------------------------------------


def prepare_record(
    record: Record, keys: TokenKeys | Sequence[TokenKeys], default_region: str
) -> Prepared:
    """A record ready to store: exact, blocking and vehicle tokens, and per-person profiles.

    Raises InvalidArgument naming the person and field of a value that cannot
    be normalised.
    """
    keysets = (keys,) if isinstance(keys, TokenKeys) else tuple(keys)
    people: list[PersonValues] = []
    for i, person in enumerate(record.people):
        try:
            people.append(person_values(person, default_region))
        except InvalidArgument as exc:
            raise InvalidArgument(f"people[{i}].{exc.message}") from exc
    vehicles = list(vehicle_values(record))
    tokens: set[Token] = set()
    profiles: list[ProfileRow] = []
    for k in keysets:
        tokens.update(k.token(kind, v) for kind, v in vehicles)
        for i, values in enumerate(people):
            if values.is_empty:
                continue
            encoded = encode_person(values, k)
            tokens.update(encoded.index)
            profiles.append(ProfileRow(i, k.agreement + k.generation, encoded.profile_bytes))
    return Prepared(record, frozenset(tokens), tuple(profiles))


@dataclass(frozen=True, slots=True)
class QueryEncoding:
    """What a gateway sends the hub for one query: tokens and Bloom filters."""

    tokens: tuple[Token, ...]
    filters: tuple[tuple[Kind, bytes], ...]


def encode_query(query: Query, keys: TokenKeys, default_region: str) -> QueryEncoding:
    """Encode a query exactly as records are encoded, so the two meet.

    The exact tokens are those of :func:`node.tokens.query_tokens` (which also
    validates the query); the person in the query (name, date of birth,
    phone, email, address) adds its field tokens, blocking keys and filters.
    """
    exact = query_tokens(query, keys, default_region)
    values = PersonValues()
    if query.name or query.phone or query.email or query.address:
        parts = normalize.parse_name(query.name) if query.name else None
        values = PersonValues(
            givens=(parts.given,) if parts and parts.given else (),
            families=(parts.family,) if parts and parts.family else (),
            names=(parts.key,) if parts and parts.given and parts.family else (),
            dobs=(normalize.parse_date(query.dob),) if query.dob else (),
            phones=(normalize.normalize_phone(query.phone, default_region),) if query.phone else (),
            emails=(normalize.normalize_email(query.email),) if query.email else (),
            addresses=(normalize.normalize_address(query.address),) if query.address else (),
        )
    if values.is_empty:
        return QueryEncoding(tuple(exact), ())
    encoded = encode_person(values, keys)
    tokens = sorted({*exact, *encoded.field_tokens,
                     *(t for t in encoded.index if t.kind is Kind.BLOCKING_KEY)})
    return QueryEncoding(tuple(tokens), encoded.filters)
