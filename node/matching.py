"""Answering token-match requests: which of our records match, as pointers.

Domain logic over :class:`node.store.NodeStore`; the gRPC adapter is in
:mod:`node.server`. The node asks its *own* policy point (its copy of the
agreements plus its agency's local rules) which record types and labels the
requesting agency may see pointers to, and what a pointer may carry, so the
index it exposes is filtered by its own rules and not only by the hub's.

Candidates are the records indexed under any exact token or blocking key of
the query; each is scored by :mod:`node.scoring` (Fellegi–Sunter weights over
keyed field encodings and Bloom filters) and pointed to only when its score
reaches the threshold. A pointer carries at most the record type, a coarse
date (month), which kinds of exact token matched, which fields agreed
(exactly or approximately, and why) and a strength; never record content and
never the agency's own record id.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from accord.errors import InvalidArgument, PermissionDenied
from accord.ids import AGENCY, AGREEMENT, PURPOSE, SEARCH_ID, check_id
from accord.policy.engine import POINTER, Decision, PolicyPoint
from accord.times import parse_rfc3339
from accord.tokens import (
    FILTER_BYTES,
    FILTER_KINDS,
    MAX_FILTERS_PER_QUERY,
    MAX_TOKENS_PER_QUERY,
    TOKEN_BYTES,
)
from accord.v1 import common_pb2, node_pb2
from node import scoring
from node.encodings import INDEX_KINDS, Profile
from node.store import Match, NodeStore
from node.tokens import Kind, Token

#: Never pointed to, whatever a policy says.
ALWAYS_EXCLUDED = frozenset({"sealed"})
#: The most candidate records one query scores (the most specific first).
MAX_CANDIDATES = 2000


def strength(kinds: frozenset[Kind]) -> int:
    """How strongly a record matched on exact tokens alone (see scoring.legacy_strength)."""
    return scoring.legacy_strength(kinds)


@dataclass(frozen=True, slots=True)
class Scored:
    """A candidate that reached the threshold."""

    match: Match
    comparison: scoring.Comparison
    strength: int

    @property
    def exact_kinds(self) -> list[int]:
        return sorted(int(k) for k in self.match.kinds if k is not Kind.BLOCKING_KEY)


@dataclass(frozen=True, slots=True)
class MatchQuery:
    """A validated MatchTokensRequest."""

    search_id: str
    requesting_agency: str
    purpose: str
    agreement: str
    tokens: tuple[Token, ...]
    max_pointers: int
    #: In scope per the hub's policy; empty means "not narrowed by the hub".
    record_types: frozenset[str]
    filters: tuple[tuple[Kind, bytes], ...] = ()
    #: Only records ingested or changed after this (a watch's check).
    updated_after: dt.datetime | None = None

    @property
    def is_watch(self) -> bool:
        return self.updated_after is not None

    @property
    def lookup_tokens(self) -> tuple[Token, ...]:
        """The tokens looked up in the index: exact tokens and blocking keys."""
        return tuple(t for t in self.tokens if t.kind in INDEX_KINDS)

    @property
    def profile(self) -> Profile:
        """The query's field encodings, as the scorer compares them."""
        return Profile.from_query(self.tokens, self.filters)

    @classmethod
    def from_proto(cls, req: node_pb2.MatchTokensRequest, default_max: int) -> MatchQuery:
        check_id("MatchTokensRequest.search_id", req.search_id, SEARCH_ID)
        check_id("MatchTokensRequest.requesting_agency", req.requesting_agency, AGENCY)
        check_id("MatchTokensRequest.purpose", req.purpose, PURPOSE)
        check_id("MatchTokensRequest.agreement", req.agreement, AGREEMENT)
        if not req.tokens or len(req.tokens) > MAX_TOKENS_PER_QUERY:
            raise InvalidArgument(
                f"MatchTokensRequest.tokens: {len(req.tokens)} tokens, "
                f"want 1 to {MAX_TOKENS_PER_QUERY}"
            )
        tokens = []
        for i, t in enumerate(req.tokens):
            try:
                kind = Kind(t.kind)
            except ValueError:
                raise InvalidArgument(
                    f"MatchTokensRequest.tokens[{i}].kind: got {t.kind}, unknown"
                ) from None
            if len(t.value) != TOKEN_BYTES:
                raise InvalidArgument(
                    f"MatchTokensRequest.tokens[{i}].value: {len(t.value)} bytes, "
                    f"want {TOKEN_BYTES}"
                )
            tokens.append(Token(kind, bytes(t.value)))
        if len(req.filters) > MAX_FILTERS_PER_QUERY:
            raise InvalidArgument(
                f"MatchTokensRequest.filters: {len(req.filters)} filters, "
                f"at most {MAX_FILTERS_PER_QUERY}"
            )
        filters = []
        for i, f in enumerate(req.filters):
            if f.kind not in FILTER_KINDS:
                raise InvalidArgument(
                    f"MatchTokensRequest.filters[{i}].kind: got {f.kind}, want a name or address kind"
                )
            if len(f.bits) != FILTER_BYTES:
                raise InvalidArgument(
                    f"MatchTokensRequest.filters[{i}].bits: {len(f.bits)} bytes, want {FILTER_BYTES}"
                )
            filters.append((Kind(f.kind), bytes(f.bits)))
        limit = min(req.max_pointers or default_max, default_max)
        updated_after = None
        if req.updated_after:
            updated_after = parse_rfc3339(req.updated_after, "MatchTokensRequest.updated_after")
        return cls(req.search_id, req.requesting_agency, req.purpose, req.agreement,
                   tuple(tokens), limit, frozenset(req.record_types), tuple(filters),
                   updated_after)


