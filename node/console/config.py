"""The ``[console]`` table of ``node.toml``.

Example::

    [console]
    enabled = true
    listen = "127.0.0.1:8401"          # loopback: plain HTTP is allowed (demo)
    dev_idp = "../../idp/rivertown_pd" # development sign-in; leave out in production
    session_minutes = 30
    # tls_cert = "tls/console.pem"     # required when listening beyond loopback
    # tls_key = "tls/console.key"
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path

from accord.config import Section, parse_hostport
from accord.errors import ConfigError


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
        sec.check_unknown()
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
        return cls(enabled, listen, dev_idp, cert, key, minutes)


def is_loopback(listen: str) -> bool:
    host = listen.rpartition(":")[0].strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
