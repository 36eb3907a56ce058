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

Durability and group commit. In WAL mode SQLite appends a commit to the
``-wal`` file; with ``synchronous=FULL`` it fsyncs that file before the commit
returns, so a committed entry survives a crash of the process *and* of the
machine. (``synchronous=NORMAL`` would skip that fsync and sync only at WAL
checkpoints: a power loss could then drop the last commits, so the log never
uses it.) That fsync is the floor of an append. Concurrent searches therefore
go through :meth:`AuditLog.commit`: one committer thread takes every append
waiting at that moment, writes them in one transaction with one signed
checkpoint, commits (one fsync) and only then releases each caller with its
own result. A caller is never told "done" before its entry is durable, and
if the commit fails every caller in the batch gets :class:`AuditUnavailable`.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import datetime as dt
import json
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

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
    Select,
    String,
    Table,
    Text,
    bindparam,
    func,
    select,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import SQLAlchemyError

from accord import merkle
from accord.checkpoint import Checkpoint, SignedCheckpoint, Signer, sign_checkpoint
from accord.db import bind_converter, insert_sql
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


class _AppendSql:
    """The append path's statements as driver SQL for one dialect.

    An unbatched append is a few small inserts and one durable commit; with
    a fast disk, SQLAlchemy's per-statement work (cache lookup, parameter
    processing, result set-up) was a quarter of it. The statements go to the
    transaction's DBAPI cursor instead, with the values converted as
    SQLAlchemy would (times through the column type's own bind processor),
    so reads through SQLAlchemy see exactly what it would have written.
    """

    def __init__(self, dialect: Dialect) -> None:
        self.max_seq = "SELECT max(seq) FROM audit_entries"
        self.entry = insert_sql(audit_entries, dialect)
        self.nodes = insert_sql(merkle_nodes, dialect)
        self.checkpoint = insert_sql(checkpoints, dialect)
        self.time = bind_converter(audit_entries.c.recorded_at, dialect)
        #: What the driver raises: failures to write, like SQLAlchemy's own.
        self.errors: tuple[type[Exception], ...] = (SQLAlchemyError, dialect.loaded_dbapi.Error)

# Built once: per call only parameters change, so SQLAlchemy's compiled
# cache answers at once (no per-lookup statement construction).
_NODE = select(merkle_nodes.c.hash).where(merkle_nodes.c.level == bindparam("level"),
                                          merkle_nodes.c.idx == bindparam("idx"))

#: The most appends one group commit takes.
MAX_BATCH = 256
#: The most Merkle nodes an AuditLog keeps in memory (it keeps the recent ones).
NODE_CACHE_LIMIT = 4096

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class Appended:
    """An entry as it was written: its place, bytes and leaf hash.

    The transaction's signed checkpoint, written when it commits, covers it.
    """

    seq: int
    entry: bytes
    leaf: bytes


class _Nodes:
    """Merkle nodes read through one connection, with this transaction's new ones.

    ``committed`` holds nodes already known to be committed. A stored node is
    the hash of a complete subtree and never changes, so remembering one is
    always correct, whichever hub process wrote it; this transaction's own
    nodes join it only once the transaction has committed.
    """

    def __init__(self, conn: Connection,
                 committed: dict[tuple[int, int], bytes] | None = None) -> None:
        self._conn = conn
        self._committed = committed if committed is not None else {}
        self.fresh: dict[tuple[int, int], bytes] = {}

    def node(self, level: int, index: int) -> bytes:
        key = (level, index)
        cached = self.fresh.get(key) or self._committed.get(key)
        if cached is not None:
            return cached
        value = self._conn.execute(_NODE, {"level": level, "idx": index}).scalar_one_or_none()
        if value is None:
            raise AuditUnavailable(f"audit log damaged: merkle node ({level}, {index}) missing")
        self._committed[key] = bytes(value)
        return bytes(value)


