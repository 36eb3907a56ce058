"""``accord federation init``: write a ready local federation into a directory.

Layout::

    DIR/
      agreement.json              the agreement the members share
      ca/ca.pem, ca/ca.key        the federation's private CA (keep ca.key offline)
      secrets/federation.key      32 random bytes; nodes only, never the hub
      hub/hub.toml                hub config; hub/tls/ its certificate
      hub/signing_key.pem         the hub's Ed25519 signing key
      idp/<agency>/               development identity provider of each agency
      nodes/<agency>/node.toml    node config; nodes/<agency>/tls/ its certificate

Every path inside a config is relative to that config file, so the directory
can be moved as a whole.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import socket
from dataclasses import dataclass
from pathlib import Path

import tomli_w
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from accord.config import AGENCY_RE
from accord.errors import ConfigError, InvalidArgument
from accord.identity import DevIdentityProvider
from accord.tls import HUB_IDENTITY, CertificateAuthority, agency_identity

AGREEMENT_ID = "local-pilot"
PURPOSES = ("human_trafficking", "missing_person", "violent_crime", "victim_services")


@dataclass(frozen=True, slots=True)
class Federation:
    """Paths of a federation directory written by :func:`init_federation`."""

    root: Path
    agencies: tuple[str, ...]

    @property
    def hub_config(self) -> Path:
        return self.root / "hub" / "hub.toml"

    def node_config(self, agency: str) -> Path:
        return self.root / "nodes" / agency / "node.toml"

    def idp_dir(self, agency: str) -> Path:
        return self.root / "idp" / agency

    @classmethod
    def open(cls, root: Path) -> Federation:
        agreement = root / "agreement.json"
        try:
            members = json.loads(agreement.read_text())["members"]
        except (OSError, ValueError, KeyError) as exc:
            raise ConfigError(f"{agreement}: not a federation directory ({exc})") from exc
        return cls(root, tuple(members))


def parse_agencies(raw: str) -> tuple[str, ...]:
    agencies = tuple(a.strip() for a in raw.split(",") if a.strip())
    if len(agencies) < 2:
        raise InvalidArgument(f"--agencies: got {raw!r}, want at least two, comma-separated")
    for agency in agencies:
        if not AGENCY_RE.match(agency):
            raise InvalidArgument(
                f"--agencies: {agency!r} is not a valid id (lowercase letters, digits, "
                "underscores, starting with a letter)"
            )
    if len(set(agencies)) != len(agencies):
        raise InvalidArgument(f"--agencies: got {raw!r}, an agency is listed twice")
    return agencies


def free_ports(count: int) -> list[int]:
    """Ports free on 127.0.0.1 right now (the OS picks them)."""
    sockets = []
    try:
        for _ in range(count):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            sockets.append(s)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _write(path: Path, data: bytes, *, private: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if private:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
    else:
        path.write_bytes(data)


def _toml(path: Path, doc: dict[str, object]) -> None:
    _write(path, tomli_w.dumps(doc).encode())


def init_federation(
    root: Path,
    agencies: tuple[str, ...],
    now: dt.datetime,
    *,
    base_port: int | None = 7400,
    force: bool = False,
) -> Federation:
    """Write CA, keys, identity providers, agreement and configs under ``root``.

    ``base_port=None`` picks free ports (the demo and tests do this).
    """
    if root.exists() and any(root.iterdir()) and not force:
        raise InvalidArgument(f"{root}: exists and is not empty (use --force to overwrite)")
    root.mkdir(parents=True, exist_ok=True)
    ports = (
        free_ports(len(agencies) + 1)
        if base_port is None
        else [base_port + i for i in range(len(agencies) + 1)]
    )
    hub_port, node_ports = ports[0], dict(zip(agencies, ports[1:], strict=True))

    ca = CertificateAuthority.create("Accord federation CA", now)
    _write(root / "ca" / "ca.pem", ca.cert_pem)
    _write(root / "ca" / "ca.key", ca.key_pem, private=True)
    _write(root / "secrets" / "federation.key", secrets.token_bytes(32), private=True)

    agreement = {
        "id": AGREEMENT_ID,
        "version": 1,
        "purposes": list(PURPOSES),
        "members": list(agencies),
    }
    _write(root / "agreement.json", (json.dumps(agreement, indent=2) + "\n").encode())

    cert, key = ca.issue(HUB_IDENTITY, now)
    _write(root / "hub" / "tls" / "hub.pem", cert)
    _write(root / "hub" / "tls" / "hub.key", key, private=True)
    signing = ed25519.Ed25519PrivateKey.generate()
    _write(
        root / "hub" / "signing_key.pem",
        signing.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
        private=True,
    )

    members = []
    for agency in agencies:
        idp = DevIdentityProvider.create(agency)
        idp_dir = root / "idp" / agency
        idp.save(idp_dir)
        _toml(idp_dir / "idp.toml", {"agency": agency, "issuer": idp.issuer, "kid": idp.kid})
        members.append(
            {
                "agency": agency,
                "endpoint": f"127.0.0.1:{node_ports[agency]}",
                "issuer": idp.issuer,
                "algorithms": ["EdDSA"],
                "jwt_keys": {idp.kid: f"../idp/{agency}/public_key.pem"},
            }
        )
        node_dir = root / "nodes" / agency
        cert, key = ca.issue(agency_identity(agency), now)
        _write(node_dir / "tls" / "node.pem", cert)
        _write(node_dir / "tls" / "node.key", key, private=True)
        _toml(
            node_dir / "node.toml",
            {
                "node": {
                    "agency": agency,
                    "listen": f"127.0.0.1:{node_ports[agency]}",
                    "hub": f"127.0.0.1:{hub_port}",
                    "data_dir": ".",
                    "federation_secret": "../../secrets/federation.key",
                    "agreement": AGREEMENT_ID,
                    "default_region": "US",
                    "max_pointers": 100,
                    "exclude_labels": ["sealed"],
                    "reflection": False,
                },
                "tls": {"ca_cert": "../../ca/ca.pem", "cert": "tls/node.pem", "key": "tls/node.key"},
            },
        )

    _toml(
        root / "hub" / "hub.toml",
        {
            "hub": {
                "listen": f"127.0.0.1:{hub_port}",
                "data_dir": ".",
                "agreement": "../agreement.json",
                "fanout_timeout_seconds": 3.0,
                "max_pointers_per_node": 100,
                "reflection": False,
            },
            "tls": {"ca_cert": "../ca/ca.pem", "cert": "tls/hub.pem", "key": "tls/hub.key"},
            "members": members,
        },
    )
    return Federation(root, agencies)
