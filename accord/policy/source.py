"""Where a policy point's policies and data come from, and how they reload.

A :class:`PolicySource` names the Rego directory, the agreement files and any
node-local rules. :meth:`PolicySource.build` loads and compiles all of it into
a fresh engine, or raises :class:`ConfigError` naming the file and field.
:func:`watch` polls the files and swaps a new engine in when they change; a
new version that fails to load is rejected and the old one keeps serving.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import structlog

from accord.agreement import AgreementSet, load_agreements
from accord.errors import ConfigError
from accord.policy.engine import (
    DEFAULT_TIMEOUT,
    OpaEngine,
    PolicyEngine,
    PolicyPoint,
    RegoEngine,
    read_policies,
)

log = structlog.get_logger("accord.policy")


@dataclass(frozen=True, slots=True)
class EngineSettings:
    """Which engine evaluates decisions: ``regopy`` in-process or an ``opa`` server."""

    kind: str = "regopy"
    opa_host: str = "127.0.0.1"
    opa_port: int = 8181
    #: Push policies and data to the OPA server (off when it loads bundles itself).
    opa_push: bool = True
    timeout: float = DEFAULT_TIMEOUT

    def __post_init__(self) -> None:
        if self.kind not in {"regopy", "opa"}:
            raise ConfigError(f"policy.engine: got {self.kind!r}, want 'regopy' or 'opa'")


@dataclass(frozen=True, slots=True)
class PolicySource:
    policy_dir: Path
    agreement_files: tuple[Path, ...]
    local: Mapping[str, Any] = field(default_factory=dict)
    engine: EngineSettings = field(default_factory=EngineSettings)

    def files(self) -> list[Path]:
        return sorted(self.policy_dir.rglob("*.rego")) + list(self.agreement_files)

    def fingerprint(self) -> str:
        """Changes whenever a policy or agreement file changes (or disappears)."""
        h = hashlib.sha256()
        for path in self.files():
            try:
                h.update(str(path).encode() + b"\0" + path.read_bytes() + b"\0")
            except OSError:
                h.update(str(path).encode() + b"\0missing\0")
        return h.hexdigest()[:16]

    def load(self) -> tuple[AgreementSet, dict[str, str], dict[str, Any]]:
        """Agreements, Rego modules and the policy data document."""
        agreements = load_agreements(self.agreement_files)
        modules = read_policies(self.policy_dir)
        data: dict[str, Any] = dict(agreements.to_policy_data())
        if self.local:
            data["local"] = dict(self.local)
        return agreements, modules, data

    async def build(self) -> tuple[AgreementSet, PolicyEngine]:
        """Load and compile everything into a new engine; raises ConfigError."""
        agreements, modules, data = await asyncio.to_thread(self.load)
        # Compiled here first, whichever engine decides: an OPA server takes
        # modules one by one, so a file that does not compile would otherwise
        # be refused only after the files before it were live.
        engine = await asyncio.to_thread(RegoEngine, modules, data)
        if self.engine.kind == "opa":
            opa = OpaEngine(self.engine.opa_host, self.engine.opa_port,
                            timeout=self.engine.timeout)
            if self.engine.opa_push:
                try:
                    await opa.push(modules, data)
                except Exception as exc:
                    await opa.close()
                    raise ConfigError(f"OPA server rejected the policies: {exc}") from exc
            return agreements, opa
        return agreements, engine

    async def open(self) -> tuple[AgreementSet, PolicyPoint]:
        agreements, engine = await self.build()
        return agreements, PolicyPoint(engine, timeout=self.engine.timeout,
                                       version=self.fingerprint())


async def reload_once(source: PolicySource, point: PolicyPoint) -> AgreementSet | None:
    """Reload if anything changed; returns the new agreements, or None if unchanged
    or rejected (the old version keeps serving)."""
    fingerprint = source.fingerprint()
    if fingerprint == point.version:
        return None
    try:
        agreements, engine = await source.build()
    except ConfigError as exc:
        log.error("policy_reload_rejected", error=exc.message, kept=point.version)
        return None
    await point.replace(engine, fingerprint)
    log.info("policy_reloaded", version=fingerprint)
    return agreements


async def watch(source: PolicySource, point: PolicyPoint, interval: float,
                on_reload: Any = None) -> None:
    """Poll for changes every ``interval`` seconds until cancelled."""
    while True:
        await asyncio.sleep(interval)
        agreements = await reload_once(source, point)
        if agreements is not None and on_reload is not None:
            on_reload(agreements)
