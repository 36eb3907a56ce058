"""The node's gRPC server: NodeService for the hub, GatewayService for its own
agency's investigators, plus health checking and (optionally) reflection.

Both services run on one mTLS port. The caller's certificate decides what it
may call: only the hub (``accord:hub``) may call NodeService, only this
agency's own tools (``accord:agency:<own id>``) may call GatewayService.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import grpc
import structlog
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from grpc_health.v1 import health, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from accord.attestation import Attester
from accord.errors import (
    AccordError,
    ConfigError,
    CryptoError,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Unauthenticated,
)
from accord.freetext import check_free_text
from accord.health import check_all, database_check, monitor, policy_check, set_status
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
from accord.sealing import RecipientKey, open_sealed
from accord.tls import HUB_IDENTITY, agency_identity, load_certificate, peer_identity
from accord.v1 import common_pb2, hub_pb2, hub_pb2_grpc, node_pb2, node_pb2_grpc
from node.config import NodeConfig
from node.counts import CountQuery, count_records
from node.encodings import encode_query
from node.keywrap import RequestKeyWrap
from node.matching import Matcher, MatchQuery
from node.release import HubKeys, Releaser
from node.store import WATCH_LABEL_MAX, NodeStore
from node.sweep import PivotQuery, SweepQuery, Sweeps
from node.tokens import Keyring, Query

if TYPE_CHECKING:
    from node.console.app import RunningConsole

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
    """NodeService: answers the hub with pointers, and releases under grants."""

    def __init__(self, config: NodeConfig, matcher: Matcher, releaser: Releaser,
                 sweeps: Sweeps, clock: Clock) -> None:
        self._config = config
        self._matcher = matcher
        self._releaser = releaser
        self._sweeps = sweeps
        self._clock = clock
        self.metrics: Metrics | None = None
        self.store: NodeStore | None = None  # counts for the dashboard (node.counts)

    @rpc_method
    async def Pivot(
        self, request: node_pb2.PivotRequest, context: grpc.aio.ServicerContext
    ) -> node_pb2.PivotResponse:
        require_peer(context, HUB_IDENTITY)
        query = PivotQuery.from_proto(request)
        structlog.contextvars.bind_contextvars(search_id=query.search_id)
        response = await self._sweeps.pivot(query, self._clock())
        log.info("pivoted", requesting_agency=query.requesting_agency,
                 handles=len(query.handles), tokens=len(response.tokens))
        return response

    @rpc_method
    async def SweepTokens(
        self, request: node_pb2.SweepTokensRequest, context: grpc.aio.ServicerContext
    ) -> node_pb2.SweepTokensResponse:
        require_peer(context, HUB_IDENTITY)
        query = SweepQuery.from_proto(request, self._config.max_pointers)
        structlog.contextvars.bind_contextvars(search_id=query.search_id)
        response = await self._sweeps.lookup(query, self._clock())
        log.info("swept", requesting_agency=query.requesting_agency, pointers=len(response.hits))
        if self.metrics is not None:
            self.metrics.pointers.inc(len(response.hits))
        return response

    @rpc_method
    async def PrepareRelease(
        self, request: node_pb2.PrepareReleaseRequest, context: grpc.aio.ServicerContext
    ) -> node_pb2.PrepareReleaseResponse:
        require_peer(context, HUB_IDENTITY)
        return await self._releaser.prepare(request, self._clock())

    @rpc_method
    async def Release(
        self, request: node_pb2.ReleaseRequest, context: grpc.aio.ServicerContext
    ) -> node_pb2.ReleaseResponse:
        require_peer(context, HUB_IDENTITY)
        response = await self._releaser.release(request, self._clock())
        log.info("released", bytes=len(response.ciphertext))
        return response

    @rpc_method
    async def MatchTokens(
        self, request: node_pb2.MatchTokensRequest, context: grpc.aio.ServicerContext
    ) -> node_pb2.MatchTokensResponse:
        require_peer(context, HUB_IDENTITY)
        query = MatchQuery.from_proto(request, self._config.max_pointers)
        structlog.contextvars.bind_contextvars(search_id=query.search_id)
        pointers, truncated = await self._matcher.match(query, self._clock())
        log.info("matched", requesting_agency=query.requesting_agency, pointers=len(pointers))
        if self.metrics is not None:
            self.metrics.pointers.inc(len(pointers))
        return node_pb2.MatchTokensResponse(pointers=pointers, truncated=truncated)

    @rpc_method
    async def CountRecords(
        self, request: node_pb2.CountRecordsRequest, context: grpc.aio.ServicerContext
    ) -> node_pb2.CountRecordsResponse:
        require_peer(context, HUB_IDENTITY)
        if self.store is None:
            raise AccordError("record counts are not configured")
        query = CountQuery.from_proto(request)
        # This node's own decision, as for a search: what it would point to
        # for this agency, agreement and purpose is all it counts.
        decision = await self._matcher.decide(query.agreement, query.purpose,
                                              query.requesting_agency, self._clock())
        query = query.narrowed(decision.result)
        result = await asyncio.to_thread(count_records, self.store, query,
                                         self._config.local_rules)
        log.info("counted", requesting_agency=query.requesting_agency,
                 cells=sum(len(t) for t in result.tables.values()),
                 suppressed_cells=result.suppressed_cells)
        return result.to_proto()


def _subject(metadata: list[tuple[str, str]]) -> str:
    """The token's subject, for this node's own records of whose key is whose.

    Not a security decision: the hub verifies the token; this only labels the
    locally kept private key.
    """
    import jwt

    token = dict(metadata).get("authorization", "").partition(" ")[2]
    try:
        subject = str(jwt.decode(token, options={"verify_signature": False}).get("sub", ""))
    except jwt.PyJWTError:
        return ""
    # Unverified, so anything: only printable text is kept as a label (a NUL,
    # say, which PostgreSQL refuses in text, would fail the request as internal
    # before the hub could refuse the token for what it is).
    return subject[:256] if subject.isprintable() else ""


def load_ed25519_public_key(path: Path) -> Ed25519PublicKey:
    from cryptography.hazmat.primitives import serialization

    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: cannot read the hub's public key: {exc}") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise ConfigError(f"{path}: want the hub's Ed25519 public key")
    return key


def query_from_proto(req: node_pb2.LocalSearchRequest | node_pb2.LocalAddWatchRequest) -> Query:
    """The plaintext query of a LocalSearchRequest (or a watch's), with bounded field sizes."""
    fields = ("name", "dob", "phone", "email", "plate", "address", "vin")
    message = type(req).__name__
    for name in fields:
        if len(getattr(req, name)) > MAX_FIELD_CHARS:
            raise InvalidArgument(
                f"{message}.{name}: longer than {MAX_FIELD_CHARS} characters"
            )
    return Query(**{name: getattr(req, name).strip() for name in fields})


class GatewayServicer(node_pb2_grpc.GatewayServiceServicer):
    """GatewayService: tokenises an investigator's query and asks the hub."""

    def __init__(self, config: NodeConfig, keyring: Keyring, hub: hub_pb2_grpc.HubServiceStub,
                 store: NodeStore, clock: Clock, request_keys: RequestKeyWrap) -> None:
        self._config = config
        self._keyring = keyring
        self._hub = hub
        self._store = store
        self._clock = clock
        self._request_keys = request_keys
        # Signs each request's one-time key with this node's TLS key, so the
        # owning node can tell it is ours and not one the hub put in its place.
        self._attester = Attester.load(config.agency, config.tls.cert, config.tls.key)

    def _forward(self, context: grpc.aio.ServicerContext) -> list[tuple[str, str]]:
        """Check the caller is our own agency's tool; the metadata to pass on to the hub."""
        require_peer(context, agency_identity(self._config.agency))
        authorization = metadata_value(context, "authorization")
        if not authorization:
            raise Unauthenticated("missing bearer token")
        metadata = [("authorization", authorization)]
        request_id = metadata_value(context, "x-request-id")
        if request_id:
            metadata.append(("x-request-id", request_id))
        return metadata

    @rpc_method
    async def LocalRequestRelease(
        self, request: node_pb2.LocalRequestReleaseRequest, context: grpc.aio.ServicerContext
    ) -> hub_pb2.RequestReleaseResponse:
        return await self.request_release(request, self._forward(context))

    @property
    def region(self) -> str:
        """The agency's default region: how free text's phone numbers are read."""
        return self._config.default_region

    async def request_release(self, request: node_pb2.LocalRequestReleaseRequest,
                              metadata: list[tuple[str, str]]) -> hub_pb2.RequestReleaseResponse:
        """Ask the hub for a release on behalf of the bearer in ``metadata`` (also the console's)."""
        # The hub keeps the justification: nothing identifier-like goes to it.
        # (Off the event loop: reading phone numbers in 2,000 characters of
        # digits and slashes takes a few hundred milliseconds.)
        await asyncio.to_thread(check_free_text, "justification", request.justification,
                                self.region)
        # The record will be encrypted to a key made here, for this request only;
        # its private half never leaves this node, and its database holds it
        # sealed under the node's request key file.
        key = RecipientKey.generate()
        request_key = secrets.token_urlsafe(18)
        subject = _subject(metadata)
        await asyncio.to_thread(self._store.save_request_key, request_key, subject,
                                self._request_keys.seal(request_key, key.private_bytes),
                                self._clock())
        response: hub_pb2.RequestReleaseResponse = await call(
            self._hub.RequestRelease,
            hub_pb2.RequestReleaseRequest(
                pointer=request.pointer, case_number=request.case_number,
                purpose=request.purpose, justification=request.justification,
                requester_key=key.public_bytes, request_key=request_key,
                requester_key_signature=self._attester.attest(request.pointer,
                                                              key.public_bytes),
                requester_certificate=self._attester.certificate),
            timeout=GATEWAY_TIMEOUT, metadata=metadata)
        await asyncio.to_thread(self._store.bind_release, request_key,
                                response.release.release_id)
        return response

    @rpc_method
    async def LocalFetchRelease(
        self, request: hub_pb2.FetchReleaseRequest, context: grpc.aio.ServicerContext
    ) -> node_pb2.LocalFetchReleaseResponse:
        return await self.fetch_release(request, self._forward(context))

    async def fetch_release(self, request: hub_pb2.FetchReleaseRequest,
                            metadata: list[tuple[str, str]]) -> node_pb2.LocalFetchReleaseResponse:
        """Collect a release from the hub and decrypt it here (also the console's)."""
        response: hub_pb2.FetchReleaseResponse = await call(
            self._hub.FetchRelease, request, timeout=GATEWAY_TIMEOUT, metadata=metadata)
        if not response.ciphertext:
            return node_pb2.LocalFetchReleaseResponse(release=response.release)
        found = await asyncio.to_thread(self._store.release_key, request.release_id)
        if found is None:
            raise NotFound(f"release {request.release_id}: not requested through this node")
        request_key, _requester, stored = found
        try:
            private = self._request_keys.open(request_key, stored)
        except CryptoError:
            # Sealed under another key file than the node has now (replaced or
            # lost since the request): the record can never be opened here.
            raise ConfigError(
                f"release {request.release_id}: this node cannot open the key it made for "
                "the request (its request key file changed since); ask for the release "
                "again") from None
        record = open_sealed(response.ciphertext, RecipientKey.from_private_bytes(private),
                             grant_id=response.grant_id)
        return node_pb2.LocalFetchReleaseResponse(
            release=response.release, record_json=json.dumps(record, sort_keys=True),
            withheld=list(response.withheld))

    def _encode(self, request: node_pb2.LocalSearchRequest | node_pb2.LocalAddWatchRequest
                ) -> tuple[str, list[common_pb2.Token], list[common_pb2.BloomFilter]]:
        """The agreement, keyed tokens and keyed Bloom filters of a local query."""
        # The named agreement, or the only one this agency belongs to.
        agreement = self._config.agreements.resolve(self._config.agency, request.agreement or None)
        keys = self._keyring.for_agreement(agreement.id)
        # Exact tokens, field encodings, blocking keys and Bloom filters: all
        # keyed, so the hub relays them without being able to read them.
        encoded = encode_query(query_from_proto(request), keys, self._config.default_region)
        filters = [common_pb2.BloomFilter(kind=int(kind), bits=bits)  # type: ignore[arg-type]
                   for kind, bits in encoded.filters]
        return agreement.id, [t.to_proto() for t in encoded.tokens], filters

    @rpc_method
    async def LocalSearch(
        self, request: node_pb2.LocalSearchRequest, context: grpc.aio.ServicerContext
    ) -> node_pb2.LocalSearchResponse:
        return await self.search(request, self._forward(context))

    async def search(self, request: node_pb2.LocalSearchRequest,
                     metadata: list[tuple[str, str]]) -> node_pb2.LocalSearchResponse:
        """Tokenise a query here and search through the hub (also the console's)."""
        agreement, tokens, filters = self._encode(request)
        hub_request = hub_pb2.SearchRequest(
            case_number=request.case_number, purpose=request.purpose, tokens=tokens,
            agreement=agreement, filters=filters, depth=request.depth,
        )
        result = await call(self._hub.Search, hub_request, timeout=GATEWAY_TIMEOUT,
                            metadata=metadata)
        return node_pb2.LocalSearchResponse(
            result=result, sent_kinds=sorted({int(t.kind) for t in tokens})  # type: ignore[misc]
        )

    @rpc_method
    async def LocalAddWatch(
        self, request: node_pb2.LocalAddWatchRequest, context: grpc.aio.ServicerContext
    ) -> hub_pb2.AddWatchResponse:
        return await self.add_watch(request, self._forward(context))

    async def add_watch(self, request: node_pb2.LocalAddWatchRequest,
                        metadata: list[tuple[str, str]]) -> hub_pb2.AddWatchResponse:
        """Tokenise a watch's identifiers here and register it at the hub (also the console's).

        The label stays here: it is the investigator's free text ("Jazzy's
        phone") and may name the very identifiers the hub must never see.
        """
        label = request.label.strip()
        if len(label) > WATCH_LABEL_MAX or not label.isprintable():
            raise InvalidArgument(f"LocalAddWatchRequest.label: want at most {WATCH_LABEL_MAX} "
                                  "printable characters")
        agreement, tokens, filters = self._encode(request)
        response: hub_pb2.AddWatchResponse = await call(
            self._hub.AddWatch,
            hub_pb2.AddWatchRequest(case_number=request.case_number, purpose=request.purpose,
                                    tokens=tokens, agreement=agreement, filters=filters,
                                    days=request.days),
            timeout=GATEWAY_TIMEOUT, metadata=metadata)
        if label:
            await asyncio.to_thread(self._store.label_watch, response.watch.watch_id, label,
                                    self._clock())
            response.watch.label = label
        return response

    def label_watches(self, watches: Iterable[hub_pb2.Watch]) -> None:
        """Fill in the labels this node keeps for ``watches`` (the hub holds none)."""
        label_watches(self._store, watches)


def label_watches(store: NodeStore, watches: Iterable[hub_pb2.Watch]) -> None:
    """Fill in the labels ``store`` keeps for ``watches``, in place."""
    watches = list(watches)
    labels = store.watch_label_map(w.watch_id for w in watches)
    for w in watches:
        w.label = labels.get(w.watch_id, "")


@dataclass
class RunningNode:
    server: grpc.aio.Server
    port: int
    store: NodeStore
    hub_channel: grpc.aio.Channel
    health: health.aio.HealthServicer
    policy: PolicyPoint
    metrics: Metrics
    metrics_server: MetricsServer | None = None
    tasks: tuple[asyncio.Task[None], ...] = ()
    console: RunningConsole | None = None

    async def stop(self, grace: float = 5.0) -> None:
        """Stop accepting calls, let in-flight calls finish within ``grace``."""
        for task in self.tasks:
            task.cancel()
        if self.console is not None:
            await self.console.stop()
        await self.health.enter_graceful_shutdown()
        await self.server.stop(grace)
        await self.hub_channel.close()
        await self.policy.close()
        if self.metrics_server is not None:
            self.metrics_server.close()
        self.store.close()


async def start_node(
    config: NodeConfig, clock: Clock = utc_now, *, listen: str | None = None
) -> RunningNode:
    """Build and start the node server; returns once it is listening.

    ``listen`` overrides the configured address (tests use port 0).
    """
    request_keys = RequestKeyWrap.load(config.request_key_file)  # before the store: fail early
    store = NodeStore.open(config.database_url, auto_migrate=config.auto_migrate)
    keyring = config.keyring()
    _agreements, policy = await config.policy.open()
    matcher = Matcher(store, config.agency, policy)
    hub_channel = grpc.aio.secure_channel(
        config.hub, config.tls.channel_credentials(), options=channel_options()
    )
    log_stub = hub_pb2_grpc.LogServiceStub(hub_channel)

    async def consistency(old: int, new: int) -> list[bytes]:
        response: hub_pb2.GetConsistencyProofResponse = await call(
            log_stub.GetConsistencyProof,
            hub_pb2.GetConsistencyProofRequest(old_size=old, new_size=new), timeout=10)
        return list(response.proof)

    releaser_keys = tuple(load_ed25519_public_key(p) for p in
                          (config.hub_public_key, *config.hub_previous_public_keys))
    releaser = Releaser(store, config.agency, policy,
                        HubKeys(releaser_keys, config.log_origin, ca=load_certificate(config.tls.ca_cert)),
                        consistency)
    metrics = Metrics("node")
    server = grpc.aio.server(options=server_options(config.limits.max_message_bytes),
                             maximum_concurrent_rpcs=config.limits.max_concurrent_rpcs,
                             interceptors=[RequestDecoding()])
    sweeps = Sweeps(store, matcher, keyring, config.default_region)
    node_servicer = NodeServicer(config, matcher, releaser, sweeps, clock)
    node_servicer.metrics = metrics  # RPC and pointer counts
    node_servicer.store = store
    node_pb2_grpc.add_NodeServiceServicer_to_server(node_servicer, server)
    gateway = GatewayServicer(config, keyring, hub_pb2_grpc.HubServiceStub(hub_channel), store,
                              clock, request_keys)
    node_pb2_grpc.add_GatewayServiceServicer_to_server(gateway, server)
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
    metrics_server = serve_metrics(metrics, config.metrics_listen)
    await server.start()
    checks = [("database", database_check(store.engine)), ("policy", policy_check(policy))]
    await set_status(health_servicer, service_names, not await check_all(checks))
    tasks = [asyncio.create_task(monitor(health_servicer, service_names, checks,
                                         config.health_interval))]
    if config.reload_seconds > 0:
        tasks.append(asyncio.create_task(watch(config.policy, policy, config.reload_seconds)))
    console = None
    if config.console.enabled:
        from node.console.service import start_console  # aiohttp only when the console runs

        console = await start_console(config, gateway, hub_channel, clock,
                                      releaser_keys, store=store)
    log.info("node_started", agency=config.agency, listen=address, port=port,
             metrics_port=metrics_server.port if metrics_server else None,
             console=console.url if console else None)
    return RunningNode(server, port, store, hub_channel, health_servicer, policy, metrics,
                       metrics_server, tuple(tasks), console)
