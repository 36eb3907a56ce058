"""Agreements enforced end to end: at the hub, at every node, through both engines."""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import replace
from pathlib import Path

import grpc
import pytest
import yaml

from accord.errors import RemoteError
from accord.policy.source import EngineSettings, PolicySource, reload_once
from accord.v1 import hub_pb2
from node.config import NodeConfig
from node.records import Person, Record, RecordType, Role
from tests.integration.conftest import LiveFederation, start_federation, stop_federation
from tests.integration.test_search import cad_call, statuses, tip
from tests.support.opa_server import running_opa

DENIED = hub_pb2.NODE_STATUS_CODE_DENIED
OK = hub_pb2.NODE_STATUS_CODE_OK
PHONE = "503-555-0142"


def juvenile_call() -> Record:
    return replace(cad_call("CAD-JUV"), labels=frozenset({"juvenile"}))


async def test_purpose_not_allowed_for_a_member_keeps_it_out_of_scope(
    federation: LiveFederation,
) -> None:
    federation.ingest("rivertown_pd", [cad_call()])

    response = await federation.search("lakeside_so", purpose="victim_services", phone=PHONE)

    got = {n.agency: (n.code, n.detail) for n in response.result.nodes}
    # harbor_pd takes no part in victim services; the hotline shares only for two purposes.
    assert got["harbor_pd"] == (DENIED, "out of scope")
    assert got["tip_hotline"] == (DENIED, "out of scope")
    assert got["rivertown_pd"][0] == OK
    assert [p.agency for p in response.result.pointers] == ["rivertown_pd"]


async def test_member_denied_a_purpose_cannot_search_for_it(federation: LiveFederation) -> None:
    with pytest.raises(RemoteError) as info:
        await federation.search("harbor_pd", purpose="victim_services", phone=PHONE)
    assert info.value.status == grpc.StatusCode.PERMISSION_DENIED
    assert info.value.message == (
        "search denied under agreement 'local-pilot': purpose_not_allowed_for_member")
    entry = [e.doc for e in federation.hub.audit.entries()][-1]
    assert (entry["event"], entry["outcome"], entry["reasons"]) == (
        "search_denied", "denied", ["purpose_not_allowed_for_member"])


async def test_hotline_staff_may_not_search(federation: LiveFederation) -> None:
    with pytest.raises(RemoteError) as info:
        await federation.search("tip_hotline", phone=PHONE)
    assert "role_not_allowed_to_search" in info.value.message


async def test_sealed_and_juvenile_records_are_never_exposed(federation: LiveFederation) -> None:
    sealed = replace(cad_call("CAD-SEALED"), labels=frozenset({"sealed"}))
    federation.ingest("rivertown_pd", [sealed, juvenile_call()])

    response = await federation.search("lakeside_so", phone=PHONE)

    assert list(response.result.pointers) == []


async def test_hotline_pointers_carry_only_what_its_agreement_allows(
    federation: LiveFederation,
) -> None:
    federation.ingest("tip_hotline", [tip()])

    response = await federation.search("lakeside_so", phone=PHONE)

    [pointer] = response.result.pointers
    assert pointer.agency == "tip_hotline"
    assert pointer.record_type == "hotline_tip"
    assert pointer.coarse_date == ""  # the hotline's pointers carry no date
    assert list(pointer.matched) != []


async def test_record_types_a_member_does_not_share_stay_hidden(
    federation: LiveFederation,
) -> None:
    warrant_at_rivertown = Record(
        source="rms", source_id="W-1", record_type=RecordType.WARRANT,
        occurred_on=dt.date(2026, 5, 1),
        people=(Person(role=Role.SUSPECT, name="Ana Lopez", phones=(PHONE,)),),
    )
    federation.ingest("rivertown_pd", [warrant_at_rivertown])

    response = await federation.search("lakeside_so", phone=PHONE)

    assert list(response.result.pointers) == []  # rivertown shares cad_call and rms_incident only


def with_local_rules(**rules: list[str]) -> object:
    def configure(config: NodeConfig) -> NodeConfig:
        if config.agency != "rivertown_pd":
            return config
        local = {**config.local_rules, **rules}
        return replace(config, local_rules=local, policy=replace(config.policy, local=local))
    return configure


async def test_node_local_rules_refuse_what_the_hub_would_allow(tmp_path: Path) -> None:
    victim_call = replace(cad_call("CAD-V"), labels=frozenset({"victim"}))
    live = await start_federation(tmp_path / "fed",
                                  node_config=with_local_rules(exclude_labels=["victim"]))
    try:
        live.ingest("rivertown_pd", [victim_call, cad_call("CAD-PLAIN", phone="503-555-0177")])
        hidden = await live.search("lakeside_so", phone=PHONE)
        shown = await live.search("lakeside_so", phone="503-555-0177")
    finally:
        await stop_federation(live)

    # The hub's policy puts rivertown's cad_calls in scope; its own rule hides victims.
    assert statuses(hidden)["rivertown_pd"] == OK
    assert list(hidden.result.pointers) == []
    assert [p.agency for p in shown.result.pointers] == ["rivertown_pd"]


