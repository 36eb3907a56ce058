"""Alembic environment for the hub's store: the engine is passed in by accord.migrations."""

from accord.migrations import run_env
from hub.audit import metadata as audit_metadata
from hub.releases import metadata as releases_metadata

run_env([audit_metadata, releases_metadata])
