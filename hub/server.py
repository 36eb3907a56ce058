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
from grpc_health.v1 import health, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from accord.checkpoint import Ed25519Signer
from accord.errors import (
    AccordError,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    ResourceExhausted,
    Unauthenticated,
)
from accord.health import check_all, database_check, monitor, policy_check, set_status
from accord.identity import Principal, TokenVerifier
from accord.limits import Limiter, Rate, RateLimiter
from accord.metrics import Metrics, MetricsServer, serve_metrics
from accord.policy.engine import PolicyPoint
from accord.policy.source import watch
from accord.rpc import (
    RequestDecoding,
    call,
    channel_options,
    metadata_value,
    rpc_method,
    server_options,
)
from accord.times import parse_rfc3339
from accord.tls import agency_of_identity, load_certificate, peer_identity
from accord.v1 import hub_pb2, hub_pb2_grpc, node_pb2, node_pb2_grpc
from hub.aggregates import AggregateQuery, Aggregator
from hub.audit import AuditEvent, AuditLog
from hub.config import HubConfig
from hub.notices import list_notifications
from hub.ratelimits import SharedRateLimiter
from hub.releases import CALLER_SOURCE, ReleaseAsk, ReleaseService
from hub.revocations import RevocationAudit, RevocationList
from hub.revocations import watch as watch_revocations
from hub.search import Searcher, SearchQuery
from hub.sweep import Sweeper, SweepLimits
from hub.watches import WatchAsk, WatchService, check_watch_id, run_checks

#: The name of the hub's key in signed checkpoints.
SIGNING_KEY_NAME = "accord-hub"

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

    def __init__(self, config: HubConfig, verifier: TokenVerifier, audit: AuditLog,
                 revocations: RevocationList | None = None) -> None:
        self._members = {m.agency for m in config.members}
        self._verifier = verifier
        self._audit = audit
        self._revocations = revocations if revocations is not None else RevocationList(None)

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
        if self._revocations.current.refuses(principal):
            # A genuine token the steward revoked: the caller hears only
            # "invalid token"; the log names whose it was.
            revoked = Unauthenticated("invalid token", reasons=("token_revoked",))
            await self._record_failure("auth_failed", now, node_agency, principal.subject,
                                       source, revoked, token_id=principal.token_id)
            raise revoked
        # Audit entries written for this request record where it came from.
        CALLER_SOURCE.set(source)
        if role is not None and not principal.has_role(role):
            denied = PermissionDenied(f"role '{role}' required", reasons=(f"role_{role}_missing",))
            await self._record_failure("permission_denied", now, node_agency,
                                       principal.subject, source, denied)
            raise denied
        return Caller(node_agency, principal, source)

    async def _record_failure(
        self, event: str, now: dt.datetime, agency: str, actor: str, source: str,
        exc: AccordError, **details: str,
    ) -> None:
        # Which call was refused (rpc_method binds it for the request's logs).
        rpc = structlog.contextvars.get_contextvars().get("rpc")
        if rpc:
            details = {"rpc": rpc, **details}
        await asyncio.to_thread(
            self._audit.append,
            AuditEvent(event=event, time=now, outcome="denied", actor=actor, agency=agency,
                       source=source, reasons=exc.reasons, details=details),
        )


