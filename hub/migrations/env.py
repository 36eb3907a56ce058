"""Alembic environment for the hub's store: the engine is passed in by accord.migrations."""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

from hub.audit import metadata as audit_metadata
from hub.releases import metadata as releases_metadata

target_metadata = [audit_metadata, releases_metadata]

engine = context.config.attributes["engine"]
with engine.begin() as connection:
    if connection.dialect.name == "postgresql":
        # Replicas starting together on a fresh database upgrade one at a time;
        # the others then find the schema current.
        connection.execute(text("SELECT pg_advisory_xact_lock(7244102)"))
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=True)
    context.run_migrations()
