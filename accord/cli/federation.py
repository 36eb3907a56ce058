"""``accord federation init``: write a ready local federation into a directory.

Layout::

    DIR/
      agreements/<id>.yaml        the agreement the members share (rules, endpoints, keys)
      ca/ca.pem, ca/ca.key        the federation's private CA (keep ca.key offline)
      secrets/federation.key      32 random bytes; nodes only, never the hub
      hub/hub.toml                hub config; hub/tls/ its certificate
      hub/revocations.toml        investigators and tokens the hub refuses (none yet)
      hub/signing_key.pem         the hub's Ed25519 key: signs checkpoints and grants
      hub/public_key.pem          its public half, which every node and auditor holds
      idp/<agency>/               development identity provider of each agency
      nodes/<agency>/node.toml    node config; nodes/<agency>/tls/ its certificate

Every path inside a config is relative to that config file, so the directory
can be moved as a whole.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomli_w
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from accord.agreement import RECORD_TYPES, Agreement, read_document
from accord.errors import InvalidArgument
from accord.identity import DevIdentityProvider
from accord.ids import AGENCY_RE
from accord.tls import HUB_IDENTITY, CertificateAuthority, agency_identity

AGREEMENT_ID = "local-pilot"
PURPOSES = ("human_trafficking", "missing_person", "violent_crime", "victim_services")


@dataclass(frozen=True, slots=True)
class Federation:
    """Paths of a federation directory written by :func:`init_federation`."""

    root: Path
    agencies: tuple[str, ...]

    agreement: Path

    @property
    def hub_config(self) -> Path:
        return self.root / "hub" / "hub.toml"

    def node_config(self, agency: str) -> Path:
        return self.root / "nodes" / agency / "node.toml"

    def idp_dir(self, agency: str) -> Path:
        return self.root / "idp" / agency


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
    template: Path | None = None,
) -> Federation:
    """Write CA, keys, identity providers, agreement and configs under ``root``.

    ``base_port=None`` picks free ports (the demo and tests do this). With a
    ``template`` agreement, its rules are kept and each member's endpoint,
    certificate identity and identity provider are filled in; its members
    must be exactly ``agencies``. Without one, a default agreement is written.
    """
    if root.exists() and any(root.iterdir()) and not force:
        raise InvalidArgument(f"{root}: exists and is not empty (use --force to overwrite)")
    root.mkdir(parents=True, exist_ok=True)
    count = len(agencies) + 1
    ports = (
        # All at once: ports picked in separate calls could be the same ones.
        free_ports(3 * count - 1)
        if base_port is None
        # gRPC ports from base_port, Prometheus ports from base_port + 2000,
        # web consoles from base_port + 1001.
        else [base_port + i for i in range(count)] + [base_port + 2000 + i for i in range(count)]
        + [base_port + 1000 + i for i in range(1, count)]
    )
    hub_port, node_ports = ports[0], dict(zip(agencies, ports[1:count], strict=True))
    hub_metrics = ports[count]
    node_metrics = dict(zip(agencies, ports[count + 1:2 * count], strict=True))
    console_ports = dict(zip(agencies, ports[2 * count:], strict=True))  # node/console/

    ca = CertificateAuthority.create("Accord federation CA", now)
    _write(root / "ca" / "ca.pem", ca.cert_pem)
    _write(root / "ca" / "ca.key", ca.key_pem, private=True)
    _write(root / "secrets" / "federation.key", secrets.token_bytes(32), private=True)

    cert, key = ca.issue(HUB_IDENTITY, now)
    _write(root / "hub" / "tls" / "hub.pem", cert)
    _write(root / "hub" / "tls" / "hub.key", key, private=True)
    signing = ed25519.Ed25519PrivateKey.generate()
    _write(
        root / "hub" / "public_key.pem",
        signing.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
    )
    _write(
        root / "hub" / "signing_key.pem",
        signing.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
        private=True,
    )

    document = _agreement_document(template, agencies, now)
    for agency in agencies:
        idp = DevIdentityProvider.create(agency)
        idp_dir = root / "idp" / agency
        idp.save(idp_dir)
        _toml(idp_dir / "idp.toml", {"agency": agency, "issuer": idp.issuer, "kid": idp.kid})
        member = document["members"][agency]
        member["node"] = {"endpoint": f"127.0.0.1:{node_ports[agency]}",
                          "identity": agency_identity(agency)}
        member["identity_provider"] = {
            "issuer": idp.issuer,
            "algorithms": ["EdDSA"],
            "keys": {idp.kid: f"../idp/{agency}/public_key.pem"},
        }
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
                    "agreements": [f"../../agreements/{document['agreement']}.yaml"],
                    "default_region": "US",
                    "max_pointers": 100,
                    "reflection": False,
                    "hub_public_key": "../../hub/public_key.pem",
                    "log_origin": "accord-hub",
                    "metrics_listen": f"127.0.0.1:{node_metrics[agency]}",
                },
                "local": {"exclude_labels": [], "record_types_withheld": []},
                # A local federation's console: loopback HTTP, development sign-in.
                "console": {"enabled": True, "listen": f"127.0.0.1:{console_ports[agency]}",
                            "dev_idp": f"../../idp/{agency}"},
                "tls": {"ca_cert": "../../ca/ca.pem", "cert": "tls/node.pem", "key": "tls/node.key"},
            },
        )

    _toml(
        root / "hub" / "hub.toml",
        {
            "hub": {
                "listen": f"127.0.0.1:{hub_port}",
                "data_dir": ".",
                "agreements": [f"../agreements/{document['agreement']}.yaml"],
                "fanout_timeout_seconds": 3.0,
                "max_pointers_per_node": 100,
                "reflection": False,
                "metrics_listen": f"127.0.0.1:{hub_metrics}",
                "revocations": "revocations.toml",
            },
            "tls": {"ca_cert": "../ca/ca.pem", "cert": "tls/hub.pem", "key": "tls/hub.key"},
        },
    )
    _write(root / "hub" / "revocations.toml", REVOCATIONS_TEMPLATE.encode())
    agreement_path = root / "agreements" / f"{document['agreement']}.yaml"
    _write(agreement_path, yaml.safe_dump(document, sort_keys=False).encode())
    # Fail here, naming the problem, rather than at first start.
    Agreement.load(agreement_path)
    return Federation(root, agencies, agreement_path)


#: The revocations file a new federation starts with: nothing revoked, and how.
REVOCATIONS_TEMPLATE = """\
# Investigators and tokens the hub refuses before their tokens expire.
# The hub reloads this file every [policy] reload_seconds and audits each
# change; a file that does not validate is rejected and the list before it
# stays in force. See `hub/revocations.py` and the README.
#
# [[revoke]]                        # every token of one investigator
# agency = "lakeside_so"
# subject = "det.morales"
# reason = "suspended pending review (HR-2291)"
#
# [[revoke]]                        # only tokens issued before a time
# agency = "lakeside_so"
# subject = "det.vance"
# issued_before = 2026-12-07T10:00:00Z
# reason = "laptop stolen"
#
# [[revoke]]                        # one token, by its id (the jti claim)
# agency = "rivertown_pd"
# token_id = "tIwxcU1in3oHYToC1Uzhdg"
# reason = "pasted into a chat"
"""


def default_template() -> Path:
    """The demo agreement shipped in ``deploy/agreements/``."""
    return Path(__file__).resolve().parents[2] / "deploy" / "agreements" / "local-pilot.yaml"


def _agreement_document(
    template: Path | None, agencies: tuple[str, ...], now: dt.datetime
) -> dict[str, Any]:
    if template is None:
        def member(agency: str) -> dict[str, Any]:
            # Fresh lists per member: shared objects would be written as YAML aliases.
            return {
                "name": agency,
                "shares": {"record_types": list(RECORD_TYPES),
                           "exclude_labels": ["sealed", "juvenile"]},
                "release": {"withhold": [{"fields": ["phones", "addresses", "emails"],
                                          "roles": ["victim"],
                                          "unless_purposes": ["victim_services"]}]},
            }

        return {
            "agreement": AGREEMENT_ID,
            "version": 1,
            "title": "Local pilot federation",
            "valid_from": now.date().isoformat(),
            "valid_until": now.date().replace(year=now.year + 2).isoformat(),
            "purposes": list(PURPOSES),
            "members": {a: member(a) for a in agencies},
        }
    document = read_document(template)
    if not isinstance(document, dict) or not isinstance(document.get("members"), dict):
        raise InvalidArgument(f"{template}: not an agreement (no members)")
    members = set(document["members"])
    if members != set(agencies):
        missing, extra = sorted(set(agencies) - members), sorted(members - set(agencies))
        raise InvalidArgument(
            f"{template}: members {sorted(members)} differ from --agencies "
            f"(missing {missing}, extra {extra})"
        )
    for key in ("valid_from", "valid_until"):
        if isinstance(document.get(key), dt.date):
            document[key] = document[key].isoformat()
    return document
