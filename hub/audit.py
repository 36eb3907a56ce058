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

import contextlib
import datetime as dt
import json
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    DateTime,
    Engine,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.exc import SQLAlchemyError

from accord import merkle
from accord.checkpoint import Checkpoint, SignedCheckpoint, Signer, sign_checkpoint
from accord.errors import AuditUnavailable, InvalidArgument

SCHEMA_VERSION = 1
#: The hub's Alembic migrations (audit log and release tables).
MIGRATIONS = Path(__file__).resolve().parent / "migrations"

log = structlog.get_logger("accord.audit")

metadata = MetaData()

audit_entries = Table(
    "audit_entries",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False, index=True),
    Column("event", String(40), nullable=False, index=True),
    Column("agency", String(64), nullable=False, index=True),
    Column("actor", String(256), nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("entry", LargeBinary, nullable=False),
    Column("leaf_hash", LargeBinary(32), nullable=False),
)

OUTCOMES = frozenset({"ok", "denied", "error"})


leaf_hash = merkle.leaf_hash


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


merkle_nodes = Table(
    "merkle_nodes",
    metadata,
    Column("level", Integer, primary_key=True, autoincrement=False),
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("hash", LargeBinary(32), nullable=False),
)

checkpoints = Table(
    "checkpoints",
    metadata,
    Column("size", BigInteger, primary_key=True, autoincrement=False),
    Column("root", LargeBinary(32), nullable=False),
    Column("note", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

#: Advisory lock key serialising appends across hub processes on PostgreSQL.
_PG_LOCK = 7244101


@dataclass(frozen=True, slots=True)
class Appended:
    """An entry as it was committed: its place, bytes, leaf hash and checkpoint."""

    seq: int
    entry: bytes
    leaf: bytes
    checkpoint: SignedCheckpoint


class _Nodes:
    """Merkle nodes read through one connection, with this transaction's new ones."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self.fresh: dict[tuple[int, int], bytes] = {}

    def node(self, level: int, index: int) -> bytes:
        cached = self.fresh.get((level, index))
        if cached is not None:
            return cached
        value = self._conn.execute(
            select(merkle_nodes.c.hash).where(merkle_nodes.c.level == level,
                                              merkle_nodes.c.idx == index)
        ).scalar_one_or_none()
        if value is None:
            raise AuditUnavailable(f"audit log damaged: merkle node ({level}, {index}) missing")
        return bytes(value)


class AuditTransaction:
    """Appends inside one database transaction, with whatever else the caller writes.

    Everything written through ``conn`` commits together with the entries, so
    (for example) a release's state change and the audit entry authorising it
    are durable together or not at all.
    """

    def __init__(self, log: AuditLog, conn: Connection) -> None:
        self._log = log
        self.conn = conn
        self._nodes = _Nodes(conn)
        self._size: int | None = None
        self.appended = 0

    def append(self, event: AuditEvent) -> Appended:
        if self._size is None:
            last = self.conn.execute(select(func.max(audit_entries.c.seq))).scalar()
            self._size = int(last or 0)
        seq = self._size + 1
        entry = event.to_entry(seq)
        leaf = merkle.leaf_hash(entry)
        self.conn.execute(insert(audit_entries).values(
            seq=seq, recorded_at=event.time, event=event.event, agency=event.agency,
            actor=event.actor, outcome=event.outcome, entry=entry, leaf_hash=leaf,
        ))
        added = merkle.new_nodes(seq - 1, leaf, self._nodes.node)
        for level, index, value in added:
            self._nodes.fresh[(level, index)] = value
        self.conn.execute(insert(merkle_nodes),
                          [{"level": lv, "idx": ix, "hash": h} for lv, ix, h in added])
        root = merkle.root(seq, self._nodes)
        signed = sign_checkpoint(Checkpoint(self._log.origin, seq, root), self._log.signer)
        self.conn.execute(insert(checkpoints).values(
            size=seq, root=root, note=signed.to_text(), created_at=event.time))
        self._size = seq
        self.appended += 1
        return Appended(seq, entry, leaf, signed)


def _parse_time(value: str) -> dt.datetime:
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidArgument(f"time: got {value[:40]!r}, want ISO 8601 like "
                              "2026-11-23T15:00:00Z") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


class AuditLog:
    """The append-only, verifiable audit log in the hub's database.

    Every append also stores the new Merkle nodes and a checkpoint signed by
    the hub, in the same transaction: each entry is covered by a signed tree
    head from the moment it commits, so altering any stored entry breaks the
    first checkpoint that covers it, which names it.
    """

    def __init__(self, engine: Engine, signer: Signer, origin: str) -> None:
        self.engine = engine
        self.signer = signer
        self.origin = origin
        self._lock = threading.Lock()
        #: Called with the number of entries each committed transaction added.
        self.listeners: list[Callable[[int], None]] = []

    def create_schema(self, *, auto_migrate: bool = True) -> None:
        """Bring the hub's database schema (log and releases) to the current revision."""
        from accord.migrations import ensure

        ensure(MIGRATIONS, self.engine, auto=auto_migrate)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[AuditTransaction]:
        """One transaction holding the log's append lock until it commits.

        Raises AuditUnavailable if it cannot be committed; the caller must
        then refuse whatever it was about to do (fail closed).
        """
        try:
            # SQLite serves one hub process; the lock keeps its appends serial.
            with self._lock:
                with self.engine.begin() as conn:
                    if self.engine.dialect.name == "postgresql":
                        # One writer at a time across every hub process: the log
                        # stays linear (no gaps, no duplicate sequence numbers).
                        conn.execute(text(f"SELECT pg_advisory_xact_lock({_PG_LOCK})"))
                    tx = AuditTransaction(self, conn)
                    yield tx
                for listener in self.listeners:
                    listener(tx.appended)
        except SQLAlchemyError as exc:
            # An alert for operators: the hub is refusing work until the store is back.
            log.critical("alert_audit_unavailable", error=type(exc).__name__)
            raise AuditUnavailable("audit log unavailable; action refused") from exc

    def append(self, event: AuditEvent) -> int:
        """Append ``event`` durably and return its sequence number."""
        with self.transaction() as tx:
            return tx.append(event).seq

    def size(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(audit_entries)).scalar_one())

    def entries(self, start: int = 1, end: int | None = None) -> Iterator[StoredEntry]:
        """Entries from ``start`` (to ``end``, inclusive), in order."""
        query = select(audit_entries.c.seq, audit_entries.c.entry, audit_entries.c.leaf_hash) \
            .where(audit_entries.c.seq >= start).order_by(audit_entries.c.seq)
        if end is not None:
            query = query.where(audit_entries.c.seq <= end)
        with self.engine.connect() as conn:
            for row in conn.execute(query):
                yield StoredEntry(row.seq, bytes(row.entry), bytes(row.leaf_hash))

    def entry(self, seq: int) -> StoredEntry | None:
        return next(self.entries(seq, seq), None)

    def search(self, filters: Mapping[str, str], start: int, limit: int,
               scan: int = 50_000) -> tuple[list[StoredEntry], int]:
        """Entries from ``start`` matching every given filter, at most ``limit``.

        Filters: actor, agency, event, outcome (indexed columns), case, purpose
        (inside the entry), since, until (ISO times). Returns the matches and
        the seq to continue from (0 when the log is exhausted). At most
        ``scan`` entries are read per call, so one call stays bounded.
        """
        query = select(audit_entries.c.seq, audit_entries.c.entry, audit_entries.c.leaf_hash) \
            .where(audit_entries.c.seq >= start).order_by(audit_entries.c.seq).limit(scan)
        for key in ("actor", "agency", "event", "outcome"):
            if filters.get(key):
                query = query.where(audit_entries.c[key] == filters[key])
        if filters.get("since"):
            query = query.where(audit_entries.c.recorded_at >= _parse_time(filters["since"]))
        if filters.get("until"):
            query = query.where(audit_entries.c.recorded_at <= _parse_time(filters["until"]))
        found: list[StoredEntry] = []
        last = start - 1
        scanned = 0
        with self.engine.connect() as conn:
            for row in conn.execute(query):
                scanned += 1
                last = row.seq
                entry = StoredEntry(row.seq, bytes(row.entry), bytes(row.leaf_hash))
                doc = entry.doc
                if filters.get("case") and doc.get("case") != filters["case"]:
                    continue
                if filters.get("purpose") and doc.get("purpose") != filters["purpose"]:
                    continue
                found.append(entry)
                if len(found) >= limit:
                    break
        more = len(found) >= limit or scanned >= scan
        return found, (last + 1 if more else 0)

    def checkpoint_range(self, start: int, limit: int) -> tuple[list[str], int]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(checkpoints.c.size, checkpoints.c.note)
                                .where(checkpoints.c.size >= start)
                                .order_by(checkpoints.c.size).limit(limit + 1)).all()
        notes = [r.note for r in rows[:limit]]
        return notes, (rows[limit].size if len(rows) > limit else 0)

    def latest_checkpoint(self) -> SignedCheckpoint | None:
        with self.engine.connect() as conn:
            note = conn.execute(
                select(checkpoints.c.note).order_by(checkpoints.c.size.desc()).limit(1)
            ).scalar_one_or_none()
        return None if note is None else SignedCheckpoint.from_text(note)

    def checkpoints(self) -> Iterator[SignedCheckpoint]:
        with self.engine.connect() as conn:
            for (note,) in conn.execute(select(checkpoints.c.note).order_by(checkpoints.c.size)):
                yield SignedCheckpoint.from_text(note)

    def inclusion_proof(self, seq: int, size: int) -> list[bytes]:
        if not 1 <= seq <= size:
            raise InvalidArgument(f"seq: got {seq}, want 1 to {size}")
        with self.engine.connect() as conn:
            return merkle.inclusion_proof(seq - 1, size, _Nodes(conn))

    def consistency_proof(self, old_size: int, new_size: int) -> list[bytes]:
        if not 0 <= old_size <= new_size:
            raise InvalidArgument(f"sizes: got {old_size} to {new_size}, want old <= new")
        with self.engine.connect() as conn:
            return merkle.consistency_proof(old_size, new_size, _Nodes(conn))
