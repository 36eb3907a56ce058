"""The node's store: its canonical records, the keyed-token index and the
pointers it has handed out.

The main tables:

* ``records``: the agency's own records in canonical form (this data never
  leaves the node except by a release). ``(source, source_id)`` is unique, so
  re-ingesting a source record updates it in place.
* ``record_tokens``: keyed token -> record. No plaintext identifier is kept in
  the index; the primary key starts with the token, so a lookup is an index
  range scan on both SQLite and PostgreSQL. It holds exact tokens and
  blocking keys (:mod:`node.encodings`).
* ``person_profiles``: per person of a record and per agreement, the keyed
  field tokens and Bloom filters the scorer compares (:mod:`node.scoring`);
  no plaintext either.
* ``pointers``: the opaque handles given to the hub, each bound to a record,
  the requesting agency and the search, with an expiry.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Connection,
    Date,
    DateTime,
    Engine,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    UniqueConstraint,
    bindparam,
    delete,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Dialect

from accord.db import bind_converter, insert_sql, make_engine, placeholder, result_converter
from node.records import MAX_SOURCE, MAX_SOURCE_ID, Record, RecordType
from node.tokens import NEXT_GENERATION, Kind, Token

metadata = MetaData()

records = Table(
    "records",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("source", String(MAX_SOURCE), nullable=False),
    Column("source_id", String(MAX_SOURCE_ID), nullable=False),
    Column("record_type", String(32), nullable=False),
    Column("occurred_on", Date, nullable=False),
    Column("labels", JSON, nullable=False),
    Column("body", JSON, nullable=False),
    Column("content_hash", LargeBinary(32), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("source", "source_id", name="uq_records_source"),
)

record_tokens = Table(
    "record_tokens",
    metadata,
    Column("token", LargeBinary(32), primary_key=True),
    Column("kind", SmallInteger, primary_key=True),
    Column(
        "record_id",
        Integer,
        ForeignKey("records.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Index("ix_record_tokens_record", "record_id"),
)

person_profiles = Table(
    "person_profiles",
    metadata,
    Column(
        "record_id",
        Integer,
        ForeignKey("records.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("person", SmallInteger, primary_key=True),
    # An agreement id (at most 64) plus, during a secret rotation, NEXT_GENERATION.
    Column("agreement", String(80), primary_key=True),
    Column("profile", LargeBinary, nullable=False),
)

pointers = Table(
    "pointers",
    metadata,
    Column("handle", String(64), primary_key=True),
    Column("record_id", Integer, ForeignKey("records.id", ondelete="CASCADE"), nullable=False),
    Column("requesting_agency", String(64), nullable=False),
    Column("search_id", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    # A sweep or a watch finds the records already pointed to in its search.
    Index("ix_pointers_search", "search_id", "record_id"),
)

#: Every record this node released: written, with the grant marked used, in
#: the same transaction, before the ciphertext leaves the node.
release_log = Table(
    "release_log",
    metadata,
    Column("grant_id", String(64), primary_key=True),
    Column("release_id", String(64), nullable=False),
    Column("pointer", String(64), nullable=False),
    Column("record_id", Integer, nullable=False),
    Column("requester_agency", String(64), nullable=False),
    Column("requester", String(256), nullable=False),
    Column("purpose", String(64), nullable=False),
    Column("case_number", String(64), nullable=False),
    Column("audit_seq", BigInteger, nullable=False),
    Column("checkpoint_size", BigInteger, nullable=False),
    Column("withheld", JSON, nullable=False),
    Column("released_at", DateTime(timezone=True), nullable=False),
    #: What was sent (sealed to the requester): the answer to the same grant
    #: again, when the first answer was lost on its way. Empty in rows logged
    #: before it was kept.
    Column("ciphertext", LargeBinary, nullable=True),
)

#: Requesting side: the investigators' own labels of their watches ("Jazzy's
#: phone"). Free text that may name the very identifiers the watch is for, so
#: it stays here: the hub registers the watch without it.
WATCH_LABEL_MAX = 120
watch_labels = Table(
    "watch_labels",
    metadata,
    Column("watch_id", String(40), primary_key=True),
    Column("label", String(WATCH_LABEL_MAX), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

#: The last hub checkpoint this node accepted (one row): every new one must be
#: consistent with it.
log_state = Table(
    "log_state",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("size", BigInteger, nullable=False),
    Column("root", LargeBinary(32), nullable=False),
)

#: Requesting side: the private keys releases are encrypted to, per request,
#: sealed under the node's request key file (node/keywrap.py; 61 bytes, or 32
#: for a row written before keys were sealed).
local_releases = Table(
    "local_releases",
    metadata,
    Column("request_key", String(80), primary_key=True),
    Column("release_id", String(64), nullable=True, unique=True),
    Column("requester", String(256), nullable=False),
    Column("private_key", LargeBinary(32), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

class _LookupSql:
    """The match path's statements as driver SQL for one dialect: the three
    lookups of :meth:`NodeStore.match` and the pointer insert.

    A token lookup is three small selects. Through SQLAlchemy each cost more
    in statement work (compiling the expanding ``IN`` list anew per call,
    processing parameters and setting up the result) than in the database:
    0.30 ms for the benchmark query, against 0.08 ms through the cursor.
    Values read are converted by the column types' own result processors,
    so a match is what SQLAlchemy would have returned.
    """

    def __init__(self, dialect: Dialect) -> None:
        self.mark = placeholder(dialect)
        self._qmark = self.mark == "?"
        self.occurred_on = result_converter(records.c.occurred_on, dialect)
        self.labels = result_converter(records.c.labels, dialect)
        self.updated_at = bind_converter(records.c.updated_at, dialect)
        self.pointer_time = bind_converter(pointers.c.created_at, dialect)
        self.insert_pointer = insert_sql(pointers, dialect)

    def any_of(self, column: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
        """A condition that ``column`` is one of ``values``, and its parameters."""
        if self._qmark:  # SQLite: one placeholder per value
            return f"{column} IN ({', '.join('?' * len(values))})", list(values)
        return f"{column} = ANY(%s)", [list(values)]  # PostgreSQL: one array

    def tokens(self, values: Sequence[bytes]) -> tuple[str, list[Any]]:
        where, params = self.any_of("token", values)
        return f"SELECT record_id, kind, token FROM record_tokens WHERE {where}", params  # noqa: S608 - ours

    def records(self, ids: Sequence[int], updated_after: dt.datetime | None
                ) -> tuple[str, list[Any]]:
        where, params = self.any_of("id", ids)
        if updated_after is not None:
            where += f" AND updated_at > {self.mark}"
            params.append(self.updated_at(updated_after))
        return (f"SELECT id, record_type, occurred_on, labels FROM records "  # noqa: S608 - ours
                f"WHERE {where}", params)

    def profiles(self, ids: Sequence[int], agreements: Sequence[str]) -> tuple[str, list[Any]]:
        by_id, params = self.any_of("record_id", ids)
        by_agreement, more = self.any_of("agreement", agreements)
        return (f"SELECT record_id, person, profile FROM person_profiles "  # noqa: S608 - ours
                f"WHERE {by_id} AND {by_agreement}", params + more)


_EXISTING = select(records.c.id, records.c.source_id, records.c.content_hash).where(
    records.c.source == bindparam("source"),
    records.c.source_id.in_(bindparam("ids", expanding=True)))

POINTER_PREFIX = "ptr_"
POINTER_TTL = dt.timedelta(days=30)


def new_handle() -> str:
    """An opaque, unguessable pointer handle (144 random bits)."""
    return POINTER_PREFIX + secrets.token_urlsafe(18)


@dataclass(frozen=True, slots=True)
class ProfileRow:
    """One person's encoded profile under one agreement (see node.encodings.Profile)."""

    person: int
    agreement: str
    profile: bytes


