"""Shared set-up for the adversarial suite: one live federation per module.

Every test here plays a misbehaving party against real servers: a real hub and
real nodes, in-process ``grpc.aio`` servers on loopback with mutual TLS, as in
``tests/integration``. To keep the whole directory fast, a module starts its
federation once, on an event loop in a background thread, and its tests are
plain synchronous functions that talk to it with blocking gRPC clients. That
also lets hypothesis (which drives synchronous tests) fuzz the real servers.

Hypothesis profiles: ``ci`` (the default, used by ``make test``: few examples,
derandomised, so the suite is fast and repeatable) and ``fuzz`` (many random
examples), chosen with ``HYPOTHESIS_PROFILE=fuzz``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import threading
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

import grpc
import pytest
import structlog
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from hypothesis import HealthCheck, settings

from accord.auditlog import VerifyReport, verify_log
from accord.cli.federation import default_template, init_federation
from accord.errors import RemoteError
from accord.logging import configure as configure_logging
from accord.rpc import channel_options
from accord.tls import CertificateAuthority
from accord.v1 import hub_pb2_grpc, node_pb2_grpc
from hub.config import HubConfig
from hub.server import start_hub
from node.config import NodeConfig
from node.server import start_node
from tests.adversarial.hub_process import generous_limits
from tests.conftest import NOW
from tests.integration.conftest import (
    AGENCIES,
    LiveFederation,
    node_for_tests,
    patient,
    stop_federation,
)

settings.register_profile(
    "ci", max_examples=25, derandomize=True, deadline=None, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile(
    "fuzz", max_examples=2000, deadline=None, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

_T = TypeVar("_T")

#: Status codes that mean "the server did not handle this input": never acceptable.
UNHANDLED = frozenset({grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN})


class BackgroundLoop:
    """An asyncio event loop running in a daemon thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True,
                                        name="adversarial-servers")
        self._thread.start()

    def run(self, coro: Awaitable[_T], timeout: float = 60.0) -> _T:
        """Run ``coro`` on the loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)  # type: ignore[arg-type]

    def close(self) -> None:
        """Cancel what is still running on the loop (health monitors...), then stop it."""
        async def drain() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        self.run(drain(), timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()


async def start(
    root: Path, *, hub_config: Callable[[HubConfig], HubConfig] = generous_limits,
    node_config: Callable[[NodeConfig], NodeConfig] | None = None, down: Sequence[str] = (),
    fanout_timeout: float = 2.0,
) -> LiveFederation:
    """A federation as tests/integration starts it, with the hub's config open to change."""
    fed = init_federation(root, AGENCIES, NOW, base_port=None, template=default_template())
    loaded = HubConfig.load(fed.hub_config)
    hub = hub_config(replace(loaded, fanout_timeout=fanout_timeout, reload_seconds=0,
                             policy=patient(loaded.policy)))
    node_configs = {a: node_for_tests(NodeConfig.load(fed.node_config(a))) for a in AGENCIES}
    if node_config is not None:
        node_configs = {a: node_config(c) for a, c in node_configs.items()}
    running_hub = await start_hub(hub, clock=lambda: NOW)
    nodes = {a: await start_node(c, clock=lambda: NOW)
             for a, c in node_configs.items() if a not in down}
    return LiveFederation(fed, hub, node_configs, running_hub, nodes)


