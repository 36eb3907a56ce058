"""Keyed tokens: how identifiers become searchable without being revealed.

Each identifier is normalised (:mod:`node.normalize`) and then MACed with
HMAC-SHA256 under a key that only the federation's nodes can derive::

    key(kind, agreement) = HKDF-SHA256(federation_secret,
                                       salt = "accord/v1 token keys",
                                       info = "accord/v1/token/<kind>/<agreement>")
    token = HMAC-SHA256(key(kind, agreement), normalised identifier)

Keys are domain-separated per identifier kind (a phone token never equals a
name token of the same string) and per agreement (tokens made under one
agreement are useless under another). Without the federation secret, a token
reveals nothing and a dictionary of names cannot be turned into tokens; the
hub never holds the secret.

Besides the exact kinds, :class:`Kind` has the field encodings that tolerate
errors (phonetic codes, nickname-canonical names, date-of-birth variants,
masked phones, blocking keys); :mod:`node.encodings` builds them with the
keys held here. Each blocking-key combination has its own key
(``accord/v1/token/blocking_key/<combination>/<agreement>``) and each Bloom
filter field kind its own (``accord/v1/bloom/<kind>/<agreement>``).
"""

from __future__ import annotations

import enum
import hmac
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from accord.errors import ConfigError, InvalidArgument
from accord.v1 import common_pb2
from node import normalize
from node.bloom import BloomEncoder
from node.records import Record

MIN_SECRET_BYTES = 32
#: Memoised tokens per keyset before the memo is emptied and starts again.
_MEMO_LIMIT = 1 << 17
_SALT = b"accord/v1 token keys"


class Kind(enum.IntEnum):
    """Identifier kinds; values are those of ``accord.v1.IdentifierKind``."""

    NAME = common_pb2.IDENTIFIER_KIND_NAME
    NAME_DOB = common_pb2.IDENTIFIER_KIND_NAME_DOB
    PHONE = common_pb2.IDENTIFIER_KIND_PHONE
    EMAIL = common_pb2.IDENTIFIER_KIND_EMAIL
    PLATE = common_pb2.IDENTIFIER_KIND_PLATE
    VIN = common_pb2.IDENTIFIER_KIND_VIN
    ADDRESS = common_pb2.IDENTIFIER_KIND_ADDRESS
    GIVEN_NAME = common_pb2.IDENTIFIER_KIND_GIVEN_NAME
    FAMILY_NAME = common_pb2.IDENTIFIER_KIND_FAMILY_NAME
    GIVEN_PHONETIC = common_pb2.IDENTIFIER_KIND_GIVEN_PHONETIC
    FAMILY_PHONETIC = common_pb2.IDENTIFIER_KIND_FAMILY_PHONETIC
    GIVEN_CANONICAL = common_pb2.IDENTIFIER_KIND_GIVEN_CANONICAL
    DOB = common_pb2.IDENTIFIER_KIND_DOB
    DOB_UNORDERED = common_pb2.IDENTIFIER_KIND_DOB_UNORDERED
    BIRTH_YEAR = common_pb2.IDENTIFIER_KIND_BIRTH_YEAR
    PHONE_MASKED = common_pb2.IDENTIFIER_KIND_PHONE_MASKED
    BLOCKING_KEY = common_pb2.IDENTIFIER_KIND_BLOCKING_KEY
    NICKNAME = common_pb2.IDENTIFIER_KIND_NICKNAME

    @property
    def label(self) -> str:
        """Lowercase name for people and JSON: ``name_dob``, ``phone``..."""
        return self.name.lower()


class Token(NamedTuple):
    """One keyed token of one kind.

    A named tuple rather than a frozen dataclass: tokens are hashed and
    compared by the dozen for every record ingested and every query (sets of
    them, unions, sorting), and a tuple's hash is C, not generated Python.
    It sorts, hashes and compares as the tuple ``(kind, value)``.
    """

    kind: Kind
    value: bytes

    def to_proto(self) -> common_pb2.Token:
        return common_pb2.Token(kind=int(self.kind), value=self.value)  # type: ignore[arg-type]


#: Bits each bigram sets in a raw Bloom filter, per field kind: names are
#: short (about 7 bigrams), addresses long (about 25), so both fill roughly a
#: quarter to a third of the 512 raw bits.
BLOOM_BITS_PER_BIGRAM: dict[Kind, int] = {
    Kind.GIVEN_NAME: 20,
    Kind.FAMILY_NAME: 20,
    Kind.ADDRESS: 8,
}

#: The blocking-key combinations (see :mod:`node.encodings`); each name is
#: part of its key's derivation, so each combination is its own keyed domain.
BLOCKING_COMBINATIONS: tuple[str, ...] = (
    "given_initial+family_phonetic",
    "given_phonetic+family_initial",
    "given_canonical+family_phonetic",
    "family_phonetic+birth_year",
    "given_initial+dob_unordered",
    "given_canonical+dob_unordered",
    "given_letters+family_letters",
    "given_letters+dob_unordered",
    # Role-agnostic: given and family name in either field (swapped names).
    "name_letters_unordered",
    "name_letters+dob_unordered",
    # The house number with the street name's sound: finds a person whose
    # names and birth date were all written differently at the same address.
    "address_number+street_phonetic",
)


