"""Certificates at every server: who may call which service.

tests/integration/test_auth.py covers the outsider at the hub's HubService (no
certificate, another CA, expired, a valid non-member) and nodes calling each
other's MatchTokens or gateways. Here: every other pairing of a certificate and
a service, and certificates crafted to confuse identity extraction.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Callable
from typing import Any

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from accord.errors import RemoteError
from accord.tls import HUB_IDENTITY, agency_identity
from accord.v1 import common_pb2, hub_pb2, node_pb2
from tests.adversarial.conftest import Federation, expect

PERMISSION_DENIED = grpc.StatusCode.PERMISSION_DENIED
UNAUTHENTICATED = grpc.StatusCode.UNAUTHENTICATED
UNAVAILABLE = grpc.StatusCode.UNAVAILABLE


def certificate(
    issuer: x509.Certificate | None, issuer_key: ec.EllipticCurvePrivateKey | None,
    uris: list[str], *, days: tuple[int, int] = (-1, 30), ca: bool = False,
    key: ec.EllipticCurvePrivateKey | None = None,
) -> tuple[bytes, ec.EllipticCurvePrivateKey]:
    """A leaf (or CA) certificate with the given URI SANs; self-signed without an issuer."""
    key = key or ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, uris[0] if uris else "x")])
    names: list[x509.GeneralName] = [x509.UniformResourceIdentifier(u) for u in uris]
    names += [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now + dt.timedelta(days=days[0]))
        .not_valid_after(now + dt.timedelta(days=days[1]))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH,
                                              ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .sign(issuer_key or key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM), key


def creds(fed: Federation, chain: bytes, key: ec.EllipticCurvePrivateKey) -> grpc.ChannelCredentials:
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return grpc.ssl_channel_credentials(root_certificates=fed.ca.cert_pem, private_key=key_pem,
                                        certificate_chain=chain)


def signed_by_ca(fed: Federation, uris: list[str], **options: Any) -> grpc.ChannelCredentials:
    ca = fed.ca
    cert, key = certificate(ca.cert, ca.key, uris, **options)
    return creds(fed, cert, key)


def phone_token() -> common_pb2.Token:
    return common_pb2.Token(kind=common_pb2.IDENTIFIER_KIND_PHONE, value=b"\x01" * 32)


def search_request() -> hub_pb2.SearchRequest:
    return hub_pb2.SearchRequest(case_number="C-1", purpose="human_trafficking",
                                 agreement="local-pilot", tokens=[phone_token()])


def match_request() -> node_pb2.MatchTokensRequest:
    return node_pb2.MatchTokensRequest(search_id="s1", requesting_agency="lakeside_so",
                                       purpose="human_trafficking", agreement="local-pilot",
                                       tokens=[phone_token()])


# --- the hub's services -----------------------------------------------------------------------


def test_the_hub_certificate_is_no_member_of_its_own_services(fed: Federation) -> None:
    hub = fed.hub_creds()
    token = fed.token("lakeside_so")
    mark = fed.audit_size()
    expect(UNAUTHENTICATED, fed.hub, "HubService", "Search", search_request(), creds=hub,
           token=token)
    expect(UNAUTHENTICATED, fed.hub, "AuditService", "ListEntries", hub_pb2.ListEntriesRequest(),
           creds=hub, token=fed.token("lakeside_so", roles=("auditor",)))
    expect(PERMISSION_DENIED, fed.hub, "LogService", "GetCheckpoint",
           hub_pb2.GetCheckpointRequest(), creds=hub)
    assert [e["reasons"] for e in fed.audit_since(mark)] == [["caller_not_member"]] * 2


def test_a_node_certificate_reads_the_log_only_with_an_auditors_token(fed: Federation) -> None:
    node = fed.agency_creds("harbor_pd")
    expect(UNAUTHENTICATED, fed.hub, "AuditService", "ListEntries", hub_pb2.ListEntriesRequest(),
           creds=node, metadata=[])
    expect(UNAUTHENTICATED, fed.hub, "AuditService", "ListCheckpoints",
           hub_pb2.ListCheckpointsRequest(), creds=node, metadata=[])
    mark = fed.audit_size()
    expect(PERMISSION_DENIED, fed.hub, "AuditService", "ListEntries", hub_pb2.ListEntriesRequest(),
           agency="harbor_pd", token=fed.token("harbor_pd", sub="det.curious"))
    [entry] = fed.audit_since(mark)
    assert (entry["event"], entry["actor"], entry["reasons"]) == (
        "permission_denied", "det.curious", ["role_auditor_missing"])
    # Control: the same certificate with an auditor's token may read, and the read is audited.
    response = fed.hub("AuditService", "ListEntries", hub_pb2.ListEntriesRequest(limit=1),
                       agency="harbor_pd", token=fed.token("harbor_pd", sub="aud.h",
                                                           roles=("auditor",)))
    assert len(response.entries) == 1
    assert fed.audit_since(mark + 1)[0]["event"] == "audit_read"


def test_an_auditor_token_cannot_ride_another_agencys_certificate(fed: Federation) -> None:
    expect(UNAUTHENTICATED, fed.hub, "AuditService", "ListEntries", hub_pb2.ListEntriesRequest(),
           agency="harbor_pd", token=fed.token("lakeside_so", roles=("auditor",)))


def test_the_log_service_serves_members_only(fed: Federation) -> None:
    outsider = signed_by_ca(fed, [agency_identity("outsider_pd")])
    for method, request in [
        ("GetCheckpoint", hub_pb2.GetCheckpointRequest()),
        ("GetInclusionProof", hub_pb2.GetInclusionProofRequest(seq=1)),
        ("GetConsistencyProof", hub_pb2.GetConsistencyProofRequest(old_size=1, new_size=1)),
    ]:
        expect(PERMISSION_DENIED, fed.hub, "LogService", method, request, creds=outsider)


# --- the nodes' services ----------------------------------------------------------------------


def test_the_hub_certificate_cannot_use_a_gateway(fed: Federation) -> None:
    for method, request in [
        ("LocalSearch", node_pb2.LocalSearchRequest(case_number="C-1", purpose="human_trafficking",
                                                    phone="503-555-0142")),
        ("LocalRequestRelease", node_pb2.LocalRequestReleaseRequest(pointer="ptr_" + "A" * 22)),
        ("LocalFetchRelease", hub_pb2.FetchReleaseRequest(release_id="rel_" + "A" * 24)),
    ]:
        expect(PERMISSION_DENIED, fed.gateway, method, request, creds=fed.hub_creds())


@pytest.mark.parametrize("method", ["PrepareRelease", "Release", "MatchTokens"])
@pytest.mark.parametrize("caller", ["lakeside_so", "rivertown_pd"])  # another node, and itself
def test_only_the_hub_may_call_a_nodes_node_service(fed: Federation, method: str,
                                                    caller: str) -> None:
    request = {"PrepareRelease": node_pb2.PrepareReleaseRequest(pointer="ptr_" + "A" * 22),
               "Release": node_pb2.ReleaseRequest(grant=b"{}"),
               "MatchTokens": match_request()}[method]
    expect(PERMISSION_DENIED, fed.node, method, request, agency="rivertown_pd",
           creds=fed.agency_creds(caller))


def test_a_node_serves_the_hub_only_with_the_hub_certificate(fed: Federation) -> None:
    # Control for the test above: the hub's certificate is served.
    response = fed.node("MatchTokens", match_request(), agency="rivertown_pd")
    assert list(response.pointers) == []


# --- certificates crafted to confuse ----------------------------------------------------------


Target = Callable[[Federation, grpc.ChannelCredentials], Any]


def hub_search(fed: Federation, credentials: grpc.ChannelCredentials) -> Any:
    return fed.hub("HubService", "Search", search_request(), creds=credentials)


def node_match(fed: Federation, credentials: grpc.ChannelCredentials) -> Any:
    return fed.node("MatchTokens", match_request(), creds=credentials)


def gateway_search(fed: Federation, credentials: grpc.ChannelCredentials) -> Any:
    return fed.gateway("LocalSearch", node_pb2.LocalSearchRequest(
        case_number="C-1", purpose="human_trafficking", phone="503-555-0142"), creds=credentials)


TARGETS = [pytest.param(hub_search, id="hub"), pytest.param(node_match, id="node"),
           pytest.param(gateway_search, id="gateway")]
#: Each service, with the identity whose certificate it would serve.
IMPERSONATING = [pytest.param(hub_search, agency_identity("lakeside_so"), id="hub"),
                 pytest.param(node_match, HUB_IDENTITY, id="node"),
                 pytest.param(gateway_search, agency_identity("lakeside_so"), id="gateway")]


def refused_identity(fed: Federation, target: Target, credentials: grpc.ChannelCredentials) -> None:
    """Refused at the handshake (UNAVAILABLE) or by identity (UNAUTHENTICATED/PERMISSION_DENIED)."""
    with pytest.raises(RemoteError) as info:
        target(fed, credentials)
    assert info.value.status in {UNAVAILABLE, UNAUTHENTICATED, PERMISSION_DENIED}, info.value


@pytest.mark.parametrize(("target", "identity"), IMPERSONATING)
def test_a_self_signed_certificate_with_a_real_identity_is_refused(
    fed: Federation, target: Target, identity: str,
) -> None:
    cert, key = certificate(None, None, [identity])
    expect(UNAVAILABLE, target, fed, creds(fed, cert, key))


@pytest.mark.parametrize(("target", "identity"), IMPERSONATING)
def test_a_member_certificate_cannot_issue_identities(
    fed: Federation, target: Target, identity: str,
) -> None:
    # lakeside's real (leaf) certificate and key sign a certificate for someone else.
    config = fed.live.node_configs["lakeside_so"]
    leaf = x509.load_pem_x509_certificate(config.tls.cert.read_bytes())
    leaf_key = serialization.load_pem_private_key(config.tls.key.read_bytes(), password=None)
    assert isinstance(leaf_key, ec.EllipticCurvePrivateKey)
    cert, key = certificate(leaf, leaf_key, [identity])
    expect(UNAVAILABLE, target, fed, creds(fed, cert + config.tls.cert.read_bytes(), key))


@pytest.mark.parametrize(("target", "identity"), IMPERSONATING)
def test_a_not_yet_valid_certificate_is_refused(fed: Federation, target: Target,
                                                identity: str) -> None:
    credentials = signed_by_ca(fed, [identity], days=(2, 30))
    expect(UNAVAILABLE, target, fed, credentials)


@pytest.mark.parametrize("uris", [
    pytest.param([], id="no-identity"),
    pytest.param([HUB_IDENTITY, agency_identity("lakeside_so")], id="two-identities"),
    pytest.param(["ACCORD:agency:lakeside_so"], id="upper-case-scheme"),
    pytest.param([agency_identity("LAKESIDE_SO")], id="upper-case-agency"),
    pytest.param([agency_identity("lakeside_so ")], id="trailing-space"),
    pytest.param([agency_identity("lakeside_so/../rivertown_pd")], id="path-tricks"),
    pytest.param(["accord:agency:"], id="empty-agency"),
    pytest.param(["accord:hub:lakeside_so"], id="hub-prefix"),
])
@pytest.mark.parametrize("target", TARGETS)
def test_certificates_with_confusing_identities_are_refused(
    fed: Federation, target: Target, uris: list[str],
) -> None:
    refused_identity(fed, target, signed_by_ca(fed, uris))


def test_confusing_hub_callers_are_audited_as_unauthenticated(fed: Federation) -> None:
    mark = fed.audit_size()
    expect(UNAUTHENTICATED, hub_search, fed,
           signed_by_ca(fed, [HUB_IDENTITY, agency_identity("lakeside_so")]))
    assert [(e["event"], e["agency"]) for e in fed.audit_since(mark)] == [("auth_failed", "")]


# --- what else the servers expose -------------------------------------------------------------


@pytest.mark.parametrize("where", ["hub", "node"])
def test_reflection_is_off_by_default(fed: Federation, where: str) -> None:
    target = fed.hub_target if where == "hub" else fed.node_target("rivertown_pd")
    with grpc.secure_channel(target, fed.agency_creds("lakeside_so")) as channel:
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        responses = stub.ServerReflectionInfo(
            iter([reflection_pb2.ServerReflectionRequest(list_services="")]), timeout=5)
        with pytest.raises(grpc.RpcError) as info:
            list(responses)
    assert info.value.code() == grpc.StatusCode.UNIMPLEMENTED  # type: ignore[attr-defined]


def test_health_needs_a_federation_certificate(fed: Federation) -> None:
    ca = fed.ca.cert_pem
    with grpc.secure_channel(fed.hub_target, grpc.ssl_channel_credentials(ca)) as channel:
        with pytest.raises(grpc.RpcError) as info:
            health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
    assert info.value.code() == UNAVAILABLE  # type: ignore[attr-defined]
    with grpc.secure_channel(fed.hub_target, fed.agency_creds("lakeside_so")) as channel:
        answer = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(),
                                                           timeout=5)
    assert answer.status == health_pb2.HealthCheckResponse.SERVING

