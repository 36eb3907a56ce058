"""Pointer, release and grant abuse by curious investigators, custodians of other
agencies, and a hub that holds its signing key but not the nodes' trust.

tests/integration/test_release.py covers another investigator's pointer, a
guessed handle, forged, expired, replayed, rebound and unlogged grants, grants
sent to another node and forked checkpoints. Here: other people's release ids,
other agencies' custodians, idempotency keys, handle guessing in bulk, and
grants the real hub key signs for things the hub never authorised.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import grpc
import pytest

from accord import merkle
from accord.checkpoint import Ed25519Signer
from accord.grant import SignedGrant, issue_grant
from accord.sealing import RecipientKey
from accord.v1 import common_pb2, hub_pb2, node_pb2
from hub.releases import releases as releases_table
from node import normalize
from node.records import Person, Role
from node.tokens import Kind
from tests.adversarial.conftest import NOW, Federation, expect, running_federation
from tests.integration.test_search import cad_call, harbor_interview, tip
from tests.support.attestation import attested

GRANTED = common_pb2.RELEASE_STATE_GRANTED
PENDING = common_pb2.RELEASE_STATE_PENDING_APPROVAL
DENIED = common_pb2.RELEASE_STATE_DENIED
DELIVERED = common_pb2.RELEASE_STATE_DELIVERED
NOT_FOUND = grpc.StatusCode.NOT_FOUND
CASE = "LS-2026-0117"
PHONE = "503-555-0142"


@pytest.fixture(scope="module")
def fed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Federation]:
    for live in running_federation(tmp_path_factory.mktemp("rel") / "fed"):
        live.live.ingest("rivertown_pd", [cad_call()])
        live.live.ingest("tip_hotline", [tip()])
        yield live


def pointer_for(fed: Federation, owner: str, *, sub: str, agency: str = "lakeside_so") -> str:
    response = fed.gateway("LocalSearch", node_pb2.LocalSearchRequest(
        case_number=CASE, purpose="human_trafficking", phone=PHONE),
        agency=agency, token=fed.token(agency, sub=sub))
    return next(p.handle for p in response.result.pointers if p.agency == owner)


def request_release(fed: Federation, handle: str, *, sub: str,
                    agency: str = "lakeside_so") -> common_pb2.Release:
    response = fed.gateway("LocalRequestRelease", node_pb2.LocalRequestReleaseRequest(
        pointer=handle, case_number=CASE, purpose="human_trafficking",
        justification="victim identification"), agency=agency, token=fed.token(agency, sub=sub))
    release: common_pb2.Release = response.release
    return release


def custodian(fed: Federation, agency: str) -> str:
    return fed.token(agency, sub=f"cust.{agency}", roles=("custodian",))


def decide(fed: Federation, agency: str, release_id: str, approve: bool) -> Any:
    return fed.hub("HubService", "DecideRelease", hub_pb2.DecideReleaseRequest(
        release_id=release_id, approve=approve, reason="reviewed"), agency=agency,
        token=custodian(fed, agency))


def events_for(fed: Federation, release_id: str) -> list[str]:
    return [e.doc["event"] for e in fed.live.hub.audit.entries()
            if e.doc["details"].get("release_id") == release_id]


def released_by(fed: Federation, owner: str) -> int:
    return len(fed.live.nodes[owner].store.releases())


# --- someone else's release -------------------------------------------------------------------


def test_someone_elses_release_cannot_be_fetched(fed: Federation) -> None:
    handle = pointer_for(fed, "rivertown_pd", sub="det.owner")
    release = request_release(fed, handle, sub="det.owner")
    assert release.state == GRANTED
    before = released_by(fed, "rivertown_pd")
    fetch = hub_pb2.FetchReleaseRequest(release_id=release.release_id)
    unknown = hub_pb2.FetchReleaseRequest(release_id="rel_" + secrets.token_urlsafe(18))

    nosy = [
        ("lakeside_so", fed.token("lakeside_so", sub="det.colleague")),
        ("rivertown_pd", fed.token("rivertown_pd", sub="det.owner")),  # same name, other agency
        ("rivertown_pd", custodian(fed, "rivertown_pd")),              # the owner's custodian
        ("lakeside_so", custodian(fed, "lakeside_so")),
        ("lakeside_so", fed.token("lakeside_so", sub="aud.l", roles=("auditor",))),
    ]
    for agency, token in nosy:
        err = expect(NOT_FOUND, fed.hub, "HubService", "FetchRelease", fetch, agency=agency,
                     token=token)
        # The same answer as for an id that does not exist: no existence oracle.
        other = expect(NOT_FOUND, fed.hub, "HubService", "FetchRelease", unknown, agency=agency,
                       token=token)
        assert err.message.replace(release.release_id, "ID") == \
            other.message.replace(unknown.release_id, "ID")
    # Through the colleague's own gateway too.
    expect(NOT_FOUND, fed.gateway, "LocalFetchRelease", fetch,
           token=fed.token("lakeside_so", sub="det.colleague"))

    assert released_by(fed, "rivertown_pd") == before  # nothing left the owning node
    fetched = fed.gateway("LocalFetchRelease", fetch, token=fed.token("lakeside_so",
                                                                      sub="det.owner"))
    assert fetched.release.state == DELIVERED and fetched.record_json  # control


def test_releases_are_listed_only_to_their_requester_and_owner(fed: Federation) -> None:
    handle = pointer_for(fed, "rivertown_pd", sub="det.lister")
    release = request_release(fed, handle, sub="det.lister")

    def listed(agency: str, token: str) -> set[str]:
        response = fed.hub("HubService", "ListReleases", hub_pb2.ListReleasesRequest(),
                           agency=agency, token=token)
        return {r.release_id for r in response.releases}

    assert release.release_id in listed("lakeside_so", fed.token("lakeside_so", sub="det.lister"))
    assert release.release_id in listed("rivertown_pd", custodian(fed, "rivertown_pd"))
    for agency, token in [("lakeside_so", fed.token("lakeside_so", sub="det.other")),
                          ("lakeside_so", custodian(fed, "lakeside_so")),
                          ("harbor_pd", custodian(fed, "harbor_pd")),
                          ("rivertown_pd", fed.token("rivertown_pd", sub="det.lister"))]:
        assert release.release_id not in listed(agency, token)


# --- custodians of other agencies -------------------------------------------------------------


def test_a_custodian_cannot_decide_another_agencys_release(fed: Federation) -> None:
    handle = pointer_for(fed, "tip_hotline", sub="det.tip")
    release = request_release(fed, handle, sub="det.tip")
    assert release.state == PENDING

    for agency in ("lakeside_so", "rivertown_pd", "harbor_pd"):  # requester's, and others
        for approve in (True, False):
            err = expect(NOT_FOUND, decide, fed, agency, release.release_id, approve)
            assert "not found" in err.message

    assert events_for(fed, release.release_id) == ["release_requested"]
    listed = fed.hub("HubService", "ListReleases", hub_pb2.ListReleasesRequest(state=PENDING),
                     agency="tip_hotline", token=custodian(fed, "tip_hotline"))
    assert release.release_id in {r.release_id for r in listed.releases}


def test_a_decision_is_final_and_grants_once(fed: Federation) -> None:
    denied = request_release(fed, pointer_for(fed, "tip_hotline", sub="det.final"),
                             sub="det.final")
    decide(fed, "tip_hotline", denied.release_id, False)
    expect(grpc.StatusCode.INVALID_ARGUMENT, decide, fed, "tip_hotline", denied.release_id, True)
    assert events_for(fed, denied.release_id) == ["release_requested", "release_denied"]

    approved = request_release(fed, pointer_for(fed, "tip_hotline", sub="det.once"),
                               sub="det.once")
    assert decide(fed, "tip_hotline", approved.release_id, True).release.state == GRANTED
    expect(grpc.StatusCode.INVALID_ARGUMENT, decide, fed, "tip_hotline", approved.release_id, True)
    expect(grpc.StatusCode.INVALID_ARGUMENT, decide, fed, "tip_hotline", approved.release_id,
           False)
    assert events_for(fed, approved.release_id).count("release_granted") == 1


# --- handles and idempotency keys -------------------------------------------------------------


def test_guessed_handles_all_look_alike_and_are_audited(fed: Federation) -> None:
    real = pointer_for(fed, "rivertown_pd", sub="det.guess.owner")
    guesses = [real[:-1] + ("A" if real[-1] != "A" else "B"),  # one character off
               *("ptr_" + secrets.token_urlsafe(18) for _ in range(15))]
    mark = fed.audit_size()
    messages = set()
    for handle in guesses:
        err = expect(NOT_FOUND, request_release, fed, handle, sub="det.guesser")
        messages.add(err.message)
    assert len(messages) == 1
    entries = fed.audit_since(mark)
    assert [(e["event"], e["reasons"]) for e in entries] == \
        [("release_denied", ["pointer_unknown"])] * len(guesses)
    assert {e["actor"] for e in entries} == {"det.guesser"}


def test_a_pointer_cannot_be_used_by_another_agency(fed: Federation) -> None:
    handle = pointer_for(fed, "rivertown_pd", sub="det.mine")
    for agency in ("harbor_pd", "tip_hotline", "rivertown_pd"):
        expect(NOT_FOUND, request_release, fed, handle, sub="det.mine", agency=agency)


def test_an_idempotency_key_cannot_reach_someone_elses_release(fed: Federation) -> None:
    handle = pointer_for(fed, "rivertown_pd", sub="det.keyed")
    key = "shared-retry-key-01"

    def ask(agency: str, sub: str) -> Any:
        return fed.hub("HubService", "RequestRelease", attested(hub_pb2.RequestReleaseRequest(
            pointer=handle, case_number=CASE, purpose="human_trafficking", justification="j",
            requester_key=RecipientKey.generate().public_bytes, request_key=key),
            fed.live.node_configs[agency]), agency=agency, token=fed.token(agency, sub=sub))

    mine = ask("lakeside_so", "det.keyed").release
    assert mine.state == GRANTED
    for agency, sub in [("lakeside_so", "det.thief"), ("rivertown_pd", "det.keyed")]:
        expect(NOT_FOUND, ask, agency, sub)
    assert ask("lakeside_so", "det.keyed").release.release_id == mine.release_id  # a real retry


# --- a hub with its signing key, granting what it never authorised ----------------------------


class HubForger:
    """Re-signs a real grant with the hub's real key, changing what it says."""

    def __init__(self, fed: Federation, release_id: str) -> None:
        self.fed = fed
        with fed.live.hub.audit.engine.connect() as conn:
            self.row = conn.execute(releases_table.select().where(
                releases_table.c.release_id == release_id)).one()
        self.signer = Ed25519Signer.load_pem(fed.live.hub_config.signing_key, "accord-hub")

    def grant(self, **changes: Any) -> bytes:
        grant = SignedGrant.from_bytes(bytes(self.row.grant)).grant
        fields = {f: getattr(grant, f) for f in (
            "release_id", "pointer", "owner", "requester_agency", "requester", "purpose",
            "agreement", "case", "requester_key", "audit_seq", "audit_leaf", "withhold",
            "approved")}
        fields.update(changes)
        return issue_grant(**fields, grant_id=grant.grant_id, signer=self.signer,
                           now=NOW).to_bytes()

    def send(self, grant: bytes, entry: bytes | None = None, seq: int | None = None) -> Any:
        audit = self.fed.live.hub.audit
        latest = audit.latest_checkpoint()
        assert latest is not None
        request = node_pb2.ReleaseRequest(
            grant=grant, audit_entry=entry or bytes(self.row.grant_entry),
            checkpoint=latest.to_text(),
            inclusion_proof=audit.inclusion_proof(seq or self.row.grant_seq,
                                                  latest.checkpoint.size),
            # The requesting node's attestation, relayed as the hub would.
            requester_key_signature=bytes(self.row.requester_key_signature),
            requester_certificate=bytes(self.row.requester_certificate))
        return self.fed.node("Release", request, agency=self.row.owner)


