"""The hub's sweep logic over node answers: checks, cycles, limits and paths.

The node calls are plain functions here (unit tests open no sockets); the
same logic over real gRPC nodes is in tests/integration/test_sweep.py.
"""

from __future__ import annotations

import grpc
import pytest

from accord.errors import RemoteError
from accord.v1 import common_pb2, hub_pb2, node_pb2
from hub.search import Pointer, SearchQuery
from hub.sweep import Link, Sweeper, SweepLimits

PHONE = common_pb2.IDENTIFIER_KIND_PHONE
PLATE = common_pb2.IDENTIFIER_KIND_PLATE
SURNAME = common_pb2.IDENTIFIER_KIND_FAMILY_NAME
PROBABLE = common_pb2.MATCH_STRENGTH_PROBABLE
STRONG = common_pb2.MATCH_STRENGTH_STRONG


def handle(n: int) -> str:
    return f"ptr_{n:024d}"


def token(n: int) -> bytes:
    return bytes([n]) * 32


QUERY = SearchQuery("C-1", "human_trafficking", "local-pilot",
                    ((PHONE, token(1)),), depth=2)
FIRST = (
    Pointer(handle(1), "rivertown_pd", "cad_call", (PHONE,), "2026-09", STRONG),
    Pointer(handle(2), "harbor_pd", "rms_incident", (PHONE,), "2026-09", PROBABLE),
)


class Nodes:
    """What each node answers: pivot tokens per handle, and records per token."""

    def __init__(self, pivots: dict[str, list[tuple[int, bytes]]],
                 records: dict[bytes, list[tuple[str, str]]]) -> None:
        self.pivots = pivots
        self.records = records
        self.looked_up: list[list[bytes]] = []

    async def pivot(self, agency: str, request: node_pb2.PivotRequest, timeout: float
                    ) -> node_pb2.PivotResponse:
        return node_pb2.PivotResponse(tokens=[
            node_pb2.PivotToken(handle=h, token=common_pb2.Token(kind=k, value=v))  # type: ignore[arg-type]
            for h in request.handles for k, v in self.pivots.get(h, [])])

    async def lookup(self, agency: str, request: node_pb2.SweepTokensRequest, timeout: float
                     ) -> node_pb2.SweepTokensResponse:
        self.looked_up.append([t.value for t in request.tokens])
        hits = []
        for i, t in enumerate(request.tokens):
            for owner, h in self.records.get(t.value, []):
                if owner == agency:
                    hits.append(node_pb2.SweepHit(pointer=common_pb2.MatchPointer(
                        handle=h, agency=owner, record_type="field_interview",
                        strength=PROBABLE, matched=[t.kind]), tokens=[i]))
        return node_pb2.SweepTokensResponse(hits=hits)


SCOPE = {"rivertown_pd": ["cad_call"], "harbor_pd": ["field_interview", "rms_incident"]}


async def sweep(nodes: Nodes, limits: SweepLimits | None = None, depth: int = 2) -> object:
    sweeper = Sweeper(pivot=nodes.pivot, lookup=nodes.lookup, timeout=1.0,
                      limits=limits or SweepLimits())
    return await sweeper.sweep(search_id="s1", agency="lakeside_so", query=QUERY, scope=SCOPE,
                               first=FIRST, depth=depth)


async def test_paths_name_every_pointer_that_led_to_a_record() -> None:
    # Both first-level records hold the plate; it leads to one field interview.
    nodes = Nodes({handle(1): [(PLATE, token(9))], handle(2): [(PLATE, token(9))]},
                  {token(9): [("harbor_pd", handle(30))]})
    result = await sweep(nodes)
    [linked] = result.linked  # type: ignore[attr-defined]
    assert linked.pointer.handle == handle(30) and linked.depth == 2
    assert linked.paths == (Link(handle(1), "rivertown_pd", PLATE),
                            Link(handle(2), "harbor_pd", PLATE))
    [level] = result.levels  # type: ignore[attr-defined]
    assert (level["level"], level["tokens"], level["pointers"]) == (2, 1, 1)


