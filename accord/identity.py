"""Investigator identity: JWTs from each agency's identity provider.

Verification follows RFC 8725: the algorithm comes from our allow-list for the
issuer (never from the token alone), keys are looked up by ``kid`` in the
agency's configured key set (``jku``/``x5u``/``jwk`` headers are refused, never
fetched), ``exp``, ``iat``, ``aud``, ``iss``, ``sub`` and ``jti`` are required,
leeway is bounded, and lifetimes are capped. Every failure raises one opaque
:class:`Unauthenticated` so a caller learns nothing about which check failed;
the reason goes to the audit log through ``Unauthenticated.reasons``.

A development identity provider (:class:`DevIdentityProvider`) mints tokens for
local federations made by ``accord federation init``.
"""

from __future__ import annotations

import datetime as dt
import secrets
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from accord.errors import ConfigError, InvalidArgument, Unauthenticated

HUB_AUDIENCE = "accord-hub"
ALLOWED_ALGORITHMS = frozenset({"EdDSA", "ES256"})
MAX_TOKEN_BYTES = 8192
#: Longest subject or token id we accept: the audit log's actor column holds 256.
MAX_SUBJECT_CHARS = 256
ROLES = frozenset({"investigator", "custodian", "auditor", "steward"})
#: Tokens a verifier remembers as verified (the most recently used).
VERIFIED_TOKENS = 4096

PublicKey = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey
PrivateKey = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated investigator (or auditor, custodian, steward)."""

    subject: str
    agency: str
    roles: frozenset[str]
    token_id: str
    expires_at: dt.datetime
    #: The token's ``iat`` (None for a principal not made from a token, e.g. a watch's).
    issued_at: dt.datetime | None = None

    def has_role(self, role: str) -> bool:
        return role in self.roles


@dataclass(frozen=True, slots=True)
class IssuerConfig:
    """What the hub trusts about one agency's identity provider."""

    agency: str
    issuer: str
    keys: Mapping[str, PublicKey]          # kid -> public key
    algorithms: frozenset[str] = frozenset({"EdDSA"})
    audience: str = HUB_AUDIENCE
    leeway: dt.timedelta = dt.timedelta(seconds=30)
    max_lifetime: dt.timedelta = dt.timedelta(hours=1)

    def __post_init__(self) -> None:
        unknown = self.algorithms - ALLOWED_ALGORITHMS
        if unknown or not self.algorithms:
            raise ConfigError(
                f"issuer {self.issuer}: algorithms {sorted(unknown) or '[]'} not allowed; "
                f"use some of {sorted(ALLOWED_ALGORITHMS)}"
            )
        if not self.keys:
            raise ConfigError(f"issuer {self.issuer}: no keys configured")
        if self.leeway > dt.timedelta(minutes=2):
            raise ConfigError(f"issuer {self.issuer}: leeway above 2 minutes is not allowed")


def _algorithm_for(key: PublicKey | PrivateKey) -> str:
    if isinstance(key, ed25519.Ed25519PublicKey | ed25519.Ed25519PrivateKey):
        return "EdDSA"
    if key.curve.name == "secp256r1":
        return "ES256"
    raise ConfigError(f"unsupported key curve {key.curve.name}")


def load_public_key(path: Path) -> PublicKey:
    """Load an Ed25519 or P-256 public key from a PEM file."""
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: cannot read public key: {exc}") from exc
    if not isinstance(key, ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey):
        raise ConfigError(f"{path}: want an Ed25519 or P-256 public key")
    _algorithm_for(key)
    return key


class _Verified(NamedTuple):
    """A token whose signature and claims were checked, with what time can still fail."""

    principal: Principal
    issued_at: dt.datetime
    not_before: dt.datetime | None
    leeway: dt.timedelta

    def check_times(self, now: dt.datetime) -> None:
        """The time checks of :func:`decode_signed`, at ``now``."""
        _check_times(self.principal.expires_at, self.issued_at, self.not_before,
                     self.leeway, now)


#: Audit reasons for PyJWT's refusals, most specific first.
_JWT_REASONS: tuple[tuple[type[Exception], str], ...] = (
    (jwt.InvalidSignatureError, "token_bad_signature"),
    (jwt.ExpiredSignatureError, "token_expired"),
    (jwt.ImmatureSignatureError, "token_not_yet_valid"),
    (jwt.InvalidAudienceError, "token_wrong_audience"),
    (jwt.InvalidIssuerError, "token_wrong_issuer"),
    (jwt.MissingRequiredClaimError, "token_claim_missing"),
    (jwt.DecodeError, "token_malformed"),
)


