"""Pointers are written without their own fsync; the store's connections stay durable."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text

from node.store import NodeStore
from tests.conftest import NOW


def test_issuing_pointers_leaves_every_connection_fully_durable(tmp_path: Path) -> None:
    store = NodeStore.open(f"sqlite:///{tmp_path / 'node.db'}")
    try:
        with store.engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO records (id, source, source_id, record_type, occurred_on, labels, "
                "body, content_hash, updated_at) VALUES (1, 's', '1', 'cad_call', '2026-01-01', "
                "'[]', '{}', x'00', '2026-01-01')"))
        handles = store.issue_pointers([1], "lakeside_so", "search1", NOW)
        assert store.pointer(handles[0]).record_id == 1
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
    finally:
        store.close()


def test_a_failed_pointer_write_leaves_nothing_and_the_connection_durable(tmp_path: Path) -> None:
    store = NodeStore.open(f"sqlite:///{tmp_path / 'node.db'}")
    try:
        # Record 7 does not exist: the foreign key refuses the pointer.
        with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
            store.issue_pointers([7], "lakeside_so", "search1", NOW)
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM pointers").scalar() == 0
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
            assert not conn.connection.driver_connection.in_transaction  # type: ignore[union-attr]
    finally:
        store.close()
