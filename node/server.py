"""The node's gRPC server: NodeService for the hub, GatewayService for its own
agency's investigators, plus health checking and (optionally) reflection.

Both services run on one mTLS port. The caller's certificate decides what it
may call: only the hub (``accord:hub``) may call NodeService, only this
agency's own tools (``accord:agency:<own id>``) may call GatewayService.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import grpc
import structlog
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from accord.errors import AccordError, InvalidArgument, PermissionDenied, Unauthenticated
from accord.policy.engine import PolicyPoint
from accord.policy.source import watch
from accord.rpc import call, channel_options, metadata_value, rpc_method, server_options
from accord.tls import HUB_IDENTITY, agency_identity, peer_identity
from accord.v1 import hub_pb2, hub_pb2_grpc, node_pb2, node_pb2_grpc
from node.config import NodeConfig
from node.matching import Matcher, MatchQuery
from node.store import NodeStore
from node.tokens import Keyring, Query, query_tokens

log = structlog.get_logger("accord.node")

Clock = Callable[[], dt.datetime]
#: Longest a local search waits for the hub (which itself bounds each node).
GATEWAY_TIMEOUT = 30.0
MAX_FIELD_CHARS = 256


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def require_peer(context: grpc.aio.ServicerContext, identity: str) -> None:
    """Allow the call only from the peer holding ``identity``'s certificate."""
    if peer_identity(context.auth_context()) != identity:
        raise PermissionDenied("caller may not use this service")


class NodeServicer(node_pb2_grpc.NodeServiceServicer):
    """NodeService: answers the hub with pointers."""

    def __init__(self, config: NodeConfig, matcher: Matcher, clock: Clock) -> None:
        self._config = config
        self._matcher = matcher
        self._clock = clock

    @rpc_method
    async def MatchTokens(
        self, request: node_pb2.MatchTokensRequest, context: grpc.aio.ServicerContext
    ) -> node_pb2.MatchTokensResponse:
        require_peer(context, HUB_IDENTITY)
        query = MatchQuery.from_proto(request, self._config.max_pointers)
        structlog.contextvars.bind_contextvars(search_id=query.search_id)
        pointers, truncated = await self._matcher.match(query, self._clock())
        log.info("matched", requesting_agency=query.requesting_agency, pointers=len(pointers))
        return node_pb2.MatchTokensResponse(pointers=pointers, truncated=truncated)


def query_from_proto(req: node_pb2.LocalSearchRequest) -> Query:
    """The plaintext query of a LocalSearchRequest, with bounded field sizes."""
    fields = ("name", "dob", "phone", "email", "plate", "address", "vin")
    for name in fields:
        if len(getattr(req, name)) > MAX_FIELD_CHARS:
            raise InvalidArgument(
                f"LocalSearchRequest.{name}: longer than {MAX_FIELD_CHARS} characters"
            )
    return Query(**{name: getattr(req, name).strip() for name in fields})


class GatewayServicer(node_pb2_grpc.GatewayServiceServicer):
    """GatewayService: tokenises an investigator's query and asks the hub."""

    def __init__(self, config: NodeConfig, keyring: Keyring,
                 hub: hub_pb2_grpc.HubServiceStub) -> None:
        self._config = config
        self._keyring = keyring
        self._hub = hub

    @rpc_method
    async def LocalSearch(
        self, request: node_pb2.LocalSearchRequest, context: grpc.aio.ServicerContext
    ) -> node_pb2.LocalSearchResponse:
        require_peer(context, agency_identity(self._config.agency))
        authorization = metadata_value(context, "authorization")
        if not authorization:
            raise Unauthenticated("missing bearer token")
        # The named agreement, or the only one this agency belongs to.
        agreement = self._config.agreements.resolve(self._config.agency, request.agreement or None)
        keys = self._keyring.for_agreement(agreement.id)
        tokens = query_tokens(query_from_proto(request), keys, self._config.default_region)
        hub_request = hub_pb2.SearchRequest(
            case_number=request.case_number,
            purpose=request.purpose,
            tokens=[t.to_proto() for t in tokens],
            agreement=agreement.id,
        )
        metadata = [("authorization", authorization)]
        request_id = metadata_value(context, "x-request-id")
        if request_id:
            metadata.append(("x-request-id", request_id))
        result = await call(self._hub.Search, hub_request, timeout=GATEWAY_TIMEOUT,
                            metadata=metadata)
        return node_pb2.LocalSearchResponse(
            result=result, sent_kinds=sorted({int(t.kind) for t in tokens})  # type: ignore[misc]
        )


@dataclass
class RunningNode:
    server: grpc.aio.Server
    port: int
    store: NodeStore
    hub_channel: grpc.aio.Channel
    health: health.aio.HealthServicer
    policy: PolicyPoint
    watcher: asyncio.Task[None] | None = None

    async def stop(self, grace: float = 5.0) -> None:
        """Stop accepting calls, let in-flight calls finish within ``grace``."""
        if self.watcher is not None:
            self.watcher.cancel()
        await self.health.enter_graceful_shutdown()
        await self.server.stop(grace)
        await self.hub_channel.close()
        await self.policy.close()
        self.store.close()


async def start_node(
    config: NodeConfig, clock: Clock = utc_now, *, listen: str | None = None
) -> RunningNode:
    """Build and start the node server; returns once it is listening.

    ``listen`` overrides the configured address (tests use port 0).
    """
    store = NodeStore.open(config.database_url)
    keyring = config.keyring()
    _agreements, policy = await config.policy.open()
    matcher = Matcher(store, config.agency, policy)
    hub_channel = grpc.aio.secure_channel(
        config.hub, config.tls.channel_credentials(), options=channel_options()
    )
    server = grpc.aio.server(options=server_options())
    node_pb2_grpc.add_NodeServiceServicer_to_server(NodeServicer(config, matcher, clock), server)
    node_pb2_grpc.add_GatewayServiceServicer_to_server(
        GatewayServicer(config, keyring, hub_pb2_grpc.HubServiceStub(hub_channel)), server
    )
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    services = node_pb2.DESCRIPTOR.services_by_name
    service_names = [
        services["NodeService"].full_name,
        services["GatewayService"].full_name,
        health.SERVICE_NAME,
    ]
    if config.reflection:
        reflection.enable_server_reflection([*service_names, reflection.SERVICE_NAME], server)
    address = listen or config.listen
    try:
        port = server.add_secure_port(address, config.tls.server_credentials())
    except RuntimeError as exc:
        raise AccordError(f"cannot listen on {address}: {exc}") from exc
    if port == 0:
        raise AccordError(f"cannot listen on {address}")
    await server.start()
    for name in (*service_names, ""):
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    watcher = None
    if config.reload_seconds > 0:
        watcher = asyncio.create_task(watch(config.policy, policy, config.reload_seconds))
    log.info("node_started", agency=config.agency, listen=address, port=port)
    return RunningNode(server, port, store, hub_channel, health_servicer, policy, watcher)
