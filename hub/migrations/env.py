"""Alembic environment for the hub's store: the engine is passed in by accord.migrations."""

from accord.migrations import run_env
from hub.schema import METADATA

run_env(list(METADATA))
