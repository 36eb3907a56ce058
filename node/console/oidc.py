"""Production sign-in: the agency's OpenID Connect provider, authorization code with PKCE.

The flow (OpenID Connect Core 1.0 section 3.1, RFC 7636 for PKCE):

1. ``begin`` makes a one-time ``state``, a ``nonce`` and a PKCE verifier and
   returns the provider's authorization URL plus the *browser binding* the
   console sets as a cookie: the three, sealed (AES-GCM, a key of this
   process). The binding ties the flow to the browser that started it, so a
   code cannot be injected into someone else's browser (login CSRF); and as
   nothing is kept here, starting flows by the thousand pushes nobody's
   sign-in in progress out.
2. The provider signs the person in and sends the browser back to the
   ``redirect_uri`` with ``code`` and ``state``.
3. ``complete`` opens the pending flow from the binding (once only: the state
   is remembered as spent, and only for the browser whose binding seals that
   state), exchanges the code at the token endpoint with the PKCE
   verifier and the client's credentials, verifies the ID token (signature
   with the agency's keys from the agreements, issuer, audience = our client
   id, ``nonce``, times), and returns the access token, which must be the JWT
   the hub accepts (audience ``accord-hub``, ``agency`` and ``roles`` claims)
   for the same subject as the ID token.

Roles are therefore whatever the provider puts in the access token: mapping an
agency's groups to Accord roles is the provider's configuration, not ours.

Failures are precise where the person can act on them (the provider refused,
the sign-in took too long, it was started in another browser) and opaque where
an answer failed a cryptographic check.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import os
import secrets
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus, urlencode

import aiohttp
import jwt
import structlog
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from accord.errors import ConfigError, InvalidArgument, Unauthenticated
from accord.identity import IssuerConfig, Principal, TokenVerifier, decode_signed
from node.console.config import OidcConfig

log = structlog.get_logger("accord.console")

#: How long a started sign-in may take at the provider.
PENDING_LIFETIME = dt.timedelta(minutes=10)
#: Flows finished (or tried from another browser) remembered, so that a
#: callback cannot be used twice; the oldest are forgotten beyond this (their
#: codes are spent at the provider by then).
MAX_SPENT = 10_000
_SEAL_AAD = b"accord/v1 console oidc flow"
#: Largest token endpoint answer read.
MAX_TOKEN_RESPONSE_BYTES = 64 * 1024
TOKEN_TIMEOUT_SECONDS = 10.0
#: The browser-binding cookie of a sign-in in progress.
BINDING_COOKIE = "accord_oidc"

# Shown to the person; deliberately no detail of which check failed.
NOT_VERIFIED = "the identity provider's answer could not be verified; try again"


@dataclass(frozen=True, slots=True)
class Pending:
    """A sign-in started in one browser and not finished.

    Kept in that browser, not here: sealed (AES-GCM under a key of this
    console process) into the binding cookie. A table of started flows, which
    anyone can fill by asking for /signin/oidc, would have to forget someone's
    sign-in in progress to take more.
    """

    state: str
    nonce: str
    verifier: str
    expires_at: dt.datetime

    def seal(self, aead: AESGCM) -> str:
        doc = json.dumps({"state": self.state, "nonce": self.nonce, "verifier": self.verifier,
                          "expires_at": self.expires_at.isoformat()}).encode()
        nonce = os.urandom(12)
        return base64.urlsafe_b64encode(nonce + aead.encrypt(nonce, doc, _SEAL_AAD)).decode()

    @classmethod
    def open(cls, aead: AESGCM, sealed: str) -> Pending | None:
        """The flow sealed in a binding cookie, or None (absent, altered, another process's)."""
        try:
            raw = base64.urlsafe_b64decode(sealed.encode("ascii"))
            doc = json.loads(aead.decrypt(raw[:12], raw[12:], _SEAL_AAD))
            return cls(str(doc["state"]), str(doc["nonce"]), str(doc["verifier"]),
                       dt.datetime.fromisoformat(doc["expires_at"]))
        except (ValueError, KeyError, TypeError, InvalidTag):  # a UnicodeError is a ValueError
            return None


@dataclass(frozen=True, slots=True)
class Started:
    """Where to send the browser, and the binding to set as a cookie."""

    authorization_url: str
    binding: str


def _challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class OidcSignIn:
    """The authorization-code flow against one agency's provider."""

    def __init__(self, config: OidcConfig, issuer: IssuerConfig, verifier: TokenVerifier,
                 client_secret: str | None) -> None:
        self.config = config
        self.issuer = issuer
        self.verifier = verifier
        self.client_secret = client_secret
        self._aead = AESGCM(AESGCM.generate_key(bit_length=256))
        #: state -> until when it is remembered as spent.
        self._spent: dict[str, dt.datetime] = {}
        self._ssl: ssl.SSLContext | None = None
        if config.ca_file is not None:
            try:
                self._ssl = ssl.create_default_context(cafile=str(config.ca_file))
            except (OSError, ssl.SSLError) as exc:
                raise ConfigError(f"console.oidc.ca_file: {config.ca_file}: {exc}") from exc

    @property
    def description(self) -> str:
        return f"your agency's identity provider ({self.issuer.issuer})"

    def begin(self, now: dt.datetime) -> Started:
        """Start a sign-in: the authorization URL and the browser binding."""
        pending = Pending(state=secrets.token_urlsafe(32), nonce=secrets.token_urlsafe(32),
                          verifier=secrets.token_urlsafe(64),
                          expires_at=now + PENDING_LIFETIME)
        state = pending.state
        query = urlencode({
            "response_type": "code",
            "client_id": self.config.client_id,
            "redirect_uri": self.config.redirect_uri,
            "scope": self.config.scope,
            "state": state,
            "nonce": pending.nonce,
            "code_challenge": _challenge(pending.verifier),
            "code_challenge_method": "S256",
        })
        separator = "&" if "?" in self.config.authorization_endpoint else "?"
        return Started(self.config.authorization_endpoint + separator + query,
                       pending.seal(self._aead))

    async def complete(self, query: Mapping[str, str], binding: str,
                       now: dt.datetime) -> tuple[str, Principal]:
        """Finish the sign-in the provider sent back: the hub's access token and its bearer.

        Raises InvalidArgument for what the person can fix by starting again
        (unknown or expired flow, another browser, the provider's refusal) and
        Unauthenticated for an answer that fails verification.
        """
        self._expire(now)
        state = query.get("state", "")
        if not state or state in self._spent:
            raise InvalidArgument("sign-in: this sign-in is unknown, used or expired; "
                                  "start again")
        # Spent now, whatever follows: a callback is tried once (from another
        # browser too: the right one cannot use it after that either).
        while len(self._spent) >= MAX_SPENT:
            self._spent.pop(next(iter(self._spent)))
        self._spent[state] = now + PENDING_LIFETIME
        pending = Pending.open(self._aead, binding) if binding else None
        if pending is None or not hmac.compare_digest(pending.state.encode(), state.encode()):
            raise InvalidArgument("sign-in: it was started in another browser; start again")
        if pending.expires_at <= now:
            raise InvalidArgument("sign-in: this sign-in is unknown, used or expired; "
                                  "start again")
        if "error" in query:
            error = query["error"][:64]
            if not error.replace("_", "").isalnum():
                error = "unknown_error"
            raise InvalidArgument(f"sign-in: the identity provider refused ({error})")
        code = query.get("code", "")
        if not code or len(code) > 2048:
            raise InvalidArgument("sign-in: the identity provider sent no code")
        answer = await self._exchange(code, pending.verifier)
        access_token, id_token = answer.get("access_token"), answer.get("id_token")
        token_type = answer.get("token_type")
        if not (isinstance(access_token, str) and isinstance(id_token, str)
                and isinstance(token_type, str) and token_type.lower() == "bearer"):
            log.info("console_oidc_rejected", reason="token_response_malformed")
            raise Unauthenticated(NOT_VERIFIED)
        subject = self._id_token_subject(id_token, pending.nonce, now)
        principal = self.verifier.verify(access_token, now)
        if not hmac.compare_digest(principal.subject.encode(), subject.encode()):
            log.info("console_oidc_rejected", reason="subject_mismatch")
            raise Unauthenticated(NOT_VERIFIED)
        return access_token, principal

    def _id_token_subject(self, id_token: str, nonce: str, now: dt.datetime) -> str:
        try:
            claims = decode_signed(id_token, self.issuer, self.config.client_id, now,
                                   required=("exp", "iat", "aud", "iss", "sub", "nonce"))
        except Unauthenticated as exc:
            log.info("console_oidc_rejected", reason=exc.reasons[0] if exc.reasons else "")
            raise Unauthenticated(NOT_VERIFIED) from exc
        except (jwt.PyJWTError, ValueError, TypeError, KeyError) as exc:
            log.info("console_oidc_rejected", reason="id_token_invalid")
            raise Unauthenticated(NOT_VERIFIED) from exc
        azp = claims.get("azp")
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if len(audiences) > 1 and azp != self.config.client_id:
            # OIDC Core 3.1.3.7: with several audiences, azp must name us.
            log.info("console_oidc_rejected", reason="id_token_azp")
            raise Unauthenticated(NOT_VERIFIED)
        if not (isinstance(claims["nonce"], str)
                and hmac.compare_digest(claims["nonce"].encode(), nonce.encode())):
            log.info("console_oidc_rejected", reason="id_token_nonce")
            raise Unauthenticated(NOT_VERIFIED)
        subject = claims["sub"]
        if not isinstance(subject, str) or not subject:
            raise Unauthenticated(NOT_VERIFIED)
        return subject

    async def _exchange(self, code: str, code_verifier: str) -> dict[str, Any]:
        form = {"grant_type": "authorization_code", "code": code,
                "redirect_uri": self.config.redirect_uri, "code_verifier": code_verifier}
        headers = {"Accept": "application/json"}
        if self.client_secret is None:
            form["client_id"] = self.config.client_id  # a public client: PKCE alone
        else:
            headers["Authorization"] = _client_basic(self.config.client_id, self.client_secret)
        timeout = aiohttp.ClientTimeout(total=TOKEN_TIMEOUT_SECONDS)
        try:
            async with aiohttp.ClientSession(timeout=timeout) as http, http.post(
                    self.config.token_endpoint, data=form, headers=headers,
                    ssl=self._ssl if self._ssl is not None else True,
                    allow_redirects=False) as response:
                body = await response.content.read(MAX_TOKEN_RESPONSE_BYTES + 1)
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("console_oidc_token_endpoint", error=type(exc).__name__)
            raise InvalidArgument("sign-in: the identity provider's token endpoint did not "
                                  "answer; try again later") from exc
        if len(body) > MAX_TOKEN_RESPONSE_BYTES:
            raise InvalidArgument("sign-in: the identity provider's token answer is too large")
        if status != 200:
            # A refusal need not be JSON (a proxy's error page): say it was refused.
            try:
                error = _json_object(body).get("error")
            except ValueError:
                error = None
            log.info("console_oidc_token_refused", status=status,
                     error=error if isinstance(error, str) and error.isidentifier() else "")
            raise InvalidArgument("sign-in: the identity provider refused the code "
                                  f"(HTTP {status}); start again")
        try:
            return _json_object(body)
        except ValueError as exc:
            log.info("console_oidc_rejected", reason="token_response_not_json")
            raise Unauthenticated(NOT_VERIFIED) from exc

    def _expire(self, now: dt.datetime) -> None:
        for state in [s for s, until in self._spent.items() if until <= now]:
            del self._spent[state]


def _client_basic(client_id: str, secret: str) -> str:
    """HTTP Basic client authentication as RFC 6749 section 2.3.1 spells it (form-encoded first)."""
    pair = f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()
    return "Basic " + base64.b64encode(pair).decode("ascii")


def _json_object(body: bytes) -> dict[str, Any]:
    value = json.loads(body)
    if not isinstance(value, dict):
        raise ValueError("not a JSON object")
    return value