async def test_node_own_agreement_copy_denies_and_the_reasons_reach_the_hub(
    tmp_path: Path,
) -> None:
    # rivertown's own copy of the agreement no longer includes human trafficking.
    def configure(config: NodeConfig) -> NodeConfig:
        if config.agency != "rivertown_pd":
            return config
        original = config.policy.agreement_files[0]
        doc = yaml.safe_load(original.read_text())
        doc["members"]["rivertown_pd"]["purposes"] = ["missing_person"]
        copy = original.with_name("rivertown-copy.yaml")
        copy.write_text(yaml.safe_dump(doc))
        return replace(config, policy=replace(config.policy, agreement_files=(copy,)))

    live = await start_federation(tmp_path / "fed", node_config=configure)
    try:
        live.ingest("rivertown_pd", [cad_call()])
        response = await live.search("lakeside_so", phone=PHONE)
    finally:
        await stop_federation(live)

    node = {n.agency: n for n in response.result.nodes}["rivertown_pd"]
    assert node.code == DENIED
    assert node.detail == "rivertown_pd policy denies pointers: purpose_not_shared_by_owner"
    assert list(response.result.pointers) == []
    entry = [e.doc for e in live.hub.audit.entries()][-1]
    assert entry["details"]["nodes"]["rivertown_pd"]["status"] == "denied"


def opa_policy(port: int) -> object:
    def configure(source: PolicySource) -> PolicySource:
        return replace(source, engine=EngineSettings(kind="opa", opa_port=port, timeout=0.5))
    return configure


async def test_hub_on_an_opa_server_decides_the_same_and_fails_closed(tmp_path: Path) -> None:
    async with running_opa() as (opa, port):
        live = await start_federation(tmp_path / "fed", hub_policy=opa_policy(port))
        try:
            live.ingest("rivertown_pd", [cad_call()])
            allowed = await live.search("lakeside_so", phone=PHONE)
            with pytest.raises(RemoteError) as denied:
                await live.search("harbor_pd", purpose="victim_services", phone=PHONE)
            queries = opa.queries
            opa.fail = True
            with pytest.raises(RemoteError) as broken:
                await live.search("lakeside_so", phone=PHONE)
            opa.fail, opa.delay = False, 2.0
            with pytest.raises(RemoteError) as slow:
                await live.search("lakeside_so", phone=PHONE)
        finally:
            await stop_federation(live)

    assert [p.agency for p in allowed.result.pointers] == ["rivertown_pd"]
    assert queries >= 3  # search + scope, then the denied search: all through OPA
    assert "purpose_not_allowed_for_member" in denied.value.message
    assert broken.value.status == grpc.StatusCode.PERMISSION_DENIED
    assert broken.value.message.endswith(": policy_error")
    assert slow.value.message.endswith(": policy_timeout")
    reasons = [e.doc["reasons"] for e in live.hub.audit.entries()
               if e.doc["event"] == "search_denied"]
    assert reasons[-2:] == [["policy_error"], ["policy_timeout"]]


async def test_a_reload_that_does_not_compile_pushes_nothing_to_opa(
    federation: LiveFederation, tmp_path: Path,
) -> None:
    # OPA takes modules one at a time: a broken last file was refused only after the
    # files before it were live, and the "rejected" reload half applied.
    policies = tmp_path / "policies"
    shutil.copytree(federation.hub_config.policy.policy_dir, policies)
    async with running_opa() as (opa, port):
        source = replace(federation.hub_config.policy, policy_dir=policies,
                         engine=EngineSettings(kind="opa", opa_port=port))
        _, point = await source.open()
        pushed = dict(opa.modules)
        release = policies / "accord" / "release.rego"
        release.write_text(release.read_text() + "\n# edited\n")
        scope = policies / "accord" / "scope.rego"
        scope.write_text(scope.read_text() + "\nthis is not rego {\n")
        assert await reload_once(source, point) is None
        assert opa.modules == pushed
        await point.close()


async def test_agreement_changes_reload_live_and_bad_versions_are_rejected(
    federation: LiveFederation,
) -> None:
    federation.ingest("rivertown_pd", [cad_call()])
    source = federation.hub_config.policy
    point = federation.hub.policy
    path = source.agreement_files[0]
    good = path.read_text()
    before = await federation.search("lakeside_so", phone=PHONE)

    doc = yaml.safe_load(good)
    doc["members"]["lakeside_so"]["search_roles"] = ["custodian"]
    path.write_text(yaml.safe_dump(doc))
    assert await reload_once(source, point) is not None
    with pytest.raises(RemoteError) as info:
        await federation.search("lakeside_so", phone=PHONE)
    assert "role_not_allowed_to_search" in info.value.message

    version = point.version
    path.write_text(good.replace("members:", "memberz:"))  # broken: rejected, old one stays
    assert await reload_once(source, point) is None
    assert point.version == version
    with pytest.raises(RemoteError):
        await federation.search("lakeside_so", phone=PHONE)

    path.write_text(good)
    assert await reload_once(source, point) is not None
    after = await federation.search("lakeside_so", phone=PHONE)
    assert [p.agency for p in before.result.pointers] == [p.agency for p in after.result.pointers]
