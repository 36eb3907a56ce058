"""The [console] table: off by default, plain HTTP only on loopback."""

from __future__ import annotations

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