@dataclass(frozen=True, slots=True)
class Prepared:
    """A record ready to store: its canonical body, tokens, profiles and content hash.

    ``profiles`` may be empty (exact tokens only); such a record is matched
    on its exact tokens alone.
    """

    record: Record
    tokens: frozenset[Token]
    profiles: tuple[ProfileRow, ...] = ()

    @property
    def body(self) -> dict[str, Any]:
        return self.record.to_dict()

    @property
    def content_hash(self) -> bytes:
        return self.canonical()[1]

    def canonical(self) -> tuple[str, bytes]:
        """The canonical JSON of the body, and the hash of it with the tokens and profiles.

        The JSON is what the store writes (compact, keys sorted): made once
        per record, it is both hashed and stored.
        """
        canonical = json.dumps(self.body, sort_keys=True, separators=(",", ":"))
        h = hashlib.sha256(canonical.encode())
        # Sorting the kind-prefixed bytes is sorting by (kind, value), in C.
        h.update(b"".join(sorted(bytes((t.kind,)) + t.value for t in self.tokens)))
        for row in sorted(self.profiles, key=lambda r: (r.person, r.agreement)):
            h.update(b"%d|%s|%d|" % (row.person, row.agreement.encode(), len(row.profile)))
            h.update(row.profile)
        return canonical, h.digest()

    def row(self) -> IndexRow:
        """The record as the store writes it."""
        record = self.record
        canonical, content_hash = self.canonical()
        return IndexRow(
            record.source, record.source_id, record.record_type.value, record.occurred_on,
            json.dumps(sorted(record.all_labels)), canonical, content_hash,
            tuple((t.value, int(t.kind)) for t in self.tokens),
            tuple((p.person, p.agreement, p.profile) for p in self.profiles))


