"""The [console] table: off by default, plain HTTP only on loopback."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from accord.errors import ConfigError
from node.console.config import ConsoleConfig, is_loopback

HERE = Path("/etc/accord/node.toml")


def read(**table: object) -> ConsoleConfig:
    return ConsoleConfig.read(HERE, {"console": table})


def test_off_unless_enabled() -> None:
    assert ConsoleConfig.read(HERE, {}) == ConsoleConfig()
    assert not ConsoleConfig().enabled


def test_loopback_without_tls_is_allowed() -> None:
    config = read(enabled=True, listen="127.0.0.1:8401", dev_idp="../../idp/a")
    assert config.enabled and not config.tls
    assert config.dev_idp == Path("/idp/a")


def test_beyond_loopback_needs_tls() -> None:
    with pytest.raises(ConfigError, match="not a loopback address; give tls_cert"):
        read(enabled=True, listen="0.0.0.0:8401")
    config = read(enabled=True, listen="0.0.0.0:8401", tls_cert="c.pem", tls_key="k.pem")
    assert config.tls


@pytest.mark.parametrize(("table", "message"), [
    ({"tls_cert": "c.pem"}, "both tls_cert and tls_key"),
    ({"session_minutes": 90}, "at most 60"),
    ({"listen": "nowhere"}, "console.listen"),
    ({"enable": True}, "enable"),
])
def test_bad_tables_name_the_problem(table: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        read(**table)


@pytest.mark.parametrize(("listen", "loopback"), [
    ("127.0.0.1:1", True), ("localhost:1", True), ("[::1]:1", True),
    ("10.0.0.1:1", False), ("0.0.0.0:1", False), ("console.example:1", False),
])
def test_loopback(listen: str, loopback: bool) -> None:
    assert is_loopback(listen) is loopback


OIDC = {"authorization_endpoint": "https://idp.lakeside.gov/authorize",
        "token_endpoint": "https://idp.lakeside.gov/token", "client_id": "accord-console",
        "redirect_uri": "https://console.lakeside.gov/signin/callback",
        "client_secret_file": "secrets/oidc"}


def test_oidc_sign_in_is_read_with_its_secret_by_path() -> None:
    config = read(enabled=True, listen="0.0.0.0:8401", tls_cert="c.pem", tls_key="k.pem",
                  oidc=OIDC)
    assert config.oidc is not None
    assert config.oidc.client_id == "accord-console" and config.oidc.scope == "openid"
    assert config.oidc.client_secret_file == Path("/etc/accord/secrets/oidc")
    assert config.oidc.token_endpoint == "https://idp.lakeside.gov/token"
    assert read().oidc is None


@pytest.mark.parametrize(("change", "message"), [
    ({"token_endpoint": "http://idp.lakeside.gov/token"},
     "console.oidc.token_endpoint: http://idp.lakeside.gov/token is plain http"),
    ({"authorization_endpoint": "idp/authorize"},
     "console.oidc.authorization_endpoint: got 'idp/authorize', want an absolute https URL"),
    ({"redirect_uri": "https://console.lakeside.gov/cb#frag"}, "without a fragment"),
    ({"scope": "profile"}, "console.oidc.scope: 'profile' must include 'openid'"),
    ({"client_id": ""}, "console.oidc.client_id: want printable text"),
    ({"issuer": "https://idp"}, "issuer"),
])
def test_bad_oidc_tables_name_the_problem(change: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        read(oidc={**OIDC, **change})


def test_a_missing_oidc_key_is_named() -> None:
    table = dict(OIDC)
    del table["token_endpoint"]
    with pytest.raises(ConfigError, match="token_endpoint"):
        read(oidc=table)


def test_plain_http_to_a_loopback_provider_is_allowed() -> None:
    config = read(oidc={**OIDC, "token_endpoint": "http://127.0.0.1:9000/token"})
    assert config.oidc is not None and config.oidc.token_endpoint.startswith("http://127.")


def test_development_and_oidc_sign_in_together_are_refused() -> None:
    with pytest.raises(ConfigError, match=re.escape("give dev_idp or [console.oidc], not both")):
        read(dev_idp="../../idp/a", oidc=OIDC)
