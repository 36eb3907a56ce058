"""A compromised node: it holds harbor_pd's real member certificate, but answers
whatever it likes. It must never break another agency's results.

The rogue is a NodeService of our own, served with harbor_pd's TLS identity on
harbor_pd's endpoint in place of the honest node. Rivertown holds the one real
record; every search must still return rivertown's pointer, within the
deadline, whatever harbor answers.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import grpc
import pytest

from accord.errors import RemoteError
from accord.rpc import server_options
from accord.v1 import common_pb2, hub_pb2, node_pb2, node_pb2_grpc
from hub.config import HubConfig
from node.config import NodeConfig
from tests.adversarial.conftest import Federation, expect, generous_limits, running_federation
from tests.integration.test_search import cad_call

OK = hub_pb2.NODE_STATUS_CODE_OK
ERROR = hub_pb2.NODE_STATUS_CODE_ERROR
TIMED_OUT = hub_pb2.NODE_STATUS_CODE_TIMED_OUT
STRONG = common_pb2.MATCH_STRENGTH_STRONG
PHONE = "503-555-0142"
FANOUT_TIMEOUT = 1.0
NODE_TIMEOUT = 1.0

Answer = Callable[[Any, grpc.aio.ServicerContext], Awaitable[Any]]


def pointer(handle: str = "ptr_" + "R" * 22, **fields: Any) -> common_pb2.MatchPointer:
    values: dict[str, Any] = {"handle": handle, "agency": "harbor_pd", "record_type": "rms_incident",
                              "coarse_date": "2026-08", "strength": STRONG,
                              "matched": [common_pb2.IDENTIFIER_KIND_PHONE]}
    values.update(fields)
    return common_pb2.MatchPointer(**values)


def handles(n: int, prefix: str = "flood") -> list[str]:
    return [f"ptr_{prefix}{i:016d}" for i in range(n)]


class RogueNode(node_pb2_grpc.NodeServiceServicer):
    """Answers each RPC with whatever the current test set; records what it was asked."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.match: Answer = self._nothing
        self.prepare: Answer = self._allow
        self.release: Answer = self._nothing_released
        self.asked: list[Any] = []

    @staticmethod
    async def _nothing(request: Any, context: grpc.aio.ServicerContext) -> Any:
        return node_pb2.MatchTokensResponse()

    @staticmethod
    async def _allow(request: Any, context: grpc.aio.ServicerContext) -> Any:
        return node_pb2.PrepareReleaseResponse(allow=True)

    @staticmethod
    async def _nothing_released(request: Any, context: grpc.aio.ServicerContext) -> Any:
        return node_pb2.ReleaseResponse(ciphertext=b"not a sealed record")

    async def MatchTokens(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        self.asked.append(request)
        return await self.match(request, context)

    async def PrepareRelease(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        self.asked.append(request)
        return await self.prepare(request, context)

    async def Release(self, request: Any, context: grpc.aio.ServicerContext) -> Any:
        self.asked.append(request)
        return await self.release(request, context)


def fast_timeouts(config: HubConfig) -> HubConfig:
    return replace(generous_limits(config), node_timeout=NODE_TIMEOUT)


async def serve(rogue: RogueNode, config: NodeConfig) -> grpc.aio.Server:
    """Serve ``rogue`` with ``config``'s real certificate, on its real endpoint."""
    # The rogue's answers may be larger than the hub accepts: it must be able to send them.
    server = grpc.aio.server(options=server_options(64 * 1024 * 1024))
    node_pb2_grpc.add_NodeServiceServicer_to_server(rogue, server)
    server.add_secure_port(config.listen, config.tls.server_credentials())
    await server.start()
    return server


@pytest.fixture(scope="module")
def rogue_fed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Federation, RogueNode]]:
    root: Path = tmp_path_factory.mktemp("rogue") / "fed"
    running = running_federation(root, down=("harbor_pd",), fanout_timeout=FANOUT_TIMEOUT,
                                 hub_config=fast_timeouts)
    fed = next(running)
    rogue = RogueNode()
    server = fed.loop.run(serve(rogue, fed.live.node_configs["harbor_pd"]))
    fed.live.ingest("rivertown_pd", [cad_call()])
    try:
        yield fed, rogue
    finally:
        fed.loop.run(server.stop(0))
        running.close()


@pytest.fixture
def rogue(rogue_fed: tuple[Federation, RogueNode]) -> Iterator[RogueNode]:
    node = rogue_fed[1]
    yield node
    node.reset()


@pytest.fixture
def fed(rogue_fed: tuple[Federation, RogueNode]) -> Federation:
    return rogue_fed[0]


def search(fed: Federation, sub: str = "det.rogue") -> tuple[node_pb2.LocalSearchResponse, float]:
    started = time.monotonic()
    response = fed.gateway("LocalSearch", node_pb2.LocalSearchRequest(
        case_number="HB-1", purpose="human_trafficking", phone=PHONE),
        token=fed.token("lakeside_so", sub=sub))
    return response, time.monotonic() - started


