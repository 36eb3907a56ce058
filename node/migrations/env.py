"""Alembic environment for a node's store: the engine is passed in by accord.migrations."""

from accord.migrations import run_env
from node.store import metadata

run_env(metadata)
