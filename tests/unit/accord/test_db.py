"""The database engines' settings."""

from __future__ import annotations

from pathlib import Path

from accord.db import WAL_CHECKPOINT_PAGES, make_engine


def test_sqlite_engines_are_durable_with_a_larger_checkpoint_interval(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'any.db'}")
    try:
        with engine.connect() as conn:
            settings = {pragma: conn.exec_driver_sql(f"PRAGMA {pragma}").scalar()
                        for pragma in ("journal_mode", "synchronous", "wal_autocheckpoint",
                                       "foreign_keys")}
    finally:
        engine.dispose()
    assert settings == {"journal_mode": "wal", "synchronous": 2,  # FULL
                        "wal_autocheckpoint": WAL_CHECKPOINT_PAGES, "foreign_keys": 1}
    assert WAL_CHECKPOINT_PAGES == 4000