class HubServicer(hub_pb2_grpc.HubServiceServicer):
    """HubService over gRPC."""

    def __init__(
        self, config: HubConfig, auth: Authenticator, searcher: Searcher,
        releases: ReleaseService, audit: AuditLog, metrics: Metrics, clock: Clock,
        watches: WatchService,
    ) -> None:
        self._watches = watches
        self._config = config
        self._auth = auth
        self._searcher = searcher
        self._releases = releases
        self._audit = audit
        self.metrics = metrics
        self._clock = clock
        self.aggregator: Aggregator | None = None  # the dashboard's counts (hub.aggregates)
        limits = config.limits
        investigator = Rate(limits.search_per_minute, limits.search_burst)
        agency = Rate(limits.agency_search_per_minute, limits.agency_search_burst)
        self._shared_rates = limits.shared_rate_limits
        self._investigator_rate: Limiter
        self._agency_rate: Limiter
        if self._shared_rates:
            self._investigator_rate = SharedRateLimiter(audit.engine, investigator, "investigator")
            self._agency_rate = SharedRateLimiter(audit.engine, agency, "agency")
        else:
            self._investigator_rate = RateLimiter(investigator)
            self._agency_rate = RateLimiter(agency)

    @rpc_method
    async def Search(
        self, request: hub_pb2.SearchRequest, context: grpc.aio.ServicerContext
    ) -> hub_pb2.SearchResponse:
        now = self._clock()
        caller = await self._auth.authenticate(context, now)
        structlog.contextvars.bind_contextvars(agency=caller.node_agency)
        query = SearchQuery.from_proto(request)
        await self._rate_limit(caller, query, now)
        try:
            result = await self._searcher.search(caller.principal, query, caller.source, now)
        except PermissionDenied:
            self.metrics.searches.labels("denied").inc()
            raise
        self.metrics.searches.labels("ok").inc()
        self.metrics.linked_pointers.inc(len(result.linked))
        if result.notices:
            self.metrics.deconflictions.inc()
        for node in result.nodes:
            self.metrics.node_requests.labels(node.agency, node.status_name).inc()
            if node.status_name != "denied":
                self.metrics.node_seconds.labels(node.agency).observe(node.latency_ms / 1000)
        return result.to_proto()

    def _take_tokens(self, caller: Caller, t: float) -> str | None:
        """The reason a search is refused for its rate, or None (a token was taken)."""
        if not self._investigator_rate.allow(f"{caller.principal.agency}/{caller.principal.subject}", t):
            return "investigator_rate_exceeded"
        if not self._agency_rate.allow(caller.principal.agency, t):
            return "agency_rate_exceeded"
        return None

    async def _rate_limit(self, caller: Caller, query: SearchQuery, now: dt.datetime) -> None:
        """Per-investigator and per-agency token buckets; a refusal is audited."""
        t = now.timestamp()
        # Shared buckets are a database round trip: off the event loop.
        reason = (await asyncio.to_thread(self._take_tokens, caller, t) if self._shared_rates
                  else self._take_tokens(caller, t))
        if reason is None:
            return
        self.metrics.searches.labels("rate_limited").inc()
        await asyncio.to_thread(self._audit.append, AuditEvent(
            event="search_rate_limited", time=now, outcome="denied",
            actor=caller.principal.subject, agency=caller.principal.agency,
            roles=tuple(sorted(caller.principal.roles)), source=caller.source,
            purpose=query.purpose, case=query.case_number, reasons=(reason,)))
        raise ResourceExhausted(f"search rate limit reached ({reason}); try again shortly",
                                reasons=(reason,))


    @rpc_method
    async def RequestRelease(
        self, request: hub_pb2.RequestReleaseRequest, context: grpc.aio.ServicerContext
    ) -> hub_pb2.RequestReleaseResponse:
        now = self._clock()
        caller = await self._auth.authenticate(context, now)
        ask = ReleaseAsk.from_proto(request)
        release = await self._releases.request(caller.principal, ask, now)
        self.metrics.releases.labels("requested").inc()
        return hub_pb2.RequestReleaseResponse(release=release)

    @rpc_method
    async def FetchRelease(
        self, request: hub_pb2.FetchReleaseRequest, context: grpc.aio.ServicerContext
    ) -> hub_pb2.FetchReleaseResponse:
        now = self._clock()
        caller = await self._auth.authenticate(context, now)
        release, ciphertext, grant_id, withheld = await self._releases.fetch(
            caller.principal, request.release_id, now)
        if ciphertext:
            self.metrics.releases.labels("delivered").inc()
        return hub_pb2.FetchReleaseResponse(release=release, ciphertext=ciphertext,
                                            grant_id=grant_id, withheld=withheld)

    @rpc_method
    async def ListReleases(
        self, request: hub_pb2.ListReleasesRequest, context: grpc.aio.ServicerContext
    ) -> hub_pb2.ListReleasesResponse:
        caller = await self._auth.authenticate(context, self._clock())
        releases = await self._releases.list_for(caller.principal, int(request.state))
        return hub_pb2.ListReleasesResponse(releases=releases)

    @rpc_method
    async def DecideRelease(
        self, request: hub_pb2.DecideReleaseRequest, context: grpc.aio.ServicerContext
    ) -> hub_pb2.DecideReleaseResponse:
        now = self._clock()
        caller = await self._auth.authenticate(context, now, "custodian")
        release = await self._releases.decide(caller.principal, request.release_id,
                                              request.approve, request.reason, now)
        self.metrics.releases.labels("approved" if request.approve else "denied").inc()
        return hub_pb2.DecideReleaseResponse(release=release)

    @rpc_method
    async def AggregateCounts(
        self, request: hub_pb2.AggregateCountsRequest, context: grpc.aio.ServicerContext
    ) -> hub_pb2.AggregateCountsResponse:
        now = self._clock()
        caller = await self._auth.authenticate(context, now)
        if self.aggregator is None:
            raise AccordError("aggregate counts are not configured")
        return await self.aggregator.aggregate(caller.principal, AggregateQuery.from_proto(request),
                                               caller.source, now)


    @rpc_method
    async def AddWatch(
        self, request: hub_pb2.AddWatchRequest, context: grpc.aio.ServicerContext
    ) -> hub_pb2.AddWatchResponse:
        now = self._clock()
        caller = await self._auth.authenticate(context, now)
        ask = WatchAsk.from_proto(request)
        await self._rate_limit(caller, ask.query, now)
        watch_ = await self._watches.add(caller.principal, ask, caller.source, now)
        return hub_pb2.AddWatchResponse(watch=watch_)

    @rpc_method
    async def ListWatches(
        self, request: hub_pb2.ListWatchesRequest, context: grpc.aio.ServicerContext
    ) -> hub_pb2.ListWatchesResponse:
        now = self._clock()
        caller = await self._auth.authenticate(context, now)
        found = await self._watches.list_for(caller.principal, request.include_inactive, now)
        return hub_pb2.ListWatchesResponse(watches=found)

    @rpc_method
    async def RemoveWatch(
        self, request: hub_pb2.RemoveWatchRequest, context: grpc.aio.ServicerContext
    ) -> hub_pb2.RemoveWatchResponse:
        now = self._clock()
        caller = await self._auth.authenticate(context, now)
        watch_id = check_watch_id(request.watch_id, "RemoveWatchRequest.watch_id")
        removed = await self._watches.remove(caller.principal, watch_id, caller.source, now)
        return hub_pb2.RemoveWatchResponse(watch=removed)

    @rpc_method
    async def ListNotifications(
        self, request: hub_pb2.ListNotificationsRequest, context: grpc.aio.ServicerContext
    ) -> hub_pb2.ListNotificationsResponse:
        caller = await self._auth.authenticate(context, self._clock())
        since = None
        if request.since:
            since = parse_rfc3339(request.since, "ListNotificationsRequest.since")
        if request.limit > 1000:
            raise InvalidArgument(
                f"ListNotificationsRequest.limit: got {request.limit}, at most 1000")
        principal = caller.principal

        def read() -> list[hub_pb2.Notification]:
            with self._audit.engine.connect() as conn:
                return list_notifications(conn, principal.agency, principal.subject, since,
                                          request.limit or 100)

        return hub_pb2.ListNotificationsResponse(notifications=await asyncio.to_thread(read))


