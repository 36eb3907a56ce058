"""Configuration values: every bad one is refused, naming the file and the key."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from accord.config import load_toml, read_limits
from accord.errors import ConfigError

HUB = Path("/etc/accord/hub.toml")


@pytest.mark.parametrize(("key", "value", "want"), [
    # nan compares false with everything: it passed the minimum, and a rate of nan allowed
    # every search.
    ("search_per_minute", math.nan, "got nan, want a finite number"),
    ("agency_search_per_minute", math.inf, "got inf, want a finite number"),
    ("search_per_minute", 0.0, "got 0.0, want at least 0.01"),
    # gRPC takes the message limit as a C int; larger failed only at serve time.
    ("max_message_bytes", 2**32, f"got {2**32}, want at most {2**31 - 1}"),
    ("max_message_bytes", 10, "got 10, want at least 1024"),
])
def test_bad_limits_are_refused(key: str, value: float, want: str) -> None:
    with pytest.raises(ConfigError) as info:
        read_limits(HUB, {"limits": {key: value}})
    assert info.value.message == f"{HUB}: limits.{key}: {want}"


def test_good_limits_are_read() -> None:
    limits = read_limits(HUB, {"limits": {"search_per_minute": 30, "max_message_bytes": 2**31 - 1}})
    assert (limits.search_per_minute, limits.max_message_bytes) == (30.0, 2**31 - 1)


def toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "node.toml"
    path.write_text(text)
    return path


TABLES = frozenset({"node", "console"})


@pytest.mark.parametrize(("var", "raw", "want"), [
    ("ACCORD_NODE_CONSOLE_ENABLED", "ture", "got 'ture', want true or false"),
    ("ACCORD_NODE_NODE_BATCH", "2.5", "got '2.5', want an integer"),
    ("ACCORD_NODE_NODE_RATE", "fast", "got 'fast', want a number"),
])
def test_a_bad_environment_value_names_the_variable(tmp_path: Path, var: str, raw: str,
                                                    want: str) -> None:
    # "ture" became False: the console silently off.
    path = toml(tmp_path, "[node]\nbatch = 500\nrate = 1.5\n[console]\nenabled = true\n")
    with pytest.raises(ConfigError) as info:
        load_toml(path, "ACCORD_NODE", {var: raw}, TABLES)
    assert info.value.message == f"environment: {var}: {want}"


def test_environment_values_take_the_type_they_replace(tmp_path: Path) -> None:
    path = toml(tmp_path, "[node]\nbatch = 500\nrate = 1.5\n[console]\nenabled = true\n")
    data = load_toml(path, "ACCORD_NODE", {"ACCORD_NODE_CONSOLE_ENABLED": "off",
                                           "ACCORD_NODE_NODE_BATCH": "20",
                                           "ACCORD_NODE_NODE_RATE": "3"}, TABLES)
    assert (data["console"]["enabled"], data["node"]["batch"], data["node"]["rate"]) == (
        False, 20, 3.0)


def test_a_variable_naming_no_table_is_refused_by_its_name(tmp_path: Path) -> None:
    # It was blamed on the file: "node.toml: unknown table [log]".
    path = toml(tmp_path, "[node]\n")
    with pytest.raises(ConfigError) as info:
        load_toml(path, "ACCORD_NODE", {"ACCORD_NODE_LOG_LEVEL": "debug"}, TABLES)
    assert info.value.message == ("environment: ACCORD_NODE_LOG_LEVEL: [log] is not a table of "
                                  "node.toml (its tables: console, node)")


def test_a_node_default_region_must_be_a_real_region() -> None:
    from node.config import _region

    assert _region(Path("node.toml"), "GB") == "GB"
    with pytest.raises(ConfigError) as info:
        _region(Path("node.toml"), "XX")
    assert info.value.message.startswith("node.toml: node.default_region: got 'XX', want")