def granted(fed: Federation, sub: str) -> HubForger:
    release = request_release(fed, pointer_for(fed, "rivertown_pd", sub=sub), sub=sub)
    assert release.state == GRANTED
    return HubForger(fed, release.release_id)


def test_a_signed_grant_for_a_pointer_issued_to_another_agency_is_refused(
    fed: Federation,
) -> None:
    forger = granted(fed, "det.forge1")
    harbors = pointer_for(fed, "rivertown_pd", sub="det.harbor", agency="harbor_pd")
    before = released_by(fed, "rivertown_pd")

    expect(NOT_FOUND, forger.send, forger.grant(pointer=harbors))
    expect(NOT_FOUND, forger.send, forger.grant(requester_agency="harbor_pd"))

    assert released_by(fed, "rivertown_pd") == before


def test_a_signed_grant_bound_to_another_kind_of_entry_is_refused(fed: Federation) -> None:
    forger = granted(fed, "det.forge2")
    search = next(e for e in fed.live.hub.audit.entries() if e.doc["event"] == "search")
    before = released_by(fed, "rivertown_pd")

    grant = forger.grant(audit_seq=search.seq, audit_leaf=merkle.leaf_hash(search.entry))
    err = expect(grpc.StatusCode.UNAUTHENTICATED, forger.send, grant, search.entry, search.seq)

    assert err.message == "cryptographic verification failed"
    assert released_by(fed, "rivertown_pd") == before


