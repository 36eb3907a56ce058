"""Watches and notifications: audit positions past 32 bits, and repeated handles.

On SQLite and on PostgreSQL (where INTEGER is 32 bits: the audit log numbers
its entries with a BIGINT, and every table that keeps one of those numbers
must take it).
"""

from __future__ import annotations

from types import SimpleNamespace

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, insert, select

from accord.checkpoint import Ed25519Signer
from accord.v1 import common_pb2, hub_pb2
from hub.audit import AuditLog
from hub.notices import add_notification, notifications
from hub.releases import ReleaseService
from hub.search import NodeOutcome, Pointer
from hub.watches import WatchService, watch_seen, watches
from tests.conftest import NOW

#: One past what a 32-bit INTEGER holds.
SEQ = 2**31
WATCH_ID = "w_" + "1" * 24


def test_a_notification_keeps_an_audit_position_past_32_bits(engine: Engine) -> None:
    with engine.begin() as conn:
        add_notification(conn, agency="lakeside_so", recipient="det.a",
                         kind=hub_pb2.NOTIFICATION_KIND_DECONFLICTION, now=NOW,
                         case_number="C-1", body={}, audit_seq=SEQ)
    with engine.connect() as conn:
        assert conn.execute(select(notifications.c.audit_seq)).scalar_one() == SEQ


def test_a_watch_keeps_an_audit_position_past_32_bits(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(insert(watches).values(
            watch_id=WATCH_ID, agency="lakeside_so", actor="det.a", roles=[],
            case_number="C-1", purpose="p", agreement="a", label="", tokens=b"", filters=b"",
            created_at=NOW, expires_at=NOW, last_checked_at=NOW, state="active",
            audit_seq=SEQ))
    with engine.connect() as conn:
        assert conn.execute(select(watches.c.audit_seq)).scalar_one() == SEQ


def test_a_handle_a_node_repeats_in_a_watch_check_is_reported_once(engine: Engine) -> None:
    # It failed the check on watch_seen's key, reported as the audit log being
    # unavailable, and so again at every later check: the watch never told anyone.
    log = AuditLog(engine, Ed25519Signer(Ed25519PrivateKey.generate(), "accord-hub"), "o")
    service = WatchService(audit=log, searcher=None,  # type: ignore[arg-type]
                           remember=ReleaseService.remember_pointers)
    row = SimpleNamespace(watch_id=WATCH_ID, agency="lakeside_so", actor="det.a",
                          roles=["investigator"], purpose="p", case_number="C-1",
                          agreement="a")
    pointer = Pointer("ptr_" + "A" * 24, "rivertown_pd", "cad_call", (), "",
                      common_pb2.MATCH_STRENGTH_STRONG)
    outcome = NodeOutcome("rivertown_pd", hub_pb2.NODE_STATUS_CODE_OK, (pointer, pointer), 1)
    assert service._notify(row, [pointer, pointer], [outcome], NOW) == 1
    assert service._notify(row, [pointer], [outcome], NOW) == 0  # seen: not news again
    with engine.connect() as conn:
        assert conn.execute(select(watch_seen.c.handle)).scalars().all() == [pointer.handle]
        assert [n.handle for n in conn.execute(select(notifications))] == [pointer.handle]
    assert [e.doc["event"] for e in log.entries()] == ["watch_match"]
