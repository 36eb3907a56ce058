"""Pushing policies to an OPA server: a decision counts only under the revision pushed.

OPA takes each policy and data document in a transaction of its own, so a
push is many transactions; these tests cut one off, empty the server, and let
another process push over it, and check that no decision is taken from a
server that does not hold exactly what this process pushed.
"""

from __future__ import annotations

import asyncio

import pytest
from opa_client.errors import RegoParseError

from accord.policy import engine as engine_module
from accord.policy.engine import (
    GUARD_ID,
    META_KEY,
    PENDING,
    SEARCH,
    OpaEngine,
    PolicyPoint,
    revision_of,
)
from tests.support.opa_server import FakeOpa, running_opa

ALLOW = {"accord/search.rego": 'package accord.search\n\nimport rego.v1\n\n'
                               'decision := {"allow": true, "reasons": []}\n'}
DENY = {"accord/search.rego": 'package accord.search\n\nimport rego.v1\n\n'
                              'decision := {"allow": false, "reasons": ["closed"]}\n',
        "accord/other.rego": 'package accord.other\n\nimport rego.v1\n\nx := 1\n'}
DATA = {"agreements": {"a": {"purposes": ["p"]}}}


@pytest.fixture(autouse=True)
def quick_repush(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine_module, "REPUSH_INTERVAL", 0.05)


async def pushed(port: int, modules: dict[str, str], data: dict[str, object] = DATA
                 ) -> tuple[OpaEngine, PolicyPoint]:
    engine = OpaEngine("127.0.0.1", port, timeout=2.0)
    await engine.push(modules, data)
    return engine, PolicyPoint(engine, timeout=2.0)


async def settle(engine: OpaEngine) -> None:
    """Wait for a push the engine started again on its own."""
    if engine._repush is not None:
        await engine._repush


def revision(opa: FakeOpa) -> object:
    return opa.data[META_KEY]["revision"]


async def test_a_push_records_its_revision_and_decisions_carry_it() -> None:
    async with running_opa() as (opa, port):
        _, point = await pushed(port, ALLOW)
        decision = await point.decide(SEARCH, {})
        await point.close()
    assert decision.allow
    assert revision(opa) == revision_of(ALLOW, DATA)
    assert set(opa.modules) == {"accord_search.rego", GUARD_ID}


async def test_a_push_cut_off_midway_is_denied_until_the_policies_are_whole_again() -> None:
    async with running_opa() as (opa, port):
        engine, point = await pushed(port, ALLOW)
        # Another version's push dies after its first module: the server now
        # holds the new search module beside the old set's data.
        opa.refuse = {"accord_other.rego"}
        cut = OpaEngine("127.0.0.1", port, timeout=2.0)
        with pytest.raises(RegoParseError):
            await cut.push(DENY, DATA)
        await cut.close()
        mixed = await point.decide(SEARCH, {})
        held_during = revision(opa)
        opa.refuse = set()
        # Pending for longer than a push takes: this process pushes its own again.
        await asyncio.sleep(0.1)
        still = await point.decide(SEARCH, {})
        await settle(engine)
        after = await point.decide(SEARCH, {})
        await point.close()
    assert (mixed.allow, mixed.reasons) == (False, ("policy_revision_mismatch",))
    assert held_during == PENDING
    assert still.reasons == ("policy_revision_mismatch",)
    # This process pushed its own version again: whole, and decided by it.
    assert revision(opa) == revision_of(ALLOW, DATA)
    assert after.allow


async def test_a_server_that_restarted_empty_is_pushed_again() -> None:
    async with running_opa() as (opa, port):
        engine, point = await pushed(port, ALLOW)
        opa.modules.clear()
        opa.data.clear()
        opa._rebuild()
        emptied = await point.decide(SEARCH, {})
        await settle(engine)
        after = await point.decide(SEARCH, {})
        await point.close()
    assert (emptied.allow, emptied.reasons) == (False, ("policy_revision_mismatch",))
    assert after.allow
    assert revision(opa) == revision_of(ALLOW, DATA)


async def test_another_processes_revision_is_denied_and_not_pushed_over() -> None:
    async with running_opa() as (opa, port):
        first, point = await pushed(port, ALLOW)
        second, _ = await pushed(port, DENY)
        decisions = []
        for _ in range(3):
            decisions.append(await point.decide(SEARCH, {}))
            await asyncio.sleep(0.06)
        await point.close()
        await second.close()
    assert [d.reasons for d in decisions] == [("policy_revision_mismatch",)] * 3
    assert first._repush is None  # the two would only take turns
    assert revision(opa) == revision_of(DENY, DATA)


async def test_what_a_push_no_longer_has_is_deleted_and_nothing_else() -> None:
    async with running_opa() as (opa, port):
        opa.modules["authz.rego"] = "package system.authz\n\nimport rego.v1\n\nallow := true\n"
        engine, point = await pushed(port, DENY, {**DATA, "local": {"rule": 1}})
        await engine.push(ALLOW, DATA)
        decision = await point.decide(SEARCH, {})
        await point.close()
    assert set(opa.modules) == {"authz.rego", "accord_search.rego", GUARD_ID}
    assert set(opa.data) == {"agreements", META_KEY}
    assert opa.data[META_KEY]["policies"] == ["accord_guard.rego", "accord_search.rego"]
    assert decision.allow


async def test_an_undefined_decision_under_the_right_revision_is_undefined() -> None:
    async with running_opa() as (_opa, port):
        _, point = await pushed(port, {"accord/other.rego": DENY["accord/other.rego"]})
        decision = await point.decide(SEARCH, {})
        await point.close()
    assert decision.reasons == ("policy_undefined",)