class AuditTransaction:
    """Appends inside one database transaction, with whatever else the caller writes.

    Everything written through ``conn`` commits together with the entries, so
    (for example) a release's state change and the audit entry authorising it
    are durable together or not at all.
    """

    def __init__(self, log: AuditLog, conn: Connection,
                 committed: dict[tuple[int, int], bytes] | None = None) -> None:
        self._log = log
        self.conn = conn
        self._sql = log.sql
        self._cursor: Any = None
        self._nodes = _Nodes(conn, committed)
        self._size: int | None = None
        self._last_time: dt.datetime | None = None
        self.appended = 0

    @property
    def _driver(self) -> Any:
        """The DBAPI cursor of this transaction's connection (see :class:`_AppendSql`)."""
        if self._cursor is None:
            self._cursor = self.conn.connection.cursor()
        return self._cursor

    def append(self, event: AuditEvent) -> Appended:
        sql, cursor = self._sql, self._driver
        if self._size is None:
            cursor.execute(sql.max_seq)
            self._size = int(cursor.fetchone()[0] or 0)
        seq = self._size + 1
        entry = event.to_entry(seq)
        leaf = merkle.leaf_hash(entry)
        cursor.execute(sql.entry, (seq, sql.time(event.time), event.event, event.agency,
                                   event.actor, event.outcome, entry, leaf))
        added = merkle.new_nodes(seq - 1, leaf, self._nodes.node)
        for level, index, value in added:
            self._nodes.fresh[(level, index)] = value
        cursor.executemany(sql.nodes, added)
        self._size = seq
        self._last_time = event.time
        self.appended += 1
        return Appended(seq, entry, leaf)

    def seal(self) -> SignedCheckpoint | None:
        """Sign and store the checkpoint covering every entry of this transaction.

        Called once, just before the commit; None if nothing was appended.
        """
        if self._size is None or self._last_time is None:
            return None
        root = merkle.root(self._size, self._nodes)
        signed = sign_checkpoint(Checkpoint(self._log.origin, self._size, root), self._log.signer)
        sql = self._sql
        self._driver.execute(sql.checkpoint, (self._size, root, signed.to_text(),
                                              sql.time(self._last_time)))
        return signed

    @property
    def fresh_nodes(self) -> dict[tuple[int, int], bytes]:
        return self._nodes.fresh


class _JobFailed(Exception):
    """One job of a group commit raised: roll the batch back and retry without it."""


def _parse_time(value: str) -> dt.datetime:
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidArgument(f"time: got {value[:40]!r}, want ISO 8601 like "
                              "2026-11-23T15:00:00Z") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


