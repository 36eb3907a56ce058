"""Make the keys, certificates and passwords that deploy/compose/compose.yaml mounts.

Run once, from the repository root, with Accord installed (``make test`` or
``pip install .`` gives you ``.venv``)::

    sudo .venv/bin/python deploy/compose/prepare.py --chown
    docker compose -f deploy/compose/compose.yaml up -d --build

It writes ``deploy/compose/secrets/`` (ignored by git)::

    ca.pem, ca.key              the federation CA (move ca.key offline once certificates are issued)
    federation.key              32 random bytes: token keys; nodes only, never the hub
    hub/tls.pem, tls.key        accord:hub, DNS names hub and localhost
    hub/signing_key.pem         Ed25519: signs checkpoints and release grants
    hub/public_key.pem          its public half (every node and auditor holds it)
    hub/pgpass                  libpq password file for the hub's database
    nodes/<agency>/tls.pem, tls.key, pgpass
    idp/<agency>/               a development identity provider (signing_key.pem,
                                public_key.pem, idp.toml) for ``accord token issue``
    postgres/superuser_password, postgres/<component>_password

The agencies, and the DNS names their certificates carry, come from the
members and node endpoints of ``config/agreements/compose-pilot.yaml``.

Compose mounts file secrets as they are on the host (it ignores ``uid``,
``gid`` and ``mode`` outside Swarm), and the private files are 0600, so they
must belong to the user that reads them in the container: ``--chown`` (as
root) gives the Accord files to uid 10001 (the images' ``accord`` user) and the
PostgreSQL ones to uid 999 (``postgres`` in the postgres:15 image).

Existing secrets are never overwritten without ``--force``: a new CA or hub
key breaks every peer that trusts the old one, and a new federation secret
changes every token, so every node's index has to be rebuilt.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import secrets
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import tomli_w
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from accord.identity import DevIdentityProvider
from accord.tls import HUB_IDENTITY, CertificateAuthority, agency_identity

COMPOSE_DIR = Path(__file__).resolve().parent
AGREEMENT = COMPOSE_DIR / "config" / "agreements" / "compose-pilot.yaml"
#: The hub's compose service name: the DNS name nodes dial (node.hub = "hub:7400").
HUB_HOST = "hub"
#: Where PostgreSQL listens, as the libpq password files must name it.
DB_HOST, DB_PORT = "postgres", 5432
#: uid:gid that must own each top-level folder's files when --chown is given.
OWNERS = {"postgres": (999, 999)}
DEFAULT_OWNER = (10001, 10001)


@dataclass(frozen=True, slots=True)
class Member:
    agency: str
    host: str


def members(agreement: Path = AGREEMENT) -> tuple[Member, ...]:
    """The agencies of the compose agreement and the host names of their nodes."""
    doc = yaml.safe_load(agreement.read_text(encoding="utf-8"))
    return tuple(
        Member(agency, str(m["node"]["endpoint"]).rpartition(":")[0])
        for agency, m in doc["members"].items()
    )


def database(component: str) -> str:
    """The database (and role) of a component: ``accord_hub``, ``accord_<agency>``."""
    return f"accord_{component}"


def _write(path: Path, data: bytes, *, private: bool) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = 0o600 if private else 0o644
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(path, mode)  # O_CREAT's mode is filtered by the umask
    return path


def _password(out: Path, component: str) -> None:
    # token_urlsafe: no ':' or '\', so it needs no escaping in a password file.
    password = secrets.token_urlsafe(32)
    name = database(component)
    where = out / "hub" if component == "hub" else out / "nodes" / component
    _write(where / "pgpass", f"{DB_HOST}:{DB_PORT}:{name}:{name}:{password}\n".encode(),
           private=True)
    _write(out / "postgres" / f"{component}_password", password.encode(), private=True)


def make_secrets(out: Path, now: dt.datetime, *, force: bool = False,
                 agreement: Path = AGREEMENT) -> list[Path]:
    """Write every secret compose.yaml mounts under ``out``; returns the files written."""
    if out.exists() and any(out.iterdir()) and not force:
        raise FileExistsError(f"{out}: exists and is not empty (use --force to replace every key)")
    agencies = members(agreement)
    ca = CertificateAuthority.create("Accord federation CA (compose)", now)
    _write(out / "ca.pem", ca.cert_pem, private=False)
    _write(out / "ca.key", ca.key_pem, private=True)
    _write(out / "federation.key", secrets.token_bytes(32), private=True)

    cert, key = ca.issue(HUB_IDENTITY, now, hosts=(HUB_HOST, "localhost", "127.0.0.1"))
    _write(out / "hub" / "tls.pem", cert, private=False)
    _write(out / "hub" / "tls.key", key, private=True)
    signing = ed25519.Ed25519PrivateKey.generate()
    _write(out / "hub" / "signing_key.pem", signing.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()), private=True)
    _write(out / "hub" / "public_key.pem", signing.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo),
        private=False)
    _password(out, "hub")

    for member in agencies:
        cert, key = ca.issue(agency_identity(member.agency), now,
                             hosts=(member.host, "localhost", "127.0.0.1"))
        _write(out / "nodes" / member.agency / "tls.pem", cert, private=False)
        _write(out / "nodes" / member.agency / "tls.key", key, private=True)
        _password(out, member.agency)
        idp = DevIdentityProvider.create(member.agency)
        idp_dir = out / "idp" / member.agency
        _write(idp_dir / "signing_key.pem", idp.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()), private=True)
        _write(idp_dir / "public_key.pem", idp.public_pem, private=False)
        _write(idp_dir / "idp.toml", tomli_w.dumps(
            {"agency": member.agency, "issuer": idp.issuer, "kid": idp.kid}).encode(),
            private=False)

    _write(out / "postgres" / "superuser_password", secrets.token_urlsafe(32).encode(),
           private=True)
    return sorted(p for p in out.rglob("*") if p.is_file())


def chown_for_containers(out: Path, files: Sequence[Path]) -> None:
    """Give each file to the container user that reads it (needs root)."""
    for path in files:
        top = path.relative_to(out).parts[0]
        if top == "idp":
            continue  # read on the host, by `accord token issue`
        uid, gid = OWNERS.get(top, DEFAULT_OWNER)
        os.chown(path, uid, gid)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=COMPOSE_DIR / "secrets",
                        help="where to write (default: deploy/compose/secrets)")
    parser.add_argument("--force", action="store_true", help="replace existing secrets")
    parser.add_argument("--chown", action="store_true",
                        help="give the files to the containers' users (uid 10001, postgres 999); "
                             "run as root")
    args = parser.parse_args(argv)
    try:
        files = make_secrets(args.out, dt.datetime.now(dt.UTC), force=args.force)
        if args.chown:
            chown_for_containers(args.out, files)
    except (OSError, KeyError, TypeError, yaml.YAMLError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {len(files)} files under {args.out}")
    if not args.chown:
        print("note: without --chown the private files stay yours (0600); the containers run as "
              "uid 10001 (postgres: 999) and cannot read them. Run with --chown as root, or chown "
              "them yourself.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
