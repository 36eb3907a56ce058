"""The policy point fails closed, whatever the engine does."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from accord.errors import ConfigError
from accord.policy.engine import SCOPE, SEARCH, PolicyPoint, RegoEngine, read_policies

POLICY = """package accord.search
import rego.v1
default allow := false
allow if { input.role == "investigator" }
reasons := [] if { allow }
reasons := ["role_not_allowed_to_search"] if { not allow }
decision := {"allow": allow, "reasons": reasons}
"""


class Scripted:
    """An engine that returns (or raises) what it is told."""

    def __init__(self, result: Any = None, *, error: Exception | None = None,
                 delay: float = 0.0, blocking: float = 0.0) -> None:
        self.result, self.error, self.delay, self.blocking = result, error, delay, blocking
        self.closed = False

    async def evaluate(self, decision: str, input: Mapping[str, Any]) -> Any:
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.blocking:
            time.sleep(self.blocking)  # noqa: ASYNC251 - never yields, like the in-process engine
        if self.error:
            raise self.error
        return self.result

    async def close(self) -> None:
        self.closed = True


async def test_rego_engine_allows_and_denies_with_reasons() -> None:
    point = PolicyPoint(RegoEngine({"search.rego": POLICY}, {}))
    allowed = await point.decide(SEARCH, {"role": "investigator"})
    denied = await point.decide(SEARCH, {"role": "auditor"})
    assert (allowed.allow, allowed.reasons) == (True, ())
    assert (denied.allow, denied.reasons) == (False, ("role_not_allowed_to_search",))
    assert denied.explain() == "denied: role_not_allowed_to_search"


@pytest.mark.parametrize(
    ("engine", "reason"),
    [
        (Scripted(error=RuntimeError("engine exploded")), "policy_error"),
        (Scripted({"allow": True, "reasons": []}, delay=1.0), "policy_timeout"),
        (Scripted({"allow": True, "reasons": []}, blocking=0.3), "policy_timeout"),
        (Scripted(None), "policy_undefined"),
        (Scripted("yes"), "policy_malformed"),
        (Scripted({"allow": "true", "reasons": []}), "policy_malformed"),
        (Scripted({"reasons": []}), "policy_malformed"),
        (Scripted({"allow": True, "reasons": "none"}), "policy_malformed"),
    ],
)
async def test_every_engine_failure_denies(engine: Scripted, reason: str) -> None:
    decision = await PolicyPoint(engine, timeout=0.1).decide(SEARCH, {})
    assert (decision.allow, decision.reasons) == (False, (reason,))


async def test_allow_with_reasons_is_a_deny() -> None:
    decision = await PolicyPoint(Scripted({"allow": True, "reasons": ["odd"]})).decide(SEARCH, {})
    assert (decision.allow, decision.reasons) == (False, ("odd",))


async def test_a_deny_without_reasons_is_given_one() -> None:
    # Callers let "approval_required" through; an empty list must not read as "nothing against".
    decision = await PolicyPoint(Scripted({"allow": False, "reasons": []})).decide(SEARCH, {})
    assert (decision.allow, decision.reasons) == (False, ("policy_denied_without_reason",))
    decision = await PolicyPoint(Scripted({"allow": False})).decide(SEARCH, {})
    assert (decision.allow, decision.reasons) == (False, ("policy_denied_without_reason",))


async def test_scope_results_need_no_allow_flag() -> None:
    decision = await PolicyPoint(Scripted({"nodes": {"a_pd": {}}})).decide(SCOPE, {})
    assert decision.allow and decision.result == {"nodes": {"a_pd": {}}}


def test_policies_that_do_not_compile_are_refused_with_the_file() -> None:
    with pytest.raises(ConfigError) as info:
        RegoEngine({"broken.rego": "package accord.search\nimport rego.v1\n\nallow if {"}, {})
    assert info.value.message == "policies do not compile: broken.rego line 4: this is unclosed"


def test_empty_policy_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"no \.rego policies"):
        read_policies(tmp_path)
    (tmp_path / "only_test.rego").write_text("package x_test\n")
    with pytest.raises(ConfigError, match=r"no \.rego policies"):
        read_policies(tmp_path)


async def test_replace_swaps_engines_atomically() -> None:
    old = Scripted({"allow": False, "reasons": ["old"]})
    point = PolicyPoint(old, version="v1")
    await point.replace(Scripted({"allow": True, "reasons": []}), "v2")
    assert (await point.decide(SEARCH, {})).allow
    assert old.closed and point.version == "v2"


async def test_a_repeated_decision_is_remembered_and_each_caller_gets_its_own_copy() -> None:
    engine = RegoEngine({"search.rego": POLICY}, {})
    first = await engine.evaluate(SEARCH, {"role": "investigator"})
    first["allow"] = False  # a caller scribbling on its answer changes nobody else's
    again = await engine.evaluate(SEARCH, {"role": "investigator"})
    assert again == {"allow": True, "reasons": []}
    assert await engine.evaluate(SEARCH, {"role": "auditor"}) == {
        "allow": False, "reasons": ["role_not_allowed_to_search"]}
    assert len(engine._memo) == 2


async def test_a_reloaded_policy_answers_afresh() -> None:
    point = PolicyPoint(RegoEngine({"search.rego": POLICY}, {}))
    assert (await point.decide(SEARCH, {"role": "investigator"})).allow
    stricter = POLICY.replace('input.role == "investigator"', 'input.role == "nobody"')
    await point.replace(RegoEngine({"search.rego": stricter}, {}), "v2")
    assert not (await point.decide(SEARCH, {"role": "investigator"})).allow