async def test_tokens_the_search_already_used_are_not_looked_up_again() -> None:
    nodes = Nodes({handle(1): [(PHONE, token(1)), (PLATE, token(9))]}, {})
    result = await sweep(nodes)
    assert nodes.looked_up == [[token(9)], [token(9)]]  # once per node in scope
    assert result.levels[0]["dropped_tokens"] == 1  # type: ignore[attr-defined]


async def test_the_token_limit_keeps_the_strongest_pointers_tokens() -> None:
    nodes = Nodes({handle(2): [(PLATE, token(20)), (PLATE, token(21))],
                   handle(1): [(PLATE, token(10))]}, {})
    await sweep(nodes, SweepLimits(tokens_per_level=2))
    # handle(1) is the stronger pointer: its token comes first.
    assert nodes.looked_up[0] == [token(10), token(20)]


async def test_a_node_answering_about_handles_it_was_not_asked_counts_for_nothing() -> None:
    async def rogue(agency: str, request: node_pb2.PivotRequest, timeout: float
                    ) -> node_pb2.PivotResponse:
        return node_pb2.PivotResponse(tokens=[node_pb2.PivotToken(
            handle=handle(99), token=common_pb2.Token(kind=PLATE, value=token(9)))])

    nodes = Nodes({}, {token(9): [("harbor_pd", handle(30))]})
    sweeper = Sweeper(pivot=rogue, lookup=nodes.lookup, timeout=1.0)
    result = await sweeper.sweep(search_id="s1", agency="lakeside_so", query=QUERY,
                                 scope=SCOPE, first=FIRST, depth=2)
    assert result.linked == ()
    statuses = {(o.agency, o.code) for o in result.nodes}
    assert statuses == {("rivertown_pd", hub_pb2.NODE_STATUS_CODE_ERROR),
                        ("harbor_pd", hub_pb2.NODE_STATUS_CODE_ERROR)}
    assert all("not one the hub asked about" in o.detail for o in result.nodes)


@pytest.mark.parametrize(("kind", "value", "problem"), [
    (SURNAME, token(9), "not an identifier a sweep follows"),
    (PLATE, b"\x01" * 31, "want 32 bytes"),
])
async def test_a_pivot_token_that_cannot_be_followed_is_refused(kind: int, value: bytes,
                                                                problem: str) -> None:
    nodes = Nodes({handle(1): [(kind, value)]}, {})
    result = await sweep(nodes)
    [rivertown] = [o for o in result.nodes if o.agency == "rivertown_pd"]  # type: ignore[attr-defined]
    assert rivertown.code == hub_pb2.NODE_STATUS_CODE_ERROR and problem in rivertown.detail
    assert nodes.looked_up == []


async def test_a_node_that_fails_to_pivot_gets_a_status_and_the_sweep_goes_on() -> None:
    nodes = Nodes({handle(2): [(PLATE, token(9))]}, {token(9): [("rivertown_pd", handle(40))]})

    async def flaky(agency: str, request: node_pb2.PivotRequest, timeout: float
                    ) -> node_pb2.PivotResponse:
        if agency == "rivertown_pd":
            raise RemoteError(grpc.StatusCode.UNAVAILABLE, "down")
        return await nodes.pivot(agency, request, timeout)

    sweeper = Sweeper(pivot=flaky, lookup=nodes.lookup, timeout=1.0)
    result = await sweeper.sweep(search_id="s1", agency="lakeside_so", query=QUERY,
                                 scope=SCOPE, first=FIRST, depth=2)
    assert [lp.pointer.handle for lp in result.linked] == [handle(40)]
    pivot_status = {o.agency: o.status_name for o in result.nodes if "pivot" in o.detail}
    assert pivot_status == {"rivertown_pd": "unavailable", "harbor_pd": "ok"}
