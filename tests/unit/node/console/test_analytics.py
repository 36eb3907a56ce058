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
