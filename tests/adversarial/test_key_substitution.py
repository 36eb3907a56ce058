"""A hub holding its signing key cannot have a record sealed to a key of its own.

The owning node checks that a grant and its ``release_granted`` entry agree,
but the hub writes both: a hub with its signing key could log a second entry
for a release it legitimately granted, with its own X25519 key's digest, and
sign a grant for that key. What it cannot make is the requesting node's
signature over that key (accord.attestation): the owning node refuses.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterator

import grpc
import pytest

from accord.attestation import Attester
from accord.checkpoint import Ed25519Signer
from accord.errors import RemoteError
from accord.grant import SignedGrant, issue_grant, new_grant_id
from accord.sealing import RecipientKey
from accord.v1 import node_pb2
from hub.audit import AuditEvent
from hub.releases import releases as releases_table
from tests.adversarial.conftest import NOW, Federation, running_federation
from tests.adversarial.test_release_abuse import GRANTED, pointer_for, request_release
from tests.integration.test_search import cad_call


@pytest.fixture(scope="module")
def fed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Federation]:
    for live in running_federation(tmp_path_factory.mktemp("keysub") / "fed"):
        live.live.ingest("rivertown_pd", [cad_call()])
        yield live


def test_a_hub_with_its_signing_key_cannot_have_a_record_sealed_to_its_own_key(
        fed: Federation) -> None:
    release = request_release(fed, pointer_for(fed, "rivertown_pd", sub="det.ks"), sub="det.ks")
    assert release.state == GRANTED
    audit = fed.live.hub.audit
    with audit.engine.connect() as conn:
        row = conn.execute(releases_table.select().where(
            releases_table.c.release_id == release.release_id)).one()
    real = SignedGrant.from_bytes(bytes(row.grant)).grant
    doc = json.loads(bytes(row.grant_entry))

    # The compromised hub: its own recipient key, a fresh grant id, and an
    # entry that records exactly the terms of the grant it will sign.
    hub_key = RecipientKey.generate()
    grant_id = new_grant_id()
    seq = audit.append(AuditEvent(
        event="release_granted", outcome="ok",
        time=dt.datetime.fromisoformat(doc["time"]), actor=doc["actor"], agency=doc["agency"],
        roles=tuple(doc["roles"]), source=doc["source"], purpose=doc["purpose"],
        case=doc["case"], details={
            **doc["details"], "grant_id": grant_id,
            "requester_key_sha256": hashlib.sha256(hub_key.public_bytes).hexdigest()}))
    stored = audit.entry(seq)
    assert stored is not None
    signer = Ed25519Signer.load_pem(fed.live.hub_config.signing_key, "accord-hub")
    forged = issue_grant(
        release_id=real.release_id, pointer=real.pointer, owner=real.owner,
        requester_agency=real.requester_agency, requester=real.requester,
        purpose=real.purpose, agreement=real.agreement, case=real.case,
        requester_key=hub_key.public_bytes, audit_seq=seq, audit_leaf=stored.leaf_hash,
        withhold=real.withhold, approved=real.approved, signer=signer, now=NOW,
        grant_id=grant_id)
    latest = audit.latest_checkpoint()
    assert latest is not None

    def release(signature: bytes, certificate: bytes) -> RemoteError:
        with pytest.raises(RemoteError) as refused:
            fed.node("Release", node_pb2.ReleaseRequest(
                grant=forged.to_bytes(), audit_entry=stored.entry, checkpoint=latest.to_text(),
                inclusion_proof=audit.inclusion_proof(seq, latest.checkpoint.size),
                requester_key_signature=signature, requester_certificate=certificate),
                agency=real.owner)
        return refused.value

    # The real requester's attestation (of its own key), relayed with the forged grant.
    relayed = release(bytes(row.requester_key_signature), bytes(row.requester_certificate))
    # The hub's own certificate (from the same CA) signing the hub's key.
    hub_pem = fed.live.hub_config.tls
    own = Attester.load("lakeside_so", hub_pem.cert, hub_pem.key)
    signed_by_hub = release(own.attest(real.pointer, hub_key.public_bytes), own.certificate)
    assert (relayed.status, relayed.message) == (
        grpc.StatusCode.PERMISSION_DENIED,
        "requester key: not signed by lakeside_so's node for this pointer")
    assert (signed_by_hub.status, signed_by_hub.message) == (
        grpc.StatusCode.PERMISSION_DENIED,
        "requester key: the attesting certificate is not lakeside_so's node's")
    # Nothing was released: the owning node logged no release of the forged grant.
    assert fed.live.nodes[real.owner].store.released(grant_id) is None
