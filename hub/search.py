"""Federated search at the hub: validate, decide, fan out, merge, audit.

The hub sees only keyed tokens and keyed Bloom filters, which it validates
(bounded counts and sizes, known kinds) and relays. The search policy decides whether this
investigator may search under this agreement and purpose (a deny is audited
with its reasons and the reasons go back to the investigator); the scope policy
decides which member nodes and record types are in scope. The hub then asks
every node in scope concurrently,
each under its own deadline, so one dead or slow node costs at most the
deadline and never fails the search: every node gets a status in the answer.
The search is appended to the audit log before the answer is returned; if the
log cannot be written the search fails closed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import grpc
from sqlalchemy import Connection

from accord.errors import InvalidArgument, PermissionDenied, RemoteError
from accord.identity import Principal
from accord.ids import AGREEMENT, CASE, POINTER_RE, PURPOSE, check_id
from accord.policy.engine import SCOPE, SEARCH, Decision, PolicyPoint
from accord.tokens import (
    AGREEMENT_KINDS,
    FILTER_BYTES,
    FILTER_KINDS,
    MAX_AGREEMENTS_PER_POINTER,
    MAX_FILTERS_PER_QUERY,
    MAX_TOKENS_PER_QUERY,
    TOKEN_BYTES,
    tokens_digest,
)
from accord.v1 import common_pb2, hub_pb2, node_pb2
from hub.audit import AuditEvent, AuditLog, AuditTransaction
from hub.notices import SearchParty, add_notification, deconflict, notice_body, notice_for

if TYPE_CHECKING:
    from hub.sweep import LinkedPointer, Sweeper

#: The deepest a search may sweep, whatever an agreement says.
MAX_DEPTH = 3
RECORD_TYPE_RE = re.compile(r"^[a-z][a-z_]{1,31}\Z")
COARSE_DATE_RE = re.compile(r"^\d{4}-\d{2}\Z")
_KINDS = frozenset(common_pb2.IdentifierKind.values()) - {
    common_pb2.IDENTIFIER_KIND_UNSPECIFIED
}
_STRENGTHS = frozenset(common_pb2.MatchStrength.values()) - {
    common_pb2.MATCH_STRENGTH_UNSPECIFIED
}
_LEVELS = frozenset(common_pb2.AgreementLevel.values()) - {
    common_pb2.AGREEMENT_LEVEL_UNSPECIFIED
}
_BASES = frozenset(common_pb2.AgreementBasis.values()) - {
    common_pb2.AGREEMENT_BASIS_UNSPECIFIED
}


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """A validated search request as the hub receives it: tokens and Bloom filters only."""

    case_number: str
    purpose: str
    agreement: str
    tokens: tuple[tuple[int, bytes], ...]
    #: (kind, bits) of each keyed Bloom filter, relayed to the nodes unread.
    filters: tuple[tuple[int, bytes], ...] = ()
    #: 1: the matching records; 2 or more: sweep that many levels (hub.sweep).
    depth: int = 1

    @classmethod
    def from_proto(cls, req: hub_pb2.SearchRequest) -> SearchQuery:
        check_id("SearchRequest.case_number", req.case_number, CASE)
        check_id("SearchRequest.purpose", req.purpose, PURPOSE)
        check_id("SearchRequest.agreement", req.agreement, AGREEMENT)
        if not req.tokens:
            raise InvalidArgument("SearchRequest.tokens: empty, want at least one token")
        if len(req.tokens) > MAX_TOKENS_PER_QUERY:
            raise InvalidArgument(
                f"SearchRequest.tokens: {len(req.tokens)} tokens, at most {MAX_TOKENS_PER_QUERY}"
            )
        tokens = set()
        for i, token in enumerate(req.tokens):
            if token.kind not in _KINDS:
                raise InvalidArgument(f"SearchRequest.tokens[{i}].kind: got {token.kind}, unknown")
            if len(token.value) != TOKEN_BYTES:
                raise InvalidArgument(
                    f"SearchRequest.tokens[{i}].value: {len(token.value)} bytes, want {TOKEN_BYTES}"
                )
            tokens.add((int(token.kind), bytes(token.value)))
        if len(req.filters) > MAX_FILTERS_PER_QUERY:
            raise InvalidArgument(
                f"SearchRequest.filters: {len(req.filters)} filters, at most {MAX_FILTERS_PER_QUERY}"
            )
        filters = set()
        for i, bloom in enumerate(req.filters):
            if bloom.kind not in FILTER_KINDS:
                raise InvalidArgument(
                    f"SearchRequest.filters[{i}].kind: got {bloom.kind}, want one of "
                    f"{sorted(FILTER_KINDS)} (given name, family name, address)"
                )
            if len(bloom.bits) != FILTER_BYTES:
                raise InvalidArgument(
                    f"SearchRequest.filters[{i}].bits: {len(bloom.bits)} bytes, want {FILTER_BYTES}"
                )
            filters.add((int(bloom.kind), bytes(bloom.bits)))
        if req.depth > MAX_DEPTH:
            raise InvalidArgument(
                f"SearchRequest.depth: got {req.depth}, want 1 to {MAX_DEPTH} (0 means 1)")
        return cls(req.case_number, req.purpose, req.agreement, tuple(sorted(tokens)),
                   tuple(sorted(filters)), max(1, req.depth))

    def to_node_request(
        self, search_id: str, agency: str, limit: int, record_types: Sequence[str],
        updated_after: str = "",
    ) -> node_pb2.MatchTokensRequest:
        return node_pb2.MatchTokensRequest(
            updated_after=updated_after,
            search_id=search_id,
            requesting_agency=agency,
            purpose=self.purpose,
            tokens=[common_pb2.Token(kind=k, value=v) for k, v in self.tokens],  # type: ignore[arg-type]
            max_pointers=limit,
            agreement=self.agreement,
            record_types=sorted(record_types),
            filters=[common_pb2.BloomFilter(kind=k, bits=b) for k, b in self.filters],  # type: ignore[arg-type]
        )


@dataclass(frozen=True, slots=True)
class Pointer:
    """A match pointer as a node returned it, checked before it is passed on."""

    handle: str
    agency: str
    record_type: str
    matched: tuple[int, ...]
    coarse_date: str
    strength: int
    #: (kind, level, basis) of each field that agreed: the match explanation.
    agreements: tuple[tuple[int, int, int], ...] = ()

    @classmethod
    def from_node(cls, msg: common_pb2.MatchPointer, agency: str) -> Pointer:
        """Check a node's pointer; the agency is the node's own, whatever it claimed."""
        if not POINTER_RE.match(msg.handle):
            raise InvalidArgument("pointer.handle: malformed")
        # record_type, coarse_date and matched may be withheld by the agreement.
        if msg.record_type and not RECORD_TYPE_RE.match(msg.record_type):
            raise InvalidArgument("pointer.record_type: malformed")
        if msg.coarse_date and not COARSE_DATE_RE.match(msg.coarse_date):
            raise InvalidArgument("pointer.coarse_date: malformed")
        if msg.strength not in _STRENGTHS:
            raise InvalidArgument("pointer.strength: unknown")
        matched = tuple(sorted(set(msg.matched)))
        if not set(matched) <= _KINDS:
            raise InvalidArgument("pointer.matched: unknown kind")
        # The explanation is closed vocabulary only (enums, bounded count), so a
        # node cannot smuggle anything else through it.
        if len(msg.agreements) > MAX_AGREEMENTS_PER_POINTER:
            raise InvalidArgument("pointer.agreements: too many")
        agreements = []
        for a in msg.agreements:
            if a.kind not in AGREEMENT_KINDS:
                raise InvalidArgument("pointer.agreements.kind: not a comparable field")
            if a.level not in _LEVELS or a.basis not in _BASES:
                raise InvalidArgument("pointer.agreements: unknown level or basis")
            agreements.append((int(a.kind), int(a.level), int(a.basis)))
        if len({kind for kind, _, _ in agreements}) != len(agreements):
            raise InvalidArgument("pointer.agreements: a field named twice")
        return cls(msg.handle, agency, msg.record_type, matched, msg.coarse_date, msg.strength,
                   tuple(agreements))

    def to_proto(self) -> common_pb2.MatchPointer:
        return common_pb2.MatchPointer(
            handle=self.handle,
            agency=self.agency,
            record_type=self.record_type,
            matched=list(self.matched),  # type: ignore[arg-type]
            coarse_date=self.coarse_date,
            strength=self.strength,  # type: ignore[arg-type]
            agreements=[common_pb2.FieldAgreement(kind=k, level=lvl, basis=b)  # type: ignore[arg-type]
                        for k, lvl, b in self.agreements],
        )

    @property
    def rank_key(self) -> tuple[int, int, int, str, str]:
        # Strongest first, then most exact kinds, then most agreeing fields, then most recent.
        return (-self.strength, -len(self.matched), -len(self.agreements),
                _neg_date(self.coarse_date), self.agency)


def _neg_date(coarse: str) -> str:
    # Sort "2026-09" before "2025-01" in ascending order.
    return "".join(chr(ord("9") - ord(c) + ord("0")) if c.isdigit() else c for c in coarse)


@dataclass(frozen=True, slots=True)
class NodeOutcome:
    agency: str
    code: int
    pointers: tuple[Pointer, ...]
    latency_ms: int
    detail: str = ""

    def to_proto(self) -> hub_pb2.NodeStatus:
        return hub_pb2.NodeStatus(
            agency=self.agency,
            code=self.code,  # type: ignore[arg-type]
            pointers=len(self.pointers),
            latency_ms=self.latency_ms,
            detail=self.detail,
        )

    @property
    def status_name(self) -> str:
        name = str(hub_pb2.NodeStatusCode.Name(self.code))
        return name.removeprefix("NODE_STATUS_CODE_").lower()


@dataclass(frozen=True, slots=True)
class SearchResult:
    search_id: str
    agreement: str
    pointers: tuple[Pointer, ...]
    nodes: tuple[NodeOutcome, ...]
    audit_seq: int
    linked: tuple[LinkedPointer, ...] = ()
    notices: tuple[common_pb2.DeconflictionNotice, ...] = ()
    sweep_nodes: tuple[NodeOutcome, ...] = ()

    def to_proto(self) -> hub_pb2.SearchResponse:
        return hub_pb2.SearchResponse(
            search_id=self.search_id,
            pointers=[p.to_proto() for p in self.pointers],
            nodes=[n.to_proto() for n in self.nodes],
            audit_seq=self.audit_seq,
            agreement=self.agreement,
            linked=[p.to_proto() for p in self.linked],
            notices=list(self.notices),
            sweep_nodes=[n.to_proto() for n in self.sweep_nodes],
        )


#: Asks one node; the hub server provides it, bound to a real gRPC stub.
NodeCaller = Callable[[str, node_pb2.MatchTokensRequest, float], Awaitable[node_pb2.MatchTokensResponse]]

_STATUS_FOR_CODE = {
    grpc.StatusCode.UNAVAILABLE: hub_pb2.NODE_STATUS_CODE_UNAVAILABLE,
    grpc.StatusCode.DEADLINE_EXCEEDED: hub_pb2.NODE_STATUS_CODE_TIMED_OUT,
    grpc.StatusCode.PERMISSION_DENIED: hub_pb2.NODE_STATUS_CODE_DENIED,
    grpc.StatusCode.UNAUTHENTICATED: hub_pb2.NODE_STATUS_CODE_DENIED,
}


_Request = TypeVar("_Request")
_Response = TypeVar("_Response")


@dataclass(frozen=True, slots=True)
class NodeCall(Generic[_Response]):
    """What came of one call to a node: its answer, or a status saying why not."""

    agency: str
    response: _Response | None
    code: int
    latency_ms: int
    detail: str = ""

    def outcome(self, pointers: tuple[Pointer, ...] = (), detail: str | None = None,
                code: int | None = None) -> NodeOutcome:
        return NodeOutcome(self.agency, self.code if code is None else code, pointers,
                           self.latency_ms, self.detail if detail is None else detail)


async def call_node(
    caller: Callable[[str, _Request, float], Awaitable[_Response]],
    agency: str,
    request: _Request,
    timeout: float,
) -> NodeCall[_Response]:
    """Call one node under ``timeout``; never raises, a failure becomes a status."""
    started = time.perf_counter()

    def done(response: _Response | None, code: int, detail: str = "") -> NodeCall[_Response]:
        return NodeCall(agency, response, code, int((time.perf_counter() - started) * 1000),
                        detail)

    try:
        # The outer bound holds even if the channel misbehaves (asyncio.timeout,
        # unlike wait_for, makes no task per node call).
        async with asyncio.timeout(timeout + 0.5):
            response = await caller(agency, request, timeout)
    except RemoteError as exc:
        code = _STATUS_FOR_CODE.get(exc.status, hub_pb2.NODE_STATUS_CODE_ERROR)
        # A node's policy denial carries its reasons; other failures only their status.
        # A node's own words: shortened and stripped of control characters.
        detail = (_printable(exc.message[:200]) if code == hub_pb2.NODE_STATUS_CODE_DENIED
                  else exc.status.name.lower())
        return done(None, code, detail)
    except TimeoutError:
        return done(None, hub_pb2.NODE_STATUS_CODE_TIMED_OUT, "deadline_exceeded")
    return done(response, hub_pb2.NODE_STATUS_CODE_OK)


async def ask_node(
    caller: NodeCaller,
    agency: str,
    request: node_pb2.MatchTokensRequest,
    timeout: float,
    limit: int,
) -> NodeOutcome:
    """Ask one node for matches and turn whatever happens into a NodeOutcome; never raises."""
    result = await call_node(caller, agency, request, timeout)
    if result.response is None:
        return result.outcome()
    try:
        # A node that floods pointers gets only `limit` of them passed on, and
        # a malformed pointer makes its whole answer an error, not a partial one.
        pointers = tuple(Pointer.from_node(p, agency) for p in result.response.pointers[:limit])
    except InvalidArgument as exc:
        return result.outcome(code=hub_pb2.NODE_STATUS_CODE_ERROR,
                              detail=f"bad answer: {exc.message}")
    return result.outcome(pointers)


def _printable(text: str) -> str:
    return "".join(c if c.isprintable() else "?" for c in text)


#: A search must carry at least one of these: an identifier specific enough on
#: its own. The rest (name parts, phonetic codes, dates, blocking keys) only
#: refine a search, they cannot be one.
SPECIFIC_KINDS = frozenset({
    common_pb2.IDENTIFIER_KIND_NAME, common_pb2.IDENTIFIER_KIND_NAME_DOB,
    common_pb2.IDENTIFIER_KIND_PHONE, common_pb2.IDENTIFIER_KIND_EMAIL,
    common_pb2.IDENTIFIER_KIND_PLATE, common_pb2.IDENTIFIER_KIND_VIN,
    common_pb2.IDENTIFIER_KIND_ADDRESS,
})


@dataclass(frozen=True, slots=True)
class Authorised:
    """What the search and scope policies allow one search."""

    #: Member nodes in scope, with the record types the search may reach at each.
    scope: dict[str, list[str]]
    #: How deep the agreement lets a search sweep (1: no sweeps).
    max_depth: int = 1
    #: The deconfliction window and this agency's contact route; None: no deconfliction.
    deconfliction: tuple[dt.timedelta, str] | None = None


#: The reasons that say the caller is outside the agreement (or there is none).
OUTSIDER_REASONS = frozenset({"agreement_unknown", "agency_not_member"})


def told_outsider(reasons: Sequence[str]) -> Sequence[str]:
    """The reasons a caller is told: to one outside the agreement, only that.

    Anything more (that the agreement exists, that a purpose is not in it,
    that it has expired) would let a non-member map other agencies'
    agreements by asking. The audit entry keeps every reason.
    """
    return ("agreement_unknown",) if OUTSIDER_REASONS & set(reasons) else reasons


class Searcher:
    """Runs federated searches: the hub's core, free of transport details."""

    def __init__(
        self,
        *,
        members: Sequence[str],
        caller: NodeCaller,
        audit: AuditLog,
        policy: PolicyPoint,
        timeout: float,
        max_pointers_per_node: int,
        remember: Callable[[Connection, Sequence[dict[str, Any]]], None] | None = None,
        sweeper: Sweeper | None = None,
        names: Mapping[str, str] | None = None,
    ) -> None:
        self._remember = remember
        self._members = tuple(members)
        self._caller = caller
        self._audit = audit
        self._policy = policy
        self._timeout = timeout
        self._limit = max_pointers_per_node
        self._sweeper = sweeper
        self._names = dict(names or {})

    def _event(self, event: str, principal: Principal, query: SearchQuery, source: str,
               now: dt.datetime, outcome: str, reasons: tuple[str, ...] = (),
               **details: Any) -> AuditEvent:
        return AuditEvent(
            event=event, time=now, outcome=outcome, actor=principal.subject,
            agency=principal.agency, roles=tuple(principal.roles), source=source,
            purpose=query.purpose, case=query.case_number, reasons=reasons,
            details={"agreement": query.agreement, "token_digest": tokens_digest(query.tokens),
                     **details},
        )

    async def _deny(self, principal: Principal, query: SearchQuery, source: str,
                    now: dt.datetime, reasons: tuple[str, ...], message: str,
                    event: str = "search_denied") -> PermissionDenied:
        await asyncio.to_thread(self._audit.append, self._event(
            event, principal, query, source, now, "denied", reasons))
        return PermissionDenied(message, reasons=reasons)

    async def authorise(
        self, principal: Principal, query: SearchQuery, source: str, now: dt.datetime,
        *, denied_event: str = "search_denied",
    ) -> Authorised:
        """The search and scope decisions: nodes in scope with their record types.

        A denial is audited (as ``denied_event``) with its reasons and raised as
        PermissionDenied whose message carries the reasons to the investigator.
        """
        if not {kind for kind, _ in query.tokens} & SPECIFIC_KINDS:
            # Minimum specificity: a surname, a phonetic code or a birth year
            # alone would let anyone fish through every agency's index.
            raise await self._deny(principal, query, source, now, ("query_not_specific",),
                                   "search denied: query_not_specific (give a full name, "
                                   "a phone, an email, a plate, a VIN or an address)",
                                   denied_event)
        common = {"agreement": query.agreement, "purpose": query.purpose,
                  "now": now.date().isoformat()}
        decision = await self._policy.decide(SEARCH, {
            **common, "case_number": query.case_number,
            "principal": {"subject": principal.subject, "agency": principal.agency,
                          "roles": sorted(principal.roles)},
        })
        if decision.allow:
            max_depth = decision.result.get("max_depth", 1)
            if not isinstance(max_depth, int) or isinstance(max_depth, bool):
                max_depth = 1  # a malformed answer allows no sweep
            if query.depth > max_depth:
                raise await self._deny(
                    principal, query, source, now, ("depth_exceeds_agreement",),
                    f"search denied: depth {query.depth} is deeper than agreement "
                    f"{query.agreement!r} allows ({max_depth})", denied_event)
            scope = await self._policy.decide(SCOPE, {**common,
                                                      "requesting_agency": principal.agency})
            nodes = scope.result.get("nodes") if scope.allow else None
            if isinstance(nodes, dict):
                return Authorised(
                    {a: list(v.get("record_types", [])) for a, v in nodes.items()
                     if isinstance(v, dict) and a in self._members},
                    max_depth, _deconfliction(decision.result.get("deconfliction")))
            decision = Decision.deny(*(scope.reasons or ("policy_malformed",)))
        raise await self._deny(
            principal, query, source, now, decision.reasons,
            f"search denied under agreement {query.agreement!r}: "
            f"{', '.join(told_outsider(decision.reasons))}", denied_event)

    async def fan_out(self, search_id: str, agency: str, query: SearchQuery,
                      scope: Mapping[str, Sequence[str]], updated_after: str = ""
                      ) -> list[NodeOutcome]:
        """Ask every node in ``scope`` at once; one outcome per node, never raises."""
        return list(await asyncio.gather(*(
            ask_node(self._caller, owner,
                     query.to_node_request(search_id, agency, self._limit, scope[owner],
                                           updated_after),
                     self._timeout, self._limit)
            for owner in sorted(scope)
        )))

    async def search(
        self, principal: Principal, query: SearchQuery, source: str, now: dt.datetime
    ) -> SearchResult:
        """Decide, fan out, sweep, merge, audit, and return the result."""
        started = time.perf_counter()
        allowed = await self.authorise(principal, query, source, now)
        scope = allowed.scope
        search_id = uuid.uuid4().hex
        outcomes = await self.fan_out(search_id, principal.agency, query, scope)
        # Members the policy kept out of scope are reported, not asked.
        outcomes += [NodeOutcome(a, hub_pb2.NODE_STATUS_CODE_DENIED, (), 0, "out of scope")
                     for a in self._members if a not in scope and a != principal.agency]
        pointers = tuple(sorted((p for o in outcomes for p in o.pointers), key=lambda p: p.rank_key))
        linked: tuple[LinkedPointer, ...] = ()
        sweep_nodes: tuple[NodeOutcome, ...] = ()
        levels: tuple[dict[str, Any], ...] = ()
        if query.depth > 1 and self._sweeper is not None:
            swept = await self._sweeper.sweep(search_id=search_id, agency=principal.agency,
                                              query=query, scope=scope, first=pointers,
                                              depth=query.depth)
            linked, sweep_nodes, levels = swept.linked, swept.nodes, swept.levels
        event = self._event(
            "search", principal, query, source, now, "ok",
            search_id=search_id,
            token_kinds=sorted({str(common_pb2.IdentifierKind.Name(k))
                                for k, _ in query.tokens}),
            nodes={o.agency: {"status": o.status_name, "pointers": len(o.pointers),
                              "latency_ms": o.latency_ms, "detail": o.detail} for o in outcomes},
            pointers=len(pointers),
            depth=query.depth,
            duration_ms=round((time.perf_counter() - started) * 1000, 2),
        )
        sweeps = [self._event("sweep", principal, query, source, now, "ok",
                              search_id=search_id, **level) for level in levels]
        everything = [*pointers, *(lp.pointer for lp in linked)]
        rows = [{"handle": p.handle, "owner": p.agency, "record_type": p.record_type,
                 "requesting_agency": principal.agency, "requester": principal.subject,
                 "agreement": query.agreement, "search_id": search_id, "created_at": now}
                for p in everything]
        me = SearchParty(principal.agency, principal.subject, query.case_number, search_id,
                         allowed.deconfliction[1] if allowed.deconfliction else "", now)

        def record(tx: AuditTransaction) -> tuple[int, list[common_pb2.DeconflictionNotice]]:
            # One durable commit: the search's entry, one entry per sweep
            # level, each pointer bound to the investigator who received it
            # (only they may ask for its release), and deconfliction.
            seq = tx.append(event).seq
            for sweep_event in sweeps:
                tx.append(sweep_event)
            if self._remember is not None:
                self._remember(tx.conn, rows)
            notices = []
            if allowed.deconfliction is not None:
                notices = self._deconflict(tx, principal, query, source, now, me,
                                           allowed.deconfliction[0])
            return seq, notices

        # Group commit: concurrent searches share one transaction and one fsync.
        seq, notices = await self._audit.commit(record)
        return SearchResult(search_id, query.agreement, pointers, tuple(outcomes), seq,
                            linked, tuple(notices), sweep_nodes)

    def _deconflict(self, tx: AuditTransaction, principal: Principal, query: SearchQuery,
                    source: str, now: dt.datetime, me: SearchParty, window: dt.timedelta,
                    ) -> list[common_pb2.DeconflictionNotice]:
        """Find other agencies' searches of the same subject; audit and notify both sides."""
        overlaps = deconflict(tx.conn, agreement=query.agreement, me=me, tokens=query.tokens,
                              window=window)
        if not overlaps:
            return []
        entry = tx.append(self._event(
            "deconfliction", principal, query, source, now, "ok", search_id=me.search_id,
            overlaps=[{"agency": o.other.agency, "search_id": o.other.search_id,
                       "kinds": [str(common_pb2.IdentifierKind.Name(k))
                                 for k in o.kinds]} for o in overlaps]))
        for overlap in overlaps:
            # The other investigator learns of this search, with this agency's contact.
            add_notification(
                tx.conn, agency=overlap.other.agency, recipient=overlap.other.actor,
                kind=hub_pb2.NOTIFICATION_KIND_DECONFLICTION, now=now,
                case_number=overlap.other.case_number, audit_seq=entry.seq,
                body=notice_body(notice_for(me, overlap.kinds, self._names)))
        return [o.notice(self._names) for o in overlaps]


def _deconfliction(value: Any) -> tuple[dt.timedelta, str] | None:
    """The search decision's deconfliction terms, or None when it has none (or malformed)."""
    if not isinstance(value, dict):
        return None
    days, contact = value.get("window_days"), value.get("contact")
    if (not isinstance(days, int) or isinstance(days, bool) or days <= 0
            or not isinstance(contact, str) or not contact):
        return None
    return dt.timedelta(days=days), contact
