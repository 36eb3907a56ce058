"""Sealing a released record to its requester, and withholding fields first.

The owning node seals a released record with HPKE (RFC 9180, base mode;
DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-128-GCM) to the requesting
node's per-release X25519 public key named in the grant. The HPKE ``info``
is ``b"accord/v1 release\\x00" + grant_id``, so a ciphertext opens only under
the grant it was made for; the hub, which relays it, cannot read it.

The plaintext is the record as canonical JSON (sorted keys, no whitespace,
UTF-8). Opening fails with one opaque :class:`CryptoError`, whatever went
wrong: wrong key, wrong grant, a flipped bit, a truncated message.

:func:`withhold` applies field-withholding rules (the hub's, from the grant,
plus the node's own) to a record before it is sealed.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.hpke import AEAD, KDF, KEM, Suite

from accord.agreement import PERSON_FIELDS, RECORD_FIELDS
from accord.errors import CryptoError, InvalidArgument
from accord.grant import GRANT_ID_RE, parse_withhold

SUITE = Suite(KEM.X25519, KDF.HKDF_SHA256, AEAD.AES_128_GCM)
#: HPKE ``info`` is this prefix followed by the grant id.
INFO_PREFIX = b"accord/v1 release\x00"
KEY_BYTES = 32
#: Records larger than this are refused (a record is a few KiB; a gRPC message is at most 4 MiB).
MAX_RECORD_BYTES = 1 << 20
#: The smallest size class a record is padded to (see :func:`padded_size`).
MIN_PADDED_BYTES = 1 << 10
#: The encapsulated key (32 bytes) and the AEAD tag (16 bytes).
SEAL_OVERHEAD = 32 + 16


@dataclass(frozen=True)
class RecipientKey:
    """The requesting node's key pair for one release."""

    private: X25519PrivateKey = field(repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.private, X25519PrivateKey):
            raise InvalidArgument(f"private: got {type(self.private).__name__}, want an X25519 private key")

    @classmethod
    def generate(cls) -> RecipientKey:
        """A fresh key pair (use one per release)."""
        return cls(X25519PrivateKey.generate())

    @classmethod
    def from_private_bytes(cls, data: bytes) -> RecipientKey:
        """Load a key pair from its raw 32-byte private key."""
        if not isinstance(data, bytes | bytearray | memoryview) or len(data) != KEY_BYTES:
            raise InvalidArgument(f"private key: want {KEY_BYTES} raw bytes")
        return cls(X25519PrivateKey.from_private_bytes(bytes(data)))

    @property
    def public_bytes(self) -> bytes:
        """The raw 32-byte public key, as it goes into the grant's ``requester_key``."""
        return self.private.public_key().public_bytes_raw()

    @property
    def private_bytes(self) -> bytes:
        """The raw 32-byte private key. Keep it secret."""
        return self.private.private_bytes_raw()


def _info(grant_id: str) -> bytes:
    if not isinstance(grant_id, str) or not GRANT_ID_RE.fullmatch(grant_id):
        raise InvalidArgument("grant_id: want 22 to 64 base64url characters")
    return INFO_PREFIX + grant_id.encode("ascii")


def seal(record: Mapping[str, Any], recipient_public: bytes, *, grant_id: str) -> bytes:
    """Encrypt ``record`` to ``recipient_public`` (raw X25519), bound to ``grant_id``.

    Every call gives a different ciphertext (a fresh ephemeral key each time).
    """
    info = _info(grant_id)
    if not isinstance(recipient_public, bytes | bytearray | memoryview) or len(recipient_public) != KEY_BYTES:
        raise InvalidArgument(f"recipient_public: want {KEY_BYTES} raw bytes")
    if not isinstance(record, Mapping):
        raise InvalidArgument(f"record: got {type(record).__name__}, want a mapping")
    try:
        plaintext = json.dumps(
            record, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        ).encode("utf-8")
    except (TypeError, ValueError) as exc:
        raise InvalidArgument(f"record: not JSON-serialisable: {exc}") from exc
    if len(plaintext) > MAX_RECORD_BYTES:
        raise InvalidArgument(f"record: {len(plaintext)} bytes as JSON, at most {MAX_RECORD_BYTES} allowed")
    plaintext = _padded(plaintext)
    try:
        return SUITE.encrypt(plaintext, X25519PublicKey.from_public_bytes(bytes(recipient_public)), info=info)
    except ValueError as exc:  # a low-order point: no shared secret can be made with it
        raise InvalidArgument("recipient_public: not a usable X25519 public key") from exc


