"""The hub's gRPC server: thin adapters over :mod:`hub.search`, plus wiring.

Authentication happens here, once per call, in two layers:

1. the calling node by its mTLS certificate (``accord:agency:<id>`` of a
   member agency), checked by gRPC against the federation CA and by us
   against the member list;
2. the investigator by a JWT from that same agency's identity provider.

A failure of either is audited (``auth_failed``) and answered with an opaque
UNAUTHENTICATED; a wrong role is PERMISSION_DENIED, also audited.
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

from accord.errors import AccordError, PermissionDenied, Unauthenticated
from accord.identity import Principal, TokenVerifier
from accord.policy.engine import PolicyPoint
from accord.policy.source import watch
from accord.rpc import call, channel_options, metadata_value, rpc_method, server_options
from accord.tls import agency_of_identity, peer_identity
from accord.v1 import hub_pb2, hub_pb2_grpc, node_pb2, node_pb2_grpc
from hub.audit import AuditEvent, AuditLog
from hub.config import HubConfig
from hub.search import Searcher, SearchQuery

log = structlog.get_logger("accord.hub")

Clock = Callable[[], dt.datetime]


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is calling: the node's agency and the investigator behind it."""

    node_agency: str
    principal: Principal
    source: str


class Authenticator:
    """Authenticates node and investigator; audits every failure."""

    def __init__(self, config: HubConfig, verifier: TokenVerifier, audit: AuditLog) -> None:
        self._members = {m.agency for m in config.members}
        self._verifier = verifier
        self._audit = audit

    async def authenticate(
        self, context: grpc.aio.ServicerContext, now: dt.datetime, role: str | None = None
    ) -> Caller:
        """Authenticate node and investigator; ``role``, if given, is required.

        (Searches leave roles to the search policy, which knows each
        agreement's search roles.)
        """
        source = context.peer() or ""
        node_agency = ""
        try:
            identity = peer_identity(context.auth_context())
            node_agency = agency_of_identity(identity) or ""
            if node_agency not in self._members:
                raise Unauthenticated("unknown caller", reasons=("caller_not_member",))
            header = metadata_value(context, "authorization") or ""
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token:
                raise Unauthenticated("missing bearer token", reasons=("token_missing",))
            principal = self._verifier.verify(token.strip(), now)
            if principal.agency != node_agency:
                # An investigator speaks only through their own agency's node.
                raise Unauthenticated("invalid token", reasons=("token_agency_not_caller",))
        except Unauthenticated as exc:
            await self._record_failure("auth_failed", now, node_agency, "", source, exc)
            raise
        if role is not None and not principal.has_role(role):
            denied = PermissionDenied(f"role '{role}' required", reasons=(f"role_{role}_missing",))
            await self._record_failure("permission_denied", now, node_agency,
                                       principal.subject, source, denied)
            raise denied
        return Caller(node_agency, principal, source)

    async def _record_failure(
        self, event: str, now: dt.datetime, agency: str, actor: str, source: str,
        exc: AccordError,
    ) -> None:
        await asyncio.to_thread(
            self._audit.append,
            AuditEvent(event=event, time=now, outcome="denied", actor=actor, agency=agency,
                       source=source, reasons=exc.reasons),
        )


class HubServicer(hub_pb2_grpc.HubServiceServicer):
    """HubService over gRPC."""

    def __init__(
        self, config: HubConfig, auth: Authenticator, searcher: Searcher, clock: Clock
    ) -> None:
        self._config = config
        self._auth = auth
        self._searcher = searcher
        self._clock = clock

    @rpc_method
    async def Search(
        self, request: hub_pb2.SearchRequest, context: grpc.aio.ServicerContext
    ) -> hub_pb2.SearchResponse:
        now = self._clock()
        caller = await self._auth.authenticate(context, now)
        structlog.contextvars.bind_contextvars(agency=caller.node_agency)
        query = SearchQuery.from_proto(request)
        result = await self._searcher.search(caller.principal, query, caller.source, now)
        return result.to_proto()


class NodeChannels:
    """One long-lived mTLS channel per member node."""

    def __init__(self, config: HubConfig) -> None:
        creds = config.tls.channel_credentials()
        self._channels = {
            m.agency: grpc.aio.secure_channel(m.endpoint, creds, options=channel_options())
            for m in config.members
        }
        self._stubs = {a: node_pb2_grpc.NodeServiceStub(ch) for a, ch in self._channels.items()}

    async def match(
        self, agency: str, request: node_pb2.MatchTokensRequest, timeout: float
    ) -> node_pb2.MatchTokensResponse:
        result: node_pb2.MatchTokensResponse = await call(
            self._stubs[agency].MatchTokens, request, timeout=timeout
        )
        return result

    async def close(self) -> None:
        await asyncio.gather(*(ch.close() for ch in self._channels.values()), return_exceptions=True)


@dataclass
class RunningHub:
    server: grpc.aio.Server
    port: int
    audit: AuditLog
    channels: NodeChannels
    health: health.aio.HealthServicer
    policy: PolicyPoint
    watcher: asyncio.Task[None] | None = None

    async def stop(self, grace: float = 5.0) -> None:
        """Stop accepting calls, let in-flight calls finish within ``grace``."""
        if self.watcher is not None:
            self.watcher.cancel()
        await self.health.enter_graceful_shutdown()
        await self.server.stop(grace)
        await self.channels.close()
        await self.policy.close()
        self.audit.engine.dispose()


async def start_hub(config: HubConfig, clock: Clock = utc_now) -> RunningHub:
    """Build and start the hub server; returns once it is listening."""
    from accord.db import make_engine  # local: keeps import of this module cheap

    engine = make_engine(config.database_url)
    audit = AuditLog(engine)
    audit.create_schema()
    verifier = TokenVerifier({m.issuer.issuer: m.issuer for m in config.members})
    channels = NodeChannels(config)
    _agreements, policy = await config.policy.open()
    searcher = Searcher(
        members=[m.agency for m in config.members],
        caller=channels.match,
        audit=audit,
        policy=policy,
        timeout=config.fanout_timeout,
        max_pointers_per_node=config.max_pointers_per_node,
    )
    server = grpc.aio.server(options=server_options())
    hub_pb2_grpc.add_HubServiceServicer_to_server(
        HubServicer(config, Authenticator(config, verifier, audit), searcher, clock), server
    )
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    service_names = [hub_pb2.DESCRIPTOR.services_by_name["HubService"].full_name, health.SERVICE_NAME]
    if config.reflection:
        reflection.enable_server_reflection([*service_names, reflection.SERVICE_NAME], server)
    try:
        port = server.add_secure_port(config.listen, config.tls.server_credentials())
    except RuntimeError as exc:
        raise AccordError(f"cannot listen on {config.listen}: {exc}") from exc
    if port == 0:
        raise AccordError(f"cannot listen on {config.listen}")
    await server.start()
    for name in (*service_names, ""):
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    watcher = None
    if config.reload_seconds > 0:
        watcher = asyncio.create_task(watch(config.policy, policy, config.reload_seconds))
    log.info("hub_started", listen=config.listen, port=port, members=len(config.members))
    return RunningHub(server, port, audit, channels, health_servicer, policy, watcher)
