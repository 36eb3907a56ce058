"""What a denied search tells its caller: to one outside the agreement, nothing about it.

Told every reason, a non-member could map other agencies' agreements by asking:
that one exists (agency_not_member rather than agreement_unknown), which
purposes it has (purpose_not_in_agreement), whether it has expired. The audit
entry keeps every reason.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import pytest

from accord.agreement import load_agreements
from accord.config import default_policy_dir
from accord.errors import PermissionDenied
from accord.identity import DevIdentityProvider, Principal
from accord.policy.engine import PolicyPoint, RegoEngine, read_policies
from accord.tokens import TOKEN_BYTES
from accord.v1 import common_pb2
from hub.search import Searcher, SearchQuery
from tests.conftest import NOW

REPO = Path(__file__).resolve().parents[3]


class Log:
    """The audit log's append, remembered."""

    def __init__(self) -> None:
        self.events: list[Any] = []

    def append(self, event: Any) -> int:
        self.events.append(event)
        return len(self.events)


def test_a_non_member_is_told_only_that_there_is_no_such_agreement(tmp_path: Path) -> None:
    for agency in ("rivertown_pd", "lakeside_so", "harbor_pd", "tip_hotline", "bay_county_so"):
        DevIdentityProvider.create(agency).save(tmp_path / "idp" / agency)
    templates = tmp_path / "deploy" / "agreements"
    templates.mkdir(parents=True)
    for name in ("local-pilot.yaml", "coastal-task-force.yaml"):
        shutil.copy(REPO / "deploy" / "agreements" / name, templates / name)
    agreements = load_agreements(sorted(templates.glob("*.yaml")))
    policy = PolicyPoint(RegoEngine(read_policies(default_policy_dir()),
                                    agreements.to_policy_data()), timeout=5)
    log = Log()

    async def no_node(*_: object) -> object:
        raise AssertionError("a denied search asks no node")

    searcher = Searcher(members=sorted(agreements.agencies), caller=no_node,  # type: ignore[arg-type]
                        audit=log, policy=policy, timeout=1,  # type: ignore[arg-type]
                        max_pointers_per_node=10)
    # rivertown_pd is in local-pilot, not in the coastal task force.
    outsider = Principal("det.outsider", "rivertown_pd", frozenset({"investigator"}), "t",
                         NOW + dt.timedelta(minutes=5))

    def told(agreement: str, purpose: str) -> str:
        query = SearchQuery("C-1", purpose, agreement,
                            ((common_pb2.IDENTIFIER_KIND_PHONE, b"\x01" * TOKEN_BYTES),))
        with pytest.raises(PermissionDenied) as denied:
            asyncio.run(searcher.authorise(outsider, query, "", NOW))
        return denied.value.message

    assert told("no-such-agreement", "missing_person") == (
        "search denied under agreement 'no-such-agreement': agreement_unknown")
    assert told("coastal-task-force", "missing_person") == (
        "search denied under agreement 'coastal-task-force': agreement_unknown")
    assert told("coastal-task-force", "human_trafficking") == (
        "search denied under agreement 'coastal-task-force': agreement_unknown")
    # The audit entries keep what was decided.
    assert [list(e.reasons) for e in log.events] == [
        ["agreement_unknown"], ["agency_not_member"],
        ["agency_not_member", "purpose_not_in_agreement"]]
    # A member is still told why: the reasons are its own agreement's.
    assert told("local-pilot", "not_a_purpose") != (
        "search denied under agreement 'local-pilot': agreement_unknown")
