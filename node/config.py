"""A node's configuration, read once from ``node.toml``.

Example (as written by ``accord federation init``)::

    [node]
    agency = "rivertown_pd"
    listen = "127.0.0.1:7401"
    hub = "127.0.0.1:7400"
    data_dir = "."                          # node.db and node.log live here
    # database_url = "postgresql://postgres@127.0.0.1:5432/accord_rivertown_pd"
    federation_secret = "../secrets/federation.key"   # 32+ random bytes; never leaves the node
    agreement = "local-pilot"
    default_region = "US"                   # phones written without a country code
    max_pointers = 100
    exclude_labels = ["sealed"]             # records with these labels are never pointed to
    reflection = false
    log_json = true

    [tls]
    ca_cert = "../ca/ca.pem"
    cert = "tls/node.pem"
    key = "tls/node.key"
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from accord.config import load_toml, parse_agency, parse_hostport, read_tls, section
from accord.db import sqlite_url
from accord.errors import ConfigError
from accord.tls import TlsFiles


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
    agreement: str
    default_region: str
    max_pointers: int
    exclude_labels: frozenset[str]
    reflection: bool
    tls: TlsFiles

    @classmethod
    def load(cls, path: Path, env: dict[str, str] | None = None) -> NodeConfig:
        path = path.resolve()
        data = load_toml(path, "ACCORD_NODE", env)
        node = section(path, data, "node")
        data_dir = node.path("data_dir", ".")
        config = cls(
            source=path,
            agency=parse_agency(node.text("agency"), f"{path}: node.agency"),
            listen=parse_hostport(node.text("listen"), f"{path}: node.listen"),
            hub=parse_hostport(node.text("hub"), f"{path}: node.hub"),
            data_dir=data_dir,
            database_url=node.text("database_url", sqlite_url(data_dir / "node.db")),
            log_file=node.path("log_file", str(data_dir / "node.log")),
            log_json=node.flag("log_json", True),
            federation_secret=node.path("federation_secret"),
            agreement=node.text("agreement"),
            default_region=node.text("default_region", "US"),
            max_pointers=node.integer("max_pointers", 100, minimum=1),
            exclude_labels=frozenset(node.strings("exclude_labels", ["sealed"])),
            reflection=node.flag("reflection", False),
            tls=read_tls(path, data),
        )
        node.check_unknown()
        unknown = set(data) - {"node", "tls"}
        if unknown:
            raise ConfigError(f"{path}: unknown table [{sorted(unknown)[0]}]")
        return config

    def read_secret(self) -> bytes:
        """The federation secret's bytes, naming the file on error."""
        try:
            return self.federation_secret.read_bytes()
        except OSError as exc:
            raise ConfigError(
                f"{self.federation_secret}: cannot read federation secret: "
                f"{exc.strerror or exc}"
            ) from exc