class LogServicer(hub_pb2_grpc.LogServiceServicer):
    """Checkpoints and proofs, for any member node (the log is verifiable by design)."""

    def __init__(self, audit: AuditLog, members: frozenset[str]) -> None:
        self._audit = audit
        self._members = members

    def _check_member(self, context: grpc.aio.ServicerContext) -> None:
        agency = agency_of_identity(peer_identity(context.auth_context()))
        if agency not in self._members:
            raise PermissionDenied("caller is not a member node")

    @rpc_method
    async def GetCheckpoint(
        self, request: hub_pb2.GetCheckpointRequest, context: grpc.aio.ServicerContext
    ) -> hub_pb2.GetCheckpointResponse:
        self._check_member(context)
        checkpoint = await asyncio.to_thread(self._audit.latest_checkpoint)
        if checkpoint is None:
            raise NotFound("the audit log is empty")
        return hub_pb2.GetCheckpointResponse(checkpoint=checkpoint.to_text())

    @rpc_method
    async def GetInclusionProof(
        self, request: hub_pb2.GetInclusionProofRequest, context: grpc.aio.ServicerContext
    ) -> hub_pb2.GetInclusionProofResponse:
        self._check_member(context)
        current = await asyncio.to_thread(self._audit.size)
        size = request.tree_size or current
        if size > current:
            raise InvalidArgument(f"GetInclusionProofRequest.tree_size: {size}, the log has "
                                  f"{current} entries")
        proof = await asyncio.to_thread(self._audit.inclusion_proof, request.seq, size)
        return hub_pb2.GetInclusionProofResponse(proof=proof, tree_size=size)

    @rpc_method
    async def GetConsistencyProof(
        self, request: hub_pb2.GetConsistencyProofRequest, context: grpc.aio.ServicerContext
    ) -> hub_pb2.GetConsistencyProofResponse:
        self._check_member(context)
        current = await asyncio.to_thread(self._audit.size)
        if request.new_size > current:
            raise InvalidArgument(f"GetConsistencyProofRequest.new_size: {request.new_size}, "
                                  f"the log has {current} entries")
        proof = await asyncio.to_thread(self._audit.consistency_proof, request.old_size,
                                        request.new_size)
        return hub_pb2.GetConsistencyProofResponse(proof=proof)


