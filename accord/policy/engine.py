"""Policy engines: one small interface, two implementations, fail closed.

* :class:`RegoEngine` evaluates the Rego policies in-process with regopy. The
  policies and the agreement data are compiled once into a bundle (at start
  and on reload); each decision is one evaluation of that bundle, 0.2-0.5 ms
  here, where recompiling per request would cost about 20 ms. A decision
  already made for the same input is remembered (decisions are pure functions
  of bundle and input), which makes the repeated ones almost free.
* :class:`OpaEngine` asks an OPA server (the production sidecar) through
  opa-python-client's async client, over OPA's Data API.

:class:`PolicyPoint` is what the hub and the nodes hold. It turns *any*
failure into a deny with a reason: an engine error (``policy_error``), a
timeout (``policy_timeout``), an undefined or malformed result
(``policy_undefined``, ``policy_malformed``). It reloads policies and data
atomically: a new version that does not compile is rejected and the old one
keeps serving.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import re
import threading
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import structlog

from accord.errors import ConfigError

log = structlog.get_logger("accord.policy")

#: The decisions Accord asks for, as bundle entrypoints / OPA data paths.
SEARCH = "accord/search/decision"
SCOPE = "accord/scope/decision"
POINTER = "accord/pointer/decision"
RELEASE = "accord/release/decision"
DECISIONS = (SEARCH, SCOPE, POINTER, RELEASE)

#: With ``opa_push``, Accord also pushes this module, and every decision is
#: asked through it: one query answers both the decision and the revision of
#: what the server holds, from one snapshot of its store. A push sets the
#: revision to "pending" first and to its own last, so a decision made while
#: a push is under way, cut off midway, or after the server restarted empty or
#: took another process's push, carries a revision other than the one pushed,
#: and is denied (``policy_revision_mismatch``).
GUARD_ID = "accord_guard.rego"
GUARD_PACKAGE = "accord_guard"
GUARD_MODULE = """package accord_guard

import rego.v1

# Written by Accord (accord/policy/engine.py) with every push; do not edit.

default revision := ""

revision := data.accord_meta.revision

search := {"revision": revision, "result": data.accord.search.decision}

scope := {"revision": revision, "result": data.accord.scope.decision}

pointer := {"revision": revision, "result": data.accord.pointer.decision}

