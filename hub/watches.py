"""Watches: a search the hub repeats against records the nodes ingest later.

An investigator registers a watch with the same keyed tokens and filters a
search carries (their node encodes them; the hub never sees the identifiers).
The hub keeps it until it expires (``days``, at most :data:`MAX_DAYS`) or is
removed, and checks every active watch every ``interval``: it asks the nodes
in scope, as the watch's investigator, for records ingested or changed since
the last check (``MatchTokensRequest.updated_after``, less a margin for clock
skew). Each node answers under its own policy and gives a record the same
handle every time it is found for the same watch; the hub remembers the
handles of the records that matched when the watch was set (its baseline) and
of those it reported, so only new records become notifications. Every
check is decided by the search and scope policies again, so a watch never
outlives the agreement that allowed it: a check the policy denies ends the
watch.

Audited: adding, removing and the end of a watch, and every check that found
something (``watch_match``, committed with its notifications and the pointer
bindings that let the investigator ask for release). A check that finds
nothing writes no entry; the watch's own entry covers what it asks.

Several hub processes may run the checks: a check is claimed by a conditional
update of ``last_checked_at``, so one process runs it, and a notification is
unique per watch and record.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Connection,
    DateTime,
    Index,
    LargeBinary,
    MetaData,
    String,
    Table,
    func,
    insert,
    select,
    update,
)

from accord.errors import InvalidArgument, NotFound, PermissionDenied
from accord.identity import Principal
from accord.policy.engine import ENGINE_FAILURES
from accord.times import as_utc, rfc3339
from accord.tokens import FILTER_BYTES, TOKEN_BYTES, tokens_digest
from accord.v1 import common_pb2, hub_pb2
from hub.audit import AuditEvent, AuditLog
from hub.notices import add_notification, notifications, pointer_body
from hub.revocations import RevocationList
from hub.search import SPECIFIC_KINDS, NodeOutcome, Pointer, Searcher, SearchQuery

log = structlog.get_logger("accord.hub.watches")

metadata = MetaData()

#: How long a watch lasts when the investigator does not say, and at most.
DEFAULT_DAYS = 30
MAX_DAYS = 90
#: Active watches one investigator may keep.
MAX_WATCHES_PER_INVESTIGATOR = 50
#: A node's clock may run behind the hub's by this much; a record ingested in
#: that margin before a check is still found (and deduplicated by its handle).
CLOCK_MARGIN = dt.timedelta(minutes=2)
#: Watches checked at once (each check is a fan-out to the nodes in scope).
CONCURRENT_CHECKS = 8
WATCH_ID_RE = re.compile(r"^w_[0-9a-f]{24}\Z")
LABEL_MAX = 120

#: ENDED: a check the policy denied (the agreement no longer allows the search).
ACTIVE, EXPIRED, REMOVED, ENDED = "active", "expired", "removed", "ended"
_STATES = {ACTIVE: hub_pb2.WATCH_STATE_ACTIVE, EXPIRED: hub_pb2.WATCH_STATE_EXPIRED,
           REMOVED: hub_pb2.WATCH_STATE_REMOVED, ENDED: hub_pb2.WATCH_STATE_ENDED}

watches = Table(
    "watches",
    metadata,
    Column("watch_id", String(40), primary_key=True),
    Column("agency", String(64), nullable=False),
    Column("actor", String(256), nullable=False),
    Column("roles", JSON, nullable=False),
    Column("case_number", String(64), nullable=False),
    Column("purpose", String(64), nullable=False),
    Column("agreement", String(64), nullable=False),
    Column("label", String(LABEL_MAX), nullable=False),
    #: The keyed tokens and filters, as (kind byte + value) concatenated.
    Column("tokens", LargeBinary, nullable=False),
    Column("filters", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("last_checked_at", DateTime(timezone=True), nullable=False),
    Column("state", String(16), nullable=False),
    Column("audit_seq", BigInteger, nullable=False),
    #: The policy's reasons, for a watch that ENDED.
    Column("ended_reasons", JSON, nullable=True),
    #: The token that set it (its jti and iat): a revocation of that token, or
    #: of its subject, pauses the watch. Unknown (NULL) for watches set before 0007.
    Column("token_id", String(256), nullable=True),
    Column("token_issued_at", DateTime(timezone=True), nullable=True),
    Index("ix_watches_owner", "agency", "actor"),
    Index("ix_watches_state", "state"),
)


#: Records a watch has already seen, by the handle their node gives them for it:
#: those that existed when it was set (its baseline) and those it reported.
watch_seen = Table(
    "watch_seen",
    metadata,
    Column("watch_id", String(40), primary_key=True),
    Column("handle", String(80), primary_key=True),
)

#: A baseline asks for every record, whenever it was ingested.
_BEGINNING = "1970-01-01T00:00:00Z"


def _pack(items: Sequence[tuple[int, bytes]]) -> bytes:
    return b"".join(bytes((kind,)) + value for kind, value in items)


def _unpack(blob: bytes, size: int) -> tuple[tuple[int, bytes], ...]:
    step = size + 1
    return tuple((blob[i], bytes(blob[i + 1:i + step])) for i in range(0, len(blob), step))




@dataclass(frozen=True, slots=True)
class WatchAsk:
    """A validated AddWatchRequest: a search query plus how long and a label."""

    query: SearchQuery
    days: int
    label: str

    @classmethod
    def from_proto(cls, req: hub_pb2.AddWatchRequest) -> WatchAsk:
        try:
            query = SearchQuery.from_proto(hub_pb2.SearchRequest(
                case_number=req.case_number, purpose=req.purpose, tokens=req.tokens,
                agreement=req.agreement, filters=req.filters))
        except InvalidArgument as exc:
            # Name the message the caller sent, not the one it is checked as.
            message = exc.message.replace("SearchRequest.", "AddWatchRequest.", 1)
            raise InvalidArgument(message) from exc
        if req.days > MAX_DAYS:
            raise InvalidArgument(f"AddWatchRequest.days: got {req.days}, want 1 to {MAX_DAYS} "
                                  f"(0 means {DEFAULT_DAYS})")
        if req.label:
            # An investigator's label is free text that may name the very
            # identifiers the watch is for: the hub takes none.
            raise InvalidArgument("AddWatchRequest.label: the hub keeps no labels; add the "
                                  "watch through your node, which keeps its label")
        return cls(query, req.days or DEFAULT_DAYS, "")


def check_watch_id(watch_id: str, where: str) -> str:
    if not WATCH_ID_RE.match(watch_id):
        raise InvalidArgument(f"{where}: got {watch_id[:40]!r}, want a watch id like 'w_3f9c...'")
    return watch_id


class WatchService:
    """Adds, lists, removes and checks watches."""

    def __init__(self, *, audit: AuditLog, searcher: Searcher,
                 remember: Callable[[Connection, Sequence[dict[str, Any]]], None],
                 revocations: RevocationList | None = None) -> None:
        self._audit = audit
        self._searcher = searcher
        self._remember = remember
        self._revocations = revocations if revocations is not None else RevocationList(None)

    def _event(self, event: str, owner: Any, now: dt.datetime, outcome: str = "ok",
               source: str = "", reasons: tuple[str, ...] = (), **details: Any) -> AuditEvent:
        return AuditEvent(event=event, time=now, outcome=outcome, actor=owner.actor,
                          agency=owner.agency, roles=tuple(sorted(owner.roles)), source=source,
                          purpose=owner.purpose, case=owner.case_number, reasons=reasons,
                          details={"agreement": owner.agreement, **details})

    async def add(self, principal: Principal, ask: WatchAsk, source: str,
                  now: dt.datetime) -> hub_pb2.Watch:
        """Check the search policy, then store the watch with its audit entry."""
        query = ask.query
        allowed = await self._searcher.authorise(principal, query, source, now,
                                                 denied_event="watch_denied")
        watch_id = "w_" + secrets.token_hex(12)
        # The baseline: what already matches is not news. Each node gives a
        # record the same handle for this watch every time, so a later check
        # reports only records not seen here, whatever the nodes' clocks say.
        outcomes = await self._searcher.fan_out(watch_id, principal.agency, query,
                                                allowed.scope, _BEGINNING)
        baseline = sorted({p.handle for o in outcomes for p in o.pointers})
        expires = now + dt.timedelta(days=ask.days)
        row = {"watch_id": watch_id, "agency": principal.agency, "actor": principal.subject,
               "roles": sorted(principal.roles), "case_number": query.case_number,
               "purpose": query.purpose, "agreement": query.agreement, "label": ask.label,
               "tokens": _pack(query.tokens), "filters": _pack(query.filters),
               "created_at": now, "expires_at": expires, "last_checked_at": now,
               "state": ACTIVE, "token_id": principal.token_id,
               "token_issued_at": principal.issued_at}

        def commit() -> int:
            with self._audit.transaction() as tx:
                active = tx.conn.execute(select(watches.c.watch_id).where(
                    watches.c.agency == principal.agency, watches.c.actor == principal.subject,
                    watches.c.state == ACTIVE)).all()
                if len(active) >= MAX_WATCHES_PER_INVESTIGATOR:
                    raise PermissionDenied(
                        f"watch refused: {len(active)} active watches already, at most "
                        f"{MAX_WATCHES_PER_INVESTIGATOR}; remove one first",
                        reasons=("too_many_watches",))
                seq = tx.append(AuditEvent(
                    event="watch_added", time=now, outcome="ok", actor=principal.subject,
                    agency=principal.agency, roles=tuple(sorted(principal.roles)),
                    source=source, purpose=query.purpose, case=query.case_number,
                    details={"agreement": query.agreement, "watch_id": watch_id,
                             "expires_at": rfc3339(expires),
                             "token_kinds": _kind_names(query.tokens),
                             "token_digest": tokens_digest(query.tokens),
                             "baseline": {o.agency: {"status": o.status_name,
                                                     "pointers": len(o.pointers)}
                                          for o in outcomes}})).seq
                tx.conn.execute(insert(watches).values(**row, audit_seq=seq))
                if baseline:
                    tx.conn.execute(insert(watch_seen), [{"watch_id": watch_id, "handle": h}
                                                         for h in baseline])
            return seq

        seq = await asyncio.to_thread(commit)
        return self._proto({**row, "audit_seq": seq}, 0)

    async def list_for(self, principal: Principal, include_inactive: bool,
                       now: dt.datetime) -> list[hub_pb2.Watch]:
        def read() -> list[hub_pb2.Watch]:
            with self._audit.engine.connect() as conn:
                query = select(watches).where(watches.c.agency == principal.agency,
                                              watches.c.actor == principal.subject)
                if not include_inactive:
                    query = query.where(watches.c.state == ACTIVE)
                rows = conn.execute(query.order_by(watches.c.created_at)).all()
                counts = self._counts(conn, [r.watch_id for r in rows])
            return [self._proto(r._asdict(), counts.get(r.watch_id, 0), now) for r in rows]

        return await asyncio.to_thread(read)

    async def remove(self, principal: Principal, watch_id: str, source: str,
                     now: dt.datetime) -> hub_pb2.Watch:
        def commit() -> hub_pb2.Watch:
            with self._audit.transaction() as tx:
                row = tx.conn.execute(select(watches).where(
                    watches.c.watch_id == watch_id)).one_or_none()
                # Someone else's watch gets the same answer as no watch.
                if (row is None or row.agency != principal.agency
                        or row.actor != principal.subject):
                    raise NotFound(f"watch {watch_id}: not found")
                # What it found stays countable after it stops (as `watch list --all` shows).
                found = self._counts(tx.conn, [watch_id]).get(watch_id, 0)
                if row.state != ACTIVE:
                    return self._proto(row._asdict(), found, now)
                seq = tx.append(self._event("watch_removed", row, now, source=source,
                                            watch_id=watch_id)).seq
                tx.conn.execute(update(watches).where(watches.c.watch_id == watch_id).values(
                    state=REMOVED, audit_seq=seq))
                return self._proto({**row._asdict(), "state": REMOVED, "audit_seq": seq}, found)

        return await asyncio.to_thread(commit)

    def _counts(self, conn: Connection, ids: Sequence[str]) -> dict[str, int]:
        if not ids:
            return {}
        rows = conn.execute(select(notifications.c.watch_id, func.count()).where(
            notifications.c.watch_id.in_(list(ids))).group_by(notifications.c.watch_id))
        return {r[0]: int(r[1]) for r in rows}

    def _proto(self, row: dict[str, Any], count: int,
               now: dt.datetime | None = None) -> hub_pb2.Watch:
        state = row["state"]
        if state == ACTIVE and now is not None and as_utc(row["expires_at"]) <= now:
            state = EXPIRED  # not yet swept by the checker
        return hub_pb2.Watch(
            watch_id=row["watch_id"], case_number=row["case_number"], purpose=row["purpose"],
            agreement=row["agreement"], label=row["label"],
            created_at=rfc3339(row["created_at"]), expires_at=rfc3339(row["expires_at"]),
            state=_STATES[state],
            # The identifiers it watches for, not every refining encoding.
            kinds=sorted({k for k, _ in _unpack(row["tokens"], TOKEN_BYTES)  # type: ignore[misc]
                          if k in SPECIFIC_KINDS}),
            notifications=count, last_checked_at=rfc3339(row["last_checked_at"]),
            audit_seq=row["audit_seq"], ended_reasons=row.get("ended_reasons") or [])

    # --- checking -----------------------------------------------------------

    async def check_all(self, now: dt.datetime) -> int:
        """Check every active watch once; returns how many notifications were made."""
        def due() -> list[Any]:
            with self._audit.engine.connect() as conn:
                return list(conn.execute(select(watches).where(watches.c.state == ACTIVE)
                                         .order_by(watches.c.last_checked_at)).all())

        gate = asyncio.Semaphore(CONCURRENT_CHECKS)

        async def one(row: Any) -> int:
            async with gate:
                try:
                    return await self.check(row, now)
                except Exception:  # one broken watch must not stop the others
                    log.exception("watch_check_failed", watch_id=row.watch_id)
                    return 0

        return sum(await asyncio.gather(*(one(row) for row in await asyncio.to_thread(due))))

    async def check(self, row: Any, now: dt.datetime) -> int:
        """Check one watch: end it if expired or no longer allowed, else look for new records."""
        if as_utc(row.expires_at) <= now:
            await asyncio.to_thread(self._end, row, now, EXPIRED, "watch_expired", ())
            return 0
        issued = row.token_issued_at
        if self._revocations.current.refuses_token(
                row.agency, row.actor, row.token_id, as_utc(issued) if issued else None):
            # The steward revoked its owner, or the token that set it: paused,
            # not claimed, so once lifted the next check looks back to the last one.
            return 0
        if not await asyncio.to_thread(self._claim, row, now):
            return 0  # another hub process has this check
        principal = Principal(subject=row.actor, agency=row.agency, roles=frozenset(row.roles),
                              token_id=row.watch_id, expires_at=as_utc(row.expires_at))
        query = SearchQuery(row.case_number, row.purpose, row.agreement,
                            _unpack(row.tokens, TOKEN_BYTES), _unpack(row.filters, FILTER_BYTES))
        try:
            allowed = await self._searcher.authorise(principal, query, "", now,
                                                     denied_event="watch_check_denied")
        except PermissionDenied as exc:
            if ENGINE_FAILURES & set(exc.reasons):
                # The engine could not decide (down, slow, not loaded): no
                # search this round, but no decision either; the watch waits
                # for the next round, and that one looks back to the last check
                # that was made, so nothing ingested meanwhile is missed.
                await asyncio.to_thread(self._unclaim, row, now)
                return 0
            await asyncio.to_thread(self._end, row, now, ENDED, "watch_ended", exc.reasons)
            return 0
        since = as_utc(row.last_checked_at) - CLOCK_MARGIN
        outcomes = await self._searcher.fan_out(row.watch_id, row.agency, query, allowed.scope,
                                                rfc3339(since))
        found = sorted((p for o in outcomes for p in o.pointers), key=lambda p: p.rank_key)
        if not found:
            return 0
        return await asyncio.to_thread(self._notify, row, found, outcomes, now)

    def _claim(self, row: Any, now: dt.datetime) -> bool:
        with self._audit.engine.begin() as conn:
            claimed = conn.execute(update(watches).where(
                watches.c.watch_id == row.watch_id, watches.c.state == ACTIVE,
                watches.c.last_checked_at == row.last_checked_at,
            ).values(last_checked_at=now)).rowcount
        return bool(claimed)

    def _unclaim(self, row: Any, now: dt.datetime) -> None:
        """Undo :meth:`_claim` for a check that was not made."""
        with self._audit.engine.begin() as conn:
            conn.execute(update(watches).where(
                watches.c.watch_id == row.watch_id, watches.c.last_checked_at == now,
            ).values(last_checked_at=row.last_checked_at))

    def _end(self, row: Any, now: dt.datetime, state: str, event: str,
             reasons: tuple[str, ...]) -> None:
        with self._audit.transaction() as tx:
            ended = tx.conn.execute(update(watches).where(
                watches.c.watch_id == row.watch_id, watches.c.state == ACTIVE).values(
                state=state, ended_reasons=list(reasons) if state == ENDED else None)).rowcount
            if ended:
                seq = tx.append(self._event(event, row, now, reasons=reasons,
                                            watch_id=row.watch_id)).seq
                tx.conn.execute(update(watches).where(watches.c.watch_id == row.watch_id)
                                .values(audit_seq=seq))

    def _notify(self, row: Any, found: Sequence[Pointer], outcomes: Sequence[NodeOutcome],
                now: dt.datetime) -> int:
        with self._audit.transaction() as tx:
            known = set(tx.conn.execute(select(watch_seen.c.handle).where(
                watch_seen.c.watch_id == row.watch_id,
                watch_seen.c.handle.in_([p.handle for p in found]))).scalars())
            # Once per handle: a node that answers with a handle twice must not
            # fail the check (and then every later one) on watch_seen's key.
            new = list({p.handle: p for p in found if p.handle not in known}.values())
            if not new:
                return 0
            tx.conn.execute(insert(watch_seen), [{"watch_id": row.watch_id, "handle": p.handle}
                                                 for p in new])
            seq = tx.append(self._event(
                "watch_match", row, now, watch_id=row.watch_id, pointers=len(new),
                nodes={o.agency: {"status": o.status_name, "pointers": len(o.pointers)}
                       for o in outcomes})).seq
            self._remember(tx.conn, [
                {"handle": p.handle, "owner": p.agency, "record_type": p.record_type,
                 "requesting_agency": row.agency, "requester": row.actor,
                 "agreement": row.agreement, "search_id": row.watch_id, "created_at": now}
                for p in new])
            for p in new:
                add_notification(tx.conn, agency=row.agency, recipient=row.actor,
                                 kind=hub_pb2.NOTIFICATION_KIND_WATCH_MATCH, now=now,
                                 case_number=row.case_number, audit_seq=seq,
                                 body=pointer_body(p.to_proto()), watch_id=row.watch_id,
                                 handle=p.handle)
        log.info("watch_matched", watch_id=row.watch_id, pointers=len(new))
        return len(new)


async def run_checks(service: WatchService, interval: float,
                     clock: Callable[[], dt.datetime],
                     reported: Callable[[int], None] = lambda _: None) -> None:
    """Check every watch every ``interval`` seconds, until cancelled; ``reported``
    is told how many records each round reported."""
    while True:
        await asyncio.sleep(interval)
        try:
            reported(await service.check_all(clock()))
        except Exception:  # the loop must outlive a bad round (e.g. the database away)
            log.exception("watch_round_failed")


def _kind_names(tokens: Sequence[tuple[int, bytes]]) -> list[str]:
    return sorted({str(common_pb2.IdentifierKind.Name(k))
                   for k, _ in tokens})

