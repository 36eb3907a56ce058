"""A node's configuration, read once from ``node.toml``.

Example (as written by ``accord federation init``)::

    [node]
    agency = "rivertown_pd"
    listen = "127.0.0.1:7401"
    hub = "127.0.0.1:7400"
    data_dir = "."                          # node.db and node.log live here
    # database_url = "postgresql://postgres@127.0.0.1:5432/accord_rivertown_pd"
    federation_secret = "../secrets/federation.key"   # 32+ random bytes; never leaves the node
    # federation_secret_rotation = "../secrets/federation.next.key"   # during a rotation:
    #                                         # also index under this one (see README)
    # request_key_file = "request_keys.key"   # seals this node's release keys at rest;
    #                                         # made on first start (default: in data_dir)
    agreements = ["../../agreements/local-pilot.yaml"]  # every agreement the agency is in
    default_region = "US"                   # phones written without a country code
    max_pointers = 100
    reflection = false
    log_json = true
    hub_public_key = "../../hub/public_key.pem"   # verifies grants and checkpoints
    # hub_previous_public_keys = ["../../hub/public_key.2026.pem"]   # after a hub key rotation
    log_origin = "accord-hub"               # the hub log's name in its checkpoints
    metrics_listen = "127.0.0.1:9401"       # Prometheus /metrics; "" turns it off
    health_interval_seconds = 5.0

    [limits]                                # max_message_bytes, max_concurrent_rpcs

    [local]                                 # this agency's own rules; they only tighten
    exclude_labels = ["victim"]             # never point to records with these labels
    record_types_withheld = ["warrant"]     # never point to these record types

    [policy]                                # as in hub.toml: dir, engine, timeout_seconds, ...

    [console]                               # the web console (node/console/config.py)
    enabled = false

    [tls]
    ca_cert = "../ca/ca.pem"
    cert = "tls/node.pem"
    key = "tls/node.key"
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from accord.agreement import AgreementSet, load_agreements
from accord.config import (
    Limits,
    Section,
    load_toml,
    parse_agency,
    parse_hostport,
    read_limits,
    read_policy,
    read_tls,
    section,
)
from accord.db import sqlite_url
from accord.errors import ConfigError
from accord.policy.source import PolicySource
from accord.tls import TlsFiles
from node.console.config import ConsoleConfig
from node.tokens import Keyring

#: The tables the file may hold.
TABLES = frozenset({"node", "tls", "local", "policy", "limits", "console"})


@dataclass(frozen=True, slots=True)
class NodeConfig:
    source: Path
    agency: str
    listen: str
    hub: str
    data_dir: Path
    database_url: str
    log_file: Path
    log_json: bool
    federation_secret: Path
    #: During a rotation: the other secret, which records are also indexed under.
    federation_secret_rotation: Path | None
    #: The key that seals this node's per-release private keys in its database
    #: (node/keywrap.py); made on first start when missing.
    request_key_file: Path
    default_region: str
    max_pointers: int
    reflection: bool
    tls: TlsFiles
    agreements: AgreementSet
    local_rules: dict[str, object]
    policy: PolicySource
    reload_seconds: float
    hub_public_key: Path
    hub_previous_public_keys: tuple[Path, ...]
    log_origin: str
    metrics_listen: str
    health_interval: float
    limits: Limits
    auto_migrate: bool
    console: ConsoleConfig = field(default_factory=ConsoleConfig)

    @classmethod
    def load(cls, path: Path, env: dict[str, str] | None = None) -> NodeConfig:
        path = path.resolve()
        data = load_toml(path, "ACCORD_NODE", env, TABLES)
        node = section(path, data, "node")
        data_dir = node.path("data_dir", ".")
        agency = parse_agency(node.text("agency"), f"{path}: node.agency")
        agreement_files = tuple(node.path_list("agreements"))
        agreements = load_agreements(agreement_files)
        if not agreements.for_agency(agency):
            raise ConfigError(f"{path}: node.agreements: {agency} is a member of none of them")
        local = _local_rules(path, data, agency)
        policy, reload_seconds = read_policy(path, data, agreement_files, local)
        config = cls(
            source=path,
            agency=agency,
            listen=parse_hostport(node.text("listen"), f"{path}: node.listen"),
            hub=parse_hostport(node.text("hub"), f"{path}: node.hub"),
            data_dir=data_dir,
            database_url=node.text("database_url", sqlite_url(data_dir / "node.db")),
            log_file=node.path("log_file", str(data_dir / "node.log")),
            log_json=node.flag("log_json", True),
            federation_secret=node.path("federation_secret"),
            federation_secret_rotation=(node.path("federation_secret_rotation")
                                        if node.text("federation_secret_rotation", "")
                                        else None),
            request_key_file=node.path("request_key_file", str(data_dir / "request_keys.key")),
            default_region=_region(path, node.text("default_region", "US")),
            max_pointers=node.integer("max_pointers", 100, minimum=1),
            reflection=node.flag("reflection", False),
            tls=read_tls(path, data),
            agreements=agreements,
            local_rules=local,
            policy=policy,
            reload_seconds=reload_seconds,
            hub_public_key=node.path("hub_public_key"),
            hub_previous_public_keys=tuple(node.path_list("hub_previous_public_keys", [])),
            log_origin=node.text("log_origin", "accord-hub"),
            metrics_listen=(parse_hostport(m, f"{path}: node.metrics_listen")
                            if (m := node.text("metrics_listen", "")) else ""),
            health_interval=node.number("health_interval_seconds", 5.0, minimum=0.1),
            limits=read_limits(path, data),
            auto_migrate=node.flag("auto_migrate", True),
            console=ConsoleConfig.read(path, data),
        )
        node.check_unknown()
        unknown = set(data) - TABLES
        if unknown:
            raise ConfigError(f"{path}: unknown table [{sorted(unknown)[0]}]")
        return config

    def keyring(self) -> Keyring:
        """Token keys for every agreement this node's agency belongs to."""
        rotation = (None if self.federation_secret_rotation is None
                    else _read_secret(self.federation_secret_rotation))
        return Keyring(self.read_secret(),
                       [a.id for a in self.agreements.for_agency(self.agency)], rotation)

    def read_secret(self) -> bytes:
        """The federation secret's bytes, naming the file on error."""
        return _read_secret(self.federation_secret)


def _read_secret(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read federation secret: {exc.strerror or exc}") from exc


def _local_rules(path: Path, data: dict[str, object], agency: str) -> dict[str, object]:
    raw = data.get("local", {})
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: [local]: want a table")
    sec = Section(path, "local", raw)
    rules: dict[str, object] = {
        "agency": agency,
        "exclude_labels": sorted(sec.strings("exclude_labels", [])),
        "record_types_withheld": sorted(sec.strings("record_types_withheld", [])),
    }
    sec.check_unknown()
    return rules


def _region(path: Path, region: str) -> str:
    """A region phone numbers without a country code are read in (ISO 3166, like 'US')."""
    import phonenumbers

    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise ConfigError(f"{path}: node.default_region: got {region!r}, want a region code "
                          "like 'US' (ISO 3166, one the phone number library knows)")
    return region
