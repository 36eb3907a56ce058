"""Sweeps at the node: pivot tokens from records it pointed to, and exact lookups of them.

A second-level sweep follows the *other* identifiers in the records a search
found: the phone in a call for service that matched a name, the plate in an
incident that matched a phone. The hub never sees those identifiers. It asks
the node that holds a matched record to **pivot**: the node derives keyed
tokens (the same HMAC tokens its index holds) of the identifiers in that
record, as far as its own policy lets it, and hands back only tokens. The hub
then asks every node in scope to **look up** those tokens, each on its own, so
an answer says which token (and so which earlier record) led to which record.

What a node pivots on is its decision, not the hub's: the pointer policy's
``pivot_kinds`` (the agreement's ``pivot_on`` for this member; none unless it
says so) and ``pivot_withhold`` (the release withholding rules for this
purpose: a sweep never follows an identifier a release would withhold, such as
a victim's phone). A node pivots only on records it pointed to in that same
search, for that same requesting agency, and a lookup never points again to a
record already pointed to in the search, which is what ends cycles.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from accord.errors import InvalidArgument, InvalidRecord
from accord.ids import AGENCY, AGREEMENT, POINTER_RE, PURPOSE, SEARCH_ID, check_id
from accord.sealing import withhold
from accord.tokens import MAX_TOKENS_PER_QUERY, TOKEN_BYTES
from accord.v1 import common_pb2, node_pb2
from node import scoring
from node.matching import ALWAYS_EXCLUDED, Matcher
from node.records import Person, Record
from node.store import NodeStore
from node.tokens import Keyring, Kind, Token, TokenKeys, identifier_values

#: The agreement's names for what a sweep may follow, and the token kind of each.
PIVOT_KINDS: dict[str, Kind] = {
    "person": Kind.NAME_DOB,
    "phone": Kind.PHONE,
    "email": Kind.EMAIL,
    "address": Kind.ADDRESS,
    "plate": Kind.PLATE,
    "vin": Kind.VIN,
}
#: The token kinds a sweep lookup accepts.
SWEEP_KINDS = frozenset(PIVOT_KINDS.values())
#: The most handles one pivot request may name.
MAX_PIVOT_HANDLES = 100


def _check_common(name: str, search_id: str, requesting_agency: str, purpose: str,
                  agreement: str) -> None:
    check_id(f"{name}.search_id", search_id, SEARCH_ID)
    check_id(f"{name}.requesting_agency", requesting_agency, AGENCY)
    check_id(f"{name}.purpose", purpose, PURPOSE)
    check_id(f"{name}.agreement", agreement, AGREEMENT)


@dataclass(frozen=True, slots=True)
class PivotQuery:
    """A validated PivotRequest."""

    search_id: str
    requesting_agency: str
    purpose: str
    agreement: str
    handles: tuple[str, ...]
    max_tokens: int

    @classmethod
    def from_proto(cls, req: node_pb2.PivotRequest) -> PivotQuery:
        _check_common("PivotRequest", req.search_id, req.requesting_agency, req.purpose,
                      req.agreement)
        if not req.handles or len(req.handles) > MAX_PIVOT_HANDLES:
            raise InvalidArgument(
                f"PivotRequest.handles: {len(req.handles)} handles, want 1 to {MAX_PIVOT_HANDLES}")
        for i, handle in enumerate(req.handles):
            if not POINTER_RE.match(handle):
                raise InvalidArgument(f"PivotRequest.handles[{i}]: malformed")
        limit = min(req.max_tokens or MAX_TOKENS_PER_QUERY, MAX_TOKENS_PER_QUERY)
        return cls(req.search_id, req.requesting_agency, req.purpose, req.agreement,
                   tuple(dict.fromkeys(req.handles)), limit)


@dataclass(frozen=True, slots=True)
class SweepQuery:
    """A validated SweepTokensRequest."""

    search_id: str
    requesting_agency: str
    purpose: str
    agreement: str
    record_types: frozenset[str]
    tokens: tuple[Token, ...]
    max_pointers: int

    @classmethod
    def from_proto(cls, req: node_pb2.SweepTokensRequest, default_max: int) -> SweepQuery:
        _check_common("SweepTokensRequest", req.search_id, req.requesting_agency, req.purpose,
                      req.agreement)
        if not req.tokens or len(req.tokens) > MAX_TOKENS_PER_QUERY:
            raise InvalidArgument(f"SweepTokensRequest.tokens: {len(req.tokens)} tokens, "
                                  f"want 1 to {MAX_TOKENS_PER_QUERY}")
        tokens = []
        for i, t in enumerate(req.tokens):
            if t.kind not in SWEEP_KINDS:
                raise InvalidArgument(
                    f"SweepTokensRequest.tokens[{i}].kind: got {t.kind}, want an identifier "
                    "a sweep can follow (name with date of birth, phone, email, address, "
                    "plate, VIN)")
            if len(t.value) != TOKEN_BYTES:
                raise InvalidArgument(f"SweepTokensRequest.tokens[{i}].value: "
                                      f"{len(t.value)} bytes, want {TOKEN_BYTES}")
            tokens.append(Token(Kind(t.kind), bytes(t.value)))
        limit = min(req.max_pointers or default_max, default_max)
        return cls(req.search_id, req.requesting_agency, req.purpose, req.agreement,
                   frozenset(req.record_types), tuple(tokens), limit)


def pivot_values(body: dict[str, object], kinds: frozenset[Kind],
                 rules: Sequence[tuple[Sequence[str], Sequence[str]]],
                 default_region: str) -> Iterator[tuple[Kind, str]]:
    """The normalised identifiers of ``kinds`` in a stored record, after withholding.

    ``rules`` are (fields, roles) withholding rules: a withheld field is never
    followed. A person left with nothing after withholding is skipped.
    """
    redacted, _ = withhold(body, rules)
    people = []
    for raw in redacted.get("people", []):
        try:
            people.append(Person.from_dict(raw))
        except InvalidRecord:
            continue  # everything about this person was withheld
    if not (people or redacted.get("vehicles")):
        return
    base = Record.from_dict({**redacted, "people": [p.to_dict() for p in people]})
    seen: set[tuple[Kind, str]] = set()
    for kind, value in identifier_values(base, default_region):
        if kind in kinds and (kind, value) not in seen:
            seen.add((kind, value))
            yield kind, value


class Sweeps:
    """Pivots and sweep lookups for one node, under its own policy."""

    def __init__(self, store: NodeStore, matcher: Matcher, keyring: Keyring,
                 default_region: str) -> None:
        self._store = store
        self._matcher = matcher
        self._keyring = keyring
        self._region = default_region

    async def pivot(self, query: PivotQuery, now: dt.datetime) -> node_pb2.PivotResponse:
        """Keyed tokens of the identifiers a sweep may follow in the records behind ``handles``."""
        decision = await self._matcher.decide(query.agreement, query.purpose,
                                              query.requesting_agency, now)
        kinds = frozenset(PIVOT_KINDS[k] for k in decision.result.get("pivot_kinds", ())
                          if k in PIVOT_KINDS)
        if not kinds:
            return node_pb2.PivotResponse()
        rules = [(tuple(w.get("fields", ())), tuple(w.get("roles", ())))
                 for w in decision.result.get("pivot_withhold", []) if isinstance(w, dict)]
        excluded = frozenset(decision.result.get("exclude_labels", ())) | ALWAYS_EXCLUDED
        keys = self._keyring.for_agreement(query.agreement)
        return await asyncio.to_thread(self._pivot, query, now, kinds, rules, excluded, keys)

    def _pivot(self, query: PivotQuery, now: dt.datetime, kinds: frozenset[Kind],
               rules: list[tuple[tuple[str, ...], tuple[str, ...]]],
               excluded: frozenset[str], keys: TokenKeys) -> node_pb2.PivotResponse:
        # Only pointers this node issued in this search to this agency: a
        # handle from elsewhere, or expired, pivots on nothing.
        records = self._store.pointed_records(query.handles, query.search_id,
                                              query.requesting_agency, now)
        out: list[node_pb2.PivotToken] = []
        truncated = False
        for handle in query.handles:
            record_id = records.get(handle)
            if record_id is None:
                continue
            found = self._store.record_by_id(record_id)
            if found is None or excluded & found[1]:
                continue
            # Phones are read in the region the record was ingested with, as its
            # tokens were made (the node's own for records that predate it).
            region = str(found[0].get("phone_region") or self._region)
            for kind, value in sorted(pivot_values(found[0], kinds, rules, region)):
                if len(out) >= query.max_tokens:
                    truncated = True
                    break
                out.append(node_pb2.PivotToken(handle=handle,
                                               token=keys.token(kind, value).to_proto()))
        return node_pb2.PivotResponse(tokens=out, truncated=truncated)

    async def lookup(self, query: SweepQuery, now: dt.datetime) -> node_pb2.SweepTokensResponse:
        """Records indexed under each token, as pointers saying which tokens found them."""
        decision = await self._matcher.decide(query.agreement, query.purpose,
                                              query.requesting_agency, now)
        record_types = frozenset(decision.result.get("record_types", ()))
        if query.record_types:
            record_types &= query.record_types
        excluded = frozenset(decision.result.get("exclude_labels", ())) | ALWAYS_EXCLUDED
        fields = frozenset(decision.result.get("fields", ()))
        return await asyncio.to_thread(self._lookup, query, now, record_types, excluded, fields)

    def _lookup(self, query: SweepQuery, now: dt.datetime, record_types: frozenset[str],
                excluded: frozenset[str], fields: frozenset[str]
                ) -> node_pb2.SweepTokensResponse:
        if not record_types:
            return node_pb2.SweepTokensResponse()
        # A record already pointed to in this search (at any level) is not
        # pointed to again: that is where a cycle ends.
        seen = frozenset(self._store.records_in_search(query.search_id))
        found = self._store.match_each(query.tokens, limit=query.max_pointers + 1,
                                       exclude_labels=excluded, record_types=record_types,
                                       exclude_records=seen)
        truncated = len(found) > query.max_pointers
        found = found[: query.max_pointers]
        handles = self._store.issue_pointers([m.record_id for m, _ in found],
                                             query.requesting_agency, query.search_id, now)
        hits = []
        for handle, (match, indexes) in zip(handles, found, strict=True):
            matched = frozenset(query.tokens[i].kind for i in indexes)
            pointer = common_pb2.MatchPointer(
                handle=handle, agency=self._matcher.agency,
                strength=scoring.legacy_strength(matched))  # type: ignore[arg-type]
            if "record_type" in fields:
                pointer.record_type = match.record_type.value
            if "coarse_date" in fields:
                pointer.coarse_date = f"{match.occurred_on.year:04d}-{match.occurred_on.month:02d}"
            if "matched" in fields:
                pointer.matched.extend(sorted(int(k) for k in matched))
            hits.append(node_pb2.SweepHit(pointer=pointer, tokens=list(indexes)))
        return node_pb2.SweepTokensResponse(hits=hits, truncated=truncated)
