"""Alembic environment for a node's store: the engine is passed in by accord.migrations."""

from __future__ import annotations

from alembic import context

from node.store import metadata

target_metadata = metadata

engine = context.config.attributes["engine"]
with engine.begin() as connection:
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=True)
    context.run_migrations()
