"""The auditor page's numbers: activity charts and unusual-activity flags."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from node.console.analytics import BURST_SEARCHES, activity, bars, parse

T0 = dt.datetime(2026, 11, 23, 15, 0, tzinfo=dt.UTC)


def entry(seq: int, event: str, *, actor: str = "det.a", agency: str = "lakeside_so",
          case: str = "C-1", purpose: str = "human_trafficking", outcome: str = "ok",
          reasons: tuple[str, ...] = (), at: dt.datetime = T0) -> dict[str, Any]:
    return {"seq": seq, "time": at.isoformat(), "event": event, "outcome": outcome,
            "actor": actor, "agency": agency, "roles": ["investigator"], "source": "",
            "purpose": purpose, "case": case, "reasons": list(reasons), "details": {}}


def test_charts_count_searches_denials_and_release_purposes() -> None:
    docs = [entry(1, "search"), entry(2, "search", agency="harbor_pd", actor="det.b"),
            entry(3, "search", at=T0 + dt.timedelta(days=1)),
            entry(4, "search_denied", outcome="denied", reasons=("purpose_not_allowed",)),
            entry(5, "release_requested", purpose="missing_person"),
            entry(6, "auth_failed", outcome="denied", reasons=("token_expired",))]
    a = activity(docs)
    assert a.searches_per_agency_day == [("harbor_pd", "2026-11-23", 1),
                                         ("lakeside_so", "2026-11-23", 1),
                                         ("lakeside_so", "2026-11-24", 1)]
    assert dict(a.denials_by_reason) == {"purpose_not_allowed": 1, "token_expired": 1}
    assert a.releases_by_purpose == [("missing_person", 1)]
    assert [p.key for p in a.top_investigators] == ["det.a (lakeside_so)", "det.b (harbor_pd)"]


def test_bursts_and_missing_case_numbers_are_flagged() -> None:
    burst = [entry(i, "search", actor="det.fast", at=T0 + dt.timedelta(seconds=10 * i))
             for i in range(BURST_SEARCHES)]
    slow = [entry(100 + i, "search", actor="det.slow", at=T0 + dt.timedelta(hours=i))
            for i in range(BURST_SEARCHES)]
    nocase = [entry(200, "search", actor="det.nocase", case="")]
    people = {p.key: p for p in activity(burst + slow + nocase).top_investigators}
    assert any("burst" in f for f in people["det.fast (lakeside_so)"].flags)
    assert people["det.slow (lakeside_so)"].flags == []
    assert any("without a case number" in f for f in people["det.nocase (lakeside_so)"].flags)


def test_bars_scale_to_the_largest_value() -> None:
    assert bars([("a", 10), ("b", 5), ("c", 0)], width=100) == [("a", 10, 100), ("b", 5, 50),
                                                                 ("c", 0, 2)]
    assert bars([]) == []


def test_parse_skips_non_objects() -> None:
    assert parse([json.dumps({"seq": 1}).encode(), b"[1, 2]"]) == [{"seq": 1}]


def test_an_inclusion_counts_only_in_a_history_consistent_with_the_pin() -> None:
    from accord import merkle
    from node.console.analytics import InclusionCheck, check_against_pin

    tree = merkle.MemoryTree()
    for i in range(7):
        tree.append(f"entry {i}".encode())

    def proven_in(size: int) -> InclusionCheck:
        return InclusionCheck(1, size, tree.root(size).hex(), "", [], True)

    def between(a: int, b: int) -> list[bytes]:
        return merkle.consistency_proof(min(a, b), max(a, b), tree)

    # One history: the page's checkpoint older or newer than the pin, or the same.
    for size, pinned in ((7, 3), (3, 7), (5, 5)):
        check = check_against_pin(proven_in(size), (pinned, tree.root(pinned)),
                                  between(size, pinned))
        assert (check.ok, check.problem) == (True, "")
    assert check_against_pin(proven_in(4), None, []).ok  # nothing pinned yet
    forked = check_against_pin(proven_in(5), (5, bytes(32)), [])
    assert (forked.ok, forked.problem) == (False, "the checkpoint of size 5 has another root "
                                           "than the node's accepted checkpoint of that size: "
                                           "a forked log")
    other = check_against_pin(proven_in(7), (3, bytes(32)), between(7, 3))
    assert (other.ok, other.problem) == (False, "the checkpoint of size 7 is not consistent "
                                         "with the node's accepted checkpoint of size 3: a "
                                         "forked or rolled-back log")
    failed = InclusionCheck(1, 7, tree.root(7).hex(), "", [], False, "the proof does not verify")
    assert check_against_pin(failed, (3, bytes(32)), []) is failed  # its own problem stands
