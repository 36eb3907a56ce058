"""Audit entries: canonical, schema'd, unforgeable by their own values."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import sqlite3
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from accord.checkpoint import Ed25519Signer
from accord.db import make_engine
from accord.errors import AuditUnavailable
from hub.audit import AuditEvent, AuditLog, leaf_hash
from tests.conftest import NOW

SIGNER = Ed25519Signer(Ed25519PrivateKey.generate(), "accord-hub")


def test_entry_is_canonical_json_with_every_schema_field() -> None:
    entry = AuditEvent(event="search", time=NOW, outcome="ok", actor="det.a",
                       agency="lakeside_so", roles=("investigator",), source="ipv4:127.0.0.1:1",
                       purpose="missing_person", case="C-1", reasons=(),
                       details={"b": 1, "a": 2}).to_entry(7)
    doc = json.loads(entry)
    assert sorted(doc) == sorted(["v", "seq", "time", "event", "actor", "agency", "roles",
                                  "source", "purpose", "case", "outcome", "reasons", "details"])
    assert entry == json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()
    assert doc["seq"] == 7 and doc["time"] == "2026-11-23T15:00:00.000000+00:00"


def test_control_characters_cannot_split_an_entry() -> None:
    entry = AuditEvent(event="search", time=NOW, outcome="ok",
                       case='C-1"\n{"seq":1,"event":"forged"}\r\x00').to_entry(1)
    assert b"\n" not in entry and b"\r" not in entry and b"\x00" not in entry
    assert json.loads(entry)["case"] == 'C-1"\n{"seq":1,"event":"forged"}\r\x00'


def test_leaf_hash_is_rfc6962() -> None:
    # RFC 6962 leaf hash of the empty entry: SHA-256(0x00)
    assert leaf_hash(b"").hex() == (
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    )


def test_bad_events_are_refused() -> None:
    with pytest.raises(ValueError, match="outcome"):
        AuditEvent(event="search", time=NOW, outcome="maybe")
    with pytest.raises(ValueError, match="timezone"):
        AuditEvent(event="search", time=dt.datetime(2026, 1, 1), outcome="ok")


def test_unwritable_log_fails_closed(tmp_path: object) -> None:
    engine = make_engine("sqlite:///:memory:")
    log = AuditLog(engine, SIGNER, "test-log")  # schema never created: every append fails
    with pytest.raises(AuditUnavailable, match="action refused"):
        log.append(AuditEvent(event="search", time=NOW, outcome="ok"))


def test_a_driver_error_midway_through_an_append_fails_closed_and_writes_nothing(
        tmp_path: Path) -> None:
    """The append path writes through the DBAPI cursor: its errors must fail closed too."""
    log = AuditLog(make_engine(f"sqlite:///{tmp_path / 'audit.db'}"), SIGNER, "test-log")
    log.create_schema()
    log.append(AuditEvent(event="search", time=NOW, outcome="ok"))
    with log.engine.begin() as conn:  # the entry's insert works, the nodes' insert fails
        conn.exec_driver_sql("ALTER TABLE merkle_nodes RENAME TO merkle_nodes_gone")
    with pytest.raises(AuditUnavailable, match="action refused") as caught:
        log.append(AuditEvent(event="search", time=NOW, outcome="ok"))
    assert isinstance(caught.value.__cause__, sqlite3.OperationalError)
    with pytest.raises(AuditUnavailable, match="action refused"):
        asyncio.run(log.append_async(AuditEvent(event="search", time=NOW, outcome="ok")))
    log.close()
    assert log.size() == 1  # the failed appends' entries were rolled back