MAX_FILTER_CHARS = 256
#: Positions past this do not fit the databases' 64-bit signed integers.
MAX_POSITION = 2**62


def check_position(name: str, value: int) -> None:
    if value > MAX_POSITION:
        raise InvalidArgument(f"{name}: {value} is past any log")


class AuditServicer(hub_pb2_grpc.AuditServiceServicer):
    """Reading the log: auditors only, and every read is itself an audit entry."""

    MAX_LIMIT = 5000

    def __init__(self, audit: AuditLog, auth: Authenticator, clock: Clock) -> None:
        self._audit = audit
        self._auth = auth
        self._clock = clock

    @rpc_method
    async def ListEntries(
        self, request: hub_pb2.ListEntriesRequest, context: grpc.aio.ServicerContext
    ) -> hub_pb2.ListEntriesResponse:
        now = self._clock()
        caller = await self._auth.authenticate(context, now, "auditor")
        if request.limit > self.MAX_LIMIT:
            raise InvalidArgument(f"ListEntriesRequest.limit: {request.limit}, at most "
                                  f"{self.MAX_LIMIT}")
        check_position("ListEntriesRequest.start_seq", request.start_seq)
        for name in ("actor", "agency", "case_number", "purpose", "event", "outcome", "since",
                     "until"):
            value = getattr(request, name)
            # Filters are copied into the audit_read entry: keep them short and printable.
            if len(value) > MAX_FILTER_CHARS or not value.isprintable():
                raise InvalidArgument(f"ListEntriesRequest.{name}: want at most "
                                      f"{MAX_FILTER_CHARS} printable characters")
        filters = {k: getattr(request, f) for k, f in (
            ("actor", "actor"), ("agency", "agency"), ("case", "case_number"),
            ("purpose", "purpose"), ("event", "event"), ("outcome", "outcome"),
            ("since", "since"), ("until", "until")) if getattr(request, f)}
        await asyncio.to_thread(self._audit.append, AuditEvent(
            event="audit_read", time=now, outcome="ok", actor=caller.principal.subject,
            agency=caller.principal.agency, roles=tuple(sorted(caller.principal.roles)),
            source=caller.source, details={"filters": filters,
                                           "start_seq": request.start_seq or 1}))
        found, next_seq = await asyncio.to_thread(
            self._audit.search, filters, request.start_seq or 1, request.limit or 500)
        checkpoint = await asyncio.to_thread(self._audit.latest_checkpoint)
        return hub_pb2.ListEntriesResponse(
            entries=[e.entry for e in found], next_seq=next_seq,
            checkpoint=checkpoint.to_text() if checkpoint else "")

    @rpc_method
    async def ListCheckpoints(
        self, request: hub_pb2.ListCheckpointsRequest, context: grpc.aio.ServicerContext
    ) -> hub_pb2.ListCheckpointsResponse:
        await self._auth.authenticate(context, self._clock(), "auditor")
        check_position("ListCheckpointsRequest.start_size", request.start_size)
        if request.limit > MAX_CHECKPOINTS_PER_PAGE:
            raise InvalidArgument(f"ListCheckpointsRequest.limit: {request.limit}, at most "
                                  f"{MAX_CHECKPOINTS_PER_PAGE}")
        limit = request.limit or 1000
        notes, next_size = await asyncio.to_thread(
            self._audit.checkpoint_range, request.start_size or 1, limit)
        return hub_pb2.ListCheckpointsResponse(checkpoints=notes, next_size=next_size)


