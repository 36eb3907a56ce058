"""Rotating the hub's signing key without downtime: old checkpoints stay
verifiable, and nodes accept grants and checkpoints under either key."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from accord.auditlog import verify_log
from accord.checkpoint import Ed25519Signer
from accord.db import make_engine
from accord.v1 import common_pb2, hub_pb2
from hub.audit import AuditEvent, AuditLog
from hub.server import start_hub
from node.config import NodeConfig
from tests.conftest import NOW
from tests.integration.conftest import start_federation, stop_federation
from tests.integration.test_release import ask, find_pointer, gateway
from tests.integration.test_search import cad_call

A = Ed25519Signer(Ed25519PrivateKey.generate(), "accord-hub")
B = Ed25519Signer(Ed25519PrivateKey.generate(), "accord-hub")


def test_checkpoints_of_both_keys_verify_after_a_rotation(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/hub.db")
    try:
        for signer in (A, B):  # the hub restarts with a new key halfway
            log = AuditLog(engine, signer, "accord-hub")
            log.create_schema()
            for i in range(5):
                log.append(AuditEvent(event="search", time=NOW + dt.timedelta(seconds=i),
                                      outcome="ok", case=f"C-{i}"))
        entries = [(e.seq, e.entry) for e in log.entries()]
        both = verify_log(entries, list(log.checkpoints()), [A.public_key(), B.public_key()],
                          "accord-hub", "accord-hub")
        only_new = verify_log(entries, list(log.checkpoints()), [B.public_key()],
                              "accord-hub", "accord-hub")
    finally:
        engine.dispose()
    assert (both.ok, both.entries, both.checkpoints) == (True, 10, 10)
    assert not only_new.ok and only_new.problem == "checkpoint at size 1: bad signature"


def pem_private(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def pem_public(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)


async def test_nodes_keep_releasing_across_a_hub_key_rotation(tmp_path: Path) -> None:
    new_key = Ed25519PrivateKey.generate()
    new_public = tmp_path / "hub_new_public.pem"
    new_public.write_bytes(pem_public(new_key))

    # Step 1: nodes learn the new key first (they accept both from now on).
    def accept_new(config: NodeConfig) -> NodeConfig:
        return replace(config, hub_previous_public_keys=(new_public,))

    live = await start_federation(tmp_path / "fed", node_config=accept_new)
    try:
        live.ingest("rivertown_pd", [cad_call()])
        pointer = await find_pointer(live, "rivertown_pd", phone="503-555-0142")
        first = await gateway(live, "lakeside_so", "LocalRequestRelease", ask(pointer))
        got = await gateway(live, "lakeside_so", "LocalFetchRelease",
                            hub_pb2.FetchReleaseRequest(release_id=first.release.release_id))
        assert got.release.state == common_pb2.RELEASE_STATE_DELIVERED

        # Step 2: the hub restarts signing with the new key; its old checkpoints stay.
        await live.hub.stop(0)
        new_private = tmp_path / "hub_new_key.pem"
        new_private.write_bytes(pem_private(new_key))
        live.hub_config = replace(live.hub_config, signing_key=new_private)
        live.hub = await start_hub(live.hub_config, clock=lambda: NOW)

        pointer = await find_pointer(live, "rivertown_pd", phone="503-555-0142")
        second = await gateway(live, "lakeside_so", "LocalRequestRelease", ask(pointer))
        got = await gateway(live, "lakeside_so", "LocalFetchRelease",
                            hub_pb2.FetchReleaseRequest(release_id=second.release.release_id))
        assert got.release.state == common_pb2.RELEASE_STATE_DELIVERED
        assert len(live.nodes["rivertown_pd"].store.releases()) == 2

        audit = live.hub.audit
        old_public = Ed25519Signer.load_pem(live.fed.root / "hub" / "signing_key.pem",
                                            "accord-hub").public_key()
        report = verify_log(((e.seq, e.entry) for e in audit.entries()),
                            list(audit.checkpoints()), [old_public, new_key.public_key()],
                            "accord-hub", "accord-hub")
        assert report.ok, report.problem
    finally:
        await stop_federation(live)
