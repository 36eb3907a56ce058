"""Pointers are written without their own fsync; the store's connections stay durable."""

from __future__ import annotations

from pathlib import Path

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
