"""Release grants: the hub's signed permission for one node to release one record.

A release moves one record from the owning agency's node to the requesting
agency's node. The hub authorises the release, appends an audit entry, commits
it, and only then issues a :class:`Grant` signed with its Ed25519 key. The
owning node checks the grant with :func:`verify_grant` before it seals the
record to ``requester_key`` (see :mod:`accord.sealing`), so the hub relays
only ciphertext.

Wire form. A grant is canonical JSON (sorted keys, no whitespace, UTF-8, bytes
as unpadded base64url, datetimes as UTC ISO 8601 with microseconds)::

    {"agreement":"local-pilot","approved":false,"audit_leaf":"...","audit_seq":7,...}

and the hub signs ``b"accord/v1 release grant\\x00" + grant.to_bytes()``. A
:class:`SignedGrant` travels as ``{"grant":"<the grant JSON, as a string>","sig":"<base64url>"}``.

The signature is checked over the canonical bytes of the grant as parsed, so
what is verified is exactly what the node acts on, however the JSON was spelt
in transit.

Every constructor checks its input, so a constructed :class:`Grant` is always
well formed; malformed input raises :class:`InvalidArgument` naming the field.
A signature that does not verify raises an opaque :class:`CryptoError`.
Single use is not checked here: the owning node's store remembers grant ids.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from accord.agreement import PERSON_FIELDS, PERSON_ROLES, RECORD_FIELDS
from accord.checkpoint import Signer
from accord.errors import CryptoError, InvalidArgument, PermissionDenied
from accord.ids import AGENCY_RE, AGREEMENT_RE, POINTER_RE, PURPOSE_RE

#: Grants are short-lived: the node must act on one within minutes of issue.
GRANT_TTL = dt.timedelta(minutes=5)
#: No grant may live longer than this, whatever its issuer asked for.
MAX_GRANT_TTL = dt.timedelta(hours=1)
#: Clock skew a verifier tolerates, at most.
MAX_LEEWAY = dt.timedelta(minutes=2)
#: Encoded grants and signed grants larger than this are refused unread.
MAX_GRANT_BYTES = 16 * 1024
#: The most withholding rules one grant may carry.
MAX_WITHHOLD_RULES = 64

#: What the hub signs is this prefix followed by the grant's canonical bytes.
SIGNING_CONTEXT = b"accord/v1 release grant\x00"

SIGNATURE_BYTES = 64
KEY_BYTES = 32
LEAF_BYTES = 32

GRANT_ID_RE = re.compile(r"^[A-Za-z0-9_-]{22,64}\Z")  # 22 base64url characters = 128 bits
_RELEASE_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}\Z")
_B64URL_RE = re.compile(r"^[A-Za-z0-9_-]*\Z")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
MAX_TEXT = 256

#: Field names a withholding rule may name: a person's fields and the record's.
WITHHOLDABLE_FIELDS = (*PERSON_FIELDS, *RECORD_FIELDS)

Withhold = tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]


# --------------------------------------------------------------------------- field checks


def _fail(name: str, message: str) -> InvalidArgument:
    return InvalidArgument(f"grant.{name}: {message}")


def _str(value: object, name: str) -> str:
    if not isinstance(value, str):
        raise _fail(name, f"got {type(value).__name__}, want a string")
    return value


def _matching(value: object, name: str, pattern: re.Pattern[str], want: str) -> str:
    text = _str(value, name)
    if not pattern.fullmatch(text):
        raise _fail(name, f"got {text[:80]!r}, want {want}")
    return text


def _text(value: object, name: str, *, required: bool) -> str:
    text = _str(value, name)
    if required and not text:
        raise _fail(name, "must not be empty")
    if len(text) > MAX_TEXT:
        raise _fail(name, f"{len(text)} characters, at most {MAX_TEXT} allowed")
    if _CONTROL_RE.search(text):
        raise _fail(name, "contains control characters")
    return text


def _raw(value: object, name: str, size: int) -> bytes:
    # Database drivers may hand back bytearray or memoryview; keep plain bytes.
    if not isinstance(value, bytes | bytearray | memoryview):
        raise _fail(name, f"got {type(value).__name__}, want bytes")
    data = bytes(value)
    if len(data) != size:
        raise _fail(name, f"{len(data)} bytes, want {size}")
    return data


def _time(value: object, name: str) -> dt.datetime:
    if not isinstance(value, dt.datetime):
        raise _fail(name, f"got {type(value).__name__}, want a datetime")
    if value.tzinfo is None or value.utcoffset() is None:
        raise _fail(name, "want an aware datetime (UTC), got a naive one")
    return value.astimezone(dt.UTC)


def _names(value: object, where: str, allowed: tuple[str, ...]) -> tuple[str, ...]:
    # A bare string would iterate as letters; refuse it instead of guessing.
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise InvalidArgument(f"{where}: got {type(value).__name__}, want a list of names")
    names = list(value)
    for i, item in enumerate(names):
        if item not in allowed:
            raise InvalidArgument(f"{where}[{i}]: got {item!r}, want one of [{', '.join(allowed)}]")
    return tuple(sorted(set(names)))


def parse_withhold(rules: object, where: str = "grant.withhold") -> Withhold:
    """Check and normalise ``(fields, roles)`` withholding pairs.

    Unknown field or role names are refused (fail closed: a misspelt rule
    would otherwise withhold nothing). Each pair comes back with its names
    sorted and de-duplicated; an empty ``roles`` means every role. Errors
    name the rule, prefixed by ``where``.
    """
    if isinstance(rules, str | bytes) or not isinstance(rules, Iterable):
        raise InvalidArgument(f"{where}: got {type(rules).__name__}, want a list of [fields, roles] pairs")
    out: list[tuple[tuple[str, ...], tuple[str, ...]]] = []
    for i, rule in enumerate(rules):
        if i >= MAX_WITHHOLD_RULES:
            raise InvalidArgument(f"{where}: more than {MAX_WITHHOLD_RULES} rules")
        if not isinstance(rule, tuple | list) or len(rule) != 2:
            raise InvalidArgument(f"{where}[{i}]: want a [fields, roles] pair")
        field_names = _names(rule[0], f"{where}[{i}].fields", WITHHOLDABLE_FIELDS)
        if not field_names:
            raise InvalidArgument(f"{where}[{i}].fields: must not be empty")
        out.append((field_names, _names(rule[1], f"{where}[{i}].roles", PERSON_ROLES)))
    return tuple(out)


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(value: object, name: str, prefix: str = "grant.") -> bytes:
    if not isinstance(value, str):
        raise InvalidArgument(f"{prefix}{name}: got {type(value).__name__}, want a base64url string")
    # The standard decoder skips stray characters; ours refuses them, and any
    # second spelling of the same bytes (padding, non-zero trailing bits).
    if not _B64URL_RE.fullmatch(value) or len(value) % 4 == 1:
        raise InvalidArgument(f"{prefix}{name}: not unpadded base64url")
    try:
        data = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raise InvalidArgument(f"{prefix}{name}: not unpadded base64url") from None
    if _b64encode(data) != value:
        raise InvalidArgument(f"{prefix}{name}: not canonical base64url")
    return data


def _isotime(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat(timespec="microseconds")


def _parse_time(value: object, name: str) -> dt.datetime:
    text = _str(value, name)
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        raise _fail(name, f"got {text[:40]!r}, want an ISO 8601 time with an offset") from None
    return _time(parsed, name)


def _json_object(data: bytes, what: str) -> dict[str, Any]:
    """Strict JSON: one object, UTF-8, no duplicate keys, no NaN or Infinity."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise InvalidArgument(f"{what}: got {type(data).__name__}, want bytes")
    if len(data) > MAX_GRANT_BYTES:
        raise InvalidArgument(f"{what}: {len(data)} bytes, at most {MAX_GRANT_BYTES} allowed")

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        doc: dict[str, Any] = {}
        for key, value in items:
            if key in doc:
                raise InvalidArgument(f"{what}.{key}: appears twice")
            doc[key] = value
        return doc

    def constant(token: str) -> Any:
        raise InvalidArgument(f"{what}: {token} is not allowed")

    try:
        doc = json.loads(bytes(data).decode("utf-8"), object_pairs_hook=pairs, parse_constant=constant)
    except UnicodeDecodeError:
        raise InvalidArgument(f"{what}: not UTF-8") from None
    except json.JSONDecodeError as exc:
        raise InvalidArgument(f"{what}: not JSON ({exc.msg} at position {exc.pos})") from None
    if not isinstance(doc, dict):
        raise InvalidArgument(f"{what}: got a JSON {type(doc).__name__}, want an object")
    return doc


