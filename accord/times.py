"""RFC 3339 times on the wire, UTC everywhere else."""

from __future__ import annotations

import datetime as dt

from accord.errors import InvalidArgument


def parse_rfc3339(text: str, where: str) -> dt.datetime:
    """An RFC 3339 time with its offset (``Z`` allowed), as UTC.

    Raises InvalidArgument naming ``where`` for anything else, including a
    time without an offset (it would mean a different instant on each machine).
    """
    try:
        value: dt.datetime | None = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        value = None
    if value is None or value.tzinfo is None:
        raise InvalidArgument(f"{where}: got {text[:40]!r}, want an RFC 3339 time with an "
                              "offset, like '2026-11-23T18:00:00Z'")
    return value.astimezone(dt.UTC)


def as_utc(value: dt.datetime) -> dt.datetime:
    """A stored time as aware UTC (SQLite hands back naive datetimes; we store UTC)."""
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def rfc3339(value: dt.datetime) -> str:
    """``2026-11-23T18:00:00.123456Z``."""
    return as_utc(value).isoformat().replace("+00:00", "Z")