class IndexRow(NamedTuple):
    """A prepared record as the store writes it, in plain values (see :meth:`Prepared.row`).

    Ingest workers send these to the process that writes: plain values pickle
    several times faster than the records, tokens and profiles they come from.
    """

    source: str
    source_id: str
    record_type: str
    occurred_on: dt.date
    #: The sorted labels as a JSON array.
    labels: str
    #: The canonical JSON of the record (see :meth:`Prepared.canonical`).
    body: str
    content_hash: bytes
    #: (token value, kind) of each token.
    tokens: tuple[tuple[bytes, int], ...]
    #: (person, agreement, profile) of each profile.
    profiles: tuple[tuple[int, str, bytes], ...]


@dataclass(frozen=True, slots=True)
class UpsertCounts:
    loaded: int = 0
    updated: int = 0
    unchanged: int = 0

    def __add__(self, other: UpsertCounts) -> UpsertCounts:
        return UpsertCounts(
            self.loaded + other.loaded,
            self.updated + other.updated,
            self.unchanged + other.unchanged,
        )


@dataclass(frozen=True, slots=True)
class Match:
    """An indexed record that matched a query, with what matched."""

    record_id: int
    record_type: RecordType
    occurred_on: dt.date
    labels: frozenset[str]
    kinds: frozenset[Kind]
    #: (person index, encoded profile) under the query's agreement, when asked for.
    profiles: tuple[tuple[int, bytes], ...] = ()