release := {"revision": revision, "result": data.accord.release.decision}
"""
#: The data document that holds the revision and what the last push wrote.
META_KEY = "accord_meta"
PENDING = "pending"
#: After a mismatch, the soonest a push is tried again.
REPUSH_INTERVAL = 5.0

DEFAULT_TIMEOUT = 0.5
#: The most decisions a RegoEngine remembers (distinct inputs) before starting afresh.
MEMO_LIMIT = 4096


class PolicyEngine(Protocol):
    """Evaluates one decision; returns the raw result, or None when undefined."""

    async def evaluate(self, decision: str, input: Mapping[str, Any]) -> Any: ...

    async def close(self) -> None: ...


def read_policies(policy_dir: Path) -> dict[str, str]:
    """The Rego modules under ``policy_dir`` (tests excluded), by relative path."""
    if not policy_dir.is_dir():
        raise ConfigError(f"{policy_dir}: policy directory not found")
    modules = {}
    # Follow directory links (a Kubernetes ConfigMap mounts files through them)
    # but skip hidden entries ("..data", "..2026_..."), which hold the same files.
    for folder, dirs, files in os.walk(policy_dir, followlinks=True):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if name.endswith(".rego") and not name.endswith("_test.rego") \
                    and not name.startswith("."):
                path = Path(folder) / name
                modules[str(path.relative_to(policy_dir))] = path.read_text(encoding="utf-8")
    if not modules:
        # An empty policy set would make every decision undefined; refuse it
        # loudly at load rather than deny everything silently.
        raise ConfigError(f"{policy_dir}: no .rego policies found")
    return modules


class RegoEngine:
    """In-process Rego evaluation with regopy, compiled once into a bundle."""

    def __init__(self, modules: Mapping[str, str], data: Mapping[str, Any],
                 entrypoints: Sequence[str] = DECISIONS) -> None:
        import regopy

        self._interpreter = regopy.Interpreter()
        try:
            for name, source in modules.items():
                self._interpreter.add_module(name, source)
            self._interpreter.add_data(dict(data))
            self._bundle = self._interpreter.build(None, list(entrypoints))
        except regopy.RegoError as exc:
            raise ConfigError(f"policies do not compile: {_describe(str(exc), modules)}") from exc
        # One interpreter holds the input between set_input and the query.
        self._lock = threading.Lock()
        # Decisions are pure functions of (bundle, decision, input): the
        # policies read the time only from ``input.now`` (a date), never from
        # a clock. So a repeated input gets the answer the bundle gave before,
        # without another evaluation. The memo belongs to this engine and
        # so to this bundle; a reload builds a new engine with an empty memo.
        self._memo: dict[tuple[str, str], str] = {}

    @classmethod
    def from_dir(cls, policy_dir: Path, data: Mapping[str, Any]) -> RegoEngine:
        try:
            return cls(read_policies(policy_dir), data)
        except ConfigError as exc:
            raise ConfigError(f"{policy_dir}: {exc.message}") from exc

    def evaluate_sync(self, decision: str, input: Mapping[str, Any]) -> Any:
        key = (decision, json.dumps(input, sort_keys=True, separators=(",", ":"), default=str))
        output = self._memo.get(key)
        if output is None:
            with self._lock:
                self._interpreter.set_input(dict(input))
                output = str(self._interpreter.query_bundle_entrypoint(self._bundle, decision))
                if len(self._memo) >= MEMO_LIMIT:
                    self._memo.clear()
                self._memo[key] = output
        return _parse_output(output)

    async def evaluate(self, decision: str, input: Mapping[str, Any]) -> Any:
        # On the event loop, not in a thread: regopy holds the GIL while it
        # evaluates (two threads evaluate no faster than one), so a thread
        # would leave the loop just as stopped and add its hand-offs (about
        # 0.3 ms a decision on these machines, as much as the evaluation).
        # An evaluation that overruns the timeout is denied by PolicyPoint.
        return self.evaluate_sync(decision, input)

    async def close(self) -> None:
        return None


def _parse_output(output: str) -> Any:
    """The first expression of regopy's output (parsed afresh: callers may keep it)."""
    if output == "undefined":
        return None
    expressions = json.loads(output).get("expressions") or [None]
    return expressions[0]