def status_of(response: node_pb2.LocalSearchResponse, agency: str) -> hub_pb2.NodeStatus:
    return next(n for n in response.result.nodes if n.agency == agency)


def assert_honest_results_survive(response: node_pb2.LocalSearchResponse) -> None:
    """Rivertown's pointer is there, and every other node answered normally."""
    honest = [p for p in response.result.pointers if p.agency == "rivertown_pd"]
    assert len(honest) == 1, response
    assert status_of(response, "rivertown_pd").code == OK
    assert status_of(response, "tip_hotline").code == OK


def assert_log_verifies(fed: Federation) -> None:
    report = fed.verify_log()
    assert report.ok, report.problem


def answer(response: Any) -> Answer:
    async def reply(request: Any, context: grpc.aio.ServicerContext) -> Any:
        return response
    return reply


# --- searches ---------------------------------------------------------------------------------


def test_flooded_pointers_are_capped_and_honest_ones_kept(fed: Federation, rogue: RogueNode) -> None:
    # 40,000 well-formed pointers (about 2.5 MB): within the message limit, far over the cap.
    rogue.match = answer(node_pb2.MatchTokensResponse(
        pointers=[pointer(h) for h in handles(40_000)]))

    response, elapsed = search(fed)

    limit = fed.live.hub_config.max_pointers_per_node
    assert status_of(response, "harbor_pd").code == OK
    assert status_of(response, "harbor_pd").pointers == limit
    assert sum(p.agency == "harbor_pd" for p in response.result.pointers) == limit
    assert_honest_results_survive(response)
    assert elapsed < FANOUT_TIMEOUT + 3
    # What the hub remembered for releases is capped too.
    entry = fed.audit_since(response.result.audit_seq - 1)[0]
    assert entry["details"]["nodes"]["harbor_pd"]["pointers"] == limit


def test_an_answer_over_the_message_limit_is_an_error_for_that_node_only(
    fed: Federation, rogue: RogueNode,
) -> None:
    rogue.match = answer(node_pb2.MatchTokensResponse(
        pointers=[pointer(h) for h in handles(90_000)]))  # about 5.6 MB

    response, _ = search(fed)

    assert status_of(response, "harbor_pd").code == ERROR
    assert status_of(response, "harbor_pd").detail == "resource_exhausted"
    assert_honest_results_survive(response)


@pytest.mark.parametrize("bad", [
    pytest.param({"handle": "ptr_short"}, id="short-handle"),
    pytest.param({"handle": "ptr_" + "A" * 20 + "\n{\"event\":\"forged\"}"}, id="newline-handle"),
    pytest.param({"handle": "CAD-2026-004211"}, id="record-id-as-handle"),
    pytest.param({"record_type": "Jazmin Ramirez 1999-03-04"}, id="content-in-record-type"),
    pytest.param({"coarse_date": "2026-09-14"}, id="exact-date"),
    pytest.param({"strength": 99}, id="unknown-strength"),
    pytest.param({"matched": [42]}, id="unknown-kind"),
])
def test_malformed_pointers_make_that_node_an_error(
    fed: Federation, rogue: RogueNode, bad: dict[str, Any],
) -> None:
    rogue.match = answer(node_pb2.MatchTokensResponse(pointers=[pointer(), pointer(**bad)]))

    response, _ = search(fed)

    harbor = status_of(response, "harbor_pd")
    assert harbor.code == ERROR and harbor.detail.startswith("bad answer: pointer.")
    assert not any(p.agency == "harbor_pd" for p in response.result.pointers)
    assert_honest_results_survive(response)
    assert_log_verifies(fed)


def test_a_node_cannot_answer_in_another_agencys_name(fed: Federation, rogue: RogueNode) -> None:
    rogue.match = answer(node_pb2.MatchTokensResponse(
        pointers=[pointer(handles(1, "imper")[0], agency="rivertown_pd")]))

    response, _ = search(fed)

    claimed = [p for p in response.result.pointers if p.handle == handles(1, "imper")[0]]
    assert [p.agency for p in claimed] == ["harbor_pd"]  # relabelled with the certificate's agency
    assert_honest_results_survive(response)


def test_a_slow_node_times_out_without_delaying_the_others(fed: Federation, rogue: RogueNode) -> None:
    async def slow(request: Any, context: grpc.aio.ServicerContext) -> Any:
        await asyncio.sleep(30)
        return node_pb2.MatchTokensResponse(pointers=[pointer()])
    rogue.match = slow

    response, elapsed = search(fed)

    assert status_of(response, "harbor_pd").code == TIMED_OUT
    assert_honest_results_survive(response)
    assert elapsed < FANOUT_TIMEOUT + 2


