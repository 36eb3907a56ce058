"""Who is signed in to the console: sign-in seam, token checks, sessions, CSRF.

Production sign-in is the agency's OIDC identity provider: the
authorization-code flow with PKCE in :mod:`node.console.oidc`, whose access
token is the hub's JWT. The demo uses :class:`DevSignIn`, the development
identity provider ``accord federation init`` creates for each agency, on a
form where the user picks a subject and roles. Whatever signs people in, the
console verifies the token it gets with the agency's issuer keys from the
agreement (as the hub does), and takes roles only from that verified token.

Sessions are server-side: the cookie holds a random session id, never the
token. Each session has its own CSRF token, compared in constant time.
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from accord.errors import ConfigError, InvalidArgument
from accord.identity import (
    MAX_SUBJECT_CHARS,
    ROLES,
    DevIdentityProvider,
    IssuerConfig,
    Principal,
    TokenVerifier,
    load_public_key,
)
from node.config import NodeConfig

#: Console sessions alive at once; the oldest are dropped beyond this.
MAX_SESSIONS = 10_000
SESSION_COOKIE = "accord_console"


class SignIn(Protocol):
    """A form sign-in (the development provider): a subject and roles to a JWT."""

    @property
    def description(self) -> str:
        """Shown on the sign-in page."""
        ...

    def token_for(self, subject: str, roles: tuple[str, ...], now: dt.datetime,
                  ttl: dt.timedelta) -> str: ...


@dataclass(frozen=True)
class DevSignIn:
    """Development sign-in: anyone may pick a subject and roles. Never in production."""

    idp: DevIdentityProvider
    description: str = "development identity provider: pick a user id and roles"

    @classmethod
    def load(cls, directory: Path, agency: str) -> DevSignIn:
        return cls(DevIdentityProvider.load(directory, agency))

    def token_for(self, subject: str, roles: tuple[str, ...], now: dt.datetime,
                  ttl: dt.timedelta) -> str:
        if not subject.strip() or len(subject) > MAX_SUBJECT_CHARS or not subject.isprintable():
            raise InvalidArgument("user id: want 1-256 printable characters")
        if not roles or set(roles) - ROLES:
            raise InvalidArgument(f"roles: want some of {', '.join(sorted(ROLES))}")
        return self.idp.issue(subject.strip(), roles, now, ttl)


def agency_issuer(config: NodeConfig) -> IssuerConfig:
    """This agency's identity provider as the agreements name it: issuer, keys, algorithms."""
    member = config.agreements.member(config.agency)
    if member is None:
        raise ConfigError(f"{config.source}: {config.agency} is in no agreement")
    keys = {kid: load_public_key(p) for kid, p in member.jwt_keys.items()}
    return IssuerConfig(agency=config.agency, issuer=member.issuer, keys=keys,
                        algorithms=frozenset(member.algorithms))


def token_verifier(config: NodeConfig) -> TokenVerifier:
    """A verifier for this agency's tokens only, from the agreements' issuer keys."""
    issuer = agency_issuer(config)
    return TokenVerifier({issuer.issuer: issuer})


@dataclass
class Session:
    """One browser's session: its CSRF token and, once signed in, the bearer's token."""

    id: str
    csrf: str
    expires_at: dt.datetime
    token: str = ""
    principal: Principal | None = None
    flashes: list[str] = field(default_factory=list)

    def check_csrf(self, submitted: str) -> bool:
        return hmac.compare_digest(self.csrf.encode(), submitted.encode())

    def has_role(self, role: str) -> bool:
        return self.principal is not None and self.principal.has_role(role)


class Sessions:
    """In-memory sessions of one console process (signing in again after a restart is fine)."""

    def __init__(self, lifetime: dt.timedelta, limit: int = MAX_SESSIONS) -> None:
        self._lifetime = lifetime
        self._limit = limit
        self._sessions: dict[str, Session] = {}

    def new(self, now: dt.datetime) -> Session:
        self._expire(now)
        while len(self._sessions) >= self._limit:
            # The oldest session not signed in goes first: anyone can make those
            # (a request without a cookie), so a flood of them must not sign
            # people out. Only a table full of signed-in sessions drops one.
            oldest = next((sid for sid, s in self._sessions.items() if s.principal is None),
                          next(iter(self._sessions)))
            del self._sessions[oldest]
        session = Session(secrets.token_urlsafe(32), secrets.token_urlsafe(32),
                          now + self._lifetime)
        self._sessions[session.id] = session
        return session

    def get(self, session_id: str, now: dt.datetime) -> Session | None:
        session = self._sessions.get(session_id)
        if session is None:
            return None
        expired = session.expires_at <= now or (
            session.principal is not None and session.principal.expires_at <= now)
        if expired:
            del self._sessions[session_id]
            return None
        return session

    def sign_in(self, old: Session, token: str, principal: Principal,
                now: dt.datetime) -> Session:
        """A fresh session id for the signed-in user (no session fixation)."""
        self._sessions.pop(old.id, None)
        session = self.new(now)
        session.token, session.principal = token, principal
        session.expires_at = min(session.expires_at, principal.expires_at)
        return session

    def drop(self, session_id: str) -> None:
        self._sessions.pop(session_id, None)

    def _expire(self, now: dt.datetime) -> None:
        for sid in [s.id for s in self._sessions.values() if s.expires_at <= now]:
            del self._sessions[sid]
