"""Alembic migrations of a node's store (records, token index, pointers, releases)."""

from pathlib import Path

MIGRATIONS = Path(__file__).resolve().parent
