"""Migrations build exactly the schema the code declares, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import MetaData

from accord import migrations
from accord.db import make_engine
from accord.errors import ConfigError
from hub.audit import MIGRATIONS as HUB_MIGRATIONS
from hub.schema import METADATA as HUB_METADATA


def test_hub_migrations_match_the_declared_schema(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        before, after = migrations.upgrade(HUB_MIGRATIONS, engine)
        assert (before, after) == (None, migrations.head(HUB_MIGRATIONS))
        declared = MetaData()
        for table in (t for m in HUB_METADATA for t in m.tables.values()):
            table.to_metadata(declared)
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), declared)
        assert [d for d in diff if d[0] != "remove_table" or d[1].name != "alembic_version"] == []
        assert migrations.current(engine) == migrations.head(HUB_MIGRATIONS)
        # Upgrading again is a no-op.
        assert migrations.upgrade(HUB_MIGRATIONS, engine)[0] == after
    finally:
        engine.dispose()


def test_a_server_refuses_an_old_schema_unless_allowed_to_migrate(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        with pytest.raises(ConfigError, match=r"run `accord db upgrade"):
            migrations.ensure(HUB_MIGRATIONS, engine, auto=False)
        migrations.ensure(HUB_MIGRATIONS, engine, auto=True)
        migrations.ensure(HUB_MIGRATIONS, engine, auto=False)  # now current: fine
    finally:
        engine.dispose()


def test_a_schema_from_a_newer_version_is_named_not_upgraded(database_url: str) -> None:
    """A revision this code does not know is a newer Accord's: say so, never "upgrade".

    ``ensure`` used to advise `accord db upgrade` for it, and the upgrade then
    failed inside Alembic with "Can't locate revision".
    """
    from sqlalchemy import text

    engine = make_engine(database_url)
    try:
        assert migrations.state(HUB_MIGRATIONS, engine).name == "upgrade_needed"
        migrations.upgrade(HUB_MIGRATIONS, engine)
        assert migrations.state(HUB_MIGRATIONS, engine) == (
            migrations.head(HUB_MIGRATIONS), migrations.head(HUB_MIGRATIONS), True)
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = 'f00dfeed9999'"))
        found = migrations.state(HUB_MIGRATIONS, engine)
        assert (found.name, found.current, found.known) == ("unknown_revision", "f00dfeed9999", False)
        for attempt in (lambda: migrations.ensure(HUB_MIGRATIONS, engine, auto=True),
                        lambda: migrations.ensure(HUB_MIGRATIONS, engine, auto=False),
                        lambda: migrations.upgrade(HUB_MIGRATIONS, engine)):
            with pytest.raises(ConfigError, match=r"revision f00dfeed9999, which this version "
                                                  r"of Accord does not know.*never downgraded"):
                attempt()
        assert migrations.current(engine) == "f00dfeed9999"  # left as it was
    finally:
        engine.dispose()


def test_node_migrations_match_the_declared_schema(database_url: str) -> None:
    from node.migrations import MIGRATIONS as NODE_MIGRATIONS
    from node.store import metadata as node_metadata

    engine = make_engine(database_url)
    try:
        migrations.upgrade(NODE_MIGRATIONS, engine)
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), node_metadata)
        assert [d for d in diff if d[0] != "remove_table" or d[1].name != "alembic_version"] == []
    finally:
        engine.dispose()
