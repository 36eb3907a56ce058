"""Deconfliction notices and watches end to end: real hub, real nodes, mTLS on loopback."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import text

from accord.errors import RemoteError
from accord.v1 import common_pb2, hub_pb2, node_pb2
from accord.views import watch_to_dict
from hub.notices import search_subjects
from hub.watches import run_checks
from tests.conftest import NOW
from tests.integration.conftest import LiveFederation, start_federation, stop_federation
from tests.integration.test_operations import scrape, value
from tests.integration.test_release import CASE, gateway, hub_as
from tests.integration.test_search import cad_call
from tests.integration.test_sweep import agreement_with, harbor_interview

PHONE = common_pb2.IDENTIFIER_KIND_PHONE
PHONE_TEXT = "(503) 555-0142"


async def notifications(live: LiveFederation, agency: str, sub: str = "det.test"
                        ) -> list[hub_pb2.Notification]:
    response = await hub_as(live, agency, "ListNotifications",
                            hub_pb2.ListNotificationsRequest(), live.token(agency, sub=sub))
    return list(response.notifications)  # type: ignore[attr-defined]


# --- deconfliction ----------------------------------------------------------------------------


async def test_two_agencies_searching_one_phone_are_told_of_each_other(
    federation: LiveFederation,
) -> None:
    first = await federation.search("lakeside_so", federation.token("lakeside_so",
                                                                    sub="det.morales"),
                                    case=CASE, phone=PHONE_TEXT)
    assert list(first.result.notices) == []

    second = await federation.search("harbor_pd", federation.token("harbor_pd", sub="det.kane"),
                                     case="HB-7", phone="503.555.0142")

    # The second searcher is told at once, with the first agency's contact route...
    [notice] = second.result.notices
    assert (notice.agency, notice.agency_name, notice.contact, list(notice.kinds)) == (
        "lakeside_so", "Lakeside County Sheriff's Office",
        "Lakeside SO Major Crimes desk, 503-555-0120", [PHONE])
    assert notice.searched_at == NOW.isoformat().replace("+00:00", "Z")
    # ...and the first gets a notification, for their own case, with the second's.
    [stored] = await notifications(federation, "lakeside_so", "det.morales")
    assert stored.kind == hub_pb2.NOTIFICATION_KIND_DECONFLICTION
    assert stored.case_number == CASE
    assert (stored.deconfliction.agency, stored.deconfliction.contact) == (
        "harbor_pd", "Harbor City PD Vice Unit, 503-555-0130")
    # Nobody else is told, and it is audited once, naming both searches.
    assert await notifications(federation, "lakeside_so", "det.other") == []
    metrics = await asyncio.to_thread(scrape, federation.hub_config.metrics_listen)
    assert value(metrics, "accord_deconflictions_total") == 1
    [entry] = [e.doc for e in federation.hub.audit.entries() if e.doc["event"] == "deconfliction"]
    assert entry["agency"] == "harbor_pd" and stored.audit_seq == entry["seq"]
    assert entry["details"]["overlaps"] == [{
        "agency": "lakeside_so", "search_id": first.result.search_id,
        "kinds": ["IDENTIFIER_KIND_PHONE"]}]


async def test_the_hub_keeps_digests_of_searched_tokens_not_the_tokens(
    federation: LiveFederation,
) -> None:
    response = await federation.search("lakeside_so", case=CASE, phone=PHONE_TEXT)
    sent = {bytes(t.value) for t in _tokens_sent(federation, PHONE_TEXT)}
    assert response.result.search_id
    with federation.hub.audit.engine.connect() as conn:
        kept = {bytes(r.digest) for r in conn.execute(search_subjects.select())}
    assert len(kept) == 1 and kept.isdisjoint(sent)


def _tokens_sent(live: LiveFederation, phone: str) -> list[common_pb2.Token]:
    from node.encodings import encode_query
    from node.tokens import Query

    config = live.node_configs["lakeside_so"]
    keys = config.keyring().for_agreement("local-pilot")
    return [t.to_proto() for t in encode_query(Query(phone=phone), keys, "US").tokens]


async def test_searches_by_the_same_agency_or_of_other_subjects_raise_nothing(
    federation: LiveFederation,
) -> None:
    await federation.search("lakeside_so", case=CASE, phone=PHONE_TEXT)
    again = await federation.search("lakeside_so", federation.token("lakeside_so", sub="det.b"),
                                    case="LS-2", phone=PHONE_TEXT)
    other = await federation.search("harbor_pd", case="HB-7", phone="(503) 555-0199")

    assert list(again.result.notices) == list(other.result.notices) == []
    assert not [e for e in federation.hub.audit.entries() if e.doc["event"] == "deconfliction"]


async def test_a_member_without_a_contact_route_takes_no_part(tmp_path: Path) -> None:
    path = agreement_with(tmp_path, lambda d: d["members"]["harbor_pd"].pop(
        "deconfliction_contact"))
    try:
        live = await start_federation(tmp_path / "fed", template=path)
    finally:
        path.unlink()
    try:
        await live.search("lakeside_so", case=CASE, phone=PHONE_TEXT)
        second = await live.search("harbor_pd", case="HB-7", phone=PHONE_TEXT)
        assert list(second.result.notices) == []
        assert await notifications(live, "lakeside_so") == []
    finally:
        await stop_federation(live)


# --- watches ------------------------------------------------------------------------------------


async def add_watch(live: LiveFederation, **fields: object) -> hub_pb2.Watch:
    request = node_pb2.LocalAddWatchRequest(case_number=CASE, purpose="human_trafficking",
                                            **fields)  # type: ignore[arg-type]
    response = await gateway(live, "lakeside_so", "LocalAddWatch", request)
    return response.watch  # type: ignore[attr-defined,no-any-return]


async def test_a_watch_reports_a_record_ingested_later_once(federation: LiveFederation) -> None:
    watch = await add_watch(federation, phone=PHONE_TEXT, label="Jazzy's phone", days=10)
    assert watch.state == hub_pb2.WATCH_STATE_ACTIVE
    assert (watch.label, list(watch.kinds)) == ("Jazzy's phone", [PHONE])
    assert watch.expires_at.startswith((NOW + dt.timedelta(days=10)).date().isoformat())
    watches = federation.hub.watches

    assert await watches.check_all(NOW + dt.timedelta(hours=1)) == 0
    federation.ingest("harbor_pd", [harbor_interview()], at=NOW + dt.timedelta(hours=2))
    assert await watches.check_all(NOW + dt.timedelta(hours=3)) == 1

    [found] = await notifications(federation, "lakeside_so")
    assert found.kind == hub_pb2.NOTIFICATION_KIND_WATCH_MATCH
    assert (found.watch_id, found.case_number) == (watch.watch_id, CASE)
    assert (found.pointer.agency, found.pointer.record_type) == ("harbor_pd", "field_interview")
    # Checked again, or the record ingested again unchanged, nothing new.
    federation.ingest("harbor_pd", [harbor_interview()], at=NOW + dt.timedelta(hours=4))
    assert await watches.check_all(NOW + dt.timedelta(hours=5)) == 0
    assert len(await notifications(federation, "lakeside_so")) == 1
    # The pointer is the investigator's to ask for, like a search's.
    requested = await gateway(federation, "lakeside_so", "LocalRequestRelease",
                              node_pb2.LocalRequestReleaseRequest(
                                  pointer=found.pointer.handle, case_number=CASE,
                                  purpose="human_trafficking", justification="watch match"))
    assert requested.release.owner == "harbor_pd"  # type: ignore[attr-defined]
    events = [e.doc["event"] for e in federation.hub.audit.entries()]
    assert events.count("watch_added") == events.count("watch_match") == 1
    [listed] = (await hub_as(federation, "lakeside_so", "ListWatches",
                             hub_pb2.ListWatchesRequest(),
                             federation.token("lakeside_so"))).watches  # type: ignore[attr-defined]
    assert listed.notifications == 1
    # The label stays at the investigator's node: the hub holds none, and refuses one.
    assert listed.label == ""
    with federation.hub.audit.engine.connect() as conn:
        assert conn.execute(text("SELECT label FROM watches")).scalars().all() == [""]
    assert federation.nodes["lakeside_so"].store.watch_label_map([watch.watch_id]) == {
        watch.watch_id: "Jazzy's phone"}
    with pytest.raises(RemoteError) as info:
        await hub_as(federation, "lakeside_so", "AddWatch", hub_pb2.AddWatchRequest(
            case_number=CASE, purpose="human_trafficking", agreement="local-pilot",
            tokens=[common_pb2.Token(kind=PHONE, value=bytes(32))], label="Jazzy's phone"),
            federation.token("lakeside_so"))
    assert info.value.message.startswith("AddWatchRequest.label: the hub keeps no labels")


async def test_a_watch_does_not_report_records_older_than_itself(
    federation: LiveFederation,
) -> None:
    federation.ingest("rivertown_pd", [cad_call()], at=NOW - dt.timedelta(days=3))
    # Ingested a moment before the watch, by a node whose clock runs late: the
    # check's clock margin reaches it, and the watch's baseline keeps it quiet.
    federation.ingest("harbor_pd", [harbor_interview()], at=NOW - dt.timedelta(seconds=30))
    watch = await add_watch(federation, phone=PHONE_TEXT)

    assert await federation.hub.watches.check_all(NOW + dt.timedelta(minutes=1)) == 0
    added = [e.doc for e in federation.hub.audit.entries() if e.doc["event"] == "watch_added"]
    assert added[0]["details"]["watch_id"] == watch.watch_id
    assert added[0]["details"]["baseline"]["harbor_pd"] == {"status": "ok", "pointers": 1}
    # A record seen before that changes later keeps its handle for the watch,
    # so it is not reported again.
    changed = dataclasses.replace(harbor_interview(), summary="updated narrative")
    federation.ingest("harbor_pd", [changed], at=NOW + dt.timedelta(hours=1))
    assert await federation.hub.watches.check_all(NOW + dt.timedelta(hours=2)) == 0


async def test_a_removed_watch_stops_and_only_its_owner_may_remove_it(
    federation: LiveFederation,
) -> None:
    watch = await add_watch(federation, phone=PHONE_TEXT)
    remove = hub_pb2.RemoveWatchRequest(watch_id=watch.watch_id)
    with pytest.raises(RemoteError) as other:
        await hub_as(federation, "lakeside_so", "RemoveWatch", remove,
                     federation.token("lakeside_so", sub="det.other"))
    assert other.value.status.name == "NOT_FOUND"

    removed = await hub_as(federation, "lakeside_so", "RemoveWatch", remove,
                           federation.token("lakeside_so"))
    assert removed.watch.state == hub_pb2.WATCH_STATE_REMOVED  # type: ignore[attr-defined]
    federation.ingest("harbor_pd", [harbor_interview()], at=NOW + dt.timedelta(hours=2))
    assert await federation.hub.watches.check_all(NOW + dt.timedelta(hours=3)) == 0
    events = [e.doc["event"] for e in federation.hub.audit.entries()]
    assert events.count("watch_removed") == 1


async def test_a_watch_expires_and_says_so_in_the_log(federation: LiveFederation) -> None:
    watch = await add_watch(federation, phone=PHONE_TEXT, days=1)
    federation.ingest("harbor_pd", [harbor_interview()], at=NOW + dt.timedelta(days=2))

    assert await federation.hub.watches.check_all(NOW + dt.timedelta(days=2, hours=1)) == 0

    listed = await hub_as(federation, "lakeside_so", "ListWatches",
                          hub_pb2.ListWatchesRequest(include_inactive=True),
                          federation.token("lakeside_so"))
    assert [w.state for w in listed.watches] == [hub_pb2.WATCH_STATE_EXPIRED]  # type: ignore[attr-defined]
    [ended] = [e.doc for e in federation.hub.audit.entries() if e.doc["event"] == "watch_expired"]
    assert ended["details"]["watch_id"] == watch.watch_id


async def test_a_watch_needs_what_a_search_needs(federation: LiveFederation) -> None:
    with pytest.raises(RemoteError) as vague:
        await gateway(federation, "lakeside_so", "LocalAddWatch", node_pb2.LocalAddWatchRequest(
            case_number=CASE, purpose="curiosity", phone=PHONE_TEXT))
    assert vague.value.status.name == "PERMISSION_DENIED"
    assert "purpose_not_in_agreement" in vague.value.message
    last = list(federation.hub.audit.entries())[-1].doc
    assert (last["event"], last["outcome"]) == ("watch_denied", "denied")
    with pytest.raises(RemoteError) as too_long:
        await add_watch(federation, phone=PHONE_TEXT, days=400)
    assert "AddWatchRequest.days: got 400, want 1 to 90" in too_long.value.message


async def test_a_watch_ends_when_its_agreement_no_longer_allows_the_search(
    tmp_path: Path,
) -> None:
    ends = (NOW + dt.timedelta(days=5)).date().isoformat()
    path = agreement_with(tmp_path, lambda d: d.update(valid_until=ends))
    try:
        live = await start_federation(tmp_path / "fed", template=path)
    finally:
        path.unlink()
    try:
        watch = await add_watch(live, phone=PHONE_TEXT, days=30)
        live.ingest("harbor_pd", [harbor_interview()], at=NOW + dt.timedelta(days=9))

        # Every check is decided again: past the agreement's end, the watch ends.
        assert await live.hub.watches.check_all(NOW + dt.timedelta(days=10)) == 0

        [ended] = [e.doc for e in live.hub.audit.entries() if e.doc["event"] == "watch_ended"]
        assert (ended["details"]["watch_id"], ended["reasons"]) == (
            watch.watch_id, ["agreement_expired"])
        # The investigator is told it ended, and why: not "expired" (it had 20 days left).
        listed = await hub_as(live, "lakeside_so", "ListWatches",
                              hub_pb2.ListWatchesRequest(include_inactive=True),
                              live.token("lakeside_so"))
        [shown] = listed.watches  # type: ignore[attr-defined]
        assert (shown.state, list(shown.ended_reasons)) == (
            hub_pb2.WATCH_STATE_ENDED, ["agreement_expired"])
        assert watch_to_dict(shown)["state"] == "ended"
        denied = [e.doc for e in live.hub.audit.entries()
                  if e.doc["event"] == "watch_check_denied"]
        assert [d["reasons"] for d in denied] == [["agreement_expired"]]
        assert await notifications(live, "lakeside_so") == []
    finally:
        await stop_federation(live)


async def test_the_hub_checks_watches_on_its_own_and_counts_what_they_report(
    federation: LiveFederation,
) -> None:
    await add_watch(federation, phone=PHONE_TEXT)
    federation.ingest("harbor_pd", [harbor_interview()], at=NOW + dt.timedelta(hours=1))
    rounds: list[int] = []
    later = NOW + dt.timedelta(hours=2)
    checker = asyncio.create_task(run_checks(federation.hub.watches, 0.05, lambda: later,
                                             rounds.append))
    try:
        for _ in range(200):
            if sum(rounds):
                break
            await asyncio.sleep(0.05)
    finally:
        checker.cancel()
    # One record reported once, however many rounds ran.
    assert sum(rounds) == 1 and len(rounds) >= 1
    assert len(await notifications(federation, "lakeside_so")) == 1


async def test_a_policy_engine_that_cannot_decide_pauses_a_watch_and_ends_none(
    federation: LiveFederation,
) -> None:
    # An OPA sidecar restarting used to end every watch (policy_error is a
    # denial, and a denial ended the watch); nothing said why.
    watch = await add_watch(federation, phone=PHONE_TEXT, days=10)
    watches = federation.hub.watches
    point = federation.hub.policy

    class Broken:
        async def evaluate(self, decision: str, input: object) -> object:
            raise ConnectionError("sidecar down")

        async def close(self) -> None:
            return None

    working, version = point._engine, point.version
    await point.replace(Broken(), "broken")  # type: ignore[arg-type]
    federation.ingest("harbor_pd", [harbor_interview()], at=NOW + dt.timedelta(hours=2))
    assert await watches.check_all(NOW + dt.timedelta(hours=3)) == 0
    point._engine, point.version = working, version
    # Back: the watch is active, and the record ingested while it waited is found.
    assert await watches.check_all(NOW + dt.timedelta(hours=4)) == 1
    [listed] = (await hub_as(federation, "lakeside_so", "ListWatches",
                             hub_pb2.ListWatchesRequest(),
                             federation.token("lakeside_so"))).watches  # type: ignore[attr-defined]
    assert (listed.watch_id, listed.state) == (watch.watch_id, hub_pb2.WATCH_STATE_ACTIVE)
    events = [e.doc for e in federation.hub.audit.entries()]
    assert [e["reasons"] for e in events if e["event"] == "watch_check_denied"] == [
        ["policy_error"]]
    assert "watch_ended" not in [e["event"] for e in events]
