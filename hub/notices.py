"""Notifications and deconfliction at the hub.

**Notifications** are what the hub keeps for an investigator between their
requests: a watch found a newly ingested record (with a pointer they may ask to
release, like any other), or another agency searched a subject they searched.
They are written in the same transaction as the audit entry that records them.

**Deconfliction.** When two member agencies search the same subject within the
agreement's window, both investigators are told that the other agency is
working on it, with the contact route the agreement names for that agency, so
they can talk before they collide. "The same subject" means the searches share
a keyed token of a specific identifier (name with date of birth, phone, email,
plate, VIN): the hub compares tokens it already relays and never learns whom
they name. It keeps, for the window only, a SHA-256 digest of each such token
(domain-separated), not the token itself, so its database holds nothing a node
would answer. Both agencies take part only if the agreement has a
``deconfliction`` window and names a ``deconfliction_contact`` for each; the
search policy decides that (:mod:`policies` ``search``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Connection,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    delete,
    insert,
    select,
)

from accord.times import as_utc, rfc3339
from accord.v1 import common_pb2, hub_pb2

metadata = MetaData()

#: What a deconfliction compares: identifiers specific to one subject.
DECONFLICTION_KINDS = frozenset({
    common_pb2.IDENTIFIER_KIND_NAME_DOB, common_pb2.IDENTIFIER_KIND_PHONE,
    common_pb2.IDENTIFIER_KIND_EMAIL, common_pb2.IDENTIFIER_KIND_PLATE,
    common_pb2.IDENTIFIER_KIND_VIN,
})
_DIGEST_DOMAIN = b"accord/v1 deconfliction subject\x00"
#: Digests older than the longest window an agreement may set are deleted.
MAX_WINDOW = dt.timedelta(days=365)

notifications = Table(
    "notifications",
    metadata,
    Column("notification_id", String(40), primary_key=True),
    Column("recipient_agency", String(64), nullable=False),
    Column("recipient", String(256), nullable=False),
    Column("kind", SmallInteger, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("case_number", String(64), nullable=False),
    Column("watch_id", String(64), nullable=True),
    #: For a watch match: the pointer's handle (one notification per record per watch).
    Column("handle", String(80), nullable=True),
    Column("body", JSON, nullable=False),
    Column("audit_seq", BigInteger, nullable=False),
    Index("ix_notifications_recipient", "recipient_agency", "recipient", "created_at"),
    Index("uq_notifications_watch_handle", "watch_id", "handle", unique=True),
)

#: Recent searches' subjects, as digests of their specific tokens, for the window.
search_subjects = Table(
    "search_subjects",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("digest", LargeBinary(32), nullable=False),
    Column("kind", SmallInteger, nullable=False),
    Column("agreement", String(64), nullable=False),
    Column("agency", String(64), nullable=False),
    Column("actor", String(256), nullable=False),
    Column("case_number", String(64), nullable=False),
    Column("search_id", String(64), nullable=False),
    Column("contact", String(200), nullable=False),
    Column("searched_at", DateTime(timezone=True), nullable=False),
    Index("ix_search_subjects_digest", "digest", "searched_at"),
    # Forgetting old subjects is a range scan, not a table scan.
    Index("ix_search_subjects_time", "searched_at"),
)


def subject_digest(kind: int, token: bytes) -> bytes:
    """What the hub keeps of a searched token: a domain-separated SHA-256 digest."""
    return hashlib.sha256(_DIGEST_DOMAIN + bytes((kind,)) + token).digest()


def new_notification_id() -> str:
    return "n_" + secrets.token_hex(12)




@dataclass(frozen=True, slots=True)
class SearchParty:
    """Who searched, for deconfliction: the agency, investigator, case and contact."""

    agency: str
    actor: str
    case_number: str
    search_id: str
    contact: str
    searched_at: dt.datetime


@dataclass(frozen=True, slots=True)
class Overlap:
    """Another agency's recent search of the same subject."""

    other: SearchParty
    kinds: tuple[int, ...]

    def notice(self, names: Mapping[str, str]) -> common_pb2.DeconflictionNotice:
        """What this search's investigator is told about the other agency."""
        return notice_for(self.other, self.kinds, names)


