"""Database engines for the hub and node stores: SQLite (embedded default) or
PostgreSQL (production), chosen by URL.

SQLite runs in WAL mode with ``synchronous=FULL`` and foreign keys on, so a
committed transaction survives a crash of the process or the machine. Its WAL
is checkpointed into the database every :data:`WAL_CHECKPOINT_PAGES` pages.
PostgreSQL keeps its default ``synchronous_commit=on``, which we assert.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Column, Engine, Table, create_engine, event, text
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import OperationalError

from accord.errors import ConfigError

#: SQLite's automatic WAL checkpoint threshold, in pages (SQLite's default is
#: 1,000). An audit append writes about ten pages, so at the default every 90th
#: append also copied the WAL into the database and synced it: that append took
#: three times as long, and was the audit log's p99. At 4,000 pages (a WAL of
#: up to 16 MB) it is every 400th, and each page rewritten in between (the
#: indexes' right edges, the Merkle table's) is copied once, not four times:
#: measured here, append p50 0.53 -> 0.47 ms, p99 1.55 -> 0.75 ms, p99.9 unchanged.
WAL_CHECKPOINT_PAGES = 4000


def bind_converter(column: Column[Any], dialect: Dialect) -> Callable[[Any], Any]:
    """What SQLAlchemy does to a value of ``column`` before the driver gets it.

    For writing through the driver directly: values converted this way read
    back through SQLAlchemy exactly as if it had written them (dates and
    times on SQLite are text in its own format). The identity when the type
    has no conversion on ``dialect``.
    """
    convert = column.type.bind_processor(dialect)
    return convert if convert is not None else _same


def result_converter(column: Column[Any], dialect: Dialect) -> Callable[[Any], Any]:
    """What SQLAlchemy does to a value of ``column`` the driver returned.

    For reading through the driver directly (the counterpart of
    :func:`bind_converter`): dates on SQLite come back as ``date``, JSON as
    Python values, as they would through SQLAlchemy.
    """
    convert = column.type.dialect_impl(dialect).result_processor(dialect, None)
    return convert if convert is not None else _same


def _same(value: Any) -> Any:
    return value


def placeholder(dialect: Dialect) -> str:
    """The driver's parameter marker: ``?`` for sqlite3, ``%s`` for psycopg."""
    return "?" if dialect.paramstyle == "qmark" else "%s"


def insert_sql(table: Table, dialect: Dialect, columns: Sequence[str] | None = None) -> str:
    """Driver SQL inserting one row of ``columns`` (all of the table's by default)."""
    names = list(columns) if columns is not None else [c.name for c in table.columns]
    mark = placeholder(dialect)
    return (f"INSERT INTO {table.name} ({', '.join(names)}) "  # noqa: S608 - names are ours
            f"VALUES ({', '.join([mark] * len(names))})")


def sqlite_url(path: Path) -> str:
    """The SQLAlchemy URL of a SQLite database file."""
    return f"sqlite:///{path}"


def normalise_url(url: str) -> str:
    """Prefer the psycopg 3 driver for bare ``postgresql://`` URLs."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_engine(url: str, *, pool_size: int = 5) -> Engine:
    """Create an engine with our durability settings for either backend."""
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")
            cur.execute(f"PRAGMA wal_autocheckpoint={WAL_CHECKPOINT_PAGES}")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=10000")
            cur.close()

        return engine
    if url.startswith("postgresql"):
        engine = create_engine(url, pool_size=pool_size, pool_pre_ping=True)
        with engine.connect() as conn:
            if conn.execute(text("SHOW synchronous_commit")).scalar() == "off":
                raise ConfigError(f"{engine.url.render_as_string()}: synchronous_commit is off; "
                                  "Accord needs durable commits")
        return engine
    raise ConfigError(f"database_url: got {url!r}, want sqlite:///PATH or postgresql://...")


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def operational_message(exc: OperationalError) -> str:
    """One line for a driver's OperationalError, saying whether the database is away.

    The driver's own first line says what happened; SQLAlchemy's text would add
    the statement, its values and a link. Only a connection that could not be
    made (or was lost) is "unavailable": a locked SQLite file, a missing table
    or a full disk is said as what it is.
    """
    orig = exc.orig
    lines = str(orig).strip().splitlines()
    said = lines[0] if lines else type(orig).__name__
    sqlstate = getattr(orig, "sqlstate", None)  # psycopg
    sqlite_error = getattr(orig, "sqlite_errorname", None)  # sqlite3
    if (exc.connection_invalidated or sqlite_error == "SQLITE_CANTOPEN"
            or (sqlite_error is None and (sqlstate is None or sqlstate.startswith("08")
                                          or sqlstate in _SERVER_GOING_AWAY))):
        return (f"the database is unavailable: {said} "
                "(check database_url and that the database is running)")
    if sqlite_error == "SQLITE_BUSY":
        return f"the database is busy: {said} (another process holds it; try again)"
    return f"database error: {said}"


#: PostgreSQL's "the server is shutting down / cannot take connections yet".
_SERVER_GOING_AWAY = frozenset({"57P01", "57P02", "57P03"})
