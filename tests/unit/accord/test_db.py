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


def test_an_operational_error_says_whether_the_database_is_away(tmp_path: Path) -> None:
    """Only a connection that cannot be made is "unavailable"; other driver errors
    are said as what they are (a missing table is not "check database_url")."""
    import sqlalchemy as sa
    from sqlalchemy.exc import OperationalError

    from accord.db import operational_message

    def error_of(url: str, sql: str) -> OperationalError:
        engine = sa.create_engine(url)
        try:
            with engine.connect() as conn:
                conn.execute(sa.text(sql))
        except OperationalError as exc:
            return exc
        finally:
            engine.dispose()
        raise AssertionError("no error")

    missing_dir = error_of(f"sqlite:///{tmp_path / 'no' / 'such' / 'dir.db'}", "SELECT 1")
    assert operational_message(missing_dir) == (
        "the database is unavailable: unable to open database file "
        "(check database_url and that the database is running)")
    no_table = error_of(f"sqlite:///{tmp_path / 'a.db'}", "SELECT * FROM nowhere")
    assert operational_message(no_table) == "database error: no such table: nowhere"
