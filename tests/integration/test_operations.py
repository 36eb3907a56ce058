"""Operations against real servers: metrics, health, graceful shutdown, limits."""

from __future__ import annotations

import asyncio
import re
import time
import urllib.request
from dataclasses import replace
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from accord.errors import RemoteError
from accord.health import monitor
from accord.rpc import call, channel_options
from accord.tls import TlsFiles
from accord.v1 import common_pb2, hub_pb2, hub_pb2_grpc
from tests.integration.conftest import LiveFederation, start_federation, stop_federation
from tests.integration.test_search import cad_call


def scrape(listen: str) -> str:
    with urllib.request.urlopen(f"http://{listen}/metrics", timeout=5) as response:
        return str(response.read().decode())


def value(text_: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text format (0 when absent)."""
    want = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    pattern = re.escape(name) + (r"\{" + re.escape(want) + r"\}" if want else "") + r" ([0-9.e+-]+)"
    match = re.search(pattern, text_)
    return float(match.group(1)) if match else 0.0


async def health_status(target: str, tls: TlsFiles) -> int:
    async with grpc.aio.secure_channel(target, tls.channel_credentials(),
                                       options=channel_options()) as channel:
        response = await health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service=""), timeout=5)
        return int(response.status)


async def test_metrics_count_searches_nodes_and_audit_appends(federation: LiveFederation) -> None:
    federation.ingest("rivertown_pd", [cad_call()])
    await federation.search("lakeside_so", phone="503-555-0142")
    await federation.search("lakeside_so", phone="503-555-0142")
    with pytest.raises(RemoteError):
        await federation.search("harbor_pd", purpose="victim_services", phone="503-555-0142")

    hub = await asyncio.to_thread(scrape, federation.hub_config.metrics_listen)
    assert value(hub, "accord_searches_total", outcome="ok") == 2
    assert value(hub, "accord_searches_total", outcome="denied") == 1
    assert value(hub, "accord_denials_total", reason="purpose_not_allowed_for_member") == 1
    assert value(hub, "accord_node_requests_total", agency="rivertown_pd", status="ok") == 2
    assert value(hub, "accord_node_latency_seconds_count", agency="rivertown_pd") == 2
    assert value(hub, "accord_audit_appends_total") == 3
    assert value(hub, "accord_rpc_requests_total", method="Search", code="OK") == 2
    node = await asyncio.to_thread(scrape, federation.node_configs["rivertown_pd"].metrics_listen)
    assert value(node, "accord_pointers_issued_total") == 2
    assert value(node, "accord_rpc_requests_total", method="MatchTokens", code="OK") == 2
    # Metrics never carry identifiers (the phone searched, in any of its forms).
    for text_ in (hub, node):
        assert "5035550142" not in text_ and "555-0142" not in text_


async def test_health_reflects_the_database_and_the_policy_engine(
    federation: LiveFederation,
) -> None:
    hub = federation.hub
    tls = federation.node_configs["lakeside_so"].tls
    target = federation.hub_config.listen
    assert await health_status(target, tls) == health_pb2.HealthCheckResponse.SERVING

    # The policy engine fails: the hub stops serving, then recovers.
    class Broken:
        async def evaluate(self, decision: str, input: object) -> object:
            raise RuntimeError("engine down")

        async def close(self) -> None:
            return None

    engine = hub.policy._engine
    await hub.policy.replace(Broken(), "broken")
    services = ["accord.v1.HubService"]
    task = asyncio.create_task(monitor(hub.health, services, [
        ("policy", lambda: _decides(hub.policy))], interval=0.05))
    try:
        await asyncio.sleep(0.2)
        assert await health_status(target, tls) == health_pb2.HealthCheckResponse.NOT_SERVING
        await hub.policy.replace(engine, "restored")
        await asyncio.sleep(0.2)
        assert await health_status(target, tls) == health_pb2.HealthCheckResponse.SERVING
    finally:
        task.cancel()


async def _decides(policy: object) -> bool:
    from accord.health import policy_check

    return await policy_check(policy)()  # type: ignore[arg-type]


async def test_health_reports_a_lost_database(federation: LiveFederation,
                                              tmp_path: Path) -> None:
    from accord.db import make_engine
    from accord.health import database_check

    hub = federation.hub
    tls = federation.node_configs["lakeside_so"].tls
    target = federation.hub_config.listen
    lost = make_engine(f"sqlite:///{tmp_path}/no/such/dir/hub.db")
    task = asyncio.create_task(monitor(hub.health, ["accord.v1.HubService"],
                                       [("database", database_check(lost))], interval=0.05))
    try:
        await asyncio.sleep(0.2)
        assert await health_status(target, tls) == health_pb2.HealthCheckResponse.NOT_SERVING
    finally:
        task.cancel()
    task = asyncio.create_task(monitor(hub.health, ["accord.v1.HubService"],
                                       [("database", database_check(hub.audit.engine))],
                                       interval=0.05))
    try:
        await asyncio.sleep(0.2)
        assert await health_status(target, tls) == health_pb2.HealthCheckResponse.SERVING
    finally:
        task.cancel()




async def test_graceful_shutdown_finishes_in_flight_searches(tmp_path: Path,
                                                             blackhole: str) -> None:
    # A silent node makes the search take its whole deadline: it is in flight
    # when the hub is told to stop, and must still complete.
    live = await start_federation(tmp_path / "fed", down=("harbor_pd",),
                                  endpoint_overrides={"harbor_pd": blackhole},
                                  fanout_timeout=1.0)
    try:
        live.ingest("rivertown_pd", [cad_call()])
        search = asyncio.create_task(live.search("lakeside_so", phone="503-555-0142"))
        await asyncio.sleep(0.3)
        started = time.monotonic()
        await live.hub.stop(grace=5.0)
        response = await search
        assert time.monotonic() - started < 5.0
        assert [p.agency for p in response.result.pointers] == ["rivertown_pd"]
        # New calls after the stop are refused.
        with pytest.raises(RemoteError) as info:
            await live.search("lakeside_so", phone="503-555-0142", timeout=3)
        assert info.value.status in {grpc.StatusCode.UNAVAILABLE,
                                     grpc.StatusCode.DEADLINE_EXCEEDED}
    finally:
        for node in live.nodes.values():
            await node.stop(0)


async def test_rate_limits_are_audited(tmp_path: Path) -> None:
    live = await start_federation(tmp_path / "fed")
    hub_limits = replace(live.hub_config.limits, search_per_minute=1, search_burst=3)
    await stop_federation(live)
    live = await start_federation(tmp_path / "fed2", limits=hub_limits)
    try:
        for _ in range(3):
            await live.search("lakeside_so", phone="503-555-0142")
        with pytest.raises(RemoteError) as info:
            await live.search("lakeside_so", phone="503-555-0142")
        # A colleague at the same agency still has their own bucket.
        await live.search("lakeside_so", live.token("lakeside_so", sub="det.other"),
                          phone="503-555-0142")
    finally:
        await stop_federation(live)
    assert info.value.status == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "investigator_rate_exceeded" in info.value.message
    limited = [e.doc for e in live.hub.audit.entries() if e.doc["event"] == "search_rate_limited"]
    assert [(d["actor"], d["reasons"]) for d in limited] == [
        ("det.test", ["investigator_rate_exceeded"])]


async def test_agency_rate_limit_covers_all_its_investigators(tmp_path: Path) -> None:
    live = await start_federation(tmp_path / "fed")
    limits = replace(live.hub_config.limits, agency_search_per_minute=1, agency_search_burst=2)
    await stop_federation(live)
    live = await start_federation(tmp_path / "fed2", limits=limits)
    try:
        for sub in ("a", "b"):
            await live.search("lakeside_so", live.token("lakeside_so", sub=sub), phone="503-555-0142")
        with pytest.raises(RemoteError) as info:
            await live.search("lakeside_so", live.token("lakeside_so", sub="c"),
                              phone="503-555-0142")
    finally:
        await stop_federation(live)
    assert "agency_rate_exceeded" in info.value.message


async def test_oversized_messages_are_refused(tmp_path: Path) -> None:
    live = await start_federation(tmp_path / "fed")
    limits = replace(live.hub_config.limits, max_message_bytes=4096)
    await stop_federation(live)
    live = await start_federation(tmp_path / "fed2", limits=limits)
    try:
        creds = live.node_configs["lakeside_so"].tls.channel_credentials()
        big = hub_pb2.SearchRequest(
            case_number="C-1", purpose="human_trafficking", agreement="local-pilot",
            tokens=[common_pb2.Token(kind=common_pb2.IDENTIFIER_KIND_PHONE, value=b"\x01" * 32)] * 200)
        async with grpc.aio.secure_channel(live.hub_config.listen, creds,
                                           options=channel_options()) as channel:
            with pytest.raises(RemoteError) as info:
                await call(hub_pb2_grpc.HubServiceStub(channel).Search, big, timeout=5,
                           metadata=[("authorization", f"Bearer {live.token('lakeside_so')}")])
    finally:
        await stop_federation(live)
    assert info.value.status == grpc.StatusCode.RESOURCE_EXHAUSTED


def test_metrics_endpoint_can_be_turned_off() -> None:
    from accord.metrics import Metrics, serve_metrics

    assert serve_metrics(Metrics("hub"), "") is None



async def test_a_surname_alone_is_not_a_search(federation: LiveFederation) -> None:
    creds = federation.node_configs["lakeside_so"].tls.channel_credentials()
    surname_only = hub_pb2.SearchRequest(
        case_number="C-1", purpose="human_trafficking", agreement="local-pilot",
        tokens=[common_pb2.Token(kind=common_pb2.IDENTIFIER_KIND_FAMILY_NAME, value=b"\x02" * 32),
                common_pb2.Token(kind=common_pb2.IDENTIFIER_KIND_FAMILY_PHONETIC,
                                 value=b"\x03" * 32)])
    async with grpc.aio.secure_channel(federation.hub_config.listen, creds,
                                       options=channel_options()) as channel:
        with pytest.raises(RemoteError) as info:
            await call(hub_pb2_grpc.HubServiceStub(channel).Search, surname_only, timeout=5,
                       metadata=[("authorization", f"Bearer {federation.token('lakeside_so')}")])
    assert info.value.status == grpc.StatusCode.PERMISSION_DENIED
    assert "query_not_specific" in info.value.message
    entry = [e.doc for e in federation.hub.audit.entries()][-1]
    assert (entry["event"], entry["reasons"]) == ("search_denied", ["query_not_specific"])
    # Through the gateway, a surname alone is refused before it leaves the node.
    with pytest.raises(RemoteError) as info:
        await federation.search("lakeside_so", name="Ramirez")
    assert info.value.status == grpc.StatusCode.INVALID_ARGUMENT