#: Profiles made under the rotation secret are stored under this suffix.
NEXT_GENERATION = "~rotation"


class TokenKeys:
    """The per-kind token keys of one agreement, derived once from the secret."""

    def __init__(self, federation_secret: bytes, agreement: str, *,
                 generation: str = "") -> None:
        if len(federation_secret) < MIN_SECRET_BYTES:
            raise ConfigError(
                f"federation secret: {len(federation_secret)} bytes, want at least "
                f"{MIN_SECRET_BYTES}"
            )
        if not agreement:
            raise ConfigError("agreement: must not be empty")
        self.agreement = agreement
        #: Which generation of the federation secret these keys come from: ""
        #: for the current one, NEXT_GENERATION for the one a rotation adds.
        #: Profiles are stored under ``agreement + generation``.
        self.generation = generation
        self._keys = {
            kind: _derive(federation_secret, agreement, f"token/{kind.label}") for kind in Kind
        }
        self._block_keys = {
            name: _derive(federation_secret, agreement, f"token/{Kind.BLOCKING_KEY.label}/{name}")
            for name in BLOCKING_COMBINATIONS
        }
        self._bloom_keys = {
            kind: _derive(federation_secret, agreement, f"bloom/{kind.label}")
            for kind in BLOOM_BITS_PER_BIGRAM
        }
        self._blooms: dict[Kind, BloomEncoder] = {}
        self._memo: dict[tuple[Kind, str], Token] = {}

    def __getstate__(self) -> dict[str, Any]:
        """The keys without their memos (sent once to each ingest worker)."""
        return {**self.__dict__, "_blooms": {}, "_memo": {}}

    def token(self, kind: Kind, normalised: str) -> Token:
        """The token of an already normalised identifier (memoised: identifiers recur)."""
        found = self._memo.get((kind, normalised))
        if found is None:
            if len(self._memo) >= _MEMO_LIMIT:
                self._memo.clear()
            mac = hmac.digest(self._keys[kind], normalised.encode("utf-8"), "sha256")
            found = self._memo[(kind, normalised)] = Token(kind, mac)
        return found

    def blocking_token(self, combination: str, value: str) -> Token:
        """A blocking-key token: ``value`` under the key of its ``combination``.

        Each combination ("given_initial+family_phonetic", ...) has its own key,
        so equal strings of two combinations never give the same token.
        """
        memo_key = (Kind.BLOCKING_KEY, f"{combination}\x00{value}")
        found = self._memo.get(memo_key)
        if found is None:
            try:
                key = self._block_keys[combination]
            except KeyError:
                raise InvalidArgument(f"blocking key: unknown combination {combination!r}") from None
            if len(self._memo) >= _MEMO_LIMIT:
                self._memo.clear()
            mac = hmac.digest(key, value.encode("utf-8"), "sha256")
            found = self._memo[memo_key] = Token(Kind.BLOCKING_KEY, mac)
        return found

    def bloom(self, kind: Kind) -> BloomEncoder:
        """The Bloom-filter encoder of a field kind (GIVEN_NAME, FAMILY_NAME, ADDRESS)."""
        encoder = self._blooms.get(kind)
        if encoder is None:
            if kind not in self._bloom_keys:
                raise InvalidArgument(f"bloom: no filter for kind {kind.label}")
            encoder = self._blooms[kind] = BloomEncoder(
                self._bloom_keys[kind], BLOOM_BITS_PER_BIGRAM[kind])
        return encoder


def _derive(federation_secret: bytes, agreement: str, purpose: str) -> bytes:
    """HKDF-SHA256 key for ``accord/v1/<purpose>/<agreement>``."""
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=_SALT,
        info=f"accord/v1/{purpose}/{agreement}".encode(),
    ).derive(federation_secret)


class Keyring:
    """The token keys of every agreement a node belongs to.

    During a rotation of the federation secret the node also holds the other
    secret: records are indexed under both (``all``), while queries use the
    current one (``for_agreement``). Every node indexing under both is what
    lets nodes that already switched and nodes that did not yet find each
    other's records.
    """

    def __init__(self, federation_secret: bytes, agreements: Iterable[str],
                 rotation_secret: bytes | None = None) -> None:
        names = sorted(set(agreements))
        self._keys = {a: TokenKeys(federation_secret, a) for a in names}
        if not self._keys:
            raise ConfigError("keyring: no agreements")
        self._rotation = (
            {} if rotation_secret is None
            else {a: TokenKeys(rotation_secret, a, generation=NEXT_GENERATION) for a in names}
        )

    def for_agreement(self, agreement: str) -> TokenKeys:
        try:
            return self._keys[agreement]
        except KeyError:
            raise InvalidArgument(
                f"agreement: got {agreement!r}, want one of [{', '.join(self._keys)}]"
            ) from None

    def all(self) -> tuple[TokenKeys, ...]:
        """Every keyset records are indexed under (both secrets during a rotation)."""
        return (*self._keys.values(), *self._rotation.values())


