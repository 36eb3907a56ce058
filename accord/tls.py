"""Mutual-TLS recipes: a private federation CA, certificates bound to identities,
and reading the authenticated identity of a gRPC peer.

Every party's certificate carries its identity as a URI subject alternative name:
``accord:hub`` for the hub and ``accord:agency:<agency_id>`` for an agency's node.
Servers require client certificates signed by the federation CA, and trust a
peer's identity only from that SAN of a verified certificate.
"""

from __future__ import annotations

import datetime as dt
import functools
import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import grpc
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from accord.errors import ConfigError, Unauthenticated

HUB_IDENTITY = "accord:hub"
_AGENCY_PREFIX = "accord:agency:"


def agency_identity(agency: str) -> str:
    """The certificate identity of an agency's node."""
    return f"{_AGENCY_PREFIX}{agency}"


def agency_of_identity(identity: str) -> str | None:
    """The agency id in a node identity, or None if it is not a node identity."""
    if identity.startswith(_AGENCY_PREFIX) and len(identity) > len(_AGENCY_PREFIX):
        return identity[len(_AGENCY_PREFIX) :]
    return None


@dataclass(frozen=True, slots=True)
class TlsFiles:
    """Where a party's TLS material lives on disk."""

    ca_cert: Path
    cert: Path
    key: Path

    def read(self) -> tuple[bytes, bytes, bytes]:
        """Read (ca, cert, key), naming the file that is missing."""
        out = []
        for path in (self.ca_cert, self.cert, self.key):
            try:
                out.append(path.read_bytes())
            except OSError as exc:
                raise ConfigError(f"TLS file {path}: {exc.strerror or exc}") from exc
        return out[0], out[1], out[2]

    def server_credentials(self) -> grpc.ServerCredentials:
        """Server credentials that require a client certificate from our CA."""
        ca, cert, key = self.read()
        return grpc.ssl_server_credentials(
            [(key, cert)], root_certificates=ca, require_client_auth=True
        )

    def channel_credentials(self) -> grpc.ChannelCredentials:
        """Client credentials presenting our certificate and trusting only our CA."""
        ca, cert, key = self.read()
        return grpc.ssl_channel_credentials(
            root_certificates=ca, private_key=key, certificate_chain=cert
        )


def load_certificate(path: Path) -> x509.Certificate:
    """A PEM certificate from ``path`` (the federation CA's, say); ConfigError naming it."""
    try:
        return x509.load_pem_x509_certificate(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: cannot load the certificate: {exc}") from exc


def peer_identity(auth_context: Mapping[str, Iterable[bytes]]) -> str:
    """The ``accord:`` identity of an authenticated gRPC peer.

    gRPC has already verified the chain against our CA when this runs; we read
    the URI SAN of the leaf it verified. Raises Unauthenticated when there is no
    verified certificate or it names no (or more than one) Accord identity.
    """
    if b"ssl" not in auth_context.get("transport_security_type", []):
        raise Unauthenticated("no TLS client certificate")
    pems = list(auth_context.get("x509_pem_cert", []))
    if len(pems) != 1:
        raise Unauthenticated("no TLS client certificate")
    identity = _identity_of(bytes(pems[0]))
    if identity is None:
        raise Unauthenticated("client certificate carries no Accord identity")
    return identity


@functools.lru_cache(maxsize=1024)
def _identity_of(pem: bytes) -> str | None:
    """The one ``accord:`` URI SAN of a (verified) certificate, or None.

    Remembered per certificate: a few peers call again and again, and parsing
    a certificate per call was a measurable part of every RPC.
    """
    try:
        cert = x509.load_pem_x509_certificate(pem)
    except ValueError:
        return None
    return certificate_identity(cert)


def certificate_identity(cert: x509.Certificate) -> str | None:
    """The one ``accord:`` URI SAN of ``cert``, or None (none, or several)."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (ValueError, x509.ExtensionNotFound):
        return None
    identities = [u for u in san.get_values_for_type(x509.UniformResourceIdentifier)
                  if u.startswith("accord:")]
    return identities[0] if len(identities) == 1 else None


# --- issuing (used by `accord federation init` and tests) -------------------

def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


@dataclass(frozen=True, slots=True)
class CertificateAuthority:
    """An in-memory CA able to issue leaf certificates."""

    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    @classmethod
    def create(cls, name: str, now: dt.datetime, days: int = 3650) -> CertificateAuthority:
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=False, content_commitment=False,
                    key_encipherment=False, data_encipherment=False, key_agreement=False,
                    key_cert_sign=True, crl_sign=True, encipher_only=False, decipher_only=False,
                ),
                critical=True,
            )
            .sign(key, hashes.SHA256())
        )
        return cls(cert=cert, key=key)

    @classmethod
    def load(cls, cert_path: Path, key_path: Path) -> CertificateAuthority:
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ConfigError(f"{key_path}: CA key is not an EC key")
        return cls(cert=x509.load_pem_x509_certificate(cert_path.read_bytes()), key=key)

    @property
    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def key_pem(self) -> bytes:
        return _key_pem(self.key)

    def issue(
        self,
        identity: str,
        now: dt.datetime,
        *,
        hosts: tuple[str, ...] = ("localhost", "127.0.0.1"),
        days: int = 825,
        not_before: dt.datetime | None = None,
    ) -> tuple[bytes, bytes]:
        """Issue a leaf certificate for ``identity``; returns (cert_pem, key_pem).

        The certificate serves as both server and client certificate, with the
        identity as a URI SAN and ``hosts`` as DNS/IP SANs.
        """
        key = ec.generate_private_key(ec.SECP256R1())
        names: list[x509.GeneralName] = [x509.UniformResourceIdentifier(identity)]
        for host in hosts:
            try:
                names.append(x509.IPAddress(ipaddress.ip_address(host)))
            except ValueError:
                names.append(x509.DNSName(host))
        start = not_before or (now - dt.timedelta(minutes=5))
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, identity)]))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(start + dt.timedelta(days=days))
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.ExtendedKeyUsage(
                    [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
                ),
                critical=False,
            )
            .sign(self.key, hashes.SHA256())
        )
        return cert.public_bytes(serialization.Encoding.PEM), _key_pem(key)