def _check_keys(doc: Mapping[str, Any], want: Iterable[str], what: str) -> None:
    wanted = set(want)
    unknown = sorted(set(doc) - wanted)
    if unknown:
        raise InvalidArgument(f"{what}.{unknown[0]}: unknown field")
    missing = sorted(wanted - set(doc))
    if missing:
        raise InvalidArgument(f"{what}.{missing[0]}: missing")


# --------------------------------------------------------------------------- model


@dataclass(frozen=True, slots=True)
class Grant:
    """The hub's permission for ``owner`` to release one record to one requester."""

    grant_id: str            # random, 128+ bits, base64url
    release_id: str
    pointer: str             # the pointer handle ("ptr_...")
    owner: str               # owning agency: the node that must release
    requester_agency: str
    requester: str           # the investigator's subject
    purpose: str
    agreement: str
    case: str                # may be empty when the agreement does not require one
    requester_key: bytes     # raw 32-byte X25519 public key the record is sealed to
    audit_seq: int           # the audit entry that authorised this release (>= 1)
    audit_leaf: bytes        # its RFC 6962 leaf hash (32 bytes)
    #: (fields, roles) pairs the hub's policy withholds; the node adds its own.
    withhold: Withhold
    approved: bool           # a custodian approved it (when the agreement required approval)
    issued_at: dt.datetime   # UTC, aware
    expires_at: dt.datetime

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        _matching(self.grant_id, "grant_id", GRANT_ID_RE, "22 to 64 base64url characters")
        _matching(self.release_id, "release_id", _RELEASE_ID_RE, "an id of letters, digits and ._:-")
        _matching(self.pointer, "pointer", POINTER_RE, "a pointer handle 'ptr_...'")
        _matching(self.owner, "owner", AGENCY_RE, "an agency id like 'rivertown_pd'")
        _matching(self.requester_agency, "requester_agency", AGENCY_RE, "an agency id like 'rivertown_pd'")
        _text(self.requester, "requester", required=True)
        _matching(self.purpose, "purpose", PURPOSE_RE, "a purpose id like 'missing_person'")
        _matching(self.agreement, "agreement", AGREEMENT_RE, "an agreement id like 'local-pilot'")
        _text(self.case, "case", required=False)
        set_(self, "requester_key", _raw(self.requester_key, "requester_key", KEY_BYTES))
        if isinstance(self.audit_seq, bool) or not isinstance(self.audit_seq, int):
            raise _fail("audit_seq", f"got {type(self.audit_seq).__name__}, want an integer")
        if self.audit_seq < 1:
            raise _fail("audit_seq", f"got {self.audit_seq}, want 1 or more")
        set_(self, "audit_leaf", _raw(self.audit_leaf, "audit_leaf", LEAF_BYTES))
        set_(self, "withhold", parse_withhold(self.withhold))
        if not isinstance(self.approved, bool):
            raise _fail("approved", f"got {type(self.approved).__name__}, want true or false")
        set_(self, "issued_at", _time(self.issued_at, "issued_at"))
        set_(self, "expires_at", _time(self.expires_at, "expires_at"))
        lifetime = self.expires_at - self.issued_at
        if lifetime <= dt.timedelta(0):
            raise _fail("expires_at", "must be after issued_at")
        if lifetime > MAX_GRANT_TTL:
            raise _fail("expires_at", f"a grant lives at most {MAX_GRANT_TTL}, this one {lifetime}")

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready form (bytes as base64url, times as ISO 8601)."""
        return {
            "grant_id": self.grant_id,
            "release_id": self.release_id,
            "pointer": self.pointer,
            "owner": self.owner,
            "requester_agency": self.requester_agency,
            "requester": self.requester,
            "purpose": self.purpose,
            "agreement": self.agreement,
            "case": self.case,
            "requester_key": _b64encode(self.requester_key),
            "audit_seq": self.audit_seq,
            "audit_leaf": _b64encode(self.audit_leaf),
            "withhold": [[list(f), list(r)] for f, r in self.withhold],
            "approved": self.approved,
            "issued_at": _isotime(self.issued_at),
            "expires_at": _isotime(self.expires_at),
        }

    def to_bytes(self) -> bytes:
        """Canonical JSON: sorted keys, no whitespace, ASCII-only UTF-8."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()

    def signing_message(self) -> bytes:
        """What the hub signs: the domain-separation prefix and the canonical bytes."""
        return SIGNING_CONTEXT + self.to_bytes()

    @classmethod
    def from_bytes(cls, data: bytes) -> Grant:
        """Parse a grant strictly; :class:`InvalidArgument` names the field at fault."""
        return cls.from_dict(_json_object(data, "grant"))

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any]) -> Grant:
        """Build a grant from its JSON form, refusing unknown and missing fields."""
        _check_keys(doc, (f.name for f in fields(cls)), "grant")
        withhold = doc["withhold"]
        if not isinstance(withhold, list):
            raise _fail("withhold", f"got {type(withhold).__name__}, want a list of [fields, roles] pairs")
        for i, rule in enumerate(withhold):
            if not (isinstance(rule, list) and len(rule) == 2):
                raise _fail(f"withhold[{i}]", "want a [fields, roles] pair")
            for part, name in zip(rule, ("fields", "roles"), strict=True):
                if not isinstance(part, list):
                    raise _fail(f"withhold[{i}].{name}", f"got {type(part).__name__}, want a list")
        return cls(
            grant_id=doc["grant_id"],
            release_id=doc["release_id"],
            pointer=doc["pointer"],
            owner=doc["owner"],
            requester_agency=doc["requester_agency"],
            requester=doc["requester"],
            purpose=doc["purpose"],
            agreement=doc["agreement"],
            case=doc["case"],
            requester_key=_b64decode(doc["requester_key"], "requester_key"),
            audit_seq=doc["audit_seq"],
            audit_leaf=_b64decode(doc["audit_leaf"], "audit_leaf"),
            withhold=parse_withhold(withhold),
            approved=doc["approved"],
            issued_at=_parse_time(doc["issued_at"], "issued_at"),
            expires_at=_parse_time(doc["expires_at"], "expires_at"),
        )