def notice_for(who: SearchParty, kinds: Sequence[int],
               names: Mapping[str, str]) -> common_pb2.DeconflictionNotice:
    return common_pb2.DeconflictionNotice(
        agency=who.agency, agency_name=names.get(who.agency, who.agency), contact=who.contact,
        searched_at=rfc3339(who.searched_at), kinds=sorted(kinds))  # type: ignore[arg-type]


def deconflict(
    conn: Connection,
    *,
    agreement: str,
    me: SearchParty,
    tokens: Iterable[tuple[int, bytes]],
    window: dt.timedelta,
) -> list[Overlap]:
    """Record this search's subject and return other agencies' overlapping searches.

    Runs in the caller's transaction (the search's audit commit). One overlap
    per other agency: its latest search in the window, with every kind shared.
    """
    digests = {subject_digest(k, v): k for k, v in tokens if k in DECONFLICTION_KINDS}
    if not digests:
        return []
    since = me.searched_at - window
    rows = conn.execute(select(search_subjects).where(
        search_subjects.c.digest.in_(list(digests)),
        search_subjects.c.agreement == agreement,
        search_subjects.c.agency != me.agency,
        search_subjects.c.searched_at >= since,
    ).order_by(search_subjects.c.searched_at.desc(), search_subjects.c.id.desc())).all()
    latest: dict[str, SearchParty] = {}
    kinds: dict[str, set[int]] = {}
    for row in rows:
        if row.agency not in latest:
            latest[row.agency] = SearchParty(row.agency, row.actor, row.case_number, row.search_id,
                                           row.contact, as_utc(row.searched_at))
        kinds.setdefault(row.agency, set()).add(int(row.kind))
    conn.execute(insert(search_subjects), [
        {"digest": d, "kind": k, "agreement": agreement, "agency": me.agency, "actor": me.actor,
         "case_number": me.case_number, "search_id": me.search_id, "contact": me.contact,
         "searched_at": me.searched_at} for d, k in digests.items()])
    # Forget what no window can reach any more.
    conn.execute(delete(search_subjects).where(
        search_subjects.c.searched_at < me.searched_at - MAX_WINDOW))
    return [Overlap(latest[a], tuple(sorted(kinds[a]))) for a in sorted(latest)]


def add_notification(conn: Connection, *, agency: str, recipient: str, kind: int,
                     now: dt.datetime, case_number: str, body: dict[str, Any], audit_seq: int,
                     watch_id: str | None = None, handle: str | None = None) -> str:
    """Store one notification in the caller's transaction; returns its id."""
    notification_id = new_notification_id()
    conn.execute(insert(notifications).values(
        notification_id=notification_id, recipient_agency=agency, recipient=recipient,
        kind=kind, created_at=now, case_number=case_number, watch_id=watch_id, handle=handle,
        body=body, audit_seq=audit_seq))
    return notification_id


def notice_body(notice: common_pb2.DeconflictionNotice) -> dict[str, Any]:
    return {"agency": notice.agency, "agency_name": notice.agency_name,
            "contact": notice.contact, "searched_at": notice.searched_at,
            "kinds": list(notice.kinds)}


def pointer_body(pointer: common_pb2.MatchPointer) -> dict[str, Any]:
    return {"handle": pointer.handle, "agency": pointer.agency,
            "record_type": pointer.record_type, "matched": list(pointer.matched),
            "coarse_date": pointer.coarse_date, "strength": int(pointer.strength)}


def list_notifications(conn: Connection, agency: str, recipient: str,
                       since: dt.datetime | None, limit: int) -> list[hub_pb2.Notification]:
    """The recipient's notifications, oldest first."""
    query = select(notifications).where(notifications.c.recipient_agency == agency,
                                        notifications.c.recipient == recipient)
    if since is not None:
        query = query.where(notifications.c.created_at > since)
    rows = conn.execute(query.order_by(notifications.c.created_at,
                                       notifications.c.notification_id).limit(limit)).all()
    out = []
    for row in rows:
        n = hub_pb2.Notification(notification_id=row.notification_id, kind=row.kind,
                                 created_at=rfc3339(row.created_at),
                                 case_number=row.case_number, watch_id=row.watch_id or "",
                                 audit_seq=row.audit_seq)
        body = dict(row.body)
        if row.kind == hub_pb2.NOTIFICATION_KIND_WATCH_MATCH:
            n.pointer.CopyFrom(common_pb2.MatchPointer(**body))
        else:
            n.deconfliction.CopyFrom(common_pb2.DeconflictionNotice(**body))
        out.append(n)
    return out
