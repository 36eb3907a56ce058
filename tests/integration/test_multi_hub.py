"""Two hub processes behind one federation share one PostgreSQL database: under
concurrent load the audit log stays one linear, verifiable log."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import os
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest
from sqlalchemy import text

from accord.auditlog import verify_log
from accord.cli.federation import default_template, free_ports, init_federation
from accord.cli.procs import spawn, wait_serving
from accord.db import make_engine
from accord.errors import RemoteError
from accord.identity import DevIdentityProvider
from accord.rpc import call, channel_options
from accord.sealing import RecipientKey, open_sealed
from accord.tokens import TOKEN_BYTES
from accord.v1 import common_pb2, hub_pb2, hub_pb2_grpc
from hub.audit import AuditLog
from hub.config import HubConfig
from node.config import NodeConfig
from node.server import start_node
from node.store import Prepared
from node.tokens import Query, query_tokens, record_tokens
from tests.integration.conftest import AGENCIES
from tests.integration.test_search import cad_call
from tests.support.attestation import attested

pytestmark = pytest.mark.postgres

SEARCHES_PER_HUB = 40


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class TwoHubs:
    """Two hub processes on one PostgreSQL database, and the federation around them."""

    fed: Any
    hub_config: HubConfig
    me: NodeConfig
    targets: list[str]
    meta: list[tuple[str, str]]
    tokens: list[Any]
    record: Any


@contextlib.asynccontextmanager
async def two_hubs(tmp_path: Path, postgres_url: str,
                   env: dict[str, str]) -> AsyncIterator[TwoHubs]:
    fed = init_federation(tmp_path / "fed", AGENCIES, now(), base_port=None,
                          template=default_template())
    hub_config = HubConfig.load(fed.hub_config)
    configs = {a: NodeConfig.load(fed.node_config(a)) for a in AGENCIES}
    owner, me = configs["rivertown_pd"], configs["lakeside_so"]
    nodes = [await start_node(configs[a]) for a in AGENCIES]
    record = cad_call()
    nodes[0].store.upsert([Prepared(record, record_tokens(record, owner.keyring().all(), "US"))],
                          now())
    # The second hub listens elsewhere, on the same database; nodes talk to the first.
    second, metrics = free_ports(2)
    env_common = {"ACCORD_HUB_HUB_DATABASE_URL": postgres_url, **env}
    hubs = [
        spawn(["hub", "serve", "--config", str(fed.hub_config)], tmp_path / "hub1.out",
              env=env_common),
        spawn(["hub", "serve", "--config", str(fed.hub_config)], tmp_path / "hub2.out",
              env={**env_common, "ACCORD_HUB_HUB_LISTEN": f"127.0.0.1:{second}",
                   "ACCORD_HUB_HUB_METRICS_LISTEN": f"127.0.0.1:{metrics}"}),
    ]
    targets = [hub_config.listen, f"127.0.0.1:{second}"]
    idp = DevIdentityProvider.load(fed.idp_dir("lakeside_so"), "lakeside_so")
    token = idp.issue("det.load", ("investigator",), now())
    keys = me.keyring().for_agreement("local-pilot")
    tokens = [t.to_proto() for t in query_tokens(Query(phone="503-555-0142"), keys, "US")]
    assert all(len(t.value) == TOKEN_BYTES for t in tokens)
    try:
        await asyncio.gather(*(wait_serving(t, me.tls, h)
                               for t, h in zip(targets, hubs, strict=True)))
        yield TwoHubs(fed, hub_config, me, targets, [("authorization", f"Bearer {token}")],
                      tokens, record)
    finally:
        for hub in hubs:
            os.kill(hub.pid, signal.SIGTERM)
            hub.wait(timeout=20)
        for node in nodes:
            await node.stop(0)


async def test_two_hubs_on_one_postgres_keep_one_linear_log(tmp_path: Path,
                                                           postgres_url: str) -> None:
    async with two_hubs(tmp_path, postgres_url, {
            "ACCORD_HUB_LIMITS_SEARCH_BURST": "1000",
            "ACCORD_HUB_LIMITS_AGENCY_SEARCH_BURST": "1000"}) as world:
        me, targets, meta, tokens = world.me, world.targets, world.meta, world.tokens

        async def load(target: str, worker: int) -> list[int]:
            seqs = []
            async with grpc.aio.secure_channel(target, me.tls.channel_credentials(),
                                               options=channel_options()) as channel:
                stub = hub_pb2_grpc.HubServiceStub(channel)
                for i in range(SEARCHES_PER_HUB // 4):
                    response = await call(stub.Search, hub_pb2.SearchRequest(
                        case_number=f"LOAD-{worker}-{i}", purpose="human_trafficking",
                        agreement="local-pilot", tokens=tokens), timeout=20, metadata=meta)
                    assert [p.agency for p in response.pointers] == ["rivertown_pd"]
                    seqs.append(response.audit_seq)
            return seqs

        results = await asyncio.gather(*(load(targets[w % 2], w) for w in range(8)))

        # A release asked on one hub and collected through the other.
        key = RecipientKey.generate()
        async with grpc.aio.secure_channel(targets[0], me.tls.channel_credentials(),
                                           options=channel_options()) as channel:
            stub = hub_pb2_grpc.HubServiceStub(channel)
            found = await call(stub.Search, hub_pb2.SearchRequest(
                case_number="LOAD-R", purpose="human_trafficking", agreement="local-pilot",
                tokens=tokens), timeout=20, metadata=meta)
            asked = await call(stub.RequestRelease, attested(hub_pb2.RequestReleaseRequest(
                pointer=found.pointers[0].handle, case_number="LOAD-R",
                purpose="human_trafficking", justification="load test",
                requester_key=key.public_bytes, request_key="multi-hub-0001"), me),
                timeout=20, metadata=meta)
        async with grpc.aio.secure_channel(targets[1], me.tls.channel_credentials(),
                                           options=channel_options()) as channel:
            fetched = await call(hub_pb2_grpc.HubServiceStub(channel).FetchRelease,
                                 hub_pb2.FetchReleaseRequest(release_id=asked.release.release_id),
                                 timeout=20, metadata=meta)
        assert fetched.release.state == common_pb2.RELEASE_STATE_DELIVERED
        released = open_sealed(fetched.ciphertext, key, grant_id=fetched.grant_id)
        assert released["source_id"] == world.record.source_id

    hub_config = world.hub_config
    seqs = sorted(s for r in results for s in r)
    assert len(seqs) == len(set(seqs)) == SEARCHES_PER_HUB * 2
    engine = make_engine(postgres_url)
    try:
        from accord.checkpoint import Ed25519Signer

        log = AuditLog(engine, Ed25519Signer.load_pem(hub_config.signing_key, "accord-hub"),
                       hub_config.log_origin)
        entries = list(log.entries())
        assert [e.seq for e in entries] == list(range(1, len(entries) + 1))  # no gaps, no dups
        assert {e.doc["case"] for e in entries} >= {f"LOAD-{w}-{i}" for w in range(8)
                                                    for i in range(SEARCHES_PER_HUB // 4)}
        report = verify_log(((e.seq, e.entry) for e in entries), list(log.checkpoints()),
                            log.signer.public_key(), "accord-hub", hub_config.log_origin)
        assert report.ok, report.problem
        # One signed checkpoint per commit (a group commit covers its batch), the
        # last one covering every entry.
        assert 1 <= report.checkpoints <= len(entries)
        assert log.latest_checkpoint().checkpoint.size == len(entries)
        events = [json.loads(e.entry)["event"] for e in entries]
        assert events.count("release_delivered") == 1
    finally:
        engine.dispose()


async def test_two_hubs_share_one_rate_limit(tmp_path: Path, postgres_url: str) -> None:
    burst = 5
    async with two_hubs(tmp_path, postgres_url, {
            "ACCORD_HUB_LIMITS_SHARED_RATE_LIMITS": "true",
            "ACCORD_HUB_LIMITS_SEARCH_BURST": str(burst),
            "ACCORD_HUB_LIMITS_SEARCH_PER_MINUTE": "0.01"}) as world:
        outcomes = []
        for i in range(2 * burst):
            # Alternate between the hubs: each alone would allow `burst`.
            async with grpc.aio.secure_channel(world.targets[i % 2],
                                               world.me.tls.channel_credentials(),
                                               options=channel_options()) as channel:
                try:
                    await call(hub_pb2_grpc.HubServiceStub(channel).Search,
                               hub_pb2.SearchRequest(
                                   case_number=f"RATE-{i}", purpose="human_trafficking",
                                   agreement="local-pilot", tokens=world.tokens),
                               timeout=20, metadata=world.meta)
                    outcomes.append("ok")
                except RemoteError as exc:
                    outcomes.append(exc.status.name)
    assert outcomes == ["ok"] * burst + ["RESOURCE_EXHAUSTED"] * burst
    engine = make_engine(postgres_url)
    try:
        with engine.connect() as conn:
            events = [json.loads(row[0])["event"] for row in conn.execute(
                text("SELECT entry FROM audit_entries ORDER BY seq"))]
    finally:
        engine.dispose()
    assert events.count("search") == burst
    assert events.count("search_rate_limited") == burst