def test_a_hub_cannot_widen_what_a_node_answers(fed: Federation) -> None:
    # harbor holds more matching records than it ever points to at once.
    limit = fed.live.node_configs["harbor_pd"].max_pointers
    fed.live.ingest("harbor_pd", [
        replace(harbor_interview(), source_id=f"HPD-{i:04d}",
                people=(Person(role=Role.SUSPECT, name="Marcus Dell", phones=("541-555-0199",)),))
        for i in range(limit + 5)])
    config = fed.live.node_configs["harbor_pd"]
    keys = config.keyring().for_agreement("local-pilot")
    phone = keys.token(Kind.PHONE, normalize.normalize_phone("541-555-0199", "US"))

    def ask(**changes: Any) -> Any:
        fields: dict[str, Any] = {
            "search_id": "s-" + secrets.token_hex(4), "requesting_agency": "lakeside_so",
            "purpose": "human_trafficking", "agreement": "local-pilot",
            "tokens": [common_pb2.Token(kind=int(phone.kind), value=phone.value)]}
        fields.update(changes)
        return fed.node("MatchTokens", node_pb2.MatchTokensRequest(**fields), agency="harbor_pd")

    assert len(ask().pointers) == limit  # control: the node's own cap
    widened = ask(max_pointers=2**32 - 1)
    assert len(widened.pointers) == limit and widened.truncated
    # Record types the node does not share stay out, whatever the hub asks for.
    assert list(ask(record_types=["sealed_file", "juvenile_record"]).pointers) == []
    # A purpose outside the agreement is the node's own denial, not the hub's word.
    expect(grpc.StatusCode.PERMISSION_DENIED, ask, purpose="curiosity")