def revision_of(modules: Mapping[str, str], data: Mapping[str, Any]) -> str:
    """A digest of a policy set and its data: what a push stamps on the server."""
    canonical = json.dumps([sorted(modules.items()), data], sort_keys=True,
                           separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


class PolicyRevisionMismatch(Exception):
    """The OPA server does not hold the revision this process pushed."""


def _policy_id(name: str) -> str:
    return name.replace("/", "_")


class OpaEngine:
    """Decisions from an OPA server over its Data API (``POST /v1/data/<path>``).

    Without a push (the server loads files or bundles itself) each decision is
    asked at its own path. After :meth:`push`, through the guard module
    (:data:`GUARD_MODULE`), and only a decision carrying the pushed revision
    counts: any other is denied, and if the server lost the push it is made
    again (see :meth:`_push_again`).
    """

    def __init__(self, host: str, port: int, *, timeout: float = DEFAULT_TIMEOUT,
                 ssl: bool = False, token: str | None = None) -> None:
        from opa_client import AsyncOpaClient

        self._client = AsyncOpaClient(host=host, port=port, ssl=ssl, token=token,
                                      timeout=timeout, retries=0)
        self._opened = False
        #: (modules, data, revision) of the last push, or None: not pushed.
        self._pushed: tuple[Mapping[str, str], Mapping[str, Any], str] | None = None
        self._repush: asyncio.Task[None] | None = None
        self._repushed_at = -REPUSH_INTERVAL
        #: When this process first saw the server's revision "pending", if it still is.
        self._pending_since: float | None = None

    async def _open(self) -> None:
        if not self._opened:
            await self._client.__aenter__()
            self._opened = True

    async def push(self, modules: Mapping[str, str], data: Mapping[str, Any]) -> None:
        """Load policies and data into the server (when it is not fed by bundles).

        OPA takes each policy and data document in a transaction of its own,
        so the revision goes to "pending" first and to this push's last:
        until the whole push has landed, no decision carries it. Policies and
        data documents an earlier push wrote and this one does not are
        deleted (deletions first, so a moved file never meets its old copy).
        """
        await self._open()
        revision = revision_of(modules, data)
        policies = {_policy_id(name): source for name, source in modules.items()}
        policies[GUARD_ID] = GUARD_MODULE
        before = await self._meta()
        written = {"policies": sorted(set(before.get("policies", ())) | set(policies)),
                   "data": sorted(set(before.get("data", ())) | set(data))}
        # Everything this push or an earlier one may have written is listed
        # before anything is written: a push cut off later leaves nothing untracked.
        await self._client.update_or_create_data({"revision": PENDING, **written}, META_KEY)
        for stale in sorted(set(written["policies"]) - set(policies)):
            await self._delete(self._client.delete_policy, stale)
        for stale in sorted(set(written["data"]) - set(data)):
            await self._delete(self._client.delete_data, stale)
        for policy_id, source in policies.items():
            await self._client.update_policy_from_string(source, policy_id)
        for key, value in data.items():
            await self._client.update_or_create_data(value, key)
        await self._client.update_or_create_data(
            {"revision": revision, "policies": sorted(policies), "data": sorted(data)},
            META_KEY)
        self._pushed = (modules, data, revision)
        log.info("opa_pushed", revision=revision, policies=len(policies), data=len(data))

    async def _meta(self) -> dict[str, Any]:
        from opa_client.errors import PolicyNotFoundError

        try:
            found = (await self._client.get_data(META_KEY)).get("result")
        except PolicyNotFoundError:
            return {}
        return found if isinstance(found, dict) else {}

    @staticmethod
    async def _delete(delete: Callable[[str], Awaitable[bool]], name: str) -> None:
        from opa_client.errors import DeleteDataError, DeletePolicyError

        try:
            await delete(name)
        except (DeletePolicyError, DeleteDataError) as exc:
            if "not_found" not in str(exc.args[0] if exc.args else ""):
                raise

    async def evaluate(self, decision: str, input: Mapping[str, Any]) -> Any:
        await self._open()
        package, _, rule = decision.rpartition("/")
        if self._pushed is None:
            response = await self._client.query_rule(dict(input), package, rule)
            return response.get("result") if isinstance(response, dict) else None
        revision = self._pushed[2]
        short = package.rpartition("/")[2]  # accord/search -> search
        response = await self._client.query_rule(dict(input), GUARD_PACKAGE, short)
        guarded = response.get("result") if isinstance(response, dict) else None
        if isinstance(guarded, dict) and guarded.get("revision") == revision:
            self._pending_since = None
            return guarded.get("result")
        # Undefined: the decision itself, or the guard is gone (a server that
        # restarted empty). Which one, the revision alone tells.
        held = guarded.get("revision") if isinstance(guarded, dict) else await self._revision()
        if held == revision:
            return None
        self._push_again(held)
        raise PolicyRevisionMismatch(f"the OPA server holds revision {held!r}, "
                                     f"this process pushed {revision!r}")

    async def _revision(self) -> Any:
        response = await self._client.query_rule({}, GUARD_PACKAGE, "revision")
        return response.get("result") if isinstance(response, dict) else None

    def _push_again(self, held: Any) -> None:
        """Push the same policies and data again if the server lost them.

        Only when the server holds no revision (it restarted empty) or has
        held "pending" for :data:`REPUSH_INTERVAL` (a push cut off midway). A
        different revision is another push's (a reload here, another
        process): pushing over it would only make the two take turns.
        """
        now = time.monotonic()
        if held == PENDING:
            if self._pending_since is None:
                self._pending_since = now
            if now - self._pending_since < REPUSH_INTERVAL:
                return
        elif held not in ("", None):
            return
        if self._pushed is None or (self._repush is not None and not self._repush.done()):
            return
        if now - self._repushed_at < REPUSH_INTERVAL:
            return
        self._repushed_at = now
        self._pending_since = None
        modules, data, revision = self._pushed
        log.warning("opa_push_again", held=held, pushed=revision)

        async def again() -> None:
            try:
                await self.push(modules, data)
            except Exception as exc:
                log.error("opa_push_failed", error=type(exc).__name__, detail=str(exc)[:200])

        self._repush = asyncio.get_running_loop().create_task(again())

    async def close(self) -> None:
        if self._repush is not None:
            self._repush.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._repush
        if self._opened:
            await self._client.__aexit__(None, None, None)
            self._opened = False


_REGO_ERROR = re.compile(r"\(error \d+:([^|\s]+)\|(\d+)\|\d+\s*\(errormsg \d+:([^)]*)\)")


def _describe(text: str, modules: Mapping[str, str]) -> str:
    """``file.rego line N: message`` from regopy's error (which gives char offsets)."""
    match = _REGO_ERROR.search(text)
    if not match:
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        return lines[0] if lines else "unknown error"
    name, offset, message = match.group(1), int(match.group(2)), match.group(3).strip()
    source = modules.get(name)
    if source is None:
        return f"{name}: {message}"
    return f"{name} line {source.count(chr(10), 0, offset) + 1}: {message}"


#: The reasons of a denial that is no decision: the engine could not decide
#: (an error, a timeout, no answer, not what this process pushed). Health
#: checks count them as unhealthy; a watch outlives them.
ENGINE_FAILURES = frozenset({"policy_error", "policy_timeout", "policy_undefined",
                             "policy_revision_mismatch"})

#: The reason a policy's bare ``allow: false`` is given.
DENIED_WITHOUT_REASON = "policy_denied_without_reason"


@dataclass(frozen=True, slots=True)
class Decision:
    """A policy decision: allow or deny, with machine-readable reasons."""

    allow: bool
    reasons: tuple[str, ...]
    result: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def deny(cls, *reasons: str) -> Decision:
        return cls(False, reasons)

    def explain(self) -> str:
        return "allowed" if self.allow else "denied: " + ", ".join(self.reasons or ("no_reason",))


def _as_decision(result: Any, *, needs_allow: bool) -> Decision:
    if result is None:
        return Decision.deny("policy_undefined")
    if not isinstance(result, dict):
        return Decision.deny("policy_malformed")
    reasons = result.get("reasons", [])
    if not isinstance(reasons, list) or not all(isinstance(r, str) for r in reasons):
        return Decision.deny("policy_malformed")
    if needs_allow:
        allow = result.get("allow")
        if not isinstance(allow, bool):
            return Decision.deny("policy_malformed")
        # Fail closed on contradictions: reasons given means no. And a no
        # always carries a reason: callers that let some reasons through
        # (one that only asks for approval) must never read an empty list
        # as nothing standing in the way.
        if not allow and not reasons:
            reasons = [DENIED_WITHOUT_REASON]
        return Decision(allow and not reasons, tuple(reasons), result)
    return Decision(True, tuple(reasons), result)


EngineFactory = Callable[[], Awaitable[PolicyEngine]]

#: What ``decide`` holds for a decision the timeout interrupted.
_TIMED_OUT = object()


class PolicyPoint:
    """The hub's or a node's access to policy decisions. Every failure denies."""

    def __init__(self, engine: PolicyEngine, *, timeout: float = DEFAULT_TIMEOUT,
                 version: str = "") -> None:
        self._engine = engine
        self._timeout = timeout
        self.version = version

    async def decide(self, decision: str, input: Mapping[str, Any]) -> Decision:
        """Evaluate ``decision``; ``scope`` results carry no allow flag of their own.

        A decision that takes longer than the timeout is denied, whether the
        engine was interrupted (a server that does not answer) or ran to the
        end without yielding (the in-process engine).
        """
        started = time.monotonic()
        try:
            # asyncio.timeout, not wait_for: no task of its own per decision.
            async with asyncio.timeout(self._timeout):
                result = await self._engine.evaluate(decision, input)
        except TimeoutError:
            result = _TIMED_OUT
        except PolicyRevisionMismatch as exc:
            log.warning("policy_revision_mismatch", decision=decision, detail=str(exc))
            return Decision.deny("policy_revision_mismatch")
        except Exception as exc:
            log.warning("policy_error", decision=decision, error=type(exc).__name__)
            return Decision.deny("policy_error")
        if result is _TIMED_OUT or time.monotonic() - started > self._timeout:
            log.warning("policy_timeout", decision=decision)
            return Decision.deny("policy_timeout")
        return _as_decision(result, needs_allow=decision != SCOPE)

    async def replace(self, engine: PolicyEngine, version: str) -> None:
        """Swap in a new, already-built engine (atomic for callers)."""
        old, self._engine, self.version = self._engine, engine, version
        await old.close()

    async def close(self) -> None:
        await self._engine.close()