@dataclass(frozen=True, slots=True)
class SignedGrant:
    """A grant with the hub's Ed25519 signature over :meth:`Grant.signing_message`."""

    grant: Grant
    signature: bytes

    def __post_init__(self) -> None:
        if not isinstance(self.grant, Grant):
            raise InvalidArgument(f"signed_grant.grant: got {type(self.grant).__name__}, want a Grant")
        signature = self.signature
        if not isinstance(signature, bytes | bytearray | memoryview) or len(signature) != SIGNATURE_BYTES:
            raise InvalidArgument(f"signed_grant.sig: want {SIGNATURE_BYTES} bytes")
        object.__setattr__(self, "signature", bytes(signature))

    def to_bytes(self) -> bytes:
        """``{"grant":"<grant JSON>","sig":"<base64url>"}``, canonical JSON."""
        doc = {"grant": self.grant.to_bytes().decode("ascii"), "sig": _b64encode(self.signature)}
        return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> SignedGrant:
        """Parse strictly (at most 16 KiB); this does not verify the signature."""
        doc = _json_object(data, "signed_grant")
        _check_keys(doc, ("grant", "sig"), "signed_grant")
        inner = doc["grant"]
        if not isinstance(inner, str):
            raise InvalidArgument(
                f"signed_grant.grant: got {type(inner).__name__}, want the grant JSON as a string"
            )
        try:
            grant_bytes = inner.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate, spelt as a \ud800 escape
            raise InvalidArgument("signed_grant.grant: not valid Unicode") from None
        return cls(
            grant=Grant.from_bytes(grant_bytes),
            signature=_b64decode(doc["sig"], "sig", prefix="signed_grant."),
        )