@dataclass
class Federation:
    """A live federation driven from synchronous tests."""

    live: LiveFederation
    loop: BackgroundLoop

    # --- parties' credentials ---------------------------------------------------------

    @property
    def ca(self) -> CertificateAuthority:
        root = self.live.fed.root / "ca"
        return CertificateAuthority.load(root / "ca.pem", root / "ca.key")

    def agency_creds(self, agency: str) -> grpc.ChannelCredentials:
        return self.live.node_configs[agency].tls.channel_credentials()

    def hub_creds(self) -> grpc.ChannelCredentials:
        return self.live.hub_config.tls.channel_credentials()

    def issued_creds(self, identity: str, **issue: Any) -> grpc.ChannelCredentials:
        """Credentials for a certificate the federation CA issues now to ``identity``."""
        ca = self.ca
        cert, key = ca.issue(identity, issue.pop("now", dt.datetime.now(dt.UTC)), **issue)
        return grpc.ssl_channel_credentials(root_certificates=ca.cert_pem, private_key=key,
                                            certificate_chain=cert)

    def token(self, agency: str, sub: str = "det.test", roles: Sequence[str] = ("investigator",),
              **kwargs: Any) -> str:
        return self.live.token(agency, sub=sub, roles=roles, **kwargs)

    # --- where to call ------------------------------------------------------------------

    @property
    def hub_target(self) -> str:
        return self.live.hub_config.listen

    def node_target(self, agency: str) -> str:
        return self.live.node_configs[agency].listen

    def call(self, target: str, creds: grpc.ChannelCredentials, stub_class: Any, method: str,
             request: Any, *, metadata: Sequence[tuple[str, str | bytes]] = (),
             timeout: float = 15.0) -> Any:
        """One blocking unary call; a gRPC failure raises RemoteError with its status."""
        with grpc.secure_channel(target, creds, options=channel_options()) as channel:
            rpc = getattr(stub_class(channel), method)
            try:
                return rpc(request, timeout=timeout, metadata=tuple(metadata))
            except grpc.RpcError as exc:
                raise RemoteError(exc.code(), exc.details() or exc.code().name) from exc  # type: ignore[attr-defined]

    def hub(self, service: str, method: str, request: Any, *, agency: str = "lakeside_so",
            token: str | None = None, creds: grpc.ChannelCredentials | None = None,
            metadata: Sequence[tuple[str, str | bytes]] | None = None, timeout: float = 15.0,
            ) -> Any:
        """Call the hub as ``agency``'s node, with an investigator's bearer token."""
        stub = getattr(hub_pb2_grpc, f"{service}Stub")
        if metadata is None:
            metadata = [("authorization", f"Bearer {token or self.token(agency)}")]
        return self.call(self.hub_target, creds or self.agency_creds(agency), stub, method,
                         request, metadata=metadata, timeout=timeout)

    def gateway(self, method: str, request: Any, *, agency: str = "lakeside_so",
                token: str | None = None, creds: grpc.ChannelCredentials | None = None,
                metadata: Sequence[tuple[str, str | bytes]] | None = None, timeout: float = 15.0,
                ) -> Any:
        """Call ``agency``'s gateway as its own tools do."""
        if metadata is None:
            metadata = [("authorization", f"Bearer {token or self.token(agency)}")]
        return self.call(self.node_target(agency), creds or self.agency_creds(agency),
                         node_pb2_grpc.GatewayServiceStub, method, request, metadata=metadata,
                         timeout=timeout)

    def node(self, method: str, request: Any, *, agency: str = "rivertown_pd",
             creds: grpc.ChannelCredentials | None = None, timeout: float = 15.0) -> Any:
        """Call ``agency``'s NodeService, as the hub unless other credentials are given."""
        return self.call(self.node_target(agency), creds or self.hub_creds(),
                         node_pb2_grpc.NodeServiceStub, method, request, timeout=timeout)

    # --- what the hub recorded ---------------------------------------------------------------

    def audit_size(self) -> int:
        return self.live.hub.audit.size()

    def verify_log(self) -> VerifyReport:
        """Verify the hub's whole audit log with nothing but the hub's public key."""
        audit = self.live.hub.audit
        key = serialization.load_pem_public_key(
            (self.live.fed.root / "hub" / "public_key.pem").read_bytes())
        assert isinstance(key, Ed25519PublicKey)
        return verify_log(((e.seq, e.entry) for e in audit.entries()), list(audit.checkpoints()),
                          key, "accord-hub", self.live.hub_config.log_origin)

    def audit_since(self, size: int) -> list[dict[str, Any]]:
        """The audit entries appended after the log had ``size`` entries."""
        return [e.doc for e in self.live.hub.audit.entries(size + 1)]


def expect(code: grpc.StatusCode, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> RemoteError:
    """Call ``fn`` and check it fails with ``code``; returns the error."""
    with pytest.raises(RemoteError) as info:
        fn(*args, **kwargs)
    assert info.value.status == code, f"{info.value.status.name}: {info.value.message}"
    return info.value


def attempt(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> RemoteError | None:
    """Call ``fn``; the RemoteError it raised, or None when it succeeded."""
    try:
        fn(*args, **kwargs)
    except RemoteError as exc:
        return exc
    return None


def running_federation(root: Path, *, log_file: Path | None = None,
                       **options: Any) -> Iterator[Federation]:
    """Start a federation on a background loop; stop it when the generator closes.

    The servers log JSON lines to ``log_file`` (by default beside ``root``), as
    in production, instead of rendering tracebacks to the terminal.
    """
    configure_logging(json=True, file=log_file or root.parent / f"{root.name}-servers.log")
    loop = BackgroundLoop()
    try:
        live = loop.run(start(root, **options))
    except BaseException:
        loop.close()
        structlog.reset_defaults()
        raise
    try:
        yield Federation(live, loop)
    finally:
        loop.run(stop_federation(live))
        loop.close()
        structlog.reset_defaults()


@pytest.fixture(scope="module")
def fed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Federation]:
    """A federation shared by the tests of one module (state accumulates: count from marks)."""
    yield from running_federation(tmp_path_factory.mktemp("fed") / "fed")


__all__ = ["NOW", "UNHANDLED", "BackgroundLoop", "Federation", "attempt", "expect",
           "generous_limits", "running_federation"]
