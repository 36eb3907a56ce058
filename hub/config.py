"""The hub's configuration, read once from ``hub.toml``.

Example (as written by ``accord federation init``)::

    [hub]
    listen = "127.0.0.1:7400"
    data_dir = "."                      # hub.db and hub.log live here
    # database_url = "postgresql://postgres@127.0.0.1:5432/accord_hub"
    fanout_timeout_seconds = 3.0        # per-node deadline of a search
    max_pointers_per_node = 100
    agreement = "../agreement.json"     # purposes and members (see accord.agreement)
    reflection = false
    log_json = true

    [tls]
    ca_cert = "../ca/ca.pem"
    cert = "tls/hub.pem"
    key = "tls/hub.key"

    [[members]]
    agency = "rivertown_pd"
    endpoint = "127.0.0.1:7401"
    issuer = "https://idp.rivertown_pd.accord.test"
    algorithms = ["EdDSA"]
    jwt_keys = { "dev-1" = "../idp/rivertown_pd/public_key.pem" }
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from accord.agreement import Agreement
from accord.config import Section, load_toml, parse_agency, parse_hostport, read_tls, section
from accord.db import sqlite_url
from accord.errors import ConfigError
from accord.identity import IssuerConfig, load_public_key
from accord.tls import TlsFiles


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
    agreement: Agreement
    reflection: bool
    tls: TlsFiles
    members: tuple[Member, ...]

    @property
    def purposes(self) -> tuple[str, ...]:
        return self.agreement.purposes

    def member(self, agency: str) -> Member | None:
        return next((m for m in self.members if m.agency == agency), None)

    @classmethod
    def load(cls, path: Path, env: dict[str, str] | None = None) -> HubConfig:
        path = path.resolve()
        data = load_toml(path, "ACCORD_HUB", env)
        hub = section(path, data, "hub")
        data_dir = hub.path("data_dir", ".")
        config = cls(
            source=path,
            listen=parse_hostport(hub.text("listen"), f"{path}: hub.listen"),
            data_dir=data_dir,
            database_url=hub.text("database_url", sqlite_url(data_dir / "hub.db")),
            log_file=hub.path("log_file", str(data_dir / "hub.log")),
            log_json=hub.flag("log_json", True),
            fanout_timeout=hub.number("fanout_timeout_seconds", 3.0, minimum=0.05),
            max_pointers_per_node=hub.integer("max_pointers_per_node", 100, minimum=1),
            agreement=Agreement.load(hub.path("agreement")),
            reflection=hub.flag("reflection", False),
            tls=read_tls(path, data),
            members=tuple(
                _member(path, i, m) for i, m in enumerate(_members(path, data.get("members")))
            ),
        )
        hub.check_unknown()
        agencies = [m.agency for m in config.members]
        if len(set(agencies)) != len(agencies):
            raise ConfigError(f"{path}: members: an agency is listed twice")
        unknown = set(data) - {"hub", "tls", "members"}
        if unknown:
            raise ConfigError(f"{path}: unknown table [{sorted(unknown)[0]}]")
        outsiders = [a for a in agencies if a not in config.agreement.members]
        if outsiders:
            raise ConfigError(
                f"{path}: members: {outsiders[0]!r} is not a member of agreement "
                f"{config.agreement.id!r}"
            )
        return config


def _members(path: Path, raw: object) -> list[dict[str, object]]:
    if not isinstance(raw, list) or not raw:
        raise ConfigError(f"{path}: [[members]]: want at least one member agency")
    return raw


def _member(path: Path, index: int, raw: object) -> Member:
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: members[{index}]: want a table")
    sec = Section(path, f"members[{index}]", raw)
    agency = parse_agency(sec.text("agency"), f"{path}: members[{index}].agency")
    keys = {}
    for kid, key_path in sec.table("jwt_keys").items():
        if not isinstance(key_path, str):
            raise ConfigError(f"{path}: members[{index}].jwt_keys.{kid}: want a file path")
        resolved = Path(key_path) if Path(key_path).is_absolute() else path.parent / key_path
        keys[kid] = load_public_key(resolved.resolve())
    member = Member(
        agency=agency,
        endpoint=parse_hostport(sec.text("endpoint"), f"{path}: members[{index}].endpoint"),
        issuer=IssuerConfig(
            agency=agency,
            issuer=sec.text("issuer"),
            keys=keys,
            algorithms=frozenset(sec.strings("algorithms", ["EdDSA"])),
        ),
    )
    sec.check_unknown()
    return member