# --------------------------------------------------------------------------- issue and verify


def new_grant_id() -> str:
    """A fresh random grant id: 128 bits, base64url."""
    return secrets.token_urlsafe(16)


def issue_grant(
    *,
    release_id: str,
    pointer: str,
    owner: str,
    requester_agency: str,
    requester: str,
    purpose: str,
    agreement: str,
    case: str,
    requester_key: bytes,
    audit_seq: int,
    audit_leaf: bytes,
    withhold: Iterable[tuple[Iterable[str], Iterable[str]]],
    approved: bool,
    signer: Signer,
    now: dt.datetime,
    ttl: dt.timedelta = GRANT_TTL,
    grant_id: str | None = None,
) -> SignedGrant:
    """Make and sign a grant valid from ``now`` for ``ttl``.

    ``grant_id`` is made here (:func:`new_grant_id`) unless given; a caller
    that must name the grant in its audit entry before the grant exists makes
    it first with :func:`new_grant_id`. Call this only after the audit entry
    ``audit_seq`` is durably committed.

    ``withhold`` holds the hub policy's ``(fields, roles)`` pairs for this
    purpose (rules whose ``unless_purposes`` exempt it already left out).
    """
    if not dt.timedelta(0) < ttl <= MAX_GRANT_TTL:
        raise InvalidArgument(f"ttl: got {ttl}, want more than 0 and at most {MAX_GRANT_TTL}")
    issued_at = _time(now, "issued_at")
    grant = Grant(
        grant_id=new_grant_id() if grant_id is None else grant_id,
        release_id=release_id,
        pointer=pointer,
        owner=owner,
        requester_agency=requester_agency,
        requester=requester,
        purpose=purpose,
        agreement=agreement,
        case=case,
        requester_key=requester_key,
        audit_seq=audit_seq,
        audit_leaf=audit_leaf,
        withhold=parse_withhold(withhold),
        approved=approved,
        issued_at=issued_at,
        expires_at=issued_at + ttl,
    )
    return SignedGrant(grant=grant, signature=signer.sign(grant.signing_message()))


