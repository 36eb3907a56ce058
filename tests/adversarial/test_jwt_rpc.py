"""Investigator tokens abused at the RPC level, through the real hub and gateways.

tests/unit/accord/test_identity.py covers the verifier rule by rule, and
tests/integration/test_auth.py the expired, forged, unsigned and wrong-agency
tokens end to end. Here: what only the transport can get wrong (where the token
travels, how big it is, how it is framed) and what a leaked or misissued token
can do. Every refusal is an opaque UNAUTHENTICATED to the caller and an
``auth_failed`` audit entry with the precise reason.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import secrets
from typing import Any

import grpc
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from accord.errors import RemoteError
from accord.identity import DevIdentityProvider
from accord.v1 import common_pb2, hub_pb2, node_pb2
from tests.adversarial.conftest import NOW, Federation, expect


def search_request() -> hub_pb2.SearchRequest:
    return hub_pb2.SearchRequest(
        case_number="C-1", purpose="human_trafficking", agreement="local-pilot",
        tokens=[common_pb2.Token(kind=common_pb2.IDENTIFIER_KIND_PHONE, value=b"\x01" * 32)])


def claims(agency: str = "lakeside_so", **changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "iss": DevIdentityProvider.issuer_for(agency), "sub": "det.jwt", "aud": "accord-hub",
        "iat": int(NOW.timestamp()), "exp": int(NOW.timestamp()) + 600,
        "jti": secrets.token_urlsafe(8), "agency": agency, "roles": ["investigator"],
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def idp(fed: Federation, agency: str = "lakeside_so") -> DevIdentityProvider:
    return DevIdentityProvider.load(fed.live.fed.idp_dir(agency), agency)


def signed(fed: Federation, payload: dict[str, Any], *, agency: str = "lakeside_so",
           headers: dict[str, Any] | None = None) -> str:
    """A token signed with ``agency``'s real identity-provider key."""
    return jwt.encode(payload, idp(fed, agency).key, algorithm="EdDSA",
                      headers={"kid": "dev-1", **(headers or {})})


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def refused(fed: Federation, metadata: list[tuple[str, str]], reason: str | None,
            *, service: str = "HubService", method: str = "Search", request: Any = None) -> None:
    """The hub refuses the call with an opaque UNAUTHENTICATED and audits ``reason``."""
    mark = fed.audit_size()
    err = expect(grpc.StatusCode.UNAUTHENTICATED, fed.hub, service, method,
                 request or search_request(), metadata=metadata)
    assert err.message in {"invalid token", "missing bearer token"}, err.message
    [entry] = fed.audit_since(mark)
    assert (entry["event"], entry["outcome"], entry["agency"]) == ("auth_failed", "denied",
                                                                   "lakeside_so")
    if reason is not None:
        assert entry["reasons"] == [reason]


def bearer(token: str) -> list[tuple[str, str]]:
    return [("authorization", f"Bearer {token}")]


# --- where and how the token travels ----------------------------------------------------------


@pytest.mark.parametrize("key", ["x-authorization", "token", "auth", "authorization-token"])
def test_a_token_under_another_metadata_key_is_not_read(fed: Federation, key: str) -> None:
    refused(fed, [(key, f"Bearer {fed.token('lakeside_so')}")], "token_missing")


@pytest.mark.parametrize("value", [
    "Basic {token}", "Token {token}", "Bearer{token}", "{token}", "Bearer ", "Bearer",
    "JWT {token}",
])
def test_a_token_in_the_wrong_scheme_is_not_read(fed: Federation, value: str) -> None:
    refused(fed, [("authorization", value.format(token=fed.token("lakeside_so")))],
            "token_missing")


def test_a_token_in_binary_metadata_is_not_read(fed: Federation) -> None:
    refused(fed, [("authorization-bin", f"Bearer {fed.token('lakeside_so')}".encode())],
            "token_missing")  # type: ignore[list-item]


