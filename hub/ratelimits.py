"""Search rate limits shared by every hub process on one PostgreSQL database.

Several hub replicas behind one address each keep their own in-memory buckets
(:class:`accord.limits.RateLimiter`) unless told otherwise, so an investigator
spread over N replicas could search N times the configured rate. With
``[limits] shared_rate_limits = true`` the buckets live in the hub's database
instead, and every replica takes tokens from the same bucket.

One statement takes a token: an ``INSERT ... ON CONFLICT DO UPDATE`` that
refills the bucket for the time since its last use, takes a token if there is
one, and records (``taken``) and returns whether it did. PostgreSQL runs it
under the row's lock, so concurrent replicas cannot both take the last token. The transaction commits
with ``synchronous_commit = off``: a bucket forgotten in a crash only refills
early, and the search path does not wait for a flush it does not need.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Boolean, Column, Float, MetaData, String, Table, text
from sqlalchemy.engine import Engine

from accord.errors import ConfigError
from accord.limits import Rate

metadata = MetaData()

rate_buckets = Table(
    "rate_buckets",
    metadata,
    Column("scope", String(16), primary_key=True),   # "investigator" or "agency"
    Column("key", String(330), primary_key=True),    # agency/subject, or agency
    Column("tokens", Float, nullable=False),
    Column("updated_at", Float, nullable=False),     # seconds since the epoch
    Column("taken", Boolean, nullable=False),        # whether the last take got a token
)

#: Buckets idle this long are deleted (every FORGET_EVERY takes).
IDLE_SECONDS = 3600.0
FORGET_EVERY = 1000

# Tokens the bucket holds now: what it had, refilled for the time since (never
# negative, should clocks of two replicas differ), capped at the burst.
_REFILLED = ("LEAST(:burst, rate_buckets.tokens"
             " + GREATEST(0, :now - rate_buckets.updated_at) * :per_second)")
_TAKE = text("""
INSERT INTO rate_buckets (scope, key, tokens, updated_at, taken)
VALUES (:scope, :key, :burst - 1, :now, true)
ON CONFLICT (scope, key) DO UPDATE SET
    tokens = CASE WHEN REFILLED >= 1 THEN REFILLED - 1 ELSE REFILLED END,
    taken = REFILLED >= 1,
    updated_at = GREATEST(rate_buckets.updated_at, :now)
RETURNING taken
""".replace("REFILLED", _REFILLED))


class SharedRateLimiter:
    """Token buckets of one scope in the hub's PostgreSQL database."""

    def __init__(self, engine: Engine, rate: Rate, scope: str) -> None:
        if engine.dialect.name != "postgresql":
            # Fail closed on a misconfiguration rather than limit per process silently.
            raise ConfigError("limits.shared_rate_limits: needs the hub's database on "
                              f"PostgreSQL, not {engine.dialect.name}")
        self._engine = engine
        self._rate = rate
        self._scope = scope
        self._takes = 0

    def allow(self, key: str, now: float) -> bool:
        """Take one token for ``key`` at time ``now`` (seconds); False when empty."""
        params: dict[str, Any] = {"scope": self._scope, "key": key, "now": now,
                                  "burst": float(self._rate.burst),
                                  "per_second": self._rate.per_minute / 60.0}
        with self._engine.begin() as conn:
            conn.execute(text("SET LOCAL synchronous_commit = off"))
            taken = bool(conn.execute(_TAKE, params).scalar_one())
            self._takes += 1
            if self._takes % FORGET_EVERY == 0:
                conn.execute(text("DELETE FROM rate_buckets WHERE updated_at < :cutoff"),
                             {"cutoff": now - IDLE_SECONDS})
        return taken