class TokenVerifier:
    """Verifies investigator JWTs against the configured issuers.

    A bearer presents the same token on every request until it expires: the
    signature and claims of a token are checked once, and the token (the
    exact string) remembered with its principal. Each later use checks only
    what time changes (expiry, ``iat``, ``nbf``). Any other string, however
    close, is verified in full; failures are never remembered. Verifying cost
    the hub about 0.2 ms of every search.
    """

    def __init__(self, issuers: Mapping[str, IssuerConfig]) -> None:
        #: issuer string -> config
        self._issuers = dict(issuers)
        self._verified: OrderedDict[str, _Verified] = OrderedDict()
        self._lock = threading.Lock()

    def verify(self, token: str, now: dt.datetime) -> Principal:
        """Verify ``token`` at time ``now``; raise Unauthenticated on any failure."""
        with self._lock:
            known = self._verified.get(token)
            if known is not None:
                self._verified.move_to_end(token)
        if known is not None:
            known.check_times(now)
            return known.principal
        try:
            verified = self._verify(token, now)
        except Unauthenticated:
            raise
        except (jwt.PyJWTError, ValueError, TypeError, KeyError) as exc:
            # The caller is told only "invalid token"; the audit log, why.
            reason = next((r for kind, r in _JWT_REASONS if isinstance(exc, kind)),
                          "token_invalid")
            raise Unauthenticated("invalid token", reasons=(reason,)) from exc
        with self._lock:
            self._verified[token] = verified
            if len(self._verified) > VERIFIED_TOKENS:
                self._verified.popitem(last=False)
        return verified.principal

    def _verify(self, token: str, now: dt.datetime) -> _Verified:
        if len(token) > MAX_TOKEN_BYTES:
            raise _fail("token_too_large")
        unverified = jwt.decode(token, options={"verify_signature": False})
        config = self._issuers.get(str(unverified.get("iss", "")))
        if config is None:
            raise _fail("token_unknown_issuer")
        claims = decode_signed(token, config, config.audience, now,
                               required=("exp", "iat", "aud", "iss", "sub", "jti"))
        exp = _timestamp(claims["exp"])
        if claims.get("agency") != config.agency:
            raise _fail("token_agency_mismatch")
        roles = claims.get("roles")
        if not isinstance(roles, list) or not all(isinstance(r, str) for r in roles):
            raise _fail("token_roles_malformed")
        subject, jti = claims["sub"], claims["jti"]
        if not (_plain(subject) and _plain(jti)):
            # The subject goes into audit entries, release records and custodians'
            # screens: no control characters, and no longer than the log keeps.
            raise _fail("token_claims_malformed")
        issued_at = _timestamp(claims["iat"])
        principal = Principal(
            subject=subject,
            agency=config.agency,
            roles=frozenset(roles),
            token_id=jti,
            expires_at=exp,
            issued_at=issued_at,
        )
        not_before = _timestamp(claims["nbf"]) if "nbf" in claims else None
        return _Verified(principal, issued_at, not_before, config.leeway)


def _fail(reason: str) -> Unauthenticated:
    return Unauthenticated("invalid token", reasons=(reason,))


def decode_signed(token: str, config: IssuerConfig, audience: str, now: dt.datetime, *,
                  required: tuple[str, ...]) -> dict[str, Any]:
    """The claims of a JWT signed by ``config``'s issuer for ``audience``, checked at ``now``.

    The RFC 8725 checks every token of ours passes: size, no key references in
    the header, the algorithm from the issuer's allow-list and matching the
    key its ``kid`` names, signature, ``iss``, ``aud``, ``exp``, ``iat``,
    ``nbf`` and a capped lifetime. Raises :class:`Unauthenticated` (opaque,
    with the reason for the audit log); PyJWT's own errors propagate as they
    are for the caller to fold into one.
    """
    if len(token) > MAX_TOKEN_BYTES:
        raise _fail("token_too_large")
    header = jwt.get_unverified_header(token)
    if {"jku", "x5u", "jwk", "x5c"} & header.keys():
        raise _fail("token_header_key_reference")
    if header.get("crit"):
        raise _fail("token_header_crit")
    alg = header.get("alg")
    if alg not in config.algorithms:
        raise _fail("token_algorithm_not_allowed")
    key = config.keys.get(str(header.get("kid", "")))
    if key is None:
        raise _fail("token_unknown_kid")
    if _algorithm_for(key) != alg:
        raise _fail("token_algorithm_key_mismatch")
    claims: dict[str, Any] = jwt.decode(
        token,
        key=key,
        algorithms=[alg],
        audience=audience,
        issuer=config.issuer,
        # Time checks are ours below, against the ``now`` we were given.
        options={
            "require": list(required),
            "verify_exp": False,
            "verify_iat": False,
            "verify_nbf": False,
        },
    )
    exp = _timestamp(claims["exp"])
    iat = _timestamp(claims["iat"])
    nbf = _timestamp(claims["nbf"]) if "nbf" in claims else None
    _check_times(exp, iat, nbf, config.leeway, now)
    if exp - iat > config.max_lifetime:
        raise _fail("token_lifetime_too_long")
    return claims


