"""The hub's audit log: an append-only, hash-addressed record of every step.

Each entry is a schema'd event serialised as canonical JSON (sorted keys, no
whitespace, UTF-8) including its own sequence number, and stored with its
RFC 6962 leaf hash ``SHA-256(0x00 || entry)``, ready for the Merkle tree and
signed checkpoints built over it.

Entry schema (``v`` = 1):

============  ===============================================================
field         meaning
============  ===============================================================
seq           position in the log, 1-based, no gaps
time          UTC, ISO 8601 with microseconds
event         ``search``, ``search_denied``, ``auth_failed``, ...
actor         the investigator's subject ("" when unauthenticated)
agency        the actor's agency (or the calling node's, when known)
roles         the actor's roles
source        the calling peer's address
purpose       declared purpose of the action
case          case number
outcome       ``ok``, ``denied`` or ``error``
reasons       machine-readable reason codes
details       event-specific: search id, token digest, per-node statuses,
              pointer counts, duration. Never a plaintext identifier.
============  ===============================================================

Appends are durable before they return (SQLite WAL with ``synchronous=FULL``;
PostgreSQL with synchronous commit). If the log cannot be written the caller
gets :class:`AuditUnavailable` and must refuse the action (fail closed).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.exc import SQLAlchemyError

from accord.errors import AuditUnavailable

SCHEMA_VERSION = 1

metadata = MetaData()

audit_entries = Table(
    "audit_entries",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False, index=True),
    Column("event", String(40), nullable=False, index=True),
    Column("agency", String(64), nullable=False, index=True),
    Column("actor", String(256), nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("entry", LargeBinary, nullable=False),
    Column("leaf_hash", LargeBinary(32), nullable=False),
)

OUTCOMES = frozenset({"ok", "denied", "error"})


def leaf_hash(entry: bytes) -> bytes:
    """RFC 6962 leaf hash."""
    return hashlib.sha256(b"\x00" + entry).digest()


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One thing that happened, before it gets its place in the log."""

    event: str
    time: dt.datetime
    outcome: str
    actor: str = ""
    agency: str = ""
    roles: tuple[str, ...] = ()
    source: str = ""
    purpose: str = ""
    case: str = ""
    reasons: tuple[str, ...] = ()
    details: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.outcome not in OUTCOMES:
            raise ValueError(f"outcome: got {self.outcome!r}, want one of {sorted(OUTCOMES)}")
        if self.time.tzinfo is None:
            raise ValueError("time: must be timezone-aware")

    def to_entry(self, seq: int) -> bytes:
        """The canonical bytes of this event at position ``seq``."""
        doc = {
            "v": SCHEMA_VERSION,
            "seq": seq,
            "time": self.time.astimezone(dt.UTC).isoformat(timespec="microseconds"),
            "event": self.event,
            "actor": self.actor,
            "agency": self.agency,
            "roles": sorted(self.roles),
            "source": self.source,
            "purpose": self.purpose,
            "case": self.case,
            "outcome": self.outcome,
            "reasons": list(self.reasons),
            "details": dict(self.details),
        }
        # ensure_ascii keeps control characters escaped: no value can split an entry.
        return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


@dataclass(frozen=True, slots=True)
class StoredEntry:
    seq: int
    entry: bytes
    leaf_hash: bytes

    @property
    def doc(self) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(self.entry)
        return result


class AuditLog:
    """The append-only audit log in the hub's database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._lock = threading.Lock()

    def create_schema(self) -> None:
        metadata.create_all(self.engine)

    def append(self, event: AuditEvent) -> int:
        """Append ``event`` durably and return its sequence number.

        Raises AuditUnavailable if it could not be committed; the caller must
        then refuse whatever it was about to do.
        """
        try:
            # SQLite serves one hub process; the lock keeps its appends serial.
            with self._lock, self.engine.begin() as conn:
                if self.engine.dialect.name == "postgresql":
                    # One writer at a time across every hub process: the log
                    # stays linear (no gaps, no duplicate sequence numbers).
                    conn.execute(text("SELECT pg_advisory_xact_lock(7244101)"))
                last = conn.execute(select(func.max(audit_entries.c.seq))).scalar()
                seq = int(last or 0) + 1
                entry = event.to_entry(seq)
                conn.execute(
                    insert(audit_entries).values(
                        seq=seq,
                        recorded_at=event.time,
                        event=event.event,
                        agency=event.agency,
                        actor=event.actor,
                        outcome=event.outcome,
                        entry=entry,
                        leaf_hash=leaf_hash(entry),
                    )
                )
        except SQLAlchemyError as exc:
            raise AuditUnavailable("audit log unavailable; action refused") from exc
        return seq

    def size(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(audit_entries)).scalar_one())

    def entries(self, start: int = 1) -> Iterator[StoredEntry]:
        """Entries from ``start`` on, in order."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(audit_entries.c.seq, audit_entries.c.entry, audit_entries.c.leaf_hash)
                .where(audit_entries.c.seq >= start)
                .order_by(audit_entries.c.seq)
            )
            for row in rows:
                yield StoredEntry(row.seq, bytes(row.entry), bytes(row.leaf_hash))
