"""The ``[console]`` table of ``node.toml``.

Example::

    [console]
    enabled = true
    listen = "127.0.0.1:8401"          # loopback: plain HTTP is allowed (demo)
    dev_idp = "../../idp/rivertown_pd" # development sign-in; leave out in production
    session_minutes = 30
    # tls_cert = "tls/console.pem"     # required when listening beyond loopback
    # tls_key = "tls/console.key"

    [console.oidc]                     # production sign-in (instead of dev_idp)
    authorization_endpoint = "https://idp.rivertown.gov/oauth2/authorize"
    token_endpoint = "https://idp.rivertown.gov/oauth2/token"
    client_id = "accord-console"
    client_secret_file = "secrets/oidc_client_secret"   # leave out for a public client
    redirect_uri = "https://console.rivertown.gov/signin/callback"
    # scope = "openid"                 # default
    # ca_file = "tls/idp-ca.pem"       # trust for the token endpoint; default: the system's
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from accord.config import Section, parse_hostport
from accord.errors import ConfigError


@dataclass(frozen=True, slots=True)
class OidcConfig:
    """The agency's OpenID Connect provider, for the authorization-code flow with PKCE.

    The provider's issuer and signing keys are not configured here: they are
    the agency's ``identity_provider`` in the agreements, so the console
    trusts exactly the keys the hub does (nothing is discovered or fetched).
    """

    authorization_endpoint: str
    token_endpoint: str
    client_id: str
    redirect_uri: str
    client_secret_file: Path | None = None
    scope: str = "openid"
    ca_file: Path | None = None

    @classmethod
    def read(cls, path: Path, raw: dict[str, Any]) -> OidcConfig:
        sec = Section(path, "console.oidc", raw)
        where = f"{path}: console.oidc"
        endpoints = {key: _endpoint(sec.text(key), f"{where}.{key}")
                     for key in ("authorization_endpoint", "token_endpoint", "redirect_uri")}
        client_id = sec.text("client_id")
        if not client_id.strip() or not client_id.isprintable():
            raise ConfigError(f"{where}.client_id: want printable text, got {client_id!r}")
        secret = sec.path("client_secret_file") if sec.text("client_secret_file", "") else None
        scope = sec.text("scope", "openid")
        if "openid" not in scope.split():
            raise ConfigError(f"{where}.scope: {scope!r} must include 'openid'")
        ca_file = sec.path("ca_file") if sec.text("ca_file", "") else None
        sec.check_unknown()
        return cls(endpoints["authorization_endpoint"], endpoints["token_endpoint"], client_id,
                   endpoints["redirect_uri"], secret, scope, ca_file)


def _endpoint(url: str, where: str) -> str:
    """An absolute https URL (http only to a loopback host, for local tests)."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname or parts.fragment:
        raise ConfigError(f"{where}: got {url!r}, want an absolute https URL without a fragment")
    if parts.scheme == "http" and not is_loopback(f"{parts.hostname}:0"):
        # Fail closed: codes, tokens and client secrets must not cross a network in clear.
        raise ConfigError(f"{where}: {url} is plain http to a host that is not loopback; "
                          "use https")
    return url


@dataclass(frozen=True, slots=True)
class ConsoleConfig:
    """Off unless ``enabled``; plain HTTP only on a loopback address."""

    enabled: bool = False
    listen: str = "127.0.0.1:8400"
    #: A development identity provider directory (``accord federation init``
    #: writes one per agency); None means no development sign-in.
    dev_idp: Path | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None
    session_minutes: int = 30
    #: Production sign-in through the agency's OIDC provider; None means none.
    oidc: OidcConfig | None = None

    @property
    def tls(self) -> bool:
        return self.tls_cert is not None

    @classmethod
    def read(cls, path: Path, data: dict[str, object]) -> ConsoleConfig:
        raw = data.get("console", {})
        if not isinstance(raw, dict):
            raise ConfigError(f"{path}: [console]: want a table")
        sec = Section(path, "console", raw)
        enabled = sec.flag("enabled", False)
        listen = parse_hostport(sec.text("listen", "127.0.0.1:8400"), f"{path}: console.listen")
        dev_idp = sec.path("dev_idp") if sec.text("dev_idp", "") else None
        cert = sec.path("tls_cert") if sec.text("tls_cert", "") else None
        key = sec.path("tls_key") if sec.text("tls_key", "") else None
        minutes = sec.integer("session_minutes", 30, minimum=1)
        oidc = OidcConfig.read(path, dict(sec.table("oidc"))) if "oidc" in raw else None
        sec.check_unknown()
        if oidc is not None and dev_idp is not None:
            # Fail closed: a production console left with the development provider
            # would let anyone sign in as anyone beside the real sign-in.
            raise ConfigError(f"{path}: console: give dev_idp or [console.oidc], not both")
        if (cert is None) != (key is None):
            raise ConfigError(f"{path}: console: give both tls_cert and tls_key, or neither")
        if minutes > 60:
            raise ConfigError(f"{path}: console.session_minutes: {minutes}, at most 60 "
                              "(tokens live at most an hour)")
        if enabled and cert is None and not is_loopback(listen):
            # Fail closed: session cookies and released records over plain HTTP
            # on a network are not acceptable; only the loopback demo may skip TLS.
            raise ConfigError(f"{path}: console.listen: {listen} is not a loopback address; "
                              "give tls_cert and tls_key")
        return cls(enabled, listen, dev_idp, cert, key, minutes, oidc)


def is_loopback(listen: str) -> bool:
    host = listen.rpartition(":")[0].strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
