"""Configuration values: every bad one is refused, naming the file and the key."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from accord.config import read_limits
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
