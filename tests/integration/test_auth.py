"""Who may talk to whom: JWTs at the hub, certificates at every server."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import grpc
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from accord.errors import RemoteError
from accord.identity import DevIdentityProvider
from accord.rpc import call, channel_options
from accord.tls import CertificateAuthority, TlsFiles, agency_identity
from accord.v1 import common_pb2, hub_pb2, hub_pb2_grpc, node_pb2, node_pb2_grpc
from tests.conftest import NOW
from tests.integration.conftest import LiveFederation

PHONE = {"phone": "503-555-0142"}


def auth_failures(live: LiveFederation) -> list[dict[str, object]]:
    return [e.doc for e in live.hub.audit.entries() if e.doc["event"] == "auth_failed"]


async def expect_status(coro: object, code: grpc.StatusCode) -> RemoteError:
    with pytest.raises(RemoteError) as info:
        await coro  # type: ignore[misc]
    assert info.value.status == code, info.value
    return info.value


async def test_expired_token_is_rejected_and_audited(federation: LiveFederation) -> None:
    token = federation.token("lakeside_so", issued=NOW - dt.timedelta(hours=1))

    err = await expect_status(federation.search("lakeside_so", token, **PHONE),
                              grpc.StatusCode.UNAUTHENTICATED)

    assert "expired" not in err.message  # opaque to the caller...
    assert auth_failures(federation)[-1]["reasons"] == ["token_expired"]  # ...precise in the log


async def test_token_signed_by_a_forger_is_rejected(federation: LiveFederation) -> None:
    forger = DevIdentityProvider(agency="lakeside_so",
                                 issuer=DevIdentityProvider.issuer_for("lakeside_so"),
                                 key=ed25519.Ed25519PrivateKey.generate())
    token = forger.issue("det.evil", ("investigator",), NOW)

    await expect_status(federation.search("lakeside_so", token, **PHONE),
                        grpc.StatusCode.UNAUTHENTICATED)
    assert auth_failures(federation)[-1]["reasons"] == ["token_bad_signature"]


async def test_unsigned_token_is_rejected(federation: LiveFederation) -> None:
    claims = jwt.decode(federation.token("lakeside_so"), options={"verify_signature": False})
    token = jwt.encode(claims, key=None, algorithm="none", headers={"kid": "dev-1"})

    await expect_status(federation.search("lakeside_so", token, **PHONE),
                        grpc.StatusCode.UNAUTHENTICATED)
    assert auth_failures(federation)[-1]["reasons"] == ["token_algorithm_not_allowed"]


async def test_token_of_another_agency_cannot_ride_this_node(federation: LiveFederation) -> None:
    # A rivertown token sent through lakeside's node: the investigator's agency
    # must be the forwarding node's agency.
    token = federation.token("rivertown_pd")

    await expect_status(federation.search("lakeside_so", token, **PHONE),
                        grpc.StatusCode.UNAUTHENTICATED)
    assert auth_failures(federation)[-1]["reasons"] == ["token_agency_not_caller"]
    assert auth_failures(federation)[-1]["agency"] == "lakeside_so"


async def test_auditor_role_cannot_search(federation: LiveFederation) -> None:
    token = federation.token("lakeside_so", roles=("auditor",))

    err = await expect_status(federation.search("lakeside_so", token, **PHONE),
                              grpc.StatusCode.PERMISSION_DENIED)
    # The policy's reason reaches the investigator and the audit log.
    assert "role_not_allowed_to_search" in err.message
    denied = [e.doc for e in federation.hub.audit.entries()][-1]
    assert (denied["event"], denied["reasons"]) == ("search_denied",
                                                   ["role_not_allowed_to_search"])


async def test_missing_token_is_rejected_at_the_node(federation: LiveFederation) -> None:
    config = federation.node_configs["lakeside_so"]
    async with grpc.aio.secure_channel(config.listen, config.tls.channel_credentials(),
                                       options=channel_options()) as channel:
        stub = node_pb2_grpc.GatewayServiceStub(channel)
        await expect_status(
            call(stub.LocalSearch, node_pb2.LocalSearchRequest(case_number="C", purpose="x"),
                 timeout=5),
            grpc.StatusCode.UNAUTHENTICATED,
        )


def _search_request() -> hub_pb2.SearchRequest:
    return hub_pb2.SearchRequest(
        case_number="C-1", purpose="human_trafficking", agreement="local-pilot",
        tokens=[common_pb2.Token(kind=common_pb2.IDENTIFIER_KIND_PHONE, value=b"\x01" * 32)],
    )


async def _call_hub(live: LiveFederation, creds: grpc.ChannelCredentials) -> None:
    token = live.token("lakeside_so")
    async with grpc.aio.secure_channel(live.hub_config.listen, creds,
                                       options=channel_options()) as channel:
        await call(hub_pb2_grpc.HubServiceStub(channel).Search, _search_request(), timeout=5,
                   metadata=[("authorization", f"Bearer {token}")])


async def test_client_without_certificate_is_refused(federation: LiveFederation) -> None:
    ca = federation.hub_config.tls.ca_cert.read_bytes()
    await expect_status(_call_hub(federation, grpc.ssl_channel_credentials(root_certificates=ca)),
                        grpc.StatusCode.UNAVAILABLE)


async def test_certificate_from_another_ca_is_refused(
    federation: LiveFederation, tmp_path: Path
) -> None:
    rogue = CertificateAuthority.create("Rogue CA", NOW)
    cert, key = rogue.issue(agency_identity("lakeside_so"), NOW)
    creds = grpc.ssl_channel_credentials(
        root_certificates=federation.hub_config.tls.ca_cert.read_bytes(),
        private_key=key, certificate_chain=cert,
    )
    await expect_status(_call_hub(federation, creds), grpc.StatusCode.UNAVAILABLE)


async def test_valid_certificate_of_a_non_member_is_refused(
    federation: LiveFederation, tmp_path: Path
) -> None:
    ca = CertificateAuthority.load(federation.fed.root / "ca" / "ca.pem",
                                   federation.fed.root / "ca" / "ca.key")
    cert, key = ca.issue(agency_identity("outsider_pd"), NOW)
    creds = grpc.ssl_channel_credentials(
        root_certificates=ca.cert_pem, private_key=key, certificate_chain=cert
    )
    await expect_status(_call_hub(federation, creds), grpc.StatusCode.UNAUTHENTICATED)
    assert auth_failures(federation)[-1]["reasons"] == ["caller_not_member"]


async def test_expired_certificate_is_refused(federation: LiveFederation) -> None:
    ca = CertificateAuthority.load(federation.fed.root / "ca" / "ca.pem",
                                   federation.fed.root / "ca" / "ca.key")
    real_now = dt.datetime.now(dt.UTC)
    cert, key = ca.issue(agency_identity("lakeside_so"), real_now,
                         not_before=real_now - dt.timedelta(days=30), days=1)
    creds = grpc.ssl_channel_credentials(
        root_certificates=ca.cert_pem, private_key=key, certificate_chain=cert
    )
    await expect_status(_call_hub(federation, creds), grpc.StatusCode.UNAVAILABLE)


async def test_only_the_hub_may_ask_a_node_for_matches(federation: LiveFederation) -> None:
    # lakeside's own (valid, member) certificate must not query rivertown directly.
    tls: TlsFiles = federation.node_configs["lakeside_so"].tls
    target = federation.node_configs["rivertown_pd"].listen
    request = node_pb2.MatchTokensRequest(
        search_id="s1", requesting_agency="lakeside_so", purpose="human_trafficking",
        tokens=[common_pb2.Token(kind=common_pb2.IDENTIFIER_KIND_PHONE, value=b"\x01" * 32)],
    )
    async with grpc.aio.secure_channel(target, tls.channel_credentials(),
                                       options=channel_options()) as channel:
        await expect_status(
            call(node_pb2_grpc.NodeServiceStub(channel).MatchTokens, request, timeout=5),
            grpc.StatusCode.PERMISSION_DENIED,
        )


async def test_only_its_own_agency_may_use_a_gateway(federation: LiveFederation) -> None:
    tls = federation.node_configs["rivertown_pd"].tls
    target = federation.node_configs["lakeside_so"].listen
    async with grpc.aio.secure_channel(target, tls.channel_credentials(),
                                       options=channel_options()) as channel:
        await expect_status(
            call(node_pb2_grpc.GatewayServiceStub(channel).LocalSearch,
                 node_pb2.LocalSearchRequest(case_number="C", purpose="human_trafficking",
                                             phone="503-555-0142"),
                 timeout=5, metadata=[("authorization", "Bearer x")]),
            grpc.StatusCode.PERMISSION_DENIED,
        )


async def test_malformed_tokens_sent_to_the_hub_name_the_field(
    federation: LiveFederation,
) -> None:
    creds = federation.node_configs["lakeside_so"].tls.channel_credentials()
    token = federation.token("lakeside_so")
    bad = hub_pb2.SearchRequest(
        case_number="C-1", purpose="human_trafficking", agreement="local-pilot",
        tokens=[common_pb2.Token(kind=common_pb2.IDENTIFIER_KIND_PHONE, value=b"short")],
    )
    async with grpc.aio.secure_channel(federation.hub_config.listen, creds,
                                       options=channel_options()) as channel:
        err = await expect_status(
            call(hub_pb2_grpc.HubServiceStub(channel).Search, bad, timeout=5,
                 metadata=[("authorization", f"Bearer {token}")]),
            grpc.StatusCode.INVALID_ARGUMENT,
        )
    assert err.message == "SearchRequest.tokens[0].value: 5 bytes, want 32"