def _check_times(exp: dt.datetime, iat: dt.datetime, nbf: dt.datetime | None,
                 leeway: dt.timedelta, now: dt.datetime) -> None:
    if now > exp + leeway:
        raise _fail("token_expired")
    if iat > now + leeway:
        raise _fail("token_issued_in_future")
    if nbf is not None and nbf > now + leeway:
        raise _fail("token_not_yet_valid")


def _plain(value: object) -> bool:
    """A non-empty, printable string of at most MAX_SUBJECT_CHARS characters."""
    return (isinstance(value, str) and 0 < len(value) <= MAX_SUBJECT_CHARS
            and value.isprintable())


def _timestamp(value: object) -> dt.datetime:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("timestamp claim is not a number")
    try:
        return dt.datetime.fromtimestamp(value, tz=dt.UTC)
    except (OverflowError, OSError) as exc:  # e.g. exp = 1e300: out of any clock's range
        raise ValueError("timestamp claim is out of range") from exc


@dataclass(frozen=True)
class DevIdentityProvider:
    """A development identity provider for one agency: an Ed25519 key and an issuer.

    Files: ``<dir>/signing_key.pem`` (private, 0600) and ``<dir>/public_key.pem``.
    """

    agency: str
    issuer: str
    key: ed25519.Ed25519PrivateKey
    kid: str = field(default="dev-1")

    @staticmethod
    def issuer_for(agency: str) -> str:
        return f"https://idp.{agency}.accord.test"

    @classmethod
    def create(cls, agency: str) -> DevIdentityProvider:
        return cls(agency=agency, issuer=cls.issuer_for(agency),
                   key=ed25519.Ed25519PrivateKey.generate())

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        private = directory / "signing_key.pem"
        private.write_bytes(
            self.key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        private.chmod(0o600)
        (directory / "public_key.pem").write_bytes(self.public_pem)

    @classmethod
    def load(cls, directory: Path, agency: str) -> DevIdentityProvider:
        path = directory / "signing_key.pem"
        try:
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except (OSError, ValueError) as exc:
            raise ConfigError(f"{path}: cannot read identity provider key: {exc}") from exc
        if not isinstance(key, ed25519.Ed25519PrivateKey):
            raise ConfigError(f"{path}: want an Ed25519 private key")
        return cls(agency=agency, issuer=cls.issuer_for(agency), key=key)

    @property
    def public_pem(self) -> bytes:
        return self.key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def issue(
        self,
        subject: str,
        roles: tuple[str, ...],
        now: dt.datetime,
        ttl: dt.timedelta = dt.timedelta(minutes=15),
        audience: str = HUB_AUDIENCE,
    ) -> str:
        """Mint a signed token for ``subject`` with ``roles``, valid for ``ttl``."""
        if not subject.strip():
            raise InvalidArgument("subject: must not be empty")
        if not subject.isprintable():
            # The hub would refuse the token as malformed: refuse to make it.
            raise InvalidArgument(f"subject: got {subject!r}, want printable text")
        unknown = set(roles) - ROLES
        if unknown or not roles:
            raise InvalidArgument(
                f"roles: got {sorted(unknown) or '[]'}, want some of {sorted(ROLES)}"
            )
        claims = {
            "iss": self.issuer,
            "sub": subject,
            "aud": audience,
            "iat": int(now.timestamp()),
            "exp": int((now + ttl).timestamp()),
            "jti": secrets.token_urlsafe(16),
            "agency": self.agency,
            "roles": list(roles),
        }
        return jwt.encode(claims, self.key, algorithm="EdDSA", headers={"kid": self.kid})