class NodeStore:
    """Records, token index and pointers of one node, on SQLite or PostgreSQL."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # Concurrent searches' pointer writes queue here, not in SQLite's busy
        # handler (which sleeps 1 to 100 ms between retries).
        self._pointer_lock = threading.Lock()
        self._lookup = _LookupSql(engine.dialect)

    @classmethod
    def open(cls, url: str, *, auto_migrate: bool = True) -> NodeStore:
        store = cls(make_engine(url))
        store.create_schema(auto_migrate=auto_migrate)
        return store

    def create_schema(self, *, auto_migrate: bool = True) -> None:
        """Bring the node's schema to the current revision (Alembic migrations)."""
        from accord.migrations import ensure
        from node.migrations import MIGRATIONS

        ensure(MIGRATIONS, self.engine, auto=auto_migrate)

    def close(self) -> None:
        self.engine.dispose()

    def ping(self) -> None:
        """Raise if the database cannot be reached (health checks)."""
        with self.engine.connect() as conn:
            conn.execute(select(1))

    # --- ingest -----------------------------------------------------------

    def upsert(self, batch: Sequence[Prepared], now: dt.datetime) -> UpsertCounts:
        """Insert or update a batch of records and their tokens in one transaction.

        A record whose content and tokens are unchanged is left alone; a changed
        one has its tokens replaced, so it is never indexed twice.
        """
        return self.upsert_rows([p.row() for p in batch], now)

    def upsert_rows(self, batch: Sequence[IndexRow], now: dt.datetime) -> UpsertCounts:
        """:meth:`upsert` of records already made into rows (:meth:`Prepared.row`)."""
        if not batch:
            return UpsertCounts()
        # Later duplicates of the same source record within a batch win; each
        # is counted as it would be in a batch of its own (an update of the
        # one before it, or unchanged), so the report adds up to the rows.
        loaded = updated = unchanged = 0
        latest: dict[tuple[str, str], IndexRow] = {}
        for r in batch:
            before = latest.get((r.source, r.source_id))
            if before is not None:
                if before.content_hash == r.content_hash:
                    unchanged += 1
                else:
                    updated += 1
            latest[(r.source, r.source_id)] = r
        with self.engine.begin() as conn:
            existing = _existing(conn, list(latest))
            token_rows: list[tuple[Any, ...]] = []
            profile_rows: list[tuple[Any, ...]] = []
            new_rows: list[tuple[Any, ...]] = []
            new_indexed: list[IndexRow] = []

            def index(record_id: int, row: IndexRow) -> None:
                token_rows.extend((value, kind, record_id) for value, kind in row.tokens)
                profile_rows.extend((record_id, *p) for p in row.profiles)

            for key, row in latest.items():
                if key in existing:
                    record_id, old_hash = existing[key]
                    if old_hash == row.content_hash:
                        unchanged += 1
                        continue
                    conn.execute(update(records).where(records.c.id == record_id).values(
                        record_type=row.record_type, occurred_on=row.occurred_on,
                        labels=json.loads(row.labels), body=json.loads(row.body),
                        content_hash=row.content_hash, updated_at=now))
                    conn.execute(delete(record_tokens).where(record_tokens.c.record_id == record_id))
                    conn.execute(
                        delete(person_profiles).where(person_profiles.c.record_id == record_id)
                    )
                    updated += 1
                    index(record_id, row)
                else:
                    new_rows.append((*row[:7], now))
                    new_indexed.append(row)
            if new_rows:
                for record_id, row in zip(_insert_records(conn, new_rows), new_indexed,
                                          strict=True):
                    index(record_id, row)
                loaded = len(new_rows)
            _insert_many(conn, record_tokens, ("token", "kind", "record_id"), token_rows)
            _insert_many(conn, person_profiles, ("record_id", "person", "agreement", "profile"),
                         profile_rows)
        return UpsertCounts(loaded, updated, unchanged)

    # --- matching ---------------------------------------------------------

    def match(
        self,
        tokens: Iterable[Token],
        *,
        limit: int,
        exclude_labels: frozenset[str] = frozenset(),
        record_types: frozenset[str] | None = None,
        agreement: str | None = None,
        updated_after: dt.datetime | None = None,
    ) -> list[Match]:
        """Records indexed under any of ``tokens``, with the kinds that matched.

        Records carrying any of ``exclude_labels``, or not of ``record_types``
        (when given), or (with ``updated_after``) not ingested or changed after
        that time, are left out. With ``agreement``, each match carries the
        profiles of its people under that agreement. Returns at most ``limit``
        matches, those with the most matched kinds first, then the most recent.
        """
        wanted = list(set(tokens))
        if not wanted:
            return []
        sql = self._lookup
        kinds_by_record: dict[int, set[Kind]] = {}
        with self.engine.connect() as conn:
            cursor = conn.connection.cursor()
            for chunk in _chunks(wanted, 200):
                cursor.execute(*sql.tokens([t.value for t in chunk]))
                asked = {(int(t.kind), t.value) for t in chunk}
                for record_id, kind, token in cursor.fetchall():
                    if (kind, bytes(token)) in asked:
                        kinds_by_record.setdefault(record_id, set()).add(Kind(kind))
            matches: list[Match] = []
            for chunk_ids in _chunks(list(kinds_by_record), 500):
                cursor.execute(*sql.records(chunk_ids, updated_after))
                for record_id, record_type, occurred_on, raw_labels in cursor.fetchall():
                    labels = sql.labels(raw_labels)
                    if exclude_labels.intersection(labels):
                        continue
                    if record_types is not None and record_type not in record_types:
                        continue
                    matches.append(
                        Match(
                            record_id=record_id,
                            record_type=RecordType(record_type),
                            occurred_on=sql.occurred_on(occurred_on),
                            labels=frozenset(labels),
                            kinds=frozenset(kinds_by_record[record_id]),
                        )
                    )
            matches.sort(key=lambda m: (-len(m.kinds), -m.occurred_on.toordinal(), m.record_id))
            del matches[limit:]
            if agreement is None:
                return matches
            # Profiles (about a kilobyte each) only for the matches kept: with
            # coarse blocking keys on a large index, far more records share a
            # key than the limit lets through.
            profiles: dict[int, list[tuple[int, bytes]]] = {}
            for chunk_ids in _chunks([m.record_id for m in matches], 500):
                # Both generations during a secret rotation: the scorer
                # keeps whichever profile the query meets.
                cursor.execute(*sql.profiles(chunk_ids, [agreement, agreement + NEXT_GENERATION]))
                for record_id, person, profile in cursor.fetchall():
                    profiles.setdefault(record_id, []).append((int(person), bytes(profile)))
        return [replace(m, profiles=tuple(sorted(profiles.get(m.record_id, ()))))
                if m.record_id in profiles else m for m in matches]

    def issue_pointers(
        self,
        record_ids: Sequence[int],
        requesting_agency: str,
        search_id: str,
        now: dt.datetime,
        *,
        reuse: bool = False,
    ) -> list[str]:
        """One handle per record for this search; returns them in order.

        Handles are fresh, unless ``reuse``: then a record already pointed to
        under the same ``search_id`` and requesting agency (a watch, checked
        again) keeps the handle it had, so the hub can tell it is not new.

        New handles are committed without waiting for the disk (SQLite
        ``synchronous=NORMAL`` in WAL mode, PostgreSQL ``synchronous_commit=off``,
        for this one transaction): that survives a crash of the node process,
        and a power loss can only forget the newest handles, whose release then
        fails closed as an unknown pointer. It saves a search one fsync on its
        critical path; the hub's audit entry stays fully durable.
        """
        known: dict[int, str] = {}
        if reuse and record_ids:
            with self.engine.connect() as conn:
                for chunk in _chunks(list(record_ids), 500):
                    rows = conn.execute(select(pointers.c.record_id, pointers.c.handle).where(
                        pointers.c.search_id == search_id,
                        pointers.c.requesting_agency == requesting_agency,
                        pointers.c.expires_at > now,
                        pointers.c.record_id.in_(chunk)))
                    known.update((int(r.record_id), str(r.handle)) for r in rows)
        handles = [known.get(rid) or new_handle() for rid in record_ids]
        fresh = [(h, rid) for h, rid in zip(handles, record_ids, strict=True) if rid not in known]
        if fresh:
            sql = self._lookup
            created, expires = sql.pointer_time(now), sql.pointer_time(now + POINTER_TTL)
            pointer_rows = [(h, rid, requesting_agency, search_id, created, expires) for h, rid in fresh]
            sqlite = self.engine.dialect.name == "sqlite"
            with self._pointer_lock, self.engine.connect() as conn:
                driver = conn.connection
                cursor = driver.cursor()
                if sqlite:  # outside any transaction, where SQLite allows it
                    cursor.execute("PRAGMA synchronous=NORMAL")
                try:
                    if not sqlite:
                        cursor.execute("SET LOCAL synchronous_commit = off")
                    cursor.executemany(sql.insert_pointer, pointer_rows)
                    driver.commit()
                finally:
                    driver.rollback()  # nothing to undo after the commit
                    if sqlite:  # the pooled connection goes back fully durable
                        cursor.execute("PRAGMA synchronous=FULL")
        return handles

    # --- sweeps -----------------------------------------------------------

    def pointed_records(
        self, handles: Sequence[str], search_id: str, requesting_agency: str, now: dt.datetime
    ) -> dict[str, int]:
        """The records behind those of ``handles`` that this node issued in
        ``search_id`` to ``requesting_agency`` and that have not expired."""
        found: dict[str, int] = {}
        with self.engine.connect() as conn:
            for chunk in _chunks(list(dict.fromkeys(handles)), 500):
                rows = conn.execute(select(pointers.c.handle, pointers.c.record_id).where(
                    pointers.c.handle.in_(chunk),
                    pointers.c.search_id == search_id,
                    pointers.c.requesting_agency == requesting_agency,
                    pointers.c.expires_at > now))
                found.update((str(r.handle), int(r.record_id)) for r in rows)
        return found

    def records_in_search(self, search_id: str) -> set[int]:
        """Every record this node has pointed to in ``search_id`` (any level of a sweep)."""
        with self.engine.connect() as conn:
            return {int(r) for r in conn.execute(
                select(pointers.c.record_id).where(pointers.c.search_id == search_id)).scalars()}

    def match_each(
        self,
        tokens: Sequence[Token],
        *,
        limit: int,
        exclude_labels: frozenset[str],
        record_types: frozenset[str],
        exclude_records: frozenset[int] = frozenset(),
    ) -> list[tuple[Match, tuple[int, ...]]]:
        """Each token looked up on its own: the matching records, each with the
        indexes (into ``tokens``) of the tokens it is indexed under.

        Leaves out records with any of ``exclude_labels``, not of
        ``record_types``, or in ``exclude_records``. At most ``limit`` records,
        those found by the most tokens first, then the most recent.
        """
        index_of = {(int(t.kind), t.value): i for i, t in enumerate(tokens)}
        found: dict[int, set[int]] = {}
        kinds: dict[int, set[Kind]] = {}
        with self.engine.connect() as conn:
            for chunk in _chunks(list(tokens), 200):
                rows = conn.execute(select(
                    record_tokens.c.record_id, record_tokens.c.kind, record_tokens.c.token
                ).where(record_tokens.c.token.in_([t.value for t in chunk])))
                for row in rows:
                    i = index_of.get((row.kind, bytes(row.token)))
                    if i is not None and row.record_id not in exclude_records:
                        found.setdefault(row.record_id, set()).add(i)
                        kinds.setdefault(row.record_id, set()).add(Kind(row.kind))
            matches: list[tuple[Match, tuple[int, ...]]] = []
            for chunk_ids in _chunks(list(found), 500):
                rows = conn.execute(select(
                    records.c.id, records.c.record_type, records.c.occurred_on, records.c.labels
                ).where(records.c.id.in_(chunk_ids)))
                for row in rows:
                    if exclude_labels.intersection(row.labels):
                        continue
                    if row.record_type not in record_types:
                        continue
                    match = Match(record_id=row.id, record_type=RecordType(row.record_type),
                                  occurred_on=row.occurred_on, labels=frozenset(row.labels),
                                  kinds=frozenset(kinds[row.id]))
                    matches.append((match, tuple(sorted(found[row.id]))))
        matches.sort(key=lambda m: (-len(m[1]), -m[0].occurred_on.toordinal(), m[0].record_id))
        return matches[:limit]

    def iter_records(self, batch: int = 1000) -> Iterator[Record]:
        """Every stored record, in id order, read in batches (for re-indexing)."""
        last = 0
        while True:
            with self.engine.connect() as conn:
                rows = conn.execute(select(records.c.id, records.c.body)
                                    .where(records.c.id > last).order_by(records.c.id)
                                    .limit(batch)).all()
            if not rows:
                return
            for row in rows:
                yield Record.from_dict(row.body)
            last = rows[-1].id

    # --- releases (owning side) ---------------------------------------------

    def pointer(self, handle: str) -> Any:
        """The pointer row for ``handle`` (record_id, requesting_agency, expires_at), or None."""
        with self.engine.connect() as conn:
            return conn.execute(select(pointers).where(pointers.c.handle == handle)).one_or_none()

    def record_by_id(self, record_id: int) -> tuple[dict[str, Any], frozenset[str]] | None:
        """A record's canonical body and all its labels."""
        with self.engine.connect() as conn:
            row = conn.execute(select(records.c.body, records.c.labels).where(
                records.c.id == record_id)).one_or_none()
        return None if row is None else (dict(row.body), frozenset(row.labels))

    def label_watch(self, watch_id: str, label: str, now: dt.datetime) -> None:
        """Keep the label of one of our investigators' watches (never sent to the hub)."""
        with self.engine.begin() as conn:
            conn.execute(insert(watch_labels).values(watch_id=watch_id, label=label,
                                                     created_at=now))

    def watch_label_map(self, watch_ids: Iterable[str]) -> dict[str, str]:
        """The labels kept for these watches (those that have one)."""
        ids = list(dict.fromkeys(watch_ids))
        found: dict[str, str] = {}
        with self.engine.connect() as conn:
            for chunk in _chunks(ids, 500):
                rows = conn.execute(select(watch_labels.c.watch_id, watch_labels.c.label)
                                    .where(watch_labels.c.watch_id.in_(chunk)))
                found.update((row.watch_id, row.label) for row in rows)
        return found

    def released(self, grant_id: str) -> tuple[bytes | None, list[str]] | None:
        """(ciphertext sent, fields withheld) for a grant already used; None if unused."""
        with self.engine.connect() as conn:
            row = conn.execute(select(release_log.c.ciphertext, release_log.c.withheld).where(
                release_log.c.grant_id == grant_id)).first()
        if row is None:
            return None
        return (bytes(row.ciphertext) if row.ciphertext is not None else None,
                list(row.withheld))

    def last_checkpoint(self) -> tuple[int, bytes] | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(log_state.c.size, log_state.c.root)).one_or_none()
        return None if row is None else (int(row.size), bytes(row.root))

    def record_release(self, entry: dict[str, Any], checkpoint: tuple[int, bytes]) -> None:
        """Log a release and remember the checkpoint, in one transaction.

        The grant id is the primary key: a second use of a grant fails here,
        even when two releases race.
        """
        size, root = checkpoint
        with self.engine.begin() as conn:
            conn.execute(insert(release_log).values(**entry))
            if conn.execute(update(log_state).where(log_state.c.id == 1)
                            .values(size=size, root=root)).rowcount == 0:
                conn.execute(insert(log_state).values(id=1, size=size, root=root))

    def releases(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(
                select(release_log).order_by(release_log.c.released_at))]

    # --- releases (requesting side) -------------------------------------------

    def save_request_key(self, request_key: str, requester: str, private_key: bytes,
                         now: dt.datetime) -> None:
        """Keep the (sealed) private key of a release request until its record arrives."""
        with self.engine.begin() as conn:
            conn.execute(insert(local_releases).values(
                request_key=request_key, requester=requester, private_key=private_key,
                created_at=now))

    def bind_release(self, request_key: str, release_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(local_releases).where(
                local_releases.c.request_key == request_key).values(release_id=release_id))

    def release_key(self, release_id: str) -> tuple[str, str, bytes] | None:
        """(request key, requester, stored private key) of a release this node asked for."""
        with self.engine.connect() as conn:
            row = conn.execute(select(local_releases.c.request_key, local_releases.c.requester,
                                      local_releases.c.private_key)
                               .where(local_releases.c.release_id == release_id)).one_or_none()
        return None if row is None else (row.request_key, row.requester, bytes(row.private_key))

    # --- inspection (tests, CLI) -------------------------------------------

    def count_records(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(records)).scalar_one())

    def count_profiles(self) -> int:
        with self.engine.connect() as conn:
            return int(
                conn.execute(select(func.count()).select_from(person_profiles)).scalar_one()
            )

    def count_tokens(self) -> int:
        with self.engine.connect() as conn:
            return int(
                conn.execute(select(func.count()).select_from(record_tokens)).scalar_one()
            )

    def get_record(self, source: str, source_id: str) -> Record | None:
        with self.engine.connect() as conn:
            body = conn.execute(
                select(records.c.body).where(
                    records.c.source == source, records.c.source_id == source_id
                )
            ).scalar_one_or_none()
        return None if body is None else Record.from_dict(body)


