"""Second-level sweeps at the hub: follow the identifiers in matched records, blind.

A search with ``depth`` 2 goes on after its first-level pointers are in. For
each level:

1. **Pivot.** The hub asks each node that holds records of the previous level
   for keyed tokens of the other identifiers in them (phones, emails, plates,
   VINs, addresses, the names and birth dates of the other people). The node
   decides what it may pivot on (:mod:`node.sweep`); the hub receives tokens,
   which it cannot read, tied to the pointer whose record holds them.
2. **Look up.** The hub drops tokens the search has already used (a cycle
   back to an identifier it started from), keeps at most ``tokens_per_level``
   (from the strongest pointers first), and asks every node in scope to look
   each one up on its own. A node never points again to a record already
   pointed to in this search, so a record reached twice is reported once.
3. **Link.** Each new pointer carries every path that led to it: the pointer
   one level up and the *kind* of identifier they share, never its value.

Every level is one audit entry (``sweep``) in the same durable commit as the
search's own entry: which nodes pivoted, how many tokens of which kinds (and
their digest), which nodes answered with how many pointers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from accord.errors import InvalidArgument
from accord.tokens import TOKEN_BYTES, tokens_digest
from accord.v1 import common_pb2, hub_pb2, node_pb2
from hub.search import NodeCall, NodeOutcome, Pointer, SearchQuery, call_node

#: Token kinds a pivot may return: identifiers specific enough to follow.
SWEEP_KINDS = frozenset({
    common_pb2.IDENTIFIER_KIND_NAME_DOB, common_pb2.IDENTIFIER_KIND_PHONE,
    common_pb2.IDENTIFIER_KIND_EMAIL, common_pb2.IDENTIFIER_KIND_ADDRESS,
    common_pb2.IDENTIFIER_KIND_PLATE, common_pb2.IDENTIFIER_KIND_VIN,
})

PivotCaller = Callable[[str, node_pb2.PivotRequest, float], Awaitable[node_pb2.PivotResponse]]
LookupCaller = Callable[[str, node_pb2.SweepTokensRequest, float],
                        Awaitable[node_pb2.SweepTokensResponse]]


@dataclass(frozen=True, slots=True)
class SweepLimits:
    """How far one sweep level may fan out."""

    #: Pointers of the previous level one node is asked to pivot on.
    handles_per_node: int = 25
    #: Tokens one level looks up (the strongest pointers' first).
    tokens_per_level: int = 64
    #: Pointers one node may answer one lookup with.
    pointers_per_node: int = 100


@dataclass(frozen=True, slots=True)
class Link:
    """One step of a path: the pointer one level up and the kind of identifier shared."""

    via_pointer: str
    via_agency: str
    kind: int

    def to_proto(self) -> common_pb2.LinkPath:
        return common_pb2.LinkPath(via_pointer=self.via_pointer, via_agency=self.via_agency,
                                   kind=self.kind)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class LinkedPointer:
    pointer: Pointer
    depth: int
    paths: tuple[Link, ...]

    def to_proto(self) -> common_pb2.LinkedPointer:
        return common_pb2.LinkedPointer(pointer=self.pointer.to_proto(), depth=self.depth,
                                        paths=[p.to_proto() for p in self.paths])


@dataclass(frozen=True, slots=True)
class SweepResult:
    linked: tuple[LinkedPointer, ...] = ()
    #: One status per node call, pivots and lookups, every level.
    nodes: tuple[NodeOutcome, ...] = ()
    #: One audit record per level (details of a ``sweep`` entry).
    levels: tuple[dict[str, Any], ...] = field(default_factory=tuple)


class Sweeper:
    """Runs the levels of a sweep below a search's first level."""

    def __init__(self, *, pivot: PivotCaller, lookup: LookupCaller, timeout: float,
                 limits: SweepLimits = SweepLimits()) -> None:
        self._pivot = pivot
        self._lookup = lookup
        self._timeout = timeout
        self._limits = limits

    async def sweep(
        self,
        *,
        search_id: str,
        agency: str,
        query: SearchQuery,
        scope: Mapping[str, Sequence[str]],
        first: Sequence[Pointer],
        depth: int,
    ) -> SweepResult:
        """Follow ``first`` (the search's ranked pointers) down to ``depth``."""
        used = {(k, v) for k, v in query.tokens}
        frontier: Sequence[Pointer] = first
        linked: list[LinkedPointer] = []
        statuses: list[NodeOutcome] = []
        levels: list[dict[str, Any]] = []
        for level in range(2, depth + 1):
            if not frontier:
                break
            links, pivot_calls = await self._pivots(search_id, agency, query, frontier, level)
            statuses += [call.outcome(detail=f"level {level} pivot" + (
                f": {call.detail}" if call.detail else "")) for call in pivot_calls]
            fresh = [t for t in links if t not in used]
            tokens = fresh[: self._limits.tokens_per_level]
            used.update(tokens)
            record: dict[str, Any] = {
                "level": level,
                "pivots": {c.agency: _status_name(c.code) for c in pivot_calls},
                "tokens": len(tokens),
                "dropped_tokens": len(links) - len(tokens),
                "token_kinds": sorted({str(common_pb2.IdentifierKind.Name(k))
                                       for k, _ in tokens}),
                "token_digest": tokens_digest(tokens),
            }
            if not tokens:
                levels.append({**record, "nodes": {}, "pointers": 0})
                break
            found, lookups = await self._lookups(search_id, agency, query, scope, tokens, level)
            statuses += lookups
            level_pointers = []
            for pointer, indexes in found:
                paths = tuple(dict.fromkeys(
                    link for i in indexes for link in links[tokens[i]]))
                linked.append(LinkedPointer(pointer, level, paths))
                level_pointers.append(pointer)
            record["nodes"] = {o.agency: {"status": o.status_name, "pointers": len(o.pointers),
                                          "latency_ms": o.latency_ms} for o in lookups}
            record["pointers"] = len(level_pointers)
            levels.append(record)
            frontier = level_pointers
        return SweepResult(tuple(linked), tuple(statuses), tuple(levels))

    async def _pivots(
        self, search_id: str, agency: str, query: SearchQuery, frontier: Sequence[Pointer],
        level: int,
    ) -> tuple[dict[tuple[int, bytes], list[Link]], list[NodeCall[node_pb2.PivotResponse]]]:
        """Ask each owner of ``frontier`` records for pivot tokens; token -> the links to it.

        The dict keeps the order of the strongest pointer that yielded each token.
        """
        by_owner: dict[str, list[str]] = {}
        for pointer in frontier:
            handles = by_owner.setdefault(pointer.agency, [])
            if len(handles) < self._limits.handles_per_node:
                handles.append(pointer.handle)
        calls = await asyncio.gather(*(
            call_node(self._pivot, owner, node_pb2.PivotRequest(
                search_id=search_id, requesting_agency=agency, purpose=query.purpose,
                agreement=query.agreement, handles=handles,
                max_tokens=self._limits.tokens_per_level), self._timeout)
            for owner, handles in by_owner.items()))
        found: dict[str, list[tuple[int, bytes]]] = {}
        checked = []
        for call in calls:
            if call.response is None:
                checked.append(call)
                continue
            try:
                for handle, token in _check_pivots(call.response, by_owner[call.agency]):
                    found.setdefault(f"{call.agency}\0{handle}", []).append(token)
            except InvalidArgument as exc:
                # A malformed answer counts for nothing, not for part.
                for key in [k for k in found if k.startswith(call.agency + "\0")]:
                    del found[key]
                call = NodeCall(call.agency, None, hub_pb2.NODE_STATUS_CODE_ERROR,
                                call.latency_ms, f"bad answer: {exc.message}")
            checked.append(call)
        links: dict[tuple[int, bytes], list[Link]] = {}
        for pointer in frontier:  # strongest first
            for token in found.get(f"{pointer.agency}\0{pointer.handle}", ()):
                links.setdefault(token, []).append(Link(pointer.handle, pointer.agency, token[0]))
        return links, checked

    async def _lookups(
        self, search_id: str, agency: str, query: SearchQuery,
        scope: Mapping[str, Sequence[str]], tokens: Sequence[tuple[int, bytes]], level: int,
    ) -> tuple[list[tuple[Pointer, tuple[int, ...]]], list[NodeOutcome]]:
        limit = self._limits.pointers_per_node
        proto_tokens = [common_pb2.Token(kind=k, value=v) for k, v in tokens]  # type: ignore[arg-type]
        calls = await asyncio.gather(*(
            call_node(self._lookup, owner, node_pb2.SweepTokensRequest(
                search_id=search_id, requesting_agency=agency, purpose=query.purpose,
                agreement=query.agreement, record_types=sorted(scope[owner]),
                tokens=proto_tokens, max_pointers=limit), self._timeout)
            for owner in sorted(scope)))
        found: list[tuple[Pointer, tuple[int, ...]]] = []
        outcomes = []
        for call in calls:
            detail = f"level {level} lookup"
            if call.response is None:
                outcomes.append(call.outcome(detail=f"{detail}: {call.detail}"))
                continue
            try:
                hits = [(Pointer.from_node(hit.pointer, call.agency),
                         _check_indexes(hit.tokens, len(tokens)))
                        for hit in call.response.hits[:limit]]
            except InvalidArgument as exc:
                outcomes.append(call.outcome(code=hub_pb2.NODE_STATUS_CODE_ERROR,
                                             detail=f"{detail}: bad answer: {exc.message}"))
                continue
            found += hits
            outcomes.append(call.outcome(tuple(p for p, _ in hits), detail=detail))
        found.sort(key=lambda hit: hit[0].rank_key)
        return found, outcomes


def _check_pivots(response: node_pb2.PivotResponse, asked: Sequence[str]
                  ) -> list[tuple[str, tuple[int, bytes]]]:
    """A node's pivot tokens, checked: only for handles asked, of followable kinds."""
    allowed = set(asked)
    out = []
    for i, item in enumerate(response.tokens):
        if item.handle not in allowed:
            raise InvalidArgument(f"tokens[{i}].handle: not one the hub asked about")
        if item.token.kind not in SWEEP_KINDS:
            raise InvalidArgument(f"tokens[{i}].kind: not an identifier a sweep follows")
        if len(item.token.value) != TOKEN_BYTES:
            raise InvalidArgument(f"tokens[{i}].value: want {TOKEN_BYTES} bytes")
        out.append((item.handle, (int(item.token.kind), bytes(item.token.value))))
    return out


def _check_indexes(indexes: Sequence[int], count: int) -> tuple[int, ...]:
    if not indexes or any(i >= count for i in indexes):
        raise InvalidArgument("hit.tokens: want indexes of the tokens asked")
    return tuple(sorted(set(indexes)))


def _status_name(code: int) -> str:
    return str(hub_pb2.NodeStatusCode.Name(code)).removeprefix(
        "NODE_STATUS_CODE_").lower()