def padded_size(size: int) -> int:
    """The size a record of ``size`` bytes is sealed at: the next power of two, 1 KiB at least.

    The hub relays (and logs the size of) every sealed record: unpadded, its
    length told the length of what was in it, a name's among them. Now it
    tells only the record's size class.
    """
    bucket = MIN_PADDED_BYTES
    while bucket < size:
        bucket *= 2
    return min(bucket, MAX_RECORD_BYTES) if size <= MAX_RECORD_BYTES else size


def _padded(plaintext: bytes) -> bytes:
    # Spaces after the JSON: the reader's json.loads takes trailing whitespace.
    return plaintext + b" " * (padded_size(len(plaintext)) - len(plaintext))


def _reject_constant(token: str) -> Any:
    raise ValueError(token)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    doc = dict(pairs)
    if len(doc) != len(pairs):
        raise ValueError("duplicate key")
    return doc


def open_sealed(ciphertext: bytes, key: RecipientKey, *, grant_id: str) -> dict[str, Any]:
    """Decrypt a sealed record; raise :class:`CryptoError`, and nothing more telling, on any failure."""
    # Every failure below is the same CryptoError, raised ``from None``: the
    # cause (a parse error carries the plaintext) must not ride along in logs.
    if not isinstance(ciphertext, bytes) or len(ciphertext) > MAX_RECORD_BYTES + SEAL_OVERHEAD:
        raise CryptoError()
    try:
        info = _info(grant_id)
    except InvalidArgument:
        raise CryptoError() from None
    try:
        plaintext = SUITE.decrypt(ciphertext, key.private, info=info)
    except (InvalidTag, ValueError):
        raise CryptoError() from None
    try:
        record = json.loads(
            plaintext.decode("utf-8"), object_pairs_hook=_no_duplicates, parse_constant=_reject_constant
        )
    except ValueError:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise CryptoError() from None
    if not isinstance(record, dict):
        raise CryptoError()
    return record


# --------------------------------------------------------------------------- withholding

#: How a withheld person field is emptied. Withholding ``name`` also empties
#: ``given`` and ``family``, which would otherwise spell the name out.
_PERSON_BLANKS: Mapping[str, Mapping[str, Any]] = {
    "name": {"name": "", "given": "", "family": ""},
    **{name: {name: []} for name in PERSON_FIELDS if name != "name"},
}
_RECORD_BLANKS: Mapping[str, Any] = {"summary": "", "extra": {}}
assert set(_RECORD_BLANKS) == set(RECORD_FIELDS), "a record field without a blank value"


def withhold(
    record: Mapping[str, Any], rules: Iterable[tuple[Iterable[str], Iterable[str]]]
) -> tuple[dict[str, Any], list[str]]:
    """Apply withholding rules to a canonical record dict; return (new record, withheld paths).

    ``record`` has the shape of ``node.records.Record.to_dict()``. Each rule is
    a ``(fields, roles)`` pair. A record field (``summary``, ``extra``) is
    blanked whatever the roles. A person field (``name`` — which takes
    ``given`` and ``family`` with it — ``aliases``, ``nicknames``, ``dobs``,
    ``phones``, ``emails``, ``addresses``) is emptied for every person whose
    role is in ``roles``; an empty ``roles`` means every role.

    The paths (``"summary"``, ``"people[0].phones"``) are sorted and name every
    field a rule covers, whether or not it held anything, so the list tells
    the requester what was withheld without revealing which fields were empty.
    Unknown field or role names raise :class:`InvalidArgument` (fail closed: a
    misspelt rule would otherwise withhold nothing). The input is not changed.
    """
    parsed = parse_withhold(rules, "withhold")
    if not isinstance(record, Mapping):
        raise InvalidArgument(f"record: got {type(record).__name__}, want a mapping")
    out: dict[str, Any] = copy.deepcopy(dict(record))
    people = out.get("people", [])
    if not isinstance(people, list):
        raise InvalidArgument(f"record.people: got {type(people).__name__}, want a list")
    roles_of: list[str] = []
    for i, person in enumerate(people):
        if not isinstance(person, dict):
            raise InvalidArgument(f"record.people[{i}]: got {type(person).__name__}, want an object")
        role = person.get("role")
        if not isinstance(role, str):
            raise InvalidArgument(f"record.people[{i}].role: got {type(role).__name__}, want a string")
        roles_of.append(role)

    paths: set[str] = set()
    for field_names, roles in parsed:
        for name in field_names:
            if name in _RECORD_BLANKS:
                out[name] = copy.deepcopy(_RECORD_BLANKS[name])
                paths.add(name)
                continue
            for i, person in enumerate(people):
                if roles and roles_of[i] not in roles:
                    continue
                person.update(copy.deepcopy(dict(_PERSON_BLANKS[name])))
                paths.add(f"people[{i}].{name}")
    return out, sorted(paths)
