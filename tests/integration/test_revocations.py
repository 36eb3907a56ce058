"""The steward revokes an investigator: real hub and nodes, mTLS on loopback, live reload."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest

from accord.errors import RemoteError
from accord.rpc import call, channel_options
from accord.v1 import common_pb2, hub_pb2, hub_pb2_grpc, node_pb2
from hub.server import start_hub
from tests.conftest import NOW
from tests.integration.conftest import LiveFederation, start_federation, stop_federation
from tests.integration.test_deconfliction_watches import PHONE_TEXT
from tests.integration.test_release import gateway
from tests.integration.test_sweep import harbor_interview

SUSPENDED = """
[[revoke]]
agency = "lakeside_so"
subject = "det.test"
reason = "suspended pending review (HR-2291)"

[[revoke]]
agency = "lakeside_so"
token_id = "{jti}"
reason = "pasted into a chat"
"""


@pytest.fixture
async def live(tmp_path: Path) -> AsyncIterator[LiveFederation]:
    federation = await start_federation(tmp_path / "fed", hub_reload_seconds=0.05)
    try:
        yield federation
    finally:
        await stop_federation(federation)


def entries(live: LiveFederation, event: str) -> list[dict[str, Any]]:
    return [e.doc for e in live.hub.audit.entries() if e.doc["event"] == event]


async def until(condition: Any, seconds: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "the hub did not reload in time"
        await asyncio.sleep(0.05)


async def audit_list(live: LiveFederation, token: str) -> hub_pb2.ListEntriesResponse:
    config = live.node_configs["lakeside_so"]
    async with grpc.aio.secure_channel(config.hub, config.tls.channel_credentials(),
                                       options=channel_options()) as channel:
        stub = hub_pb2_grpc.AuditServiceStub(channel)
        response: hub_pb2.ListEntriesResponse = await call(
            stub.ListEntries, hub_pb2.ListEntriesRequest(), timeout=30,
            metadata=[("authorization", f"Bearer {token}")])
        return response


def revocations_file(live: LiveFederation) -> Path:
    path = live.hub_config.revocations
    assert path is not None and path.exists()  # `federation init` writes one, empty
    return path


def jti_of(token: str) -> str:
    import jwt

    return str(jwt.decode(token, options={"verify_signature": False})["jti"])


async def test_a_revoked_investigator_is_refused_from_the_next_reload_on(
        live: LiveFederation) -> None:
    token, colleague = live.token("lakeside_so"), live.token("lakeside_so", sub="det.colleague")
    auditor = live.token("lakeside_so", sub="aud.price", roles=("auditor",))
    assert (await live.search("lakeside_so", token, phone=PHONE_TEXT)).result is not None
    assert len((await audit_list(live, auditor)).entries) > 0

    revocations_file(live).write_text(SUSPENDED.format(jti=jti_of(auditor)))
    await until(lambda: entries(live, "revocations_changed"))

    [changed] = entries(live, "revocations_changed")
    assert changed["outcome"] == "ok" and changed["details"]["removed"] == []
    assert changed["details"]["entries"] == 2
    assert changed["details"]["added"] == [
        {"agency": "lakeside_so", "subject": "det.test",
         "reason": "suspended pending review (HR-2291)"},
        {"agency": "lakeside_so", "token_id": jti_of(auditor), "reason": "pasted into a chat"}]
    # The same, still unexpired, token: refused, opaquely to the caller...
    with pytest.raises(RemoteError) as refused:
        await live.search("lakeside_so", token, phone=PHONE_TEXT)
    assert refused.value.status is grpc.StatusCode.UNAUTHENTICATED
    assert refused.value.message == "invalid token"
    # ...and precisely in the log, with whose it was.
    failure = entries(live, "auth_failed")[-1]
    assert (failure["actor"], failure["agency"], failure["reasons"]) == (
        "det.test", "lakeside_so", ["token_revoked"])
    assert failure["details"] == {"rpc": "Search", "token_id": jti_of(token)}
    metrics = live.hub.metrics.registry
    # (Counted just after the entry is written, in the reloader's thread.)
    await until(lambda: metrics.get_sample_value("accord_revocations_in_force") == 2)
    # Applied: the file read at start (revoking no one), then this one.
    assert metrics.get_sample_value("accord_revocation_files_total", {"outcome": "applied"}) == 2
    assert metrics.get_sample_value("accord_denials_total", {"reason": "token_revoked"}) == 1
    # A new token of the suspended investigator is refused too; a colleague's is not.
    with pytest.raises(RemoteError, match="invalid token"):
        await live.search("lakeside_so", live.token("lakeside_so", issued=NOW + dt.timedelta(
            minutes=1)), phone=PHONE_TEXT)
    assert (await live.search("lakeside_so", colleague, phone=PHONE_TEXT)).result is not None
    # The auditor's revoked token is refused by the audit service; their next one works.
    with pytest.raises(RemoteError, match="invalid token"):
        await audit_list(live, auditor)
    fresh = live.token("lakeside_so", sub="aud.price", roles=("auditor",))
    assert len((await audit_list(live, fresh)).entries) > 0

    # A typo in the next version is rejected, and audited once: the
    # revocation stays in force.
    revocations_file(live).write_text(SUSPENDED.replace("subject", "subjcet", 1))
    await until(lambda: entries(live, "revocations_rejected"))
    await asyncio.sleep(0.3)
    [rejected] = entries(live, "revocations_rejected")
    assert metrics.get_sample_value("accord_revocation_files_total",
                                    {"outcome": "rejected"}) == 1
    assert metrics.get_sample_value("accord_revocations_file_rejected") == 1
    assert rejected["outcome"] == "error"
    assert "revoke[0]: unknown key 'subjcet'" in rejected["details"]["error"]
    with pytest.raises(RemoteError, match="invalid token"):
        await live.search("lakeside_so", token, phone=PHONE_TEXT)
    assert len(entries(live, "revocations_changed")) == 1

    # Lifted: the same token works again, and the change is in the log.
    revocations_file(live).write_text("# no one is revoked\n")
    await until(lambda: len(entries(live, "revocations_changed")) == 2)
    await until(lambda: metrics.get_sample_value("accord_revocations_file_rejected") == 0)
    lifted = entries(live, "revocations_changed")[-1]["details"]
    assert lifted["added"] == [] and [e.get("subject") for e in lifted["removed"]] == [
        "det.test", None]
    assert (await live.search("lakeside_so", token, phone=PHONE_TEXT)).result is not None


@pytest.mark.parametrize("revoke", ["subject", "token"])
async def test_a_revoked_investigators_watch_pauses_and_misses_nothing_when_lifted(
        live: LiveFederation, revoke: str) -> None:
    watches = live.hub.watches
    token = live.token("lakeside_so")
    await gateway(live, "lakeside_so", "LocalAddWatch", node_pb2.LocalAddWatchRequest(
        case_number="LS-1", purpose="human_trafficking", phone=PHONE_TEXT, days=10), token)
    revoked = (SUSPENDED.format(jti="unused") if revoke == "subject" else
               f'[[revoke]]\nagency = "lakeside_so"\ntoken_id = "{jti_of(token)}"\n'
               'reason = "pasted into a chat"\n')
    revocations_file(live).write_text(revoked)
    await until(lambda: entries(live, "revocations_changed"))

    live.ingest("harbor_pd", [harbor_interview()], at=NOW + dt.timedelta(hours=2))
    # Suspended: the watch is not checked, so nothing reaches their agency.
    assert await watches.check_all(NOW + dt.timedelta(hours=3)) == 0
    assert entries(live, "watch_match") == entries(live, "watch_ended") == []

    revocations_file(live).write_text("# no one is revoked\n")
    await until(lambda: len(entries(live, "revocations_changed")) == 2)
    # Reinstated: the next check looks back to the last one made, before the
    # suspension, and reports the record ingested meanwhile.
    assert await watches.check_all(NOW + dt.timedelta(hours=4)) == 1


async def test_a_hub_starting_with_revocations_enforces_and_audits_them(
        live: LiveFederation) -> None:
    token = live.token("lakeside_so")
    await live.hub.stop(0)
    revocations_file(live).write_text(SUSPENDED.format(jti="unused"))
    live.hub = await start_hub(live.hub_config, clock=lambda: NOW)

    # Changed while the hub was down: audited at start.
    [loaded] = entries(live, "revocations_changed")
    assert [e.get("subject") for e in loaded["details"]["added"]] == ["det.test", None]
    with pytest.raises(RemoteError, match="invalid token"):
        await live.search("lakeside_so", token, phone=PHONE_TEXT)
    # A restart with the same list writes nothing; one emptied meanwhile is audited.
    await live.hub.stop(0)
    live.hub = await start_hub(live.hub_config, clock=lambda: NOW)
    assert len(entries(live, "revocations_changed")) == 1
    await live.hub.stop(0)
    revocations_file(live).write_text("# no one is revoked\n")
    live.hub = await start_hub(live.hub_config, clock=lambda: NOW)
    lifted = entries(live, "revocations_changed")[-1]["details"]
    assert (lifted["added"], len(lifted["removed"]), lifted["entries"]) == ([], 2, 0)
    assert (await live.search("lakeside_so", token, phone=PHONE_TEXT)).result is not None


async def test_a_hub_does_not_start_on_a_revocations_file_that_does_not_validate(
        tmp_path: Path) -> None:
    from accord.errors import ConfigError

    live = await start_federation(tmp_path / "fed")
    try:
        revocations_file(live).write_text("[[revoke]]\nagency = 'lakeside_so'\nreason = 'r'\n")
        await live.hub.stop(0)
        with pytest.raises(ConfigError, match=r"revoke\[0\]: want exactly one of subject"):
            live.hub = await start_hub(live.hub_config, clock=lambda: NOW)
    finally:
        for node in live.nodes.values():
            await node.stop(0)


@pytest.mark.parametrize("revoke", ["subject", "token"])
async def test_a_revoked_requesters_release_is_not_approved_and_the_custodian_is_told(
        live: LiveFederation, revoke: str) -> None:
    from tests.integration.test_release import ask, find_pointer, hub_as
    from tests.integration.test_search import tip

    live.ingest("tip_hotline", [tip()])
    pointer = await find_pointer(live, "tip_hotline", phone="503-555-0142")
    token = live.token("lakeside_so")
    requested = await gateway(live, "lakeside_so", "LocalRequestRelease", ask(pointer), token)
    release_id = requested.release.release_id  # type: ignore[attr-defined]
    custodian = live.token("tip_hotline", sub="cust.ng", roles=("custodian",))
    revocations_file(live).write_text(
        SUSPENDED.format(jti="unused") if revoke == "subject" else
        f'[[revoke]]\nagency = "lakeside_so"\ntoken_id = "{jti_of(token)}"\nreason = "leaked"\n')
    await until(lambda: entries(live, "revocations_changed"))

    listed = await hub_as(live, "tip_hotline", "ListReleases", hub_pb2.ListReleasesRequest(),
                          custodian)
    [shown] = listed.releases  # type: ignore[attr-defined]
    assert (shown.release_id, shown.requester, shown.requester_revoked) == (
        release_id, "det.test", True)
    with pytest.raises(RemoteError) as refused:
        await hub_as(live, "tip_hotline", "DecideRelease", hub_pb2.DecideReleaseRequest(
            release_id=release_id, approve=True, reason="ok"), custodian)
    assert refused.value.status is grpc.StatusCode.PERMISSION_DENIED
    assert ("its requester det.test (lakeside_so), or the token they asked with, is revoked "
            "at the hub") in refused.value.message
    [audited] = entries(live, "release_approval_refused")
    assert (audited["actor"], audited["reasons"]) == ("cust.ng", ["requester_revoked"])
    assert audited["details"]["release_id"] == release_id

    revocations_file(live).write_text("# no one is revoked\n")
    await until(lambda: len(entries(live, "revocations_changed")) == 2)
    decided = await hub_as(live, "tip_hotline", "DecideRelease", hub_pb2.DecideReleaseRequest(
        release_id=release_id, approve=True, reason="ok"), custodian)
    assert decided.release.state == common_pb2.RELEASE_STATE_GRANTED  # type: ignore[attr-defined]
    assert not decided.release.requester_revoked  # type: ignore[attr-defined]
