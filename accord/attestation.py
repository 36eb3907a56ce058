"""Requester-key attestations: the requesting node vouches for the key a record is sealed to.

A released record is sealed to a one-time X25519 key the requesting node made
for that request (see :mod:`accord.sealing`). The key reaches the owning node
through the hub, inside the hub-signed grant; were the hub's word all that
bound it, a hub holding its own signing key could grant the same release
again to a key of its own, log a matching entry, and read the record.

So the requesting node signs the key, with the private key of its own TLS
certificate (issued by the federation CA to ``accord:agency:<agency>``;
ECDSA with SHA-256, RSA-PSS with SHA-256 or Ed25519, by the key's type), over
``CONTEXT`` and the canonical JSON of the agency, the pointer and the key; the
hub relays the signature and the certificate untouched, and the owning node
checks, before it seals anything, that the certificate was issued by the
federation CA to the grant's requesting agency, is valid now, and signed
exactly this key for exactly this pointer. Forging one takes the requesting
node's private key or the federation CA's, neither of which the hub holds.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

from accord.errors import ConfigError, PermissionDenied
from accord.tls import agency_identity, certificate_identity

#: What is signed is this prefix followed by :func:`binding`'s JSON.
CONTEXT = b"accord/v1 requester key\x00"
#: The reason a release is refused for.
UNATTESTED = "requester_key_unattested"
#: Certificates and signatures larger than this are refused unread.
MAX_CERTIFICATE_BYTES = 8 * 1024
MAX_SIGNATURE_BYTES = 256


def binding(agency: str, pointer: str, requester_key: bytes) -> bytes:
    """The bytes an attestation signs: who asks, for which pointer, to which key."""
    doc = {"agency": agency, "pointer": pointer,
           "requester_key": base64.urlsafe_b64encode(requester_key).rstrip(b"=").decode()}
    return CONTEXT + json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()


#: The key types a node's TLS certificate may have (an agency's own PKI may
#: issue RSA or Ed25519 ones; ``accord federation init`` issues ECDSA P-256).
SigningKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey | ed25519.Ed25519PrivateKey
_PSS = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.DIGEST_LENGTH)


@dataclass(frozen=True, slots=True)
class Attester:
    """A node's signer of its requester keys: its TLS key, and its certificate to show."""

    agency: str
    key: SigningKey
    certificate: bytes  # DER

    @classmethod
    def load(cls, agency: str, cert_path: Path, key_path: Path) -> Attester:
        try:
            cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
            key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        except (OSError, ValueError) as exc:
            raise ConfigError(f"TLS certificate or key ({cert_path}, {key_path}): "
                              f"cannot load: {exc}") from exc
        if not isinstance(key, SigningKey):
            raise ConfigError(f"{key_path}: a {type(key).__name__}; want an ECDSA, RSA or "
                              "Ed25519 key")
        return cls(agency, key, cert.public_bytes(serialization.Encoding.DER))

    def attest(self, pointer: str, requester_key: bytes) -> bytes:
        """The signature over :func:`binding` of this node's agency, ``pointer`` and key."""
        message = binding(self.agency, pointer, requester_key)
        if isinstance(self.key, ec.EllipticCurvePrivateKey):
            return self.key.sign(message, ec.ECDSA(hashes.SHA256()))
        if isinstance(self.key, rsa.RSAPrivateKey):
            return self.key.sign(message, _PSS, hashes.SHA256())
        return self.key.sign(message)


def verify_attestation(certificate: bytes, signature: bytes, ca: x509.Certificate, *,
                       agency: str, pointer: str, requester_key: bytes,
                       now: dt.datetime) -> None:
    """Check that ``agency``'s node signed ``requester_key`` for ``pointer``.

    Raises:
        PermissionDenied: (reason ``requester_key_unattested``) naming what
            failed; nothing about the record is in it.
    """
    def refuse(why: str) -> PermissionDenied:
        return PermissionDenied(f"requester key: {why}", reasons=(UNATTESTED,))

    if not certificate or not signature:
        raise refuse("not attested by the requesting node")
    if len(certificate) > MAX_CERTIFICATE_BYTES or len(signature) > MAX_SIGNATURE_BYTES:
        raise refuse("attestation too large")
    try:
        cert = x509.load_der_x509_certificate(certificate)
    except ValueError:
        raise refuse("the attesting certificate does not parse") from None
    try:
        cert.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):
        raise refuse("the attesting certificate is not the federation CA's") from None
    if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
        raise refuse("the attesting certificate is not valid now")
    if certificate_identity(cert) != agency_identity(agency):
        raise refuse(f"the attesting certificate is not {agency}'s node's")
    public = cert.public_key()
    message = binding(agency, pointer, requester_key)
    try:
        if isinstance(public, ec.EllipticCurvePublicKey):
            public.verify(signature, message, ec.ECDSA(hashes.SHA256()))
        elif isinstance(public, rsa.RSAPublicKey):
            public.verify(signature, message, _PSS, hashes.SHA256())
        elif isinstance(public, ed25519.Ed25519PublicKey):
            public.verify(signature, message)
        else:
            raise refuse("the attesting certificate's key is not ECDSA, RSA or Ed25519")
    except InvalidSignature:
        raise refuse(f"not signed by {agency}'s node for this pointer") from None
