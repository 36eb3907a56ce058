"""One decision table, two engines: regopy in-process and an OPA-compatible server.

The table spans two agreements, five agencies (one an outsider to each
agreement), every purpose plus an unknown one, and every role. Expected
decisions come from a small oracle written from the agreements themselves, and
a handful of cells are pinned by hand so the oracle cannot drift with the policy.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import AsyncIterator, Iterator
from itertools import product
from pathlib import Path
from typing import Any

import pytest

from accord.agreement import Agreement, AgreementSet, load_agreements
from accord.config import default_policy_dir
from accord.identity import DevIdentityProvider
from accord.policy.engine import POINTER, SCOPE, SEARCH, OpaEngine, PolicyPoint, RegoEngine, read_policies
from tests.support.opa_server import running_opa

ROOT = Path(__file__).resolve().parents[2]
AGENCIES = ("rivertown_pd", "lakeside_so", "harbor_pd", "tip_hotline", "bay_county_so")
PURPOSES = ("human_trafficking", "missing_person", "violent_crime", "victim_services", "curiosity")
ROLES = ("investigator", "custodian", "auditor", "steward")
DAY = dt.date(2026, 11, 23)


@pytest.fixture(scope="module")
def agreements(tmp_path_factory: pytest.TempPathFactory) -> AgreementSet:
    """Both example agreements, with identity-provider keys where they expect them."""
    root = tmp_path_factory.mktemp("agreements")
    for agency in AGENCIES:
        DevIdentityProvider.create(agency).save(root / "idp" / agency)
    target = root / "deploy" / "agreements"
    target.mkdir(parents=True)
    for name in ("local-pilot.yaml", "coastal-task-force.yaml"):
        shutil.copy(ROOT / "deploy" / "agreements" / name, target / name)
    return load_agreements(sorted(target.glob("*.yaml")))


@pytest.fixture(params=["regopy", "opa"])
async def point(request: pytest.FixtureRequest, agreements: AgreementSet) -> AsyncIterator[PolicyPoint]:
    modules = read_policies(default_policy_dir())
    data = agreements.to_policy_data()
    if request.param == "regopy":
        yield PolicyPoint(RegoEngine(modules, data), timeout=5)
        return
    async with running_opa() as (_, port):
        engine = OpaEngine("127.0.0.1", port, timeout=5)
        await engine.push(modules, data)
        policy = PolicyPoint(engine, timeout=5)
        try:
            yield policy
        finally:
            await policy.close()


def expected_search(a: Agreement, agency: str, purpose: str, role: str) -> list[str]:
    reasons = []
    if not a.is_valid_on(DAY):
        reasons.append("agreement_expired" if a.valid_until < DAY else "agreement_not_yet_valid")
    member = a.member(agency)
    if member is None:
        reasons.append("agency_not_member")
    if purpose not in a.purposes:
        reasons.append("purpose_not_in_agreement")
    if member is not None:
        if purpose not in member.purposes:
            reasons.append("purpose_not_allowed_for_member")
        if role not in member.search_roles:
            reasons.append("role_not_allowed_to_search")
    return sorted(reasons)


def expected_scope(a: Agreement, agency: str, purpose: str) -> dict[str, Any]:
    me = a.member(agency)
    if me is None or purpose not in a.purposes or purpose not in me.purposes:
        return {}
    return {
        other: {"record_types": sorted(m.record_types),
                "exclude_labels": sorted(m.exclude_labels | {"sealed"})}
        for other, m in a.members.items()
        if other != agency and purpose in m.purposes and m.record_types
    }


def expected_pointer(a: Agreement, owner: str, requester: str, purpose: str) -> list[str]:
    reasons = []
    o, r = a.member(owner), a.member(requester)
    if o is None:
        reasons.append("owner_not_member")
    if r is None:
        reasons.append("requester_not_member")
    if purpose not in a.purposes:
        reasons.append("purpose_not_in_agreement")
    if o is not None and purpose not in o.purposes:
        reasons.append("purpose_not_shared_by_owner")
    if r is not None and purpose not in r.purposes:
        reasons.append("purpose_not_allowed_for_requester")
    if owner == requester:
        reasons.append("own_agency")
    return sorted(reasons)


def search_cells(agreements: AgreementSet) -> Iterator[tuple[str, str, str, str]]:
    yield from product(agreements.ids, AGENCIES, PURPOSES, ROLES)


async def test_search_matrix(point: PolicyPoint, agreements: AgreementSet) -> None:
    mismatches = []
    cells = 0
    for agreement_id, agency, purpose, role in search_cells(agreements):
        a = agreements.get(agreement_id)
        assert a is not None
        decision = await point.decide(SEARCH, {
            "agreement": agreement_id, "purpose": purpose, "case_number": "C-1",
            "now": DAY.isoformat(),
            "principal": {"subject": "u", "agency": agency, "roles": [role]},
        })
        want = expected_search(a, agency, purpose, role)
        cells += 1
        if (decision.allow, list(decision.reasons)) != (not want, want):
            mismatches.append((agreement_id, agency, purpose, role, decision.reasons, want))
    assert mismatches == []
    assert cells == 2 * 5 * 5 * 4


async def test_scope_and_pointer_matrix(point: PolicyPoint, agreements: AgreementSet) -> None:
    mismatches = []
    for agreement_id, agency, purpose in product(agreements.ids, AGENCIES, PURPOSES):
        a = agreements.get(agreement_id)
        assert a is not None
        scope = await point.decide(SCOPE, {"agreement": agreement_id, "purpose": purpose,
                                           "requesting_agency": agency, "now": DAY.isoformat()})
        if scope.result.get("nodes") != expected_scope(a, agency, purpose):
            mismatches.append(("scope", agreement_id, agency, purpose, scope.result))
        for owner in AGENCIES:
            pointer = await point.decide(POINTER, {
                "agreement": agreement_id, "purpose": purpose, "requesting_agency": agency,
                "owner": owner, "now": DAY.isoformat()})
            want = expected_pointer(a, owner, agency, purpose)
            if (pointer.allow, list(pointer.reasons)) != (not want, want):
                mismatches.append(("pointer", agreement_id, owner, agency, purpose,
                                   pointer.reasons, want))
    assert mismatches == []


@pytest.mark.parametrize(
    ("agreement", "agency", "purpose", "role", "allow", "reasons"),
    [
        ("local-pilot", "lakeside_so", "human_trafficking", "investigator", True, []),
        ("local-pilot", "harbor_pd", "victim_services", "investigator", False,
         ["purpose_not_allowed_for_member"]),
        ("local-pilot", "harbor_pd", "missing_person", "custodian", True, []),
        ("local-pilot", "tip_hotline", "human_trafficking", "investigator", False,
         ["role_not_allowed_to_search"]),
        ("local-pilot", "bay_county_so", "violent_crime", "investigator", False,
         ["agency_not_member"]),
        ("coastal-task-force", "bay_county_so", "violent_crime", "steward", True, []),
        ("coastal-task-force", "lakeside_so", "human_trafficking", "investigator", False,
         ["purpose_not_allowed_for_member", "purpose_not_in_agreement"]),
        ("coastal-task-force", "rivertown_pd", "missing_person", "investigator", False,
         ["agency_not_member"]),
        ("no-such-agreement", "lakeside_so", "missing_person", "investigator", False,
         ["agreement_unknown"]),
    ],
)
async def test_pinned_cells(point: PolicyPoint, agreement: str, agency: str, purpose: str,
                            role: str, allow: bool, reasons: list[str]) -> None:
    decision = await point.decide(SEARCH, {
        "agreement": agreement, "purpose": purpose, "case_number": "C-1", "now": DAY.isoformat(),
        "principal": {"subject": "u", "agency": agency, "roles": [role]},
    })
    assert (decision.allow, list(decision.reasons)) == (allow, reasons)


async def test_expired_agreement_denies_everything(point: PolicyPoint) -> None:
    decision = await point.decide(SEARCH, {
        "agreement": "coastal-task-force", "purpose": "violent_crime", "case_number": "C-1",
        "now": "2027-01-01",
        "principal": {"subject": "u", "agency": "lakeside_so", "roles": ["investigator"]},
    })
    assert (decision.allow, decision.reasons) == (False, ("agreement_expired",))
