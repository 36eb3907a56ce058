"""Record release end to end: request, approval, grant, delivery, and every way
a grant can be abused, refused by the owning node."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import json

import grpc
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from accord import merkle
from accord.checkpoint import Checkpoint, Ed25519Signer, sign_checkpoint
from accord.errors import RemoteError
from accord.grant import SignedGrant, issue_grant
from accord.policy.engine import RELEASE, PolicyEngine
from accord.rpc import call, channel_options
from accord.sealing import RecipientKey
from accord.v1 import common_pb2, hub_pb2, hub_pb2_grpc, node_pb2, node_pb2_grpc
from hub.releases import releases as releases_table
from node.keywrap import RequestKeyWrap
from node.store import local_releases
from tests.conftest import NOW
from tests.integration.conftest import LiveFederation
from tests.integration.test_search import cad_call, tip
from tests.support.attestation import attested

GRANTED = common_pb2.RELEASE_STATE_GRANTED
PENDING = common_pb2.RELEASE_STATE_PENDING_APPROVAL
DELIVERED = common_pb2.RELEASE_STATE_DELIVERED
DENIED = common_pb2.RELEASE_STATE_DENIED
CASE = "LS-2026-0117"


async def gateway(live: LiveFederation, agency: str, method: str, request: object,
                  token: str | None = None) -> object:
    config = live.node_configs[agency]
    async with grpc.aio.secure_channel(config.listen, config.tls.channel_credentials(),
                                       options=channel_options()) as channel:
        stub = node_pb2_grpc.GatewayServiceStub(channel)
        return await call(getattr(stub, method), request, timeout=30,
                          metadata=[("authorization", f"Bearer {token or live.token(agency)}")])


async def hub_as(live: LiveFederation, agency: str, method: str, request: object,
                 token: str) -> object:
    config = live.node_configs[agency]
    async with grpc.aio.secure_channel(config.hub, config.tls.channel_credentials(),
                                       options=channel_options()) as channel:
        stub = hub_pb2_grpc.HubServiceStub(channel)
        return await call(getattr(stub, method), request, timeout=30,
                          metadata=[("authorization", f"Bearer {token}")])


async def find_pointer(live: LiveFederation, agency: str, **query: str) -> str:
    response = await live.search("lakeside_so", case=CASE, **query)
    return next(p.handle for p in response.result.pointers if p.agency == agency)


def ask(pointer: str, **overrides: str) -> node_pb2.LocalRequestReleaseRequest:
    fields = {"pointer": pointer, "case_number": CASE, "purpose": "human_trafficking",
              "justification": "victim identification in an active trafficking case"}
    fields.update(overrides)
    return node_pb2.LocalRequestReleaseRequest(**fields)


def events(live: LiveFederation) -> list[str]:
    return [e.doc["event"] for e in live.hub.audit.entries()]


async def request_the_cad_call(federation: LiveFederation) -> hub_pb2.RequestReleaseResponse:
    """Rivertown's CAD call ingested, found and requested by Lakeside's investigator."""
    federation.ingest("rivertown_pd", [cad_call()])
    pointer = await find_pointer(federation, "rivertown_pd", name="Jazmin Ramirez",
                                 dob="1999-03-04")
    response: hub_pb2.RequestReleaseResponse = await gateway(
        federation, "lakeside_so", "LocalRequestRelease", ask(pointer))
    return response


async def test_release_delivers_the_record_encrypted_end_to_end(
    federation: LiveFederation,
) -> None:
    requested = await request_the_cad_call(federation)
    assert requested.release.state == GRANTED
    fetched = await gateway(federation, "lakeside_so", "LocalFetchRelease",
                            hub_pb2.FetchReleaseRequest(release_id=requested.release.release_id))

    assert fetched.release.state == DELIVERED
    record = json.loads(fetched.record_json)
    assert record["source_id"] == "CAD-2026-004211"
    person = record["people"][0]
    assert person["nicknames"] == ["Jazzy"] and person["phones"] == ["(503) 555-0142"]
    assert events(federation)[-3:] == ["release_requested", "release_granted", "release_delivered"]
    # The owning node logged it, bound to the grant's audit entry.
    [logged] = federation.nodes["rivertown_pd"].store.releases()
    granted = next(e.doc for e in federation.hub.audit.entries()
                   if e.doc["event"] == "release_granted")
    assert logged["audit_seq"] == granted["seq"]
    assert logged["grant_id"] == granted["details"]["grant_id"]
    # The hub relayed only ciphertext: what it stored cannot be read as the record.
    with federation.hub.audit.engine.connect() as conn:
        stored = conn.execute(releases_table.select()).one()
    assert b"Jazzy" not in stored.ciphertext and b"555" not in stored.ciphertext
    assert b"CAD-2026" not in stored.ciphertext
    # The requesting node's database holds the release's private key sealed
    # under its key file only: the stored bytes are not the key, and open to it.
    requester = federation.nodes["lakeside_so"]
    with requester.store.engine.connect() as conn:
        kept = conn.execute(local_releases.select()).one()
    assert len(kept.private_key) == 61
    public = stored.requester_key
    assert not any(RecipientKey.from_private_bytes(kept.private_key[i:i + 32]).public_bytes
                   == public for i in range(len(kept.private_key) - 31))
    wrap = RequestKeyWrap.load(federation.node_configs["lakeside_so"].request_key_file,
                               create=False)
    opened = wrap.open(kept.request_key, bytes(kept.private_key))
    assert RecipientKey.from_private_bytes(opened).public_bytes == public
    # Fetching again returns the same delivery, without a second release.
    again = await gateway(federation, "lakeside_so", "LocalFetchRelease",
                          hub_pb2.FetchReleaseRequest(release_id=requested.release.release_id))
    assert json.loads(again.record_json) == record
    assert len(federation.nodes["rivertown_pd"].store.releases()) == 1


async def test_hotline_tip_waits_for_its_custodian(federation: LiveFederation) -> None:
    federation.ingest("tip_hotline", [tip()])
    pointer = await find_pointer(federation, "tip_hotline", phone="503-555-0142")

    requested = await gateway(federation, "lakeside_so", "LocalRequestRelease", ask(pointer))
    assert requested.release.state == PENDING
    assert list(requested.release.reasons) == ["approval_required"]
    early = await gateway(federation, "lakeside_so", "LocalFetchRelease",
                          hub_pb2.FetchReleaseRequest(release_id=requested.release.release_id))
    assert early.record_json == "" and early.release.state == PENDING

    custodian = federation.token("tip_hotline", sub="cust.ng", roles=("custodian",))
    pending = await hub_as(federation, "tip_hotline", "ListReleases",
                           hub_pb2.ListReleasesRequest(state=PENDING), custodian)
    assert [r.release_id for r in pending.releases] == [requested.release.release_id]
    # An investigator of the owning agency is no custodian.
    with pytest.raises(RemoteError) as info:
        await hub_as(federation, "tip_hotline", "DecideRelease",
                     hub_pb2.DecideReleaseRequest(release_id=requested.release.release_id,
                                                  approve=True, reason="x"),
                     federation.token("tip_hotline"))
    assert info.value.status == grpc.StatusCode.PERMISSION_DENIED
    approved = await hub_as(federation, "tip_hotline", "DecideRelease",
                            hub_pb2.DecideReleaseRequest(release_id=requested.release.release_id,
                                                         approve=True, reason="victim safety"),
                            custodian)
    assert approved.release.state == GRANTED and approved.release.decided_by == "cust.ng"

    fetched = await gateway(federation, "lakeside_so", "LocalFetchRelease",
                            hub_pb2.FetchReleaseRequest(release_id=requested.release.release_id))
    record = json.loads(fetched.record_json)
    # The agreement withholds a victim's contact details unless for victim services.
    assert record["people"][0]["phones"] == []
    assert "people[0].phones" in list(fetched.withheld)
    trail = events(federation)
    assert trail[-5:] == ["release_requested", "permission_denied", "release_approved",
                          "release_granted", "release_delivered"]


async def test_custodian_denial_is_final(federation: LiveFederation) -> None:
    federation.ingest("tip_hotline", [tip()])
    pointer = await find_pointer(federation, "tip_hotline", phone="503-555-0142")
    requested = await gateway(federation, "lakeside_so", "LocalRequestRelease", ask(pointer))
    custodian = federation.token("tip_hotline", sub="cust.ng", roles=("custodian",))

    denied = await hub_as(federation, "tip_hotline", "DecideRelease",
                          hub_pb2.DecideReleaseRequest(release_id=requested.release.release_id,
                                                       approve=False, reason="source safety"),
                          custodian)

    assert denied.release.state == DENIED
    fetched = await gateway(federation, "lakeside_so", "LocalFetchRelease",
                            hub_pb2.FetchReleaseRequest(release_id=requested.release.release_id))
    assert fetched.record_json == ""
    assert federation.nodes["tip_hotline"].store.releases() == []
    assert events(federation)[-1] == "release_denied"


async def test_another_investigators_pointer_is_not_found(federation: LiveFederation) -> None:
    federation.ingest("rivertown_pd", [cad_call()])
    pointer = await find_pointer(federation, "rivertown_pd", phone="503-555-0142")
    colleague = federation.token("lakeside_so", sub="det.other")

    for handle in (pointer, "ptr_" + "A" * 24):  # someone else's, and a guessed one
        with pytest.raises(RemoteError) as info:
            await gateway(federation, "lakeside_so", "LocalRequestRelease", ask(handle),
                          token=colleague)
        assert info.value.status == grpc.StatusCode.NOT_FOUND
    assert events(federation)[-2:] == ["release_denied", "release_denied"]


async def test_policy_refusals_reach_the_investigator(federation: LiveFederation) -> None:
    federation.ingest("rivertown_pd", [cad_call()])
    pointer = await find_pointer(federation, "rivertown_pd", phone="503-555-0142")

    with pytest.raises(RemoteError) as info:
        await gateway(federation, "lakeside_so", "LocalRequestRelease",
                      ask(pointer, justification=""))
    assert info.value.status == grpc.StatusCode.PERMISSION_DENIED
    assert "justification_missing" in info.value.message


async def test_a_key_the_node_can_no_longer_open_is_named_not_a_crypto_failure(
    federation: LiveFederation,
) -> None:
    requested = await request_the_cad_call(federation)
    # As if the request key file had been replaced since: the sealed key no longer opens.
    store = federation.nodes["lakeside_so"].store
    with store.engine.begin() as conn:
        kept = conn.execute(local_releases.select()).one()
        damaged = bytes(kept.private_key[:-1]) + bytes([kept.private_key[-1] ^ 1])
        conn.execute(local_releases.update().values(private_key=damaged))
    with pytest.raises(RemoteError) as info:
        await gateway(federation, "lakeside_so", "LocalFetchRelease",
                      hub_pb2.FetchReleaseRequest(release_id=requested.release.release_id))
    assert info.value.status == grpc.StatusCode.FAILED_PRECONDITION
    assert info.value.message == (
        f"release {requested.release.release_id}: this node cannot open the key it made for "
        "the request (its request key file changed since); ask for the release again")


async def test_retried_request_returns_the_same_release(federation: LiveFederation) -> None:
    federation.ingest("rivertown_pd", [cad_call()])
    pointer = await find_pointer(federation, "rivertown_pd", phone="503-555-0142")
    request = attested(hub_pb2.RequestReleaseRequest(
        pointer=pointer, case_number=CASE, purpose="human_trafficking", justification="j",
        requester_key=RecipientKey.generate().public_bytes, request_key="retry-key-0001"),
        federation.node_configs["lakeside_so"])
    token = federation.token("lakeside_so")

    first = await hub_as(federation, "lakeside_so", "RequestRelease", request, token)
    second = await hub_as(federation, "lakeside_so", "RequestRelease", request, token)

    assert first.release.release_id == second.release.release_id
    assert events(federation).count("release_granted") == 1


# --- the owning node refuses abused grants -----------------------------------------------


class GrantAttack:
    """Builds node ReleaseRequests from a real granted release, to tamper with."""

    def __init__(self, live: LiveFederation, row: object) -> None:
        self.live = live
        self.row = row
        self.signer = Ed25519Signer.load_pem(live.hub_config.signing_key, "accord-hub")

    def request(self, grant: bytes | None = None, entry: bytes | None = None,
                checkpoint: str | None = None, proof: list[bytes] | None = None
                ) -> node_pb2.ReleaseRequest:
        audit = self.live.hub.audit
        latest = audit.latest_checkpoint()
        assert latest is not None
        return node_pb2.ReleaseRequest(
            grant=grant if grant is not None else bytes(self.row.grant),  # type: ignore[attr-defined]
            audit_entry=entry if entry is not None else bytes(self.row.grant_entry),  # type: ignore[attr-defined]
            checkpoint=checkpoint or latest.to_text(),
            inclusion_proof=proof if proof is not None else audit.inclusion_proof(
                self.row.grant_seq, latest.checkpoint.size),  # type: ignore[attr-defined]
            # The requesting node's attestation, relayed as the hub would.
            requester_key_signature=bytes(self.row.requester_key_signature),  # type: ignore[attr-defined]
            requester_certificate=bytes(self.row.requester_certificate),  # type: ignore[attr-defined]
        )

    def regrant(self, signer: object = None, **changes: object) -> bytes:
        grant = SignedGrant.from_bytes(bytes(self.row.grant)).grant  # type: ignore[attr-defined]
        fields = {f: getattr(grant, f) for f in (
            "release_id", "pointer", "owner", "requester_agency", "requester", "purpose",
            "agreement", "case", "requester_key", "audit_seq", "audit_leaf", "withhold",
            "approved")}
        fields.update({k: v for k, v in changes.items() if k != "now"})
        now = changes.get("now", NOW)
        return issue_grant(**fields, grant_id=grant.grant_id, signer=signer or self.signer,  # type: ignore[arg-type]
                           now=now).to_bytes()  # type: ignore[arg-type]

    async def send(self, request: node_pb2.ReleaseRequest, agency: str = "rivertown_pd") -> object:
        tls = self.live.hub_config.tls
        target = self.live.node_configs[agency].listen
        async with grpc.aio.secure_channel(target, tls.channel_credentials(),
                                           options=channel_options()) as channel:
            return await call(node_pb2_grpc.NodeServiceStub(channel).Release, request, timeout=10)


async def granted(live: LiveFederation) -> GrantAttack:
    live.ingest("rivertown_pd", [cad_call()])
    pointer = await find_pointer(live, "rivertown_pd", phone="503-555-0142")
    requested = await gateway(live, "lakeside_so", "LocalRequestRelease", ask(pointer))
    with live.hub.audit.engine.connect() as conn:
        row = conn.execute(releases_table.select().where(
            releases_table.c.release_id == requested.release.release_id)).one()
    return GrantAttack(live, row)


async def refused(attack: GrantAttack, request: node_pb2.ReleaseRequest,
                  code: grpc.StatusCode, agency: str = "rivertown_pd") -> str:
    with pytest.raises(RemoteError) as info:
        await attack.send(request, agency)
    assert info.value.status == code, info.value
    assert attack.live.nodes["rivertown_pd"].store.releases() == []
    return info.value.message


async def test_forged_grant_is_refused(federation: LiveFederation) -> None:
    attack = await granted(federation)
    forger = Ed25519Signer(Ed25519PrivateKey.generate(), "accord-hub")
    message = await refused(attack, attack.request(grant=attack.regrant(signer=forger)),
                            grpc.StatusCode.UNAUTHENTICATED)
    assert message == "cryptographic verification failed"


async def test_expired_grant_is_refused(federation: LiveFederation) -> None:
    attack = await granted(federation)
    old = attack.regrant(now=NOW - dt.timedelta(hours=1))
    assert "grant expired" in await refused(attack, attack.request(grant=old),
                                            grpc.StatusCode.PERMISSION_DENIED)


async def test_grant_for_another_node_is_refused(federation: LiveFederation) -> None:
    attack = await granted(federation)
    await refused(attack, attack.request(), grpc.StatusCode.PERMISSION_DENIED, agency="harbor_pd")


async def test_grant_for_another_recipient_cannot_be_rebound(federation: LiveFederation) -> None:
    attack = await granted(federation)
    # Swapping the requester's key breaks the hub's signature.
    raw = json.loads(bytes(attack.row.grant))  # type: ignore[attr-defined]
    inner = json.loads(raw["grant"])
    other = RecipientKey.generate().public_bytes
    inner["requester_key"] = base64.urlsafe_b64encode(other).rstrip(b"=").decode()
    raw["grant"] = json.dumps(inner, sort_keys=True, separators=(",", ":"))
    await refused(attack, attack.request(grant=json.dumps(raw).encode()),
                  grpc.StatusCode.UNAUTHENTICATED)


async def test_a_grant_used_again_releases_nothing_more(federation: LiveFederation) -> None:
    # The hub retries when the node's answer is lost (a deadline, a crash, the network):
    # the same grant gets the answer already logged and sent, and nothing new is logged.
    attack = await granted(federation)
    first = await attack.send(attack.request())
    assert first.ciphertext  # type: ignore[attr-defined]
    again = await attack.send(attack.request())
    assert again.ciphertext == first.ciphertext  # type: ignore[attr-defined]
    assert list(again.withheld) == list(first.withheld)  # type: ignore[attr-defined]
    [logged] = federation.nodes["rivertown_pd"].store.releases()
    assert logged["ciphertext"] == first.ciphertext  # type: ignore[attr-defined]


async def test_a_fetch_whose_answer_was_lost_is_delivered_on_retry(
    federation: LiveFederation,
) -> None:
    # The node released, but the hub never got the answer: the retry delivers it (it
    # was marked FAILED for good, "grant already used").
    attack = await granted(federation)
    await attack.send(attack.request())  # the answer the hub never saw
    release_id = attack.row.release_id  # type: ignore[attr-defined]
    fetched = await gateway(federation, "lakeside_so", "LocalFetchRelease",
                            hub_pb2.FetchReleaseRequest(release_id=release_id))
    assert fetched.release.state == common_pb2.RELEASE_STATE_DELIVERED  # type: ignore[attr-defined]
    assert json.loads(fetched.record_json)["source_id"] == "CAD-2026-004211"  # type: ignore[attr-defined]
    assert len(federation.nodes["rivertown_pd"].store.releases()) == 1


async def test_grant_whose_entry_is_not_in_the_log_is_refused(federation: LiveFederation) -> None:
    attack = await granted(federation)
    doc = json.loads(bytes(attack.row.grant_entry))  # type: ignore[attr-defined]
    # A grant pointing at an entry that was never appended: its leaf is in no tree.
    doc["time"] = "2026-11-23T15:00:00.000001+00:00"
    fake_entry = json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()
    grant = attack.regrant(audit_leaf=merkle.leaf_hash(fake_entry))
    await refused(attack, attack.request(grant=grant, entry=fake_entry),
                  grpc.StatusCode.UNAUTHENTICATED)
    # The real entry with a proof for another position fails too.
    await refused(attack, attack.request(proof=[b"\x00" * 32] * 3),
                  grpc.StatusCode.UNAUTHENTICATED)


@pytest.mark.parametrize("roles", [("investigator",), ("custodian",)])
async def test_an_expired_grant_is_issued_again_only_if_the_policy_still_allows(
    federation: LiveFederation, roles: tuple[str, ...],
) -> None:
    # A grant lives minutes; a fetch after that gets a new one. The node takes the
    # requester's role on the hub's word, so the hub decides again, with the roles the
    # requester holds now (here: still an investigator, or no longer allowed to release).
    attack = await granted(federation)
    expired = attack.regrant(now=NOW - dt.timedelta(hours=1))
    release_id = attack.row.release_id  # type: ignore[attr-defined]
    with federation.hub.audit.engine.begin() as conn:
        conn.execute(releases_table.update().where(releases_table.c.release_id == release_id)
                     .values(grant=expired))
    token = federation.token("lakeside_so", roles=roles)
    fetch = hub_pb2.FetchReleaseRequest(release_id=release_id)
    events = lambda: [e.doc["event"] for e in federation.hub.audit.entries()  # noqa: E731
                      if e.doc["details"].get("release_id") == release_id]
    if roles == ("investigator",):
        fetched = await gateway(federation, "lakeside_so", "LocalFetchRelease", fetch, token)
        assert fetched.release.state == common_pb2.RELEASE_STATE_DELIVERED  # type: ignore[attr-defined]
        assert events()[-3:] == ["release_granted", "release_granted", "release_delivered"]
        return
    with pytest.raises(RemoteError) as info:
        await gateway(federation, "lakeside_so", "LocalFetchRelease", fetch, token)
    assert info.value.status == grpc.StatusCode.PERMISSION_DENIED
    assert info.value.message == "release denied: role_not_allowed_to_release"
    assert events()[-2:] == ["release_granted", "release_denied"]
    assert federation.nodes["rivertown_pd"].store.releases() == []
    listed = await gateway(federation, "lakeside_so", "LocalFetchRelease", fetch)
    assert listed.release.state == common_pb2.RELEASE_STATE_DENIED  # type: ignore[attr-defined]


async def test_a_grant_the_owners_clock_disagrees_with_can_be_fetched_again(
    federation: LiveFederation,
) -> None:
    # A node whose clock is behind the hub's by more than the leeway sees a fresh grant
    # as not yet valid: that is worth another try, not the end of the release.
    attack = await granted(federation)
    release_id = attack.row.release_id  # type: ignore[attr-defined]
    early = attack.regrant(now=NOW + dt.timedelta(minutes=2))

    def store_grant(grant: bytes) -> None:
        with federation.hub.audit.engine.begin() as conn:
            conn.execute(releases_table.update().where(
                releases_table.c.release_id == release_id).values(grant=grant))

    store_grant(early)
    fetch = hub_pb2.FetchReleaseRequest(release_id=release_id)
    with pytest.raises(RemoteError) as info:
        await gateway(federation, "lakeside_so", "LocalFetchRelease", fetch)
    assert info.value.status == grpc.StatusCode.UNAVAILABLE
    assert info.value.message == (f"release {release_id}: rivertown_pd could not release it "
                                  "now (grant not yet valid); try again")
    failed = [e.doc for e in federation.hub.audit.entries() if e.doc["event"] == "release_failed"]
    assert failed[-1]["reasons"] == ["owner_unavailable"]
    store_grant(bytes(attack.row.grant))  # type: ignore[attr-defined]
    fetched = await gateway(federation, "lakeside_so", "LocalFetchRelease", fetch)
    assert fetched.release.state == common_pb2.RELEASE_STATE_DELIVERED  # type: ignore[attr-defined]


async def test_the_same_request_sent_twice_at_once_is_one_release(
    federation: LiveFederation,
) -> None:
    federation.ingest("rivertown_pd", [cad_call()])
    pointer = await find_pointer(federation, "rivertown_pd", phone="503-555-0142")
    token = federation.token("lakeside_so")
    key = RecipientKey.generate().public_bytes
    request = attested(hub_pb2.RequestReleaseRequest(
        pointer=pointer, case_number=CASE, purpose="human_trafficking",
        justification="victim identification", requester_key=key, request_key="retry-0001"),
        federation.node_configs["lakeside_so"])
    both = await asyncio.gather(*(hub_as(federation, "lakeside_so", "RequestRelease", request,
                                         token) for _ in range(2)), return_exceptions=True)
    assert not [r for r in both if isinstance(r, BaseException)], both
    assert len({r.release.release_id for r in both}) == 1  # type: ignore[union-attr]
    events = [e.doc["event"] for e in federation.hub.audit.entries()]
    assert events.count("release_requested") == 1


async def test_listing_with_an_unknown_state_or_too_many_checkpoints_is_refused(
    federation: LiveFederation,
) -> None:
    with pytest.raises(RemoteError) as info:
        await hub_as(federation, "lakeside_so", "ListReleases",
                     hub_pb2.ListReleasesRequest(state=99),  # type: ignore[arg-type]
                     federation.token("lakeside_so"))
    assert (info.value.status, info.value.message) == (
        grpc.StatusCode.INVALID_ARGUMENT, "ListReleasesRequest.state: got 99, unknown")
    config = federation.node_configs["lakeside_so"]
    auditor = federation.token("lakeside_so", roles=("auditor",))
    async with grpc.aio.secure_channel(config.hub, config.tls.channel_credentials(),
                                       options=channel_options()) as channel:
        with pytest.raises(RemoteError) as info:
            await call(hub_pb2_grpc.AuditServiceStub(channel).ListCheckpoints,
                       hub_pb2.ListCheckpointsRequest(limit=50_000), timeout=30,
                       metadata=[("authorization", f"Bearer {auditor}")])
    assert info.value.message == "ListCheckpointsRequest.limit: 50000, at most 10000"


class _DeniesReleasesWithoutReason:
    """A policy engine answering every release question with ``answer`` (a bare ``allow: false``)."""

    def __init__(self, inner: PolicyEngine, answer: object = None) -> None:
        self.inner = inner
        self.answer = answer if answer is not None else {"allow": False}

    async def evaluate(self, decision: str, input: dict[str, object]) -> object:
        if decision == RELEASE:
            return self.answer
        return await self.inner.evaluate(decision, input)

    async def close(self) -> None:
        await self.inner.close()


@pytest.mark.parametrize(("where", "reason"), [
    ("hub", "policy_denied_without_reason"),
    ("rivertown_pd", "rivertown_pd:policy_denied_without_reason"),
])
async def test_a_deny_without_reasons_refuses_the_release(
    federation: LiveFederation, where: str, reason: str,
) -> None:
    federation.ingest("rivertown_pd", [cad_call()])
    pointer = await find_pointer(federation, "rivertown_pd", phone="503-555-0142")
    point = federation.hub.policy if where == "hub" else federation.nodes[where].policy
    await point.replace(_DeniesReleasesWithoutReason(point._engine), "bare-deny")
    with pytest.raises(RemoteError) as info:
        await gateway(federation, "lakeside_so", "LocalRequestRelease", ask(pointer))
    assert info.value.status == grpc.StatusCode.PERMISSION_DENIED
    assert info.value.message == f"release denied: {reason}"
    assert federation.nodes["rivertown_pd"].store.releases() == []


async def test_approval_asked_for_only_by_its_reason_is_still_needed(
    federation: LiveFederation,
) -> None:
    # A policy (or a half-applied one) that says approval_required without the flag.
    federation.ingest("rivertown_pd", [cad_call()])
    pointer = await find_pointer(federation, "rivertown_pd", phone="503-555-0142")
    point = federation.hub.policy
    await point.replace(_DeniesReleasesWithoutReason(
        point._engine, {"allow": False, "reasons": ["approval_required"], "withhold": []}),
        "reason-only")
    requested = await gateway(federation, "lakeside_so", "LocalRequestRelease", ask(pointer))
    assert requested.release.state == PENDING  # type: ignore[attr-defined]
    assert federation.nodes["rivertown_pd"].store.releases() == []


async def test_a_grant_must_carry_exactly_the_terms_its_entry_records(
    federation: LiveFederation,
) -> None:
    # A hub holding its signing key re-signs the grant of one logged release
    # (same grant id, entry and proof) with other terms: each is refused, so
    # one entry cannot stand for a release the log does not show.
    federation.ingest("rivertown_pd", [cad_call("CAD-OTHER-9", phone="(503) 555-0199")])
    attack = await granted(federation)
    other_pointer = await find_pointer(federation, "rivertown_pd", phone="503-555-0199")
    changes: dict[str, dict[str, object]] = {
        "another record": {"pointer": other_pointer},
        "another key": {"requester_key": RecipientKey.generate().public_bytes},
        "an approval": {"approved": True},
        "no withholding": {"withhold": ()},
        "another purpose": {"purpose": "missing_person"},
        "another case": {"case": "LSO-2026-000001"},
        "another requester": {"requester": "someone-else"},
        "another agreement": {"agreement": "other-pact"},
    }
    grant = SignedGrant.from_bytes(bytes(attack.row.grant)).grant  # type: ignore[attr-defined]
    assert grant.withhold and not grant.approved  # so "approved" and "()" are changes
    for what, change in changes.items():
        forged = attack.regrant(**change)
        message = await refused(attack, attack.request(grant=forged),
                                grpc.StatusCode.UNAUTHENTICATED)
        assert message == "cryptographic verification failed", what
    # The grant as logged still releases.
    assert (await attack.send(attack.request())).ciphertext  # type: ignore[attr-defined]


async def test_checkpoint_inconsistent_with_an_earlier_one_is_refused(
    federation: LiveFederation,
) -> None:
    attack = await granted(federation)
    await attack.send(attack.request())  # the node now remembers a real checkpoint
    # A second release, presented under a forked tree the hub (key) signed.
    second = await granted(federation)
    entry = bytes(second.row.grant_entry)  # type: ignore[attr-defined]
    seq = second.row.grant_seq  # type: ignore[attr-defined]
    fork = merkle.MemoryTree()
    for i in range(1, seq):
        fork.append(f"forged entry {i}".encode())
    fork.append(entry)
    forked = sign_checkpoint(Checkpoint("accord-hub", seq, fork.root()), second.signer)
    request = second.request(checkpoint=forked.to_text(),
                             proof=merkle.inclusion_proof(seq - 1, seq, fork))
    with pytest.raises(RemoteError) as info:
        await second.send(request)
    assert info.value.status == grpc.StatusCode.UNAUTHENTICATED
    assert len(federation.nodes["rivertown_pd"].store.releases()) == 1


async def test_release_entries_record_the_callers_address(federation: LiveFederation) -> None:
    federation.ingest("rivertown_pd", [cad_call()])
    pointer = await find_pointer(federation, "rivertown_pd", phone="503-555-0142")
    await gateway(federation, "lakeside_so", "LocalRequestRelease", ask(pointer))
    entries = [e.doc for e in federation.hub.audit.entries()
               if e.doc["event"].startswith("release_")]
    assert entries
    assert all(d["source"].startswith("ipv4:127.0.0.1:") for d in entries)


async def test_a_request_whose_key_its_node_did_not_attest_is_refused_by_the_hub(
    federation: LiveFederation,
) -> None:
    # The owning node checks the attestation for itself; the hub checks it
    # first, so the investigator hears why before anything is granted.
    federation.ingest("rivertown_pd", [cad_call()])
    pointer = await find_pointer(federation, "rivertown_pd", phone="503-555-0142")
    token = federation.token("lakeside_so")

    def request(attested_by: str | None) -> hub_pb2.RequestReleaseRequest:
        ask = hub_pb2.RequestReleaseRequest(
            pointer=pointer, case_number=CASE, purpose="human_trafficking", justification="j",
            requester_key=RecipientKey.generate().public_bytes, request_key="attest-0001")
        if attested_by is None:
            return ask
        return attested(ask, federation.node_configs[attested_by])

    for attested_by, message in (
        (None, "RequestReleaseRequest.requester_key_signature: missing; the requesting node "
               "attests its key (a node older than the hub?)"),
        ("harbor_pd", "RequestReleaseRequest.requester_key_signature: requester key: the "
                      "attesting certificate is not lakeside_so's node's"),
    ):
        with pytest.raises(RemoteError) as refused:
            await hub_as(federation, "lakeside_so", "RequestRelease", request(attested_by),
                         token)
        assert (refused.value.status, refused.value.message) == (
            grpc.StatusCode.INVALID_ARGUMENT, message)
    assert "release_requested" not in events(federation)


async def test_an_approval_is_refused_when_the_policy_no_longer_allows_the_release(
    federation: LiveFederation,
) -> None:
    # The hub granted on a custodian's approval without asking the policy
    # again: an agreement expired since the request was granted under anyway
    # (only the owning node's own check stopped it at fetch).
    federation.ingest("tip_hotline", [tip()])
    pointer = await find_pointer(federation, "tip_hotline", phone="503-555-0142")
    requested = await gateway(federation, "lakeside_so", "LocalRequestRelease", ask(pointer))
    assert requested.release.state == PENDING
    point = federation.hub.policy
    working = point._engine

    class Expired:
        async def evaluate(self, decision: str, input: object) -> object:
            if decision == "accord/release/decision":
                return {"allow": False, "reasons": ["agreement_expired"]}
            return await working.evaluate(decision, input)  # type: ignore[arg-type]

        async def close(self) -> None:
            return None

    point._engine = Expired()  # type: ignore[assignment]
    try:
        with pytest.raises(RemoteError) as refused:
            await hub_as(federation, "tip_hotline", "DecideRelease",
                         hub_pb2.DecideReleaseRequest(release_id=requested.release.release_id,
                                                      approve=True, reason="ok"),
                         federation.token("tip_hotline", sub="cust.ng", roles=("custodian",)))
    finally:
        point._engine = working
    assert (refused.value.status, refused.value.message) == (
        grpc.StatusCode.PERMISSION_DENIED, "release denied: agreement_expired")
    assert events(federation)[-1] == "release_denied"
    assert "release_granted" not in events(federation)
    fetched = await gateway(federation, "lakeside_so", "LocalFetchRelease",
                            hub_pb2.FetchReleaseRequest(release_id=requested.release.release_id))
    assert (fetched.release.state, fetched.record_json) == (common_pb2.RELEASE_STATE_DENIED, "")
