"""Reading TOML configuration files with environment overrides.

Configuration is read once, at the composition root, into frozen dataclasses
(``hub.config.HubConfig``, ``node.config.NodeConfig``); everything else receives
those objects. Relative paths in a file are relative to the file's directory.
An environment variable ``<PREFIX>_<SECTION>_<KEY>`` (upper case) overrides a
scalar ``key`` in ``[section]``, e.g. ``ACCORD_HUB_HUB_LISTEN=0.0.0.0:7443``.
Secrets are referenced by path, never inlined.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import tomllib
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from accord.errors import ConfigError
from accord.ids import AGENCY_RE
from accord.policy.source import EngineSettings, PolicySource
from accord.tls import TlsFiles


class Section:
    """Typed access to one table of a config file, with precise errors."""

    def __init__(self, source: Path, name: str, data: Mapping[str, Any]) -> None:
        self.source = source
        self.name = name
        self._data = dict(data)
        self._used: set[str] = set()

    def _where(self, key: str) -> str:
        return f"{self.source}: {self.name}.{key}"

    def _get(self, key: str, default: Any, kind: type | tuple[type, ...], want: str) -> Any:
        self._used.add(key)
        if key not in self._data:
            if default is _REQUIRED:
                raise ConfigError(f"{self._where(key)}: missing, want {want}")
            return default
        value = self._data[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        # bool is an int in Python; `port = true` must still be an error.
        if (isinstance(value, bool) and bool not in kinds) or not isinstance(value, kinds):
            raise ConfigError(f"{self._where(key)}: got {value!r}, want {want}")
        return value

    def text(self, key: str, default: Any = None) -> str:
        value = self._get(key, _REQUIRED if default is None else default, str, "a string")
        return str(value)

    def integer(self, key: str, default: int | None = None, *, minimum: int = 0,
                maximum: int | None = None) -> int:
        value = self._get(key, _REQUIRED if default is None else default, int, "an integer")
        if value < minimum:
            raise ConfigError(f"{self._where(key)}: got {value}, want at least {minimum}")
        if maximum is not None and value > maximum:
            raise ConfigError(f"{self._where(key)}: got {value}, want at most {maximum}")
        return int(value)

    def number(self, key: str, default: float | None = None, *, minimum: float = 0.0) -> float:
        value = self._get(key, _REQUIRED if default is None else default, (int, float), "a number")
        # TOML has nan and inf; nan compares false with everything, so it
        # would pass the minimum (and a rate of nan allows every request).
        if not math.isfinite(value):
            raise ConfigError(f"{self._where(key)}: got {value}, want a finite number")
        if value < minimum:
            raise ConfigError(f"{self._where(key)}: got {value}, want at least {minimum}")
        return float(value)

    def flag(self, key: str, default: bool | None = None) -> bool:
        return bool(self._get(key, _REQUIRED if default is None else default, bool, "true or false"))

    def path(self, key: str, default: str | None = None) -> Path:
        raw = self.text(key, default)
        path = Path(raw).expanduser()
        return path if path.is_absolute() else (self.source.parent / path).resolve()

    def strings(self, key: str, default: list[str] | None = None) -> tuple[str, ...]:
        value = self._get(key, _REQUIRED if default is None else default, list, "a list of strings")
        if not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{self._where(key)}: got {value!r}, want a list of strings")
        return tuple(value)

    def path_list(self, key: str, default: list[str] | None = None) -> list[Path]:
        """A list of paths, each relative to the config file."""
        out = []
        for raw in self.strings(key, default):
            path = Path(raw).expanduser()
            out.append(path if path.is_absolute() else (self.source.parent / path).resolve())
        return out

    def keys(self) -> tuple[str, ...]:
        """The keys the table holds, as written."""
        return tuple(self._data)

    def time(self, key: str) -> dt.datetime | None:
        """An optional TOML date-time, which must say its zone; in UTC."""
        want = "a time with its zone, e.g. 2026-12-07T10:00:00Z"
        if isinstance(self._data.get(key), str):
            raise ConfigError(f"{self._where(key)}: got the string {self._data[key]!r}, want a "
                              "TOML time: the same without quotes")
        value: dt.datetime | None = self._get(key, None, dt.datetime, want)
        if value is None:
            return None
        if value.tzinfo is None:
            raise ConfigError(f"{self._where(key)}: got {value.isoformat()}, want {want}")
        try:
            return value.astimezone(dt.UTC)
        except (OverflowError, ValueError):  # 0001-01-01T00:00:00+05:00 has no UTC time
            raise ConfigError(f"{self._where(key)}: got {value.isoformat()}, "
                              "out of range") from None

    def table(self, key: str, default: Mapping[str, Any] | None = None) -> Mapping[str, Any]:
        value = self._get(key, _REQUIRED if default is None else default, dict, "a table")
        return dict(value)

    def check_unknown(self) -> None:
        """Fail on keys nobody read: a typo must not silently fall back to a default."""
        unknown = sorted(set(self._data) - self._used)
        if unknown:
            raise ConfigError(f"{self.source}: [{self.name}]: unknown key {unknown[0]!r}")


_REQUIRED: Any = object()


def load_toml(path: Path, env_prefix: str, env: Mapping[str, str] | None = None,
              tables: Collection[str] | None = None) -> dict[str, Any]:
    """Read a TOML file and apply environment overrides to its scalar keys.

    ``PREFIX_TABLE_KEY=value`` sets ``key`` in ``[table]``; ``tables`` are the
    tables the file may hold, and a variable naming another is refused with
    its name (not blamed on the file).
    """
    try:
        with path.open("rb") as f:
            data = tomllib.load(f)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    environ = os.environ if env is None else env
    prefix = env_prefix.upper() + "_"
    for var, raw in environ.items():
        if not var.startswith(prefix):
            continue
        section, _, key = var[len(prefix) :].lower().partition("_")
        if not key:
            continue
        if tables is not None and section not in tables:
            raise ConfigError(f"environment: {var}: [{section}] is not a table of {path.name} "
                              f"(its tables: {', '.join(sorted(tables))})")
        table = data.setdefault(section, {})
        if isinstance(table, dict):
            table[key] = _coerce(var, raw, table.get(key))
    return data


_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def _coerce(var: str, raw: str, current: Any) -> Any:
    """Give an environment value the type of the value it replaces (or its own)."""
    word = raw.strip().lower()
    if isinstance(current, bool) or (current is None and word in {"true", "false"}):
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
        raise ConfigError(f"environment: {var}: got {raw!r}, want true or false")
    for kind, name in ((int, "an integer"), (float, "a number")):
        if isinstance(current, kind) or current is None:
            try:
                return kind(raw)
            except ValueError:
                if current is not None:
                    raise ConfigError(f"environment: {var}: got {raw!r}, want {name}") from None
    return raw


def section(path: Path, data: Mapping[str, Any], name: str) -> Section:
    table = data.get(name)
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: missing table [{name}]")
    return Section(path, name, table)




def parse_hostport(value: str, where: str) -> str:
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ConfigError(f"{where}: got {value!r}, want host:port")
    return value


def parse_agency(value: str, where: str) -> str:
    if not AGENCY_RE.match(value):
        raise ConfigError(
            f"{where}: got {value!r}, want a lowercase id like 'rivertown_pd' "
            "(letters, digits, underscores)"
        )
    return value


def read_tls(path: Path, data: dict[str, object]) -> TlsFiles:
    tls = section(path, data, "tls")
    files = TlsFiles(ca_cert=tls.path("ca_cert"), cert=tls.path("cert"), key=tls.path("key"))
    tls.check_unknown()
    return files


def default_policy_dir() -> Path:
    """The Rego policies shipped with Accord (``policies/`` beside the packages)."""
    return Path(__file__).resolve().parent.parent / "policies"


def read_policy(
    path: Path,
    data: Mapping[str, Any],
    agreement_files: tuple[Path, ...],
    local: Mapping[str, Any],
) -> tuple[PolicySource, float]:
    """The optional ``[policy]`` table: engine settings and the reload interval."""
    raw = data.get("policy", {})
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: [policy]: want a table")
    sec = Section(path, "policy", raw)
    policy_dir = sec.path("dir", str(default_policy_dir()))
    engine = EngineSettings(
        kind=sec.text("engine", "regopy"),
        opa_host=sec.text("opa_host", "127.0.0.1"),
        opa_port=sec.integer("opa_port", 8181, minimum=1),
        opa_push=sec.flag("opa_push", True),
        timeout=sec.number("timeout_seconds", 0.5, minimum=0.01),
    )
    reload_seconds = sec.number("reload_seconds", 2.0)
    sec.check_unknown()
    return PolicySource(policy_dir, agreement_files, dict(local), engine), reload_seconds


@dataclass(frozen=True, slots=True)
class Limits:
    """The optional ``[limits]`` table of hub.toml and node.toml."""

    max_message_bytes: int = 4 * 1024 * 1024
    max_concurrent_rpcs: int = 256
    #: Hub only: searches per investigator, and per agency, per minute (and bursts).
    search_per_minute: float = 60.0
    search_burst: int = 20
    agency_search_per_minute: float = 600.0
    agency_search_burst: int = 100
    #: Hub only: keep the search buckets in the hub's PostgreSQL database, shared
    #: by every hub process on it (several replicas); otherwise per process.
    shared_rate_limits: bool = False


def read_limits(path: Path, data: Mapping[str, Any]) -> Limits:
    raw = data.get("limits", {})
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: [limits]: want a table")
    sec = Section(path, "limits", raw)
    d = Limits()
    limits = Limits(
        # gRPC takes a C int.
        max_message_bytes=sec.integer("max_message_bytes", d.max_message_bytes, minimum=1024,
                                      maximum=2**31 - 1),
        max_concurrent_rpcs=sec.integer("max_concurrent_rpcs", d.max_concurrent_rpcs, minimum=1),
        search_per_minute=sec.number("search_per_minute", d.search_per_minute, minimum=0.01),
        search_burst=sec.integer("search_burst", d.search_burst, minimum=1),
        agency_search_per_minute=sec.number("agency_search_per_minute",
                                            d.agency_search_per_minute, minimum=0.01),
        agency_search_burst=sec.integer("agency_search_burst", d.agency_search_burst, minimum=1),
        shared_rate_limits=sec.flag("shared_rate_limits", d.shared_rate_limits),
    )
    sec.check_unknown()
    return limits