def test_error_details_from_a_node_cannot_inject_into_the_log_or_the_screen(
    fed: Federation, rogue: RogueNode,
) -> None:
    injected = "x\n{\"event\":\"search\",\"actor\":\"forged\"}\r\x1b[2J" + "A" * 5000

    async def deny(request: Any, context: grpc.aio.ServicerContext) -> Any:
        await context.abort(grpc.StatusCode.PERMISSION_DENIED, injected)
    rogue.match = deny

    response, _ = search(fed)

    harbor = status_of(response, "harbor_pd")
    assert harbor.code == hub_pb2.NODE_STATUS_CODE_DENIED
    assert len(harbor.detail) <= 200
    assert_honest_results_survive(response)
    [entry] = fed.audit_since(response.result.audit_seq - 1)
    assert entry["event"] == "search" and entry["actor"] == "det.rogue"
    raw = next(fed.live.hub.audit.entries(response.result.audit_seq)).entry
    assert b"\n" not in raw and b"\x1b" not in raw
    assert_log_verifies(fed)


def test_node_status_details_carry_no_control_characters(fed: Federation, rogue: RogueNode) -> None:
    async def deny(request: Any, context: grpc.aio.ServicerContext) -> Any:
        await context.abort(grpc.StatusCode.PERMISSION_DENIED, "denied\n\x1b[2Jfake: ok\r")
    rogue.match = deny

    response, _ = search(fed)

    assert status_of(response, "harbor_pd").detail.isprintable()


def test_repeated_handles_cannot_break_the_search(fed: Federation, rogue: RogueNode) -> None:
    twice = handles(1, "twice")[0]
    rogue.match = answer(node_pb2.MatchTokensResponse(pointers=[pointer(twice), pointer(twice)]))

    response, _ = search(fed)

    assert_honest_results_survive(response)


def test_a_handle_replayed_across_searches_cannot_break_the_search(
    fed: Federation, rogue: RogueNode,
) -> None:
    rogue.match = answer(node_pb2.MatchTokensResponse(pointers=[pointer(handles(1, "again")[0])]))
    search(fed)

    response, _ = search(fed, sub="det.other")  # the same handle again, to someone else

    assert_honest_results_survive(response)


# --- releases ---------------------------------------------------------------------------------


def rogue_pointer(fed: Federation, rogue: RogueNode, sub: str, handle: str) -> str:
    rogue.match = answer(node_pb2.MatchTokensResponse(pointers=[pointer(handle)]))
    response, _ = search(fed, sub=sub)
    assert any(p.handle == handle for p in response.result.pointers)
    return handle


def request_release(fed: Federation, handle: str, sub: str) -> Any:
    return fed.gateway("LocalRequestRelease", node_pb2.LocalRequestReleaseRequest(
        pointer=handle, case_number="HB-1", purpose="human_trafficking",
        justification="victim identification"), token=fed.token("lakeside_so", sub=sub))


def test_a_fabricated_record_cannot_be_opened_as_a_release(fed: Federation, rogue: RogueNode) -> None:
    handle = rogue_pointer(fed, rogue, "det.fab", handles(1, "fabric")[0])
    requested = request_release(fed, handle, "det.fab")
    assert requested.release.owner == "harbor_pd"  # asked of the rogue, never of rivertown

    # The rogue "delivers" bytes that are no sealed record for the requester's key.
    err = expect(grpc.StatusCode.UNAUTHENTICATED, fed.gateway, "LocalFetchRelease",
                 hub_pb2.FetchReleaseRequest(release_id=requested.release.release_id),
                 token=fed.token("lakeside_so", sub="det.fab"))
    assert err.message == "cryptographic verification failed"
    released = [r for r in rogue.asked if isinstance(r, node_pb2.ReleaseRequest)]
    assert len(released) == 1  # the grant went only to the node that owns the pointer


def test_a_slow_owner_cannot_hang_a_release_request(fed: Federation, rogue: RogueNode) -> None:
    handle = rogue_pointer(fed, rogue, "det.slow", handles(1, "slowrel")[0])

    async def slow(request: Any, context: grpc.aio.ServicerContext) -> Any:
        await asyncio.sleep(30)
        return node_pb2.PrepareReleaseResponse(allow=True)
    rogue.prepare = slow
    mark = fed.audit_size()
    started = time.monotonic()

    expect(grpc.StatusCode.UNAVAILABLE, request_release, fed, handle, "det.slow")

    assert time.monotonic() - started < NODE_TIMEOUT + 3
    assert [e["event"] for e in fed.audit_since(mark)] == ["release_failed"]


def test_a_nodes_refusal_reasons_are_bounded_in_the_audit_log(
    fed: Federation, rogue: RogueNode,
) -> None:
    handle = rogue_pointer(fed, rogue, "det.reasons", handles(1, "reasons")[0])
    rogue.prepare = answer(node_pb2.PrepareReleaseResponse(
        allow=False, reasons=[f"reason_{i}\n" + "x" * 1000 for i in range(500)]))
    mark = fed.audit_size()

    with pytest.raises(RemoteError):
        request_release(fed, handle, "det.reasons")

    [entry] = fed.audit_since(mark)
    assert entry["event"] == "release_denied"
    assert len(json.dumps(entry)) < 8192
    assert all(r.replace(":", "_").isidentifier() for r in entry["reasons"])