def _name_keys(full: str = "", given: str = "", family: str = "") -> list[str]:
    """Exact-name keys ("given family"), only when both parts are known."""
    parts = normalize.parse_name(full, given=given, family=family)
    return [parts.key] if parts.given and parts.family else []


def identifier_values(record: Record, default_region: str) -> Iterator[tuple[Kind, str]]:
    """Every normalised identifier of a record, by kind (duplicates possible).

    Raises InvalidArgument naming the person and field of a value that cannot
    be normalised (for example a phone number with too few digits).
    """
    for i, person in enumerate(record.people):
        where = f"people[{i}]"
        try:
            names: list[str] = []
            if person.full_name:
                names += _name_keys(person.name, person.given, person.family)
            for alias in person.aliases:
                names += _name_keys(alias)
            for name in names:
                yield Kind.NAME, name
                for dob in person.dobs:
                    yield Kind.NAME_DOB, f"{name}|{dob.isoformat()}"
            for phone in person.phones:
                yield Kind.PHONE, normalize.normalize_phone(phone, default_region)
            for email in person.emails:
                yield Kind.EMAIL, normalize.normalize_email(email)
            for address in person.addresses:
                yield Kind.ADDRESS, normalize.normalize_address(address)
        except InvalidArgument as exc:
            raise InvalidArgument(f"{where}.{exc.message}") from exc
    yield from vehicle_values(record)


def vehicle_values(record: Record) -> Iterator[tuple[Kind, str]]:
    """The normalised plates and VINs of a record's vehicles."""
    for i, vehicle in enumerate(record.vehicles):
        try:
            if vehicle.plate:
                yield Kind.PLATE, normalize.normalize_plate(vehicle.plate, vehicle.plate_state)
            if vehicle.vin:
                yield Kind.VIN, normalize.normalize_vin(vehicle.vin)
        except InvalidArgument as exc:
            raise InvalidArgument(f"vehicles[{i}].{exc.message}") from exc


def record_tokens(
    record: Record, keys: TokenKeys | Sequence[TokenKeys], default_region: str
) -> frozenset[Token]:
    """The distinct tokens a record is indexed under, under every agreement's keys."""
    keysets = (keys,) if isinstance(keys, TokenKeys) else tuple(keys)
    values = set(identifier_values(record, default_region))
    return frozenset(k.token(kind, value) for k in keysets for kind, value in values)


@dataclass(frozen=True, slots=True)
class Query:
    """What an investigator searches for, in plaintext, before tokenisation."""

    name: str = ""
    dob: str = ""
    phone: str = ""
    email: str = ""
    plate: str = ""
    address: str = ""
    vin: str = ""


def _split_plate(raw: str) -> tuple[str, str]:
    """Read "OR:7KDX214", "OR 7KDX214" or "7KDX214 OR" as (plate, state)."""
    text = raw.strip().replace(":", " ").split()
    if len(text) == 2:
        a, b = text
        if len(a) == 2 and a.isalpha():
            return b, a
        if len(b) == 2 and b.isalpha():
            return a, b
    raise InvalidArgument(
        f"plate: got {raw!r}, want the plate with its state, like 'OR:7KDX214'"
    )


def query_tokens(query: Query, keys: TokenKeys, default_region: str) -> list[Token]:
    """Tokenise a query the same way records are tokenised.

    Raises InvalidArgument naming the field when a value cannot be normalised
    or the query asks for nothing.
    """
    values: list[tuple[Kind, str]] = []
    if query.dob and not query.name:
        raise InvalidArgument("dob: a date of birth is searched together with a name")
    if query.name:
        parts = normalize.parse_name(query.name)
        if not (parts.given and parts.family):
            raise InvalidArgument(
                f"name: got {query.name!r}, want a given and a family name"
            )
        values.append((Kind.NAME, parts.key))
        if query.dob:
            dob = normalize.parse_date(query.dob)
            values.append((Kind.NAME_DOB, f"{parts.key}|{dob.isoformat()}"))
    if query.phone:
        values.append((Kind.PHONE, normalize.normalize_phone(query.phone, default_region)))
    if query.email:
        values.append((Kind.EMAIL, normalize.normalize_email(query.email)))
    if query.plate:
        values.append((Kind.PLATE, normalize.normalize_plate(*_split_plate(query.plate))))
    if query.vin:
        values.append((Kind.VIN, normalize.normalize_vin(query.vin)))
    if query.address:
        values.append((Kind.ADDRESS, normalize.normalize_address(query.address)))
    if not values:
        raise InvalidArgument(
            "query: empty; give at least one of name, phone, email, plate, vin, address"
        )
    return sorted({keys.token(kind, value) for kind, value in values})
