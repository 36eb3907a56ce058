"""Fixtures of the hub's unit tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from accord import migrations
from accord.db import make_engine
from hub.audit import MIGRATIONS


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """The hub's database, migrated, on SQLite and on PostgreSQL."""
    engine = make_engine(database_url)
    migrations.upgrade(MIGRATIONS, engine)
    try:
        yield engine
    finally:
        engine.dispose()