def _verifies(key: Ed25519PublicKey, signature: bytes, message: bytes) -> bool:
    try:
        key.verify(signature, message)
    except InvalidSignature:
        return False
    return True


def verify_grant(
    signed: SignedGrant,
    hub_key: Ed25519PublicKey | Sequence[Ed25519PublicKey],
    *,
    owner: str,
    now: dt.datetime,
    leeway: dt.timedelta = dt.timedelta(seconds=30),
) -> Grant:
    """Check the hub's signature, the addressee and the validity window; return the grant.

    Raises :class:`CryptoError` (saying nothing more) if the signature does not
    verify, and :class:`PermissionDenied` if the grant is for another node, has
    expired, or is not valid yet. Whether the grant was used before is for the
    caller's store to check. Several hub keys are accepted during a key
    rotation: the grant must verify under one of them.
    """
    keys = (hub_key,) if isinstance(hub_key, Ed25519PublicKey) else tuple(hub_key)
    if not keys or not all(isinstance(k, Ed25519PublicKey) for k in keys):
        raise InvalidArgument("hub_key: want one or more Ed25519 public keys")
    if not dt.timedelta(0) <= leeway <= MAX_LEEWAY:
        raise InvalidArgument(f"leeway: got {leeway}, want 0 to {MAX_LEEWAY}")
    if now.tzinfo is None or now.utcoffset() is None:
        raise InvalidArgument("now: want an aware datetime (UTC), got a naive one")
    # The signature comes first: nothing about an unsigned grant is believed.
    grant = signed.grant
    message = grant.signing_message()
    if not any(_verifies(key, signed.signature, message) for key in keys):
        raise CryptoError()
    if grant.owner != owner:
        raise PermissionDenied("grant is for another node")
    if now > grant.expires_at + leeway:
        raise PermissionDenied("grant expired")
    if grant.issued_at > now + leeway:
        raise PermissionDenied("grant not yet valid")
    return grant
