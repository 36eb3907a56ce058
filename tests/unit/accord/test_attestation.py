"""Requester-key attestations: only the requesting agency's own node can vouch for a key."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from accord.attestation import UNATTESTED, Attester, verify_attestation
from accord.errors import PermissionDenied
from accord.tls import HUB_IDENTITY, CertificateAuthority, agency_identity

NOW = dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.UTC)
CA = CertificateAuthority.create("federation", NOW - dt.timedelta(days=1))
POINTER = "ptr_" + "A" * 24
KEY = bytes(range(32))


def attester(tmp_path: Path, identity: str, agency: str = "lakeside_so",
             ca: CertificateAuthority = CA, **issue: object) -> Attester:
    cert, key = ca.issue(identity, NOW - dt.timedelta(hours=1), **issue)  # type: ignore[arg-type]
    (tmp_path / "cert.pem").write_bytes(cert)
    (tmp_path / "key.pem").write_bytes(key)
    return Attester.load(agency, tmp_path / "cert.pem", tmp_path / "key.pem")


def refusal(attest: Attester, signature: bytes | None = None, *, agency: str = "lakeside_so",
            pointer: str = POINTER, key: bytes = KEY, now: dt.datetime = NOW) -> str:
    with pytest.raises(PermissionDenied) as refused:
        verify_attestation(attest.certificate,
                           signature if signature is not None else attest.attest(POINTER, KEY),
                           CA.cert, agency=agency, pointer=pointer, requester_key=key, now=now)
    assert refused.value.reasons == (UNATTESTED,)
    return refused.value.message


def test_the_requesting_nodes_own_signature_verifies(tmp_path: Path) -> None:
    node = attester(tmp_path, agency_identity("lakeside_so"))
    verify_attestation(node.certificate, node.attest(POINTER, KEY), CA.cert,
                       agency="lakeside_so", pointer=POINTER, requester_key=KEY, now=NOW)


def test_another_key_pointer_or_agency_is_not_what_was_signed(tmp_path: Path) -> None:
    node = attester(tmp_path, agency_identity("lakeside_so"))
    assert refusal(node, key=bytes(32)) == (
        "requester key: not signed by lakeside_so's node for this pointer")
    assert refusal(node, pointer="ptr_" + "B" * 24) == (
        "requester key: not signed by lakeside_so's node for this pointer")
    assert refusal(node, agency="harbor_pd") == (
        "requester key: the attesting certificate is not harbor_pd's node's")


def test_a_certificate_of_another_party_or_ca_or_time_does_not_attest(tmp_path: Path) -> None:
    for name in ("hub", "rogue", "old"):
        (tmp_path / name).mkdir()
    hub = attester(tmp_path / "hub", HUB_IDENTITY)
    assert refusal(hub) == "requester key: the attesting certificate is not lakeside_so's node's"
    other_ca = CertificateAuthority.create("not the federation", NOW - dt.timedelta(days=1))
    rogue = attester(tmp_path / "rogue", agency_identity("lakeside_so"), ca=other_ca)
    assert refusal(rogue) == "requester key: the attesting certificate is not the federation CA's"
    node = attester(tmp_path / "old", agency_identity("lakeside_so"), days=1)
    assert refusal(node, now=NOW + dt.timedelta(days=2)) == (
        "requester key: the attesting certificate is not valid now")


def test_a_missing_or_garbled_attestation_is_refused(tmp_path: Path) -> None:
    node = attester(tmp_path, agency_identity("lakeside_so"))
    assert refusal(node, b"") == "requester key: not attested by the requesting node"
    assert refusal(node, b"\x30\x06garbage") == (
        "requester key: not signed by lakeside_so's node for this pointer")
    with pytest.raises(PermissionDenied, match="does not parse"):
        verify_attestation(b"not a certificate", b"sig", CA.cert, agency="lakeside_so",
                           pointer=POINTER, requester_key=KEY, now=NOW)


@pytest.mark.parametrize("kind", ["rsa", "ed25519"])
def test_an_agency_pki_with_rsa_or_ed25519_certificates_attests_too(tmp_path: Path,
                                                                    kind: str) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

    key = (rsa.generate_private_key(public_exponent=65537, key_size=2048) if kind == "rsa"
           else ed25519.Ed25519PrivateKey.generate())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([]))
            .issuer_name(CA.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(NOW - dt.timedelta(hours=1))
            .not_valid_after(NOW + dt.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName(
                [x509.UniformResourceIdentifier(agency_identity("lakeside_so"))]), critical=True)
            .sign(CA.key, hashes.SHA256()))
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    node = Attester.load("lakeside_so", tmp_path / "cert.pem", tmp_path / "key.pem")
    verify_attestation(node.certificate, node.attest(POINTER, KEY), CA.cert,
                       agency="lakeside_so", pointer=POINTER, requester_key=KEY, now=NOW)
    assert refusal(node, key=bytes(32)) == (
        "requester key: not signed by lakeside_so's node for this pointer")
