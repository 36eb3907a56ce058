"""Answering token-match requests: which of our records match, as pointers.

Domain logic over :class:`node.store.NodeStore`; the gRPC adapter is in
:mod:`node.server`. The node asks its *own* policy point (its copy of the
agreements plus its agency's local rules) which record types and labels the
requesting agency may see pointers to, and what a pointer may carry, so the
index it exposes is filtered by its own rules and not only by the hub's.

A pointer carries at most the record type, a coarse date (month), which kinds
of identifier matched and a strength; never record content and never the
agency's own record id.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass

from accord.errors import InvalidArgument, PermissionDenied
from accord.policy.engine import POINTER, Decision, PolicyPoint
from accord.tokens import MAX_TOKENS_PER_QUERY, TOKEN_BYTES
from accord.v1 import common_pb2, node_pb2
from node.store import Match, NodeStore
from node.tokens import Kind, Token

#: Never pointed to, whatever a policy says.
ALWAYS_EXCLUDED = frozenset({"sealed"})
_UNIQUE = frozenset({Kind.PHONE, Kind.EMAIL, Kind.PLATE, Kind.VIN})
_SEARCH_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_AGENCY_RE = re.compile(r"^[a-z][a-z0-9_]{1,62}$")


def strength(kinds: frozenset[Kind]) -> int:
    """How strongly a record matched, from the kinds of identifier that agreed.

    * strong: name with date of birth, or two or more kinds of identifier;
    * probable: one unique identifier (phone, email, plate, VIN);
    * possible: a name alone, or an address alone.
    """
    if Kind.NAME_DOB in kinds or len(kinds) >= 2:
        return common_pb2.MATCH_STRENGTH_STRONG
    if kinds & _UNIQUE:
        return common_pb2.MATCH_STRENGTH_PROBABLE
    return common_pb2.MATCH_STRENGTH_POSSIBLE


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

    @classmethod
    def from_proto(cls, req: node_pb2.MatchTokensRequest, default_max: int) -> MatchQuery:
        if not _SEARCH_ID_RE.match(req.search_id):
            raise InvalidArgument("MatchTokensRequest.search_id: malformed")
        if not _AGENCY_RE.match(req.requesting_agency):
            raise InvalidArgument("MatchTokensRequest.requesting_agency: malformed")
        if not req.purpose:
            raise InvalidArgument("MatchTokensRequest.purpose: empty")
        if not req.agreement:
            raise InvalidArgument("MatchTokensRequest.agreement: empty")
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
        limit = min(req.max_pointers or default_max, default_max)
        return cls(req.search_id, req.requesting_agency, req.purpose, req.agreement,
                   tuple(tokens), limit, frozenset(req.record_types))


class Matcher:
    """Finds matching records the node's policy lets it point to, and issues pointers."""

    def __init__(self, store: NodeStore, agency: str, policy: PolicyPoint) -> None:
        self._store = store
        self._agency = agency
        self._policy = policy

    async def scope(self, query: MatchQuery, now: dt.datetime) -> Decision:
        """The node's own pointer decision for this request; raises when denied."""
        decision = await self._policy.decide(POINTER, {
            "agreement": query.agreement,
            "purpose": query.purpose,
            "requesting_agency": query.requesting_agency,
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
        # Ask for one more than allowed, to know whether the answer is truncated.
        found = self._store.match(
            query.tokens, limit=query.max_pointers + 1,
            exclude_labels=exclude_labels, record_types=record_types,
        )
        found.sort(key=lambda m: (-strength(m.kinds), -len(m.kinds), -m.occurred_on.toordinal()))
        truncated = len(found) > query.max_pointers
        chosen: Sequence[Match] = found[: query.max_pointers]
        handles = self._store.issue_pointers(
            [m.record_id for m in chosen], query.requesting_agency, query.search_id, now
        )
        pointers = []
        for handle, m in zip(handles, chosen, strict=True):
            pointer = common_pb2.MatchPointer(
                handle=handle, agency=self._agency, strength=strength(m.kinds),  # type: ignore[arg-type]
            )
            # Only what the agreement lets a pointer carry.
            if "record_type" in fields:
                pointer.record_type = m.record_type.value
            if "coarse_date" in fields:
                pointer.coarse_date = m.occurred_on.strftime("%Y-%m")
            if "matched" in fields:
                pointer.matched.extend(sorted(int(k) for k in m.kinds))
            pointers.append(pointer)
        return pointers, truncated
