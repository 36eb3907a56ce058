"""Schema migrations (Alembic) for the hub's and the nodes' stores.

Each component keeps its migration scripts in its own package
(``hub/migrations``, ``node/migrations``), run programmatically, so
``accord db upgrade --config X.toml`` and server start-up use the same code on
SQLite and PostgreSQL. A server refuses to start on a database whose schema
is older than its code, unless ``auto_migrate`` lets it upgrade first.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, MetaData

from accord.errors import ConfigError

#: Advisory lock key serialising migrations across processes on PostgreSQL.
_MIGRATION_LOCK = 7244102


def alembic_config(script_location: Path, engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(script_location))
    config.attributes["engine"] = engine
    return config


def head(script_location: Path) -> str:
    return _head(script_location, _scripts(script_location))


def _scripts(script_location: Path) -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config(script_location, None))  # type: ignore[arg-type]


def _head(script_location: Path, scripts: ScriptDirectory) -> str:
    heads = scripts.get_heads()
    if len(heads) != 1:
        raise ConfigError(f"{script_location}: want exactly one migration head, found {heads}")
    return str(heads[0])


def current(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


class SchemaState(NamedTuple):
    """Where a database's schema stands against this version's migrations."""

    current: str | None
    head: str
    #: ``current`` is one of this version's revisions (or the database is empty).
    known: bool

    @property
    def name(self) -> str:
        """``up_to_date``, ``upgrade_needed`` or ``unknown_revision``."""
        if not self.known:
            return "unknown_revision"
        return "up_to_date" if self.current == self.head else "upgrade_needed"

    def unknown_message(self) -> str:
        return (f"database schema is at revision {self.current}, which this version of "
                f"Accord does not know (its newest is {self.head}): a newer version "
                "migrated it; run that version (a database is never downgraded)")


def state(script_location: Path, engine: Engine) -> SchemaState:
    have = current(engine)
    scripts = _scripts(script_location)
    known = have is None or have in {rev.revision for rev in scripts.walk_revisions()}
    return SchemaState(have, _head(script_location, scripts), known)


def upgrade(script_location: Path, engine: Engine) -> tuple[str | None, str]:
    """Upgrade the database to the newest schema; returns (from, to) revisions.

    Raises:
        ConfigError: the database is at a revision this version does not know.
    """
    found = state(script_location, engine)
    if not found.known:
        raise ConfigError(found.unknown_message())
    command.upgrade(alembic_config(script_location, engine), "head")
    return found.current, found.head


def ensure(script_location: Path, engine: Engine, *, auto: bool) -> None:
    """Make sure the schema is current: upgrade when allowed, else refuse clearly."""
    found = state(script_location, engine)
    if found.name == "up_to_date":
        return
    if found.name == "unknown_revision":
        raise ConfigError(found.unknown_message())
    if auto:
        upgrade(script_location, engine)
        return
    raise ConfigError(
        f"database schema is at revision {describe(found.current)}, this version needs "
        f"{found.head}: run `accord db upgrade --config ...` first"
    )


def describe(revision: str | None) -> str:
    """A schema revision as messages say it (every command the same way)."""
    return revision or "none (an empty database)"


def run_env(target_metadata: MetaData | Sequence[MetaData]) -> None:
    """The body of every component's Alembic ``env.py``: migrate on the engine given
    by :func:`alembic_config`, one migrating process at a time on PostgreSQL."""
    from alembic import context
    from sqlalchemy import text

    engine = context.config.attributes["engine"]
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            # Replicas starting together on a fresh database upgrade one at a
            # time; the others then find the schema current.
            connection.execute(text(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})"))
        context.configure(connection=connection, target_metadata=target_metadata,
                          render_as_batch=True)
        context.run_migrations()