#: The most checkpoints one ListCheckpoints page holds.
MAX_CHECKPOINTS_PER_PAGE = 10_000


class NodeChannels:
    """One long-lived mTLS channel per member node."""

    def __init__(self, config: HubConfig) -> None:
        creds = config.tls.channel_credentials()
        self._channels = {
            m.agency: grpc.aio.secure_channel(m.endpoint, creds, options=channel_options())
            for m in config.members
        }
        self._stubs = {a: node_pb2_grpc.NodeServiceStub(ch) for a, ch in self._channels.items()}
        self._timeout = config.node_timeout

    async def match(
        self, agency: str, request: node_pb2.MatchTokensRequest, timeout: float
    ) -> node_pb2.MatchTokensResponse:
        result: node_pb2.MatchTokensResponse = await call(
            self._stubs[agency].MatchTokens, request, timeout=timeout
        )
        return result

    async def prepare(
        self, agency: str, request: node_pb2.PrepareReleaseRequest
    ) -> node_pb2.PrepareReleaseResponse:
        result: node_pb2.PrepareReleaseResponse = await call(
            self._stubs[agency].PrepareRelease, request, timeout=self._timeout)
        return result

    async def deliver(self, agency: str, request: node_pb2.ReleaseRequest) -> node_pb2.ReleaseResponse:
        result: node_pb2.ReleaseResponse = await call(
            self._stubs[agency].Release, request, timeout=self._timeout)
        return result

    async def pivot(self, agency: str, request: node_pb2.PivotRequest,
                    timeout: float) -> node_pb2.PivotResponse:
        result: node_pb2.PivotResponse = await call(
            self._stubs[agency].Pivot, request, timeout=timeout)
        return result

    async def lookup(self, agency: str, request: node_pb2.SweepTokensRequest,
                     timeout: float) -> node_pb2.SweepTokensResponse:
        result: node_pb2.SweepTokensResponse = await call(
            self._stubs[agency].SweepTokens, request, timeout=timeout)
        return result

    async def count(self, agency: str, request: node_pb2.CountRecordsRequest,
                    timeout: float) -> node_pb2.CountRecordsResponse:
        result: node_pb2.CountRecordsResponse = await call(
            self._stubs[agency].CountRecords, request, timeout=timeout)
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
    metrics: Metrics
    watches: WatchService
    metrics_server: MetricsServer | None = None
    tasks: tuple[asyncio.Task[None], ...] = ()

    async def stop(self, grace: float = 5.0) -> None:
        """Stop accepting calls, let in-flight calls finish within ``grace``."""
        for task in self.tasks:
            task.cancel()
        await self.health.enter_graceful_shutdown()
        await self.server.stop(grace)
        await self.channels.close()
        await self.policy.close()
        if self.metrics_server is not None:
            self.metrics_server.close()
        self.audit.close()
        self.audit.engine.dispose()