class AuditLog:
    """The append-only, verifiable audit log in the hub's database.

    Every transaction that appends also stores the new Merkle nodes and one
    checkpoint signed by the hub covering its last entry: each entry is
    covered by a signed tree head from the moment it commits, so altering any
    stored entry breaks the first checkpoint that covers it, which names it.
    """

    def __init__(self, engine: Engine, signer: Signer, origin: str) -> None:
        self.engine = engine
        self.signer = signer
        self.origin = origin
        self.sql = _AppendSql(engine.dialect)
        self._lock = threading.Lock()
        #: Called with the number of entries each committed transaction added.
        self.listeners: list[Callable[[int], None]] = []
        #: Committed Merkle nodes (immutable once stored), read under ``_lock``.
        self._nodes: dict[tuple[int, int], bytes] = {}
        self._pending: list[tuple[Callable[[AuditTransaction], Any],
                                  concurrent.futures.Future[Any]]] = []
        self._wake = threading.Condition()
        self._committer: threading.Thread | None = None
        self._closed = False

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
                    tx = AuditTransaction(self, conn, self._nodes)
                    yield tx
                    tx.seal()
                # Committed: this transaction's nodes are now safe to remember.
                if len(self._nodes) > NODE_CACHE_LIMIT:
                    self._nodes.clear()
                self._nodes.update(tx.fresh_nodes)
                for listener in self.listeners:
                    listener(tx.appended)
        except self.sql.errors as exc:
            # An alert for operators: the hub is refusing work until the store is back.
            log.critical("alert_audit_unavailable", error=type(exc).__name__)
            raise AuditUnavailable("audit log unavailable; action refused") from exc

    def append(self, event: AuditEvent) -> int:
        """Append ``event`` durably and return its sequence number."""
        with self.transaction() as tx:
            return tx.append(event).seq

    # --- group commit -----------------------------------------------------

    async def commit(self, work: Callable[[AuditTransaction], _T]) -> _T:
        """Run ``work`` in the next group commit; return its result once durable.

        ``work`` appends through the transaction it is given (and may write
        other rows through ``tx.conn``, which commit with its entries). It runs
        on the committer thread, beside the work of every other caller waiting
        at that moment, and must not block. Raises whatever ``work`` raised,
        or :class:`AuditUnavailable` if the batch could not be committed.
        Cancelling the caller does not withdraw the work: what was asked to be
        audited is audited.
        """
        return await asyncio.shield(asyncio.wrap_future(self.submit(work)))

    async def append_async(self, event: AuditEvent) -> int:
        """:meth:`append` through the group commit."""
        return await self.commit(lambda tx: tx.append(event).seq)

    def submit(self, work: Callable[[AuditTransaction], _T]) -> concurrent.futures.Future[_T]:
        """Queue ``work`` for the committer thread; the future resolves after the commit."""
        future: concurrent.futures.Future[_T] = concurrent.futures.Future()
        with self._wake:
            if self._closed:
                raise AuditUnavailable("audit log closed; action refused")
            self._pending.append((work, future))
            if self._committer is None:
                self._committer = threading.Thread(target=self._run_committer,
                                                   name="audit-committer", daemon=True)
                self._committer.start()
            self._wake.notify()
        return future

    def close(self) -> None:
        """Commit what is queued, then stop the committer thread."""
        with self._wake:
            self._closed = True
            self._wake.notify()
            committer = self._committer
        if committer is not None:
            committer.join(timeout=30)

    def _run_committer(self) -> None:
        try:
            while True:
                with self._wake:
                    while not self._pending and not self._closed:
                        self._wake.wait()
                    if not self._pending:
                        return
                    batch = self._pending[:MAX_BATCH]
                    del self._pending[:MAX_BATCH]
                jobs = [(w, f) for w, f in batch if f.set_running_or_notify_cancel()]
                try:
                    self._commit_batch(jobs)
                except BaseException as exc:
                    # Whatever ends this thread, no caller of the batch waits forever.
                    log.critical("alert_audit_unavailable", error=type(exc).__name__)
                    for _, future in jobs:
                        if not future.done():
                            future.set_exception(
                                AuditUnavailable("audit log unavailable; action refused"))
                    return
        finally:
            with self._wake:
                # The next submit starts a new committer (this one may have died).
                self._committer = None
                if self._pending and not self._closed:
                    self._committer = threading.Thread(target=self._run_committer,
                                                       name="audit-committer", daemon=True)
                    self._committer.start()

    def _commit_batch(self, jobs: list[tuple[Callable[[AuditTransaction], Any],
                                             concurrent.futures.Future[Any]]]) -> None:
        """One transaction, one checkpoint, one commit for every job; then release them.

        A job that raises is failed alone and the batch is retried without
        it (its partial writes rolled back with the rest); a failed commit
        fails every job of the batch.
        """
        while jobs:
            results: list[Any] = []
            failed: tuple[int, BaseException] | None = None
            try:
                with self.transaction() as tx:
                    for i, (work, _) in enumerate(jobs):
                        try:
                            results.append(work(tx))
                        except BaseException as exc:  # a job's failure is its own, whatever it is
                            failed = (i, exc)
                            raise _JobFailed from exc
            except _JobFailed:
                assert failed is not None
                index, error = failed
                if not isinstance(error, Exception):
                    # SystemExit and the like would stop the caller's event loop.
                    wrapped = AuditUnavailable(f"audit work failed ({type(error).__name__}); "
                                               "action refused")
                    wrapped.__cause__ = error
                    error = wrapped
                elif isinstance(error, self.sql.errors):
                    log.critical("alert_audit_unavailable", error=type(error).__name__)
                    wrapped = AuditUnavailable("audit log unavailable; action refused")
                    wrapped.__cause__ = error
                    error = wrapped
                jobs.pop(index)[1].set_exception(error)
                continue
            except Exception as exc:
                # Not committed: every caller of the batch is refused.
                if not isinstance(exc, AuditUnavailable):
                    log.critical("alert_audit_unavailable", error=type(exc).__name__)
                    refused = AuditUnavailable("audit log unavailable; action refused")
                    refused.__cause__ = exc
                    exc = refused
                for _, future in jobs:
                    future.set_exception(exc)
                return
            for (_, future), result in zip(jobs, results, strict=True):
                future.set_result(result)
            return

    def size(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(audit_entries)).scalar_one())

    def entries(self, start: int = 1, end: int | None = None) -> Iterator[StoredEntry]:
        """Entries from ``start`` (to ``end``, inclusive), in order."""
        query = select(audit_entries.c.seq, audit_entries.c.entry, audit_entries.c.leaf_hash) \
            .where(audit_entries.c.seq >= start).order_by(audit_entries.c.seq)
        if end is not None:
            query = query.where(audit_entries.c.seq <= end)
        return self._stored(query)

    def of_events(self, events: Sequence[str]) -> Iterator[StoredEntry]:
        """Every entry of these events, in order (the column is indexed)."""
        return self._stored(select(audit_entries.c.seq, audit_entries.c.entry,
                                   audit_entries.c.leaf_hash)
                            .where(audit_entries.c.event.in_(list(events)))
                            .order_by(audit_entries.c.seq))

    def _stored(self, query: Select[Any]) -> Iterator[StoredEntry]:
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
