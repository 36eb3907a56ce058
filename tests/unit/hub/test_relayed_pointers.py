"""Relayed pointers are bound once, to the first investigator who received them
(SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import Engine, select

from hub.releases import ReleaseService, relayed_pointers
from tests.conftest import NOW


def row(handle: str, requester: str, at: dt.datetime = NOW) -> dict[str, Any]:
    return {"handle": handle, "owner": "rivertown_pd", "record_type": "cad_call",
            "requesting_agency": "lakeside_so", "requester": requester,
            "agreement": "local-pilot", "search_id": f"s-{requester}", "created_at": at}


def bound(engine: Engine) -> dict[str, tuple[str, str, dt.datetime]]:
    with engine.connect() as conn:
        rows = conn.execute(select(relayed_pointers)).all()
    return {r.handle: (r.requester, r.search_id, r.created_at.replace(tzinfo=dt.UTC)
                       if r.created_at.tzinfo is None else r.created_at) for r in rows}


def test_the_first_investigator_keeps_a_handle(engine: Engine) -> None:
    later = NOW + dt.timedelta(minutes=5)
    with engine.begin() as conn:
        # Repeated within one search: the first row wins.
        ReleaseService.remember_pointers(conn, [row("ptr_a", "det.a"), row("ptr_b", "det.a"),
                                                row("ptr_a", "det.x")])
    with engine.begin() as conn:
        # Replayed to someone else in a later search: still the first binding.
        ReleaseService.remember_pointers(conn, [row("ptr_b", "det.b", later),
                                                row("ptr_c", "det.b", later)])
        ReleaseService.remember_pointers(conn, [])
    assert bound(engine) == {"ptr_a": ("det.a", "s-det.a", NOW),
                             "ptr_b": ("det.a", "s-det.a", NOW),
                             "ptr_c": ("det.b", "s-det.b", later)}


def test_a_rolled_back_search_binds_nothing(engine: Engine) -> None:
    def search_whose_append_fails() -> None:
        with engine.begin() as conn:
            ReleaseService.remember_pointers(conn, [row("ptr_a", "det.a")])
            raise RuntimeError("the audit append failed")

    with pytest.raises(RuntimeError, match="append failed"):
        search_whose_append_fails()
    assert bound(engine) == {}
