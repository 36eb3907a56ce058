"""Alembic environment for a node's store: the engine is passed in by accord.migrations."""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

from node.store import metadata

target_metadata = metadata

engine = context.config.attributes["engine"]
with engine.begin() as connection:
    if connection.dialect.name == "postgresql":
        # Replicas starting together on a fresh database upgrade one at a time;
        # the others then find the schema current.
        connection.execute(text("SELECT pg_advisory_xact_lock(7244102)"))
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=True)
    context.run_migrations()