async def start_hub(config: HubConfig, clock: Clock = utc_now) -> RunningHub:
    """Build and start the hub server; returns once it is listening."""
    from accord.db import make_engine  # local: keeps import of this module cheap

    engine = make_engine(config.database_url)
    signer = Ed25519Signer.load_pem(config.signing_key, SIGNING_KEY_NAME)
    audit = AuditLog(engine, signer, config.log_origin)
    audit.create_schema(auto_migrate=config.auto_migrate)
    metrics = Metrics("hub")
    audit.listeners.append(metrics.audit_appends.inc)
    verifier = TokenVerifier({m.issuer.issuer: m.issuer for m in config.members})
    revocations = RevocationList.open(config.revocations, [m.agency for m in config.members])
    audit_revocations = RevocationAudit(audit, revocations, clock, metrics)
    await audit_revocations()  # what is in force, if the log does not record it yet
    channels = NodeChannels(config)
    _agreements, policy = await config.policy.open()
    releases = ReleaseService(audit=audit, policy=policy, signer=signer,
                              prepare=channels.prepare, deliver=channels.deliver,
                              timeout=config.node_timeout, ca=load_certificate(config.tls.ca_cert),
                              revocations=revocations)
    searcher = Searcher(
        members=[m.agency for m in config.members],
        caller=channels.match,
        audit=audit,
        policy=policy,
        remember=releases.remember_pointers,
        timeout=config.fanout_timeout,
        max_pointers_per_node=config.max_pointers_per_node,
        sweeper=Sweeper(pivot=channels.pivot, lookup=channels.lookup,
                        timeout=config.fanout_timeout,
                        limits=SweepLimits(pointers_per_node=config.max_pointers_per_node)),
        names={agency: member.name for agreement in config.agreements.agreements.values()
               for agency, member in agreement.members.items()},
    )
    watch_service = WatchService(audit=audit, searcher=searcher,
                                 remember=releases.remember_pointers, revocations=revocations)
    server = grpc.aio.server(options=server_options(config.limits.max_message_bytes),
                             maximum_concurrent_rpcs=config.limits.max_concurrent_rpcs,
                             interceptors=[RequestDecoding()])
    hub_servicer = HubServicer(config, Authenticator(config, verifier, audit, revocations),
                               searcher,
                               releases, audit, metrics, clock, watch_service)
    hub_servicer.aggregator = Aggregator(members=[m.agency for m in config.members],
                                         counter=channels.count, audit=audit, policy=policy,
                                         timeout=config.fanout_timeout)
    hub_pb2_grpc.add_HubServiceServicer_to_server(hub_servicer, server)
    hub_pb2_grpc.add_LogServiceServicer_to_server(
        LogServicer(audit, frozenset(m.agency for m in config.members)), server)
    hub_pb2_grpc.add_AuditServiceServicer_to_server(
        AuditServicer(audit, Authenticator(config, verifier, audit, revocations), clock),
        server)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    service_names = [hub_pb2.DESCRIPTOR.services_by_name[name].full_name
                     for name in ("HubService", "LogService", "AuditService")]
    service_names.append(health.SERVICE_NAME)
    if config.reflection:
        reflection.enable_server_reflection([*service_names, reflection.SERVICE_NAME], server)
    try:
        port = server.add_secure_port(config.listen, config.tls.server_credentials())
    except RuntimeError as exc:
        raise AccordError(f"cannot listen on {config.listen}: {exc}") from exc
    if port == 0:
        raise AccordError(f"cannot listen on {config.listen}")
    metrics_server = serve_metrics(metrics, config.metrics_listen)
    await server.start()
    checks = [("database", database_check(engine)), ("policy", policy_check(policy))]
    failing = await check_all(checks)
    await set_status(health_servicer, service_names, not failing)
    tasks = [asyncio.create_task(monitor(health_servicer, service_names, checks,
                                         config.health_interval))]
    if config.reload_seconds > 0:
        tasks.append(asyncio.create_task(watch(config.policy, policy, config.reload_seconds)))
        if config.revocations is not None:
            tasks.append(asyncio.create_task(watch_revocations(
                revocations, config.reload_seconds, audit_revocations)))
    tasks.append(asyncio.create_task(run_checks(watch_service, config.watch_interval, clock,
                                                metrics.watch_notifications.inc)))
    log.info("hub_started", listen=config.listen, port=port, members=len(config.members),
             metrics_port=metrics_server.port if metrics_server else None)
    return RunningHub(server, port, audit, channels, health_servicer, policy, metrics,
                      watch_service, metrics_server, tuple(tasks))

