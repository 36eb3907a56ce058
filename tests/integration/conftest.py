"""A live federation for integration tests: a real hub and real nodes, as
in-process grpc.aio servers on loopback TCP with mutual TLS."""

from __future__ import annotations

import datetime as dt
import socket
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import grpc
import pytest

from accord.cli.federation import Federation, default_template, init_federation
from accord.config import Limits
from accord.identity import DevIdentityProvider
from accord.policy.source import PolicySource
from accord.rpc import call, channel_options
from accord.v1 import node_pb2, node_pb2_grpc
from hub.config import HubConfig
from hub.server import RunningHub, start_hub
from node.config import NodeConfig
from node.records import Record
from node.server import RunningNode, start_node
from node.store import Prepared, UpsertCounts
from node.tokens import record_tokens
from tests.conftest import NOW

AGENCIES = ("rivertown_pd", "lakeside_so", "harbor_pd", "tip_hotline")


@dataclass
class LiveFederation:
    fed: Federation
    hub_config: HubConfig
    node_configs: dict[str, NodeConfig]
    hub: RunningHub
    nodes: dict[str, RunningNode]

    def token(self, agency: str, *, sub: str = "det.test", roles: Sequence[str] = ("investigator",),
              issued: dt.datetime = NOW, ttl: dt.timedelta = dt.timedelta(minutes=15)) -> str:
        idp = DevIdentityProvider.load(self.fed.idp_dir(agency), agency)
        return idp.issue(sub, tuple(roles), issued, ttl)

    def ingest(self, agency: str, records: Iterable[Record], at: dt.datetime = NOW
               ) -> UpsertCounts:
        config = self.node_configs[agency]
        keys = config.keyring().all()
        store = self.nodes[agency].store
        return store.upsert(
            [Prepared(r, record_tokens(r, keys, config.default_region)) for r in records], at
        )

    async def search(self, agency: str, token: str | None = None, *, case: str = "CASE-1",
                     purpose: str = "human_trafficking", timeout: float = 30.0,
                     **fields: str) -> node_pb2.LocalSearchResponse:
        """Search through ``agency``'s gateway, as `accord search` does."""
        config = self.node_configs[agency]
        token = token or self.token(agency)
        async with grpc.aio.secure_channel(config.listen, config.tls.channel_credentials(),
                                           options=channel_options()) as channel:
            stub = node_pb2_grpc.GatewayServiceStub(channel)
            response: node_pb2.LocalSearchResponse = await call(
                stub.LocalSearch,
                node_pb2.LocalSearchRequest(case_number=case, purpose=purpose, **fields),
                timeout=timeout,
                metadata=[("authorization", f"Bearer {token}")],
            )
            return response


#: The policy timeout of test federations: the default (0.5 s) is what
#: production gets, but a test machine running several suites at once can
#: stall a process that long. Tests of the timeout set their own.
TEST_POLICY_TIMEOUT = 5.0


def patient(source: PolicySource) -> PolicySource:
    return replace(source, engine=replace(source.engine, timeout=TEST_POLICY_TIMEOUT))


def console_on_any_port(config: NodeConfig) -> NodeConfig:
    """A node's config with its web console on, on a free loopback port."""
    return replace(config, console=replace(config.console, enabled=True, listen="127.0.0.1:0"))


def node_for_tests(config: NodeConfig) -> NodeConfig:
    """A node's config as test federations run it: no reloads, a patient policy timeout."""
    return replace(config, reload_seconds=0, policy=patient(config.policy))


async def start_federation(root: Path, *, down: Sequence[str] = (),
                           endpoint_overrides: dict[str, str] | None = None,
                           fanout_timeout: float = 2.0,
                           hub_policy: Callable[[PolicySource], PolicySource] | None = None,
                           node_config: Callable[[NodeConfig], NodeConfig] | None = None,
                           limits: Limits | None = None,
                           template: Path | None = None,
                           hub_reload_seconds: float = 0,
                           ) -> LiveFederation:
    fed = init_federation(root, AGENCIES, NOW, base_port=None,
                          template=template or default_template())
    hub_config = HubConfig.load(fed.hub_config)
    members = tuple(
        replace(m, endpoint=(endpoint_overrides or {}).get(m.agency, m.endpoint))
        for m in hub_config.members
    )
    hub_config = replace(hub_config, members=members, fanout_timeout=fanout_timeout,
                         reload_seconds=hub_reload_seconds, policy=patient(hub_config.policy))
    if limits is not None:
        hub_config = replace(hub_config, limits=limits)
    if hub_policy is not None:
        hub_config = replace(hub_config, policy=hub_policy(hub_config.policy))
    node_configs = {a: node_for_tests(NodeConfig.load(fed.node_config(a))) for a in AGENCIES}
    if node_config is not None:
        node_configs = {a: node_config(c) for a, c in node_configs.items()}
    hub = await start_hub(hub_config, clock=lambda: NOW)
    nodes = {}
    for agency, config in node_configs.items():
        if agency not in down:
            nodes[agency] = await start_node(config, clock=lambda: NOW)
    return LiveFederation(fed, hub_config, node_configs, hub, nodes)


async def stop_federation(live: LiveFederation) -> None:
    for node in live.nodes.values():
        await node.stop(0)
    await live.hub.stop(0)


@pytest.fixture
async def federation(tmp_path: Path) -> AsyncIterator[LiveFederation]:
    live = await start_federation(tmp_path / "fed")
    try:
        yield live
    finally:
        await stop_federation(live)


@pytest.fixture
def blackhole() -> Iterator[str]:
    """A TCP port that accepts connections and never says a word (a hung node)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    try:
        yield f"127.0.0.1:{sock.getsockname()[1]}"
    finally:
        sock.close()