_T = TypeVar("_T")

_RECORD_COLUMNS = ("id", "source", "source_id", "record_type", "occurred_on", "labels", "body",
                   "content_hash", "updated_at")


def _existing(conn: Connection, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], tuple[int, bytes]]:
    """(id, content hash) of the records already stored under these (source, source id) keys."""
    found: dict[tuple[str, str], tuple[int, bytes]] = {}
    for source in {s for s, _ in keys}:
        ids = [sid for s, sid in keys if s == source]
        for chunk in _chunks(ids, 500):
            for row in conn.execute(_EXISTING, {"source": source, "ids": list(chunk)}):
                found[(source, row.source_id)] = (row.id, row.content_hash)
    return found


def _insert_records(conn: Connection, rows: Sequence[tuple[Any, ...]]) -> list[int]:
    """Insert new records; returns their ids in the order of ``rows``.

    Each row holds the columns after ``id`` (see ``_RECORD_COLUMNS``), with
    ``labels`` and ``body`` as JSON text already: the body's canonical JSON is
    made once, for its content hash, and written as it is.

    On PostgreSQL the ids are drawn from the table's sequence in one query and
    the rows go in by COPY: a multi-row ``INSERT ... RETURNING`` of thousands
    of rows spends most of its time in the driver, rewriting a statement with
    tens of thousands of placeholders. On SQLite, whose ``RETURNING`` order
    SQLAlchemy cannot rely on (it then inserts row by row), one insert to
    learn the next id and one plain ``executemany`` of the rest.
    """
    if conn.dialect.name == "postgresql":
        ids = [int(i) for i in conn.exec_driver_sql(
            "SELECT nextval(pg_get_serial_sequence('records', 'id')) "
            "FROM generate_series(1, %(n)s)", {"n": len(rows)}).scalars()]
        _insert_many(conn, records, _RECORD_COLUMNS,
                     [(record_id, *row) for record_id, row in zip(ids, rows, strict=True)])
        return ids
    # Dates and times as SQLAlchemy writes them on SQLite, so that its reads
    # and comparisons of these columns see the same text.
    as_date = bind_converter(records.c.occurred_on, conn.dialect)
    as_time = bind_converter(records.c.updated_at, conn.dialect)
    stamped = {t: as_time(t) for t in {row[-1] for row in rows}}
    values = [(*row[:3], as_date(row[3]), *row[4:-1], stamped[row[-1]]) for row in rows]
    # The first row is given its id by SQLite (one more than the largest);
    # from that insert on this transaction holds the database's write lock,
    # so the ids after it are free, and the rest go in with them in one
    # executemany.
    sql = insert_sql(records, conn.dialect, _RECORD_COLUMNS)
    first = conn.exec_driver_sql(sql, (None, *values[0])).lastrowid
    assert first is not None
    ids = list(range(first, first + len(rows)))
    if len(rows) > 1:
        conn.exec_driver_sql(sql, [(record_id, *row) for record_id, row
                                   in zip(ids[1:], values[1:], strict=True)])
    return ids


def _insert_many(conn: Connection, table: Table, columns: Sequence[str],
                 rows: Sequence[tuple[Any, ...]]) -> None:
    """Many index rows at once: COPY on PostgreSQL, a plain executemany INSERT on SQLite.

    Going around SQLAlchemy's per-row parameter processing roughly halves the
    time ingest spends storing tokens.
    """
    if not rows:
        return
    # In key order, each B-tree page of the index is visited once per batch
    # rather than once per row: tokens are random, so unsorted rows jump
    # around the whole index (this halves SQLite's insert time at a few
    # hundred thousand rows, and helps PostgreSQL's primary-key index too).
    rows = sorted(rows)
    if conn.dialect.name == "postgresql":
        # Bulk loading on PostgreSQL: COPY, inside the caller's transaction.
        raw = conn.connection.dbapi_connection
        assert raw is not None
        with raw.cursor() as cursor, cursor.copy(  # type: ignore[attr-defined]
                f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    sql = insert_sql(table, conn.dialect, columns)
    conn.exec_driver_sql(sql, list(rows))


def _chunks(items: Sequence[_T], size: int) -> Iterable[Sequence[_T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
