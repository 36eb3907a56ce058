"""Crash safety: SIGKILL the hub at random moments during a stream of releases.

The hub runs as a real process on a real SQLite file (WAL, synchronous=FULL);
the nodes run in this process. After 50 kills, every record any node released
must be covered by a committed ``release_granted`` entry naming its grant, and
the log must still verify end to end against the hub's signed checkpoints.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import random
import signal
from pathlib import Path

import grpc

from accord.auditlog import verify_log
from accord.checkpoint import Ed25519Signer
from accord.cli.federation import default_template, init_federation
from accord.cli.procs import spawn, wait_serving
from accord.db import make_engine
from accord.errors import AccordError
from accord.identity import DevIdentityProvider
from accord.rpc import call, channel_options
from accord.v1 import hub_pb2, node_pb2, node_pb2_grpc
from hub.audit import AuditLog
from hub.config import HubConfig
from node.config import NodeConfig
from node.server import start_node
from node.store import Prepared
from node.tokens import record_tokens
from tests.integration.conftest import AGENCIES
from tests.integration.test_search import cad_call

KILLS = 50


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def release_stream(gateway: str, config: NodeConfig, token: str,
                         delivered: list[str]) -> None:
    """Search, request, fetch, again and again, until the hub goes away."""
    meta = [("authorization", f"Bearer {token}")]
    async with grpc.aio.secure_channel(gateway, config.tls.channel_credentials(),
                                       options=channel_options()) as channel:
        stub = node_pb2_grpc.GatewayServiceStub(channel)
        while True:
            found = await call(stub.LocalSearch, node_pb2.LocalSearchRequest(
                case_number="CRASH-1", purpose="human_trafficking", phone="503-555-0142"),
                timeout=5, metadata=meta)
            pointer = found.result.pointers[0].handle
            asked = await call(stub.LocalRequestRelease, node_pb2.LocalRequestReleaseRequest(
                pointer=pointer, case_number="CRASH-1", purpose="human_trafficking",
                justification="crash test"), timeout=5, metadata=meta)
            got = await call(stub.LocalFetchRelease, hub_pb2.FetchReleaseRequest(
                release_id=asked.release.release_id), timeout=5, metadata=meta)
            if got.record_json:
                delivered.append(asked.release.release_id)


async def test_sigkill_during_releases_loses_no_audit_entry(tmp_path: Path) -> None:
    fed = init_federation(tmp_path / "fed", AGENCIES, now(), base_port=None,
                          template=default_template())
    hub_config = HubConfig.load(fed.hub_config)
    configs = {a: NodeConfig.load(fed.node_config(a)) for a in AGENCIES}
    owner = configs["rivertown_pd"]
    nodes = [await start_node(configs[a]) for a in ("rivertown_pd", "lakeside_so")]
    record = cad_call()
    nodes[0].store.upsert([Prepared(record, record_tokens(record, owner.keyring().all(), "US"))],
                          now())
    me = configs["lakeside_so"]
    idp = DevIdentityProvider.load(fed.idp_dir("lakeside_so"), "lakeside_so")
    rng = random.Random(20261123)
    delivered: list[str] = []
    kills = 0
    try:
        while kills < KILLS:
            hub = spawn(["hub", "serve", "--config", str(fed.hub_config)], tmp_path / "hub.out")
            try:
                await wait_serving(hub_config.listen, me.tls, hub)
                token = idp.issue("det.crash", ("investigator",), now())
                stream = asyncio.create_task(release_stream(me.listen, me, token, delivered))
                await asyncio.sleep(rng.uniform(0.02, 0.6))
            finally:
                os.kill(hub.pid, signal.SIGKILL)
                hub.wait(timeout=30)
                kills += 1
            with contextlib.suppress(AccordError, IndexError, asyncio.CancelledError):
                stream.cancel()
                await stream
    finally:
        for node in nodes:
            await node.stop(0)

    engine = make_engine(hub_config.database_url)
    try:
        log = AuditLog(engine, Ed25519Signer.load_pem(hub_config.signing_key, "accord-hub"),
                       hub_config.log_origin)
        entries = {e.seq: e.doc for e in log.entries()}
        released = nodes[0].store.releases()
        # Not vacuous: releases did happen, across many hub lifetimes.
        assert len(delivered) >= 10
        assert len(released) >= len(delivered)
        for row in released:
            granted = entries.get(row["audit_seq"])
            assert granted is not None, f"release {row['grant_id']} has no committed entry"
            assert granted["event"] == "release_granted"
            assert granted["details"]["grant_id"] == row["grant_id"]
        report = verify_log(((e.seq, e.entry) for e in log.entries()), list(log.checkpoints()),
                            log.signer.public_key(), "accord-hub", hub_config.log_origin)
        assert report.ok, report.problem
        assert report.entries == len(entries) == max(entries)
    finally:
        engine.dispose()