class Matcher:
    """Finds matching records the node's policy lets it point to, and issues pointers."""

    def __init__(self, store: NodeStore, agency: str, policy: PolicyPoint) -> None:
        self._store = store
        self._agency = agency
        self._policy = policy

    @property
    def agency(self) -> str:
        """The agency whose records this node holds."""
        return self._agency

    async def scope(self, query: MatchQuery, now: dt.datetime) -> Decision:
        """The node's own pointer decision for this request; raises when denied."""
        return await self.decide(query.agreement, query.purpose, query.requesting_agency, now)

    async def decide(self, agreement: str, purpose: str, requesting_agency: str,
                     now: dt.datetime) -> Decision:
        """The node's own pointer decision (what it may point to, and what a
        sweep may follow); raises PermissionDenied when denied."""
        decision = await self._policy.decide(POINTER, {
            "agreement": agreement,
            "purpose": purpose,
            "requesting_agency": requesting_agency,
            "owner": self._agency,
            "now": now.date().isoformat(),
        })
        if not decision.allow:
            raise PermissionDenied(
                f"{self._agency} policy denies pointers: {', '.join(decision.reasons)}",
                reasons=decision.reasons,
            )
        return decision

    async def match(
        self, query: MatchQuery, now: dt.datetime
    ) -> tuple[list[common_pb2.MatchPointer], bool]:
        """Pointers for the records matching ``query``, and whether more matched."""
        decision = await self.scope(query, now)
        record_types = frozenset(decision.result.get("record_types", ()))
        if query.record_types:
            record_types &= query.record_types
        fields = frozenset(decision.result.get("fields", ()))
        return await asyncio.to_thread(
            self._match, query, now, record_types,
            frozenset(decision.result.get("exclude_labels", ())) | ALWAYS_EXCLUDED, fields,
        )

    def _match(
        self,
        query: MatchQuery,
        now: dt.datetime,
        record_types: frozenset[str],
        exclude_labels: frozenset[str],
        fields: frozenset[str],
    ) -> tuple[list[common_pb2.MatchPointer], bool]:
        if not record_types:
            return [], False
        candidates = self._store.match(
            query.lookup_tokens, limit=MAX_CANDIDATES,
            exclude_labels=exclude_labels, record_types=record_types,
            agreement=query.agreement, updated_after=query.updated_after,
        )
        found = score_candidates(query.profile, candidates)
        truncated = len(found) > query.max_pointers
        chosen: Sequence[Scored] = found[: query.max_pointers]
        # A watch is checked again and again under one id: a record it found
        # before keeps its handle, so the hub can tell it is not new.
        handles = self._store.issue_pointers(
            [s.match.record_id for s in chosen], query.requesting_agency, query.search_id, now,
            reuse=query.is_watch,
        )
        pointers = []
        for handle, scored in zip(handles, chosen, strict=True):
            m = scored.match
            pointer = common_pb2.MatchPointer(
                handle=handle, agency=self._agency, strength=scored.strength,  # type: ignore[arg-type]
            )
            # Only what the agreement lets a pointer carry.
            if "record_type" in fields:
                pointer.record_type = m.record_type.value
            if "coarse_date" in fields:
                pointer.coarse_date = f"{m.occurred_on.year:04d}-{m.occurred_on.month:02d}"
            if "matched" in fields:
                pointer.matched.extend(scored.exact_kinds)
                pointer.agreements.extend(scored.comparison.to_proto())
            pointers.append(pointer)
        return pointers, truncated


def score_candidates(query: Profile, candidates: Sequence[Match]) -> list[Scored]:
    """The candidates whose score reaches the threshold, strongest first.

    Ties go to the higher score, then the more recent record.
    """
    scored = []
    for m in candidates:
        comparison = scoring.compare_record(
            query, [Profile.from_bytes(blob) for _, blob in m.profiles], m.kinds)
        if comparison is None:
            continue
        level = scoring.strength(comparison.score, m.kinds)
        if level != common_pb2.MATCH_STRENGTH_UNSPECIFIED:
            scored.append(Scored(m, comparison, level))
    scored.sort(key=lambda s: (-s.strength, -s.comparison.score,
                               -s.match.occurred_on.toordinal(), s.match.record_id))
    return scored
