"""The hub's configuration, read once from ``hub.toml``.

Example (as written by ``accord federation init``)::

    [hub]
    listen = "127.0.0.1:7400"
    data_dir = "."                      # hub.db and hub.log live here
    # database_url = "postgresql://postgres@127.0.0.1:5432/accord_hub"
    agreements = ["../agreements/local-pilot.yaml"]   # members, endpoints, IdP keys, rules
    fanout_timeout_seconds = 3.0        # per-node deadline of a search
    max_pointers_per_node = 100
    reflection = false
    log_json = true
    signing_key = "signing_key.pem"     # Ed25519: signs checkpoints and release grants
    log_origin = "accord-hub"           # names this log in its signed checkpoints
    node_timeout_seconds = 10.0         # release calls to owning nodes
    metrics_listen = "127.0.0.1:9400"   # Prometheus /metrics; "" turns it off
    health_interval_seconds = 5.0       # how often health re-checks database and policy
    watch_interval_seconds = 60.0       # how often every active watch is checked
    auto_migrate = true                 # upgrade the schema at start; false: refuse until
                                        # `accord db upgrade` has run (production)
    revocations = "revocations.toml"    # investigators and tokens refused before they
                                        # expire (hub/revocations.py); reloads with policy

    [limits]
    max_message_bytes = 4194304
    max_concurrent_rpcs = 256
    search_per_minute = 60              # per investigator (token bucket) ...
    search_burst = 20
    agency_search_per_minute = 600      # ... and per agency; refusals are audited
    agency_search_burst = 100
    shared_rate_limits = false          # true: buckets in the PostgreSQL database, shared
                                        # by every hub replica on it

    [policy]
    dir = "/path/to/accord/policies"    # default: the policies shipped with Accord
    engine = "regopy"                   # or "opa" (an OPA server, e.g. a sidecar)
    timeout_seconds = 0.5               # a slower decision is a deny
    reload_seconds = 2.0                # poll policy and agreement files; 0 = never
    # opa_host = "127.0.0.1"
    # opa_port = 8181
    # opa_push = true                   # push policies and data to OPA at start

    [tls]
    ca_cert = "../ca/ca.pem"
    cert = "tls/hub.pem"
    key = "tls/hub.key"

Members (node endpoints, certificate identities, identity-provider keys) come
from the agreements; changing them needs a restart, while policy rules and
agreement rules reload live.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from accord.agreement import AgreementSet, load_agreements
from accord.config import (
    Limits,
    Section,
    load_toml,
    parse_hostport,
    read_limits,
    read_policy,
    read_tls,
    section,
)
from accord.db import sqlite_url
from accord.errors import ConfigError
from accord.identity import IssuerConfig, load_public_key
from accord.policy.source import PolicySource
from accord.tls import TlsFiles

#: The tables the file may hold.
TABLES = frozenset({"hub", "tls", "policy", "limits"})


@dataclass(frozen=True, slots=True)
class Member:
    """An agency in the federation, as the hub knows it."""

    agency: str
    endpoint: str
    issuer: IssuerConfig


@dataclass(frozen=True, slots=True)
class HubConfig:
    source: Path
    listen: str
    data_dir: Path
    database_url: str
    log_file: Path
    log_json: bool
    fanout_timeout: float
    max_pointers_per_node: int
    reflection: bool
    tls: TlsFiles
    agreements: AgreementSet
    policy: PolicySource
    reload_seconds: float
    members: tuple[Member, ...]
    signing_key: Path
    log_origin: str
    node_timeout: float
    metrics_listen: str
    health_interval: float
    limits: Limits
    auto_migrate: bool
    watch_interval: float = 60.0
    #: The steward's revocations file (None: nothing is revoked).
    revocations: Path | None = None

    def member(self, agency: str) -> Member | None:
        return next((m for m in self.members if m.agency == agency), None)

    @classmethod
    def load(cls, path: Path, env: dict[str, str] | None = None) -> HubConfig:
        path = path.resolve()
        data = load_toml(path, "ACCORD_HUB", env, TABLES)
        hub = section(path, data, "hub")
        data_dir = hub.path("data_dir", ".")
        agreement_files = tuple(hub.path_list("agreements"))
        if not agreement_files:
            raise ConfigError(f"{path}: hub.agreements: empty; the hub needs at least one")
        agreements = load_agreements(agreement_files)
        policy, reload_seconds = read_policy(path, data, agreement_files, {})
        config = cls(
            source=path,
            listen=parse_hostport(hub.text("listen"), f"{path}: hub.listen"),
            data_dir=data_dir,
            database_url=hub.text("database_url", sqlite_url(data_dir / "hub.db")),
            log_file=hub.path("log_file", str(data_dir / "hub.log")),
            log_json=hub.flag("log_json", True),
            fanout_timeout=hub.number("fanout_timeout_seconds", 3.0, minimum=0.05),
            max_pointers_per_node=hub.integer("max_pointers_per_node", 100, minimum=1),
            reflection=hub.flag("reflection", False),
            tls=read_tls(path, data),
            agreements=agreements,
            policy=policy,
            reload_seconds=reload_seconds,
            members=_members(agreements),
            signing_key=hub.path("signing_key", "signing_key.pem"),
            log_origin=hub.text("log_origin", "accord-hub"),
            node_timeout=hub.number("node_timeout_seconds", 10.0, minimum=0.1),
            metrics_listen=_metrics_listen(path, hub.text("metrics_listen", "")),
            health_interval=hub.number("health_interval_seconds", 5.0, minimum=0.1),
            limits=read_limits(path, data),
            auto_migrate=hub.flag("auto_migrate", True),
            watch_interval=hub.number("watch_interval_seconds", 60.0, minimum=0.1),
            revocations=hub.path("revocations") if hub.text("revocations", "") else None,
        )
        hub.check_unknown()
        unknown = set(data) - TABLES
        if unknown:
            raise ConfigError(f"{path}: unknown table [{sorted(unknown)[0]}]")
        return config


def _members(agreements: AgreementSet) -> tuple[Member, ...]:
    members = []
    for agency in agreements.agencies:
        m = agreements.member(agency)
        assert m is not None  # agencies come from the same set
        keys = {kid: load_public_key(p) for kid, p in m.jwt_keys.items()}
        members.append(Member(
            agency=agency,
            endpoint=m.endpoint,
            issuer=IssuerConfig(agency=agency, issuer=m.issuer, keys=keys,
                                algorithms=frozenset(m.algorithms)),
        ))
    return tuple(members)


__all__ = ["HubConfig", "Member", "Section"]


def _metrics_listen(path: Path, value: str) -> str:
    return parse_hostport(value, f"{path}: metrics_listen") if value else ""