@pytest.mark.parametrize("size", [8_300, 12_000, 20_000, 200_000, 2_000_000])
def test_oversized_authorization_metadata_is_refused_cleanly(fed: Federation, size: int) -> None:
    # Past 8 KiB of metadata gRPC refuses a call with growing probability (its soft
    # limit), past 16 KiB always; what gets through is over the verifier's own
    # 8 KiB ceiling and refused unparsed. Either way the hub keeps serving.
    token = fed.token("lakeside_so")
    padded = token + "A" * (size - len(token))
    mark = fed.audit_size()
    with pytest.raises(RemoteError) as info:
        fed.hub("HubService", "Search", search_request(), metadata=bearer(padded))
    assert info.value.status in {grpc.StatusCode.UNAUTHENTICATED,
                                 grpc.StatusCode.RESOURCE_EXHAUSTED}, info.value
    if info.value.status == grpc.StatusCode.UNAUTHENTICATED:
        assert [e["reasons"] for e in fed.audit_since(mark)] == [["token_too_large"]]
    else:
        assert fed.audit_since(mark) == []
    fed.hub("LogService", "GetCheckpoint", hub_pb2.GetCheckpointRequest())  # still serving


# --- what the token says ----------------------------------------------------------------------


@pytest.mark.parametrize(("audience", "reason"), [
    ("accord-node", "token_wrong_audience"), ("accord-hub-staging", "token_wrong_audience"),
    (["accord-hub-2"], "token_wrong_audience"), ("", "token_claim_missing"),
])
def test_a_token_for_another_audience_is_refused(fed: Federation, audience: Any,
                                                 reason: str) -> None:
    refused(fed, bearer(signed(fed, claims(aud=audience))), reason)


def test_an_identity_provider_cannot_mint_for_another_agency(fed: Federation) -> None:
    # rivertown's own IdP key, issuer and kid, claiming lakeside's agency.
    payload = {**claims("rivertown_pd"), "agency": "lakeside_so"}
    token = signed(fed, payload, agency="rivertown_pd")
    refused(fed, bearer(token), "token_agency_mismatch")


def test_a_token_signed_by_another_agencys_key_under_this_issuer_is_refused(
    fed: Federation,
) -> None:
    token = signed(fed, claims(), agency="rivertown_pd")
    refused(fed, bearer(token), "token_bad_signature")


@pytest.mark.parametrize("kid", [
    "dev-2", "../../idp/rivertown_pd/public_key.pem", "' OR '1'='1", "dev-1\x00", "",
    "x" * 4000,
])
def test_unknown_or_malicious_kid_is_refused(fed: Federation, kid: str) -> None:
    refused(fed, bearer(signed(fed, claims(), headers={"kid": kid})), "token_unknown_kid")


def test_algorithm_confusion_with_the_idps_public_key_is_refused(fed: Federation) -> None:
    header = b64(json.dumps({"alg": "HS256", "kid": "dev-1", "typ": "JWT"}).encode())
    body = b64(json.dumps(claims()).encode())
    signing_input = f"{header}.{body}".encode()
    mac = hmac.new(idp(fed).public_pem, signing_input, hashlib.sha256).digest()
    refused(fed, bearer(f"{header}.{body}.{b64(mac)}"), "token_algorithm_not_allowed")


def test_alg_none_with_an_empty_signature_is_refused(fed: Federation) -> None:
    header = b64(json.dumps({"alg": "none", "kid": "dev-1"}).encode())
    body = b64(json.dumps(claims()).encode())
    refused(fed, bearer(f"{header}.{body}."), "token_algorithm_not_allowed")


def test_an_embedded_attacker_key_is_never_used(fed: Federation) -> None:
    attacker = ed25519.Ed25519PrivateKey.generate()
    public = attacker.public_key().public_bytes_raw()
    token = jwt.encode(claims(), attacker, algorithm="EdDSA", headers={
        "kid": "dev-1", "jwk": {"kty": "OKP", "crv": "Ed25519", "x": b64(public)}})
    refused(fed, bearer(token), "token_header_key_reference")


@pytest.mark.parametrize("missing", ["sub", "jti", "exp", "iat", "aud"])
def test_a_token_missing_a_claim_is_refused(fed: Federation, missing: str) -> None:
    refused(fed, bearer(signed(fed, claims(**{missing: None}))), "token_claim_missing")


