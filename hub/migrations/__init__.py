"""Alembic migrations of the hub's store (audit log, checkpoints, releases)."""
