"""Rate limits: token buckets per investigator and per agency.

Against fishing and dictionary probing through the front door: an investigator
(or a whole agency) who searches faster than the configured rate is refused
with RESOURCE_EXHAUSTED, and the refusal is audited. Time is passed in, so
tests drive the buckets without a clock.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Rate:
    """``per_minute`` requests on average, bursts of up to ``burst``."""

    per_minute: float
    burst: int

    def __post_init__(self) -> None:
        if self.per_minute <= 0 or self.burst < 1:
            raise ValueError("rate: per_minute must be > 0 and burst >= 1")


class Limiter(Protocol):
    """Takes a token for a key at a time, or says there is none."""

    def allow(self, key: str, now: float) -> bool: ...


class RateLimiter:
    """Token buckets keyed by any string (a subject, an agency)."""

    #: Buckets idle this long are forgotten, so memory stays bounded.
    IDLE_SECONDS = 3600.0

    def __init__(self, rate: Rate) -> None:
        self._rate = rate
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, last time)
        self._lock = threading.Lock()

    def allow(self, key: str, now: float) -> bool:
        """Take one token for ``key`` at time ``now`` (seconds); False when empty."""
        per_second = self._rate.per_minute / 60.0
        with self._lock:
            tokens, last = self._buckets.get(key, (float(self._rate.burst), now))
            tokens = min(float(self._rate.burst), tokens + max(0.0, now - last) * per_second)
            allowed = tokens >= 1.0
            self._buckets[key] = (tokens - 1.0 if allowed else tokens, now)
            if len(self._buckets) > 10_000:
                self._forget(now)
            return allowed

    def _forget(self, now: float) -> None:
        for key, (_, last) in list(self._buckets.items()):
            if now - last > self.IDLE_SECONDS:
                del self._buckets[key]