@pytest.mark.parametrize(("change", "reason"), [
    pytest.param({"exp": 1e300}, "token_invalid", id="exp-out-of-range"),
    pytest.param({"exp": 10**30}, "token_invalid", id="exp-huge-int"),
    pytest.param({"iat": -(10**20)}, "token_invalid", id="iat-before-time"),
    pytest.param({"nbf": 1e300}, "token_invalid", id="nbf-out-of-range"),
    pytest.param({"exp": "never"}, "token_invalid", id="exp-text"),
    pytest.param({"exp": True}, "token_invalid", id="exp-bool"),
    pytest.param({"roles": {"investigator": True}}, "token_roles_malformed", id="roles-object"),
    pytest.param({"sub": ["det.a"]}, "token_invalid", id="sub-list"),
    pytest.param({"sub": "det.a\n{\"event\":\"forged\"}"}, "token_claims_malformed",
                 id="sub-newline"),
    pytest.param({"sub": "det.\x1b[2Ja"}, "token_claims_malformed", id="sub-escape"),
    pytest.param({"sub": "d" * 300}, "token_claims_malformed", id="sub-longer-than-the-log"),
    pytest.param({"iat": int(NOW.timestamp()) - 7200, "exp": int(NOW.timestamp()) + 7200},
                 "token_lifetime_too_long", id="long-lived"),
])
def test_validly_signed_tokens_with_bad_claims_are_refused(
    fed: Federation, change: dict[str, Any], reason: str,
) -> None:
    # Signed by the agency's real identity provider: only the claims are wrong.
    refused(fed, bearer(signed(fed, claims(**change))), reason)


def test_a_bad_token_is_refused_on_every_hub_service(fed: Federation) -> None:
    bad = bearer(signed(fed, claims(aud="elsewhere")))
    refused(fed, bad, "token_wrong_audience", method="RequestRelease",
            request=hub_pb2.RequestReleaseRequest())
    refused(fed, bad, "token_wrong_audience", method="FetchRelease",
            request=hub_pb2.FetchReleaseRequest(release_id="rel_" + "A" * 24))
    refused(fed, bad, "token_wrong_audience", method="ListReleases",
            request=hub_pb2.ListReleasesRequest())
    refused(fed, bad, "token_wrong_audience", method="DecideRelease",
            request=hub_pb2.DecideReleaseRequest())
    refused(fed, bad, "token_wrong_audience", service="AuditService", method="ListEntries",
            request=hub_pb2.ListEntriesRequest())
    refused(fed, bad, "token_wrong_audience", service="AuditService", method="ListCheckpoints",
            request=hub_pb2.ListCheckpointsRequest())


# --- through the gateway, as the investigator's tool sends it --------------------------------


def test_the_gateway_forwards_bad_tokens_to_be_refused_and_audited(fed: Federation) -> None:
    mark = fed.audit_size()
    token = signed(fed, claims(aud="accord-node"))
    err = expect(grpc.StatusCode.UNAUTHENTICATED, fed.gateway, "LocalSearch",
                 node_pb2.LocalSearchRequest(case_number="C-1", purpose="human_trafficking",
                                             phone="503-555-0142"), token=token)
    assert err.message == "invalid token"
    assert [(e["event"], e["reasons"]) for e in fed.audit_since(mark)] == [
        ("auth_failed", ["token_wrong_audience"])]


def test_the_gateway_refuses_a_token_under_another_key(fed: Federation) -> None:
    expect(grpc.StatusCode.UNAUTHENTICATED, fed.gateway, "LocalSearch",
           node_pb2.LocalSearchRequest(case_number="C-1", purpose="human_trafficking",
                                       phone="503-555-0142"),
           metadata=[("x-authorization", f"Bearer {fed.token('lakeside_so')}")])


def test_a_leaked_token_is_useless_outside_its_own_agencys_node(fed: Federation) -> None:
    # A lakeside token presented by every other member's certificate.
    token = fed.token("lakeside_so", issued=NOW - dt.timedelta(minutes=1))
    for agency in ("rivertown_pd", "harbor_pd", "tip_hotline"):
        mark = fed.audit_size()
        expect(grpc.StatusCode.UNAUTHENTICATED, fed.hub, "HubService", "Search",
               search_request(), agency=agency, token=token)
        [entry] = fed.audit_since(mark)
        assert (entry["agency"], entry["reasons"]) == (agency, ["token_agency_not_caller"])
