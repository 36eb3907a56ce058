"""Deconfliction's memory of searched subjects, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, select

from accord.v1 import common_pb2
from hub.notices import SearchParty, deconflict, search_subjects, subject_digest
from tests.conftest import NOW

PHONE = common_pb2.IDENTIFIER_KIND_PHONE
PLATE = common_pb2.IDENTIFIER_KIND_PLATE
NAME = common_pb2.IDENTIFIER_KIND_NAME
WINDOW = dt.timedelta(days=30)
PHONE_TOKEN = (PHONE, b"\x01" * 32)
PLATE_TOKEN = (PLATE, b"\x02" * 32)


def party(agency: str, at: dt.datetime, search_id: str = "s", actor: str = "det.a"
          ) -> SearchParty:
    return SearchParty(agency, actor, f"{agency}-case", search_id, f"{agency} desk", at)


def run(engine: Engine, me: SearchParty, tokens: list[tuple[int, bytes]],
        agreement: str = "local-pilot") -> list[tuple[str, str, tuple[int, ...]]]:
    with engine.begin() as conn:
        found = deconflict(conn, agreement=agreement, me=me, tokens=tokens, window=WINDOW)
    return [(o.other.agency, o.other.search_id, o.kinds) for o in found]


def test_another_agencys_recent_search_of_a_shared_identifier_overlaps(engine: Engine) -> None:
    assert run(engine, party("lakeside_so", NOW, "s1"), [PHONE_TOKEN, PLATE_TOKEN]) == []
    later = NOW + dt.timedelta(days=2)
    assert run(engine, party("harbor_pd", later, "s2"), [PLATE_TOKEN, PHONE_TOKEN]) == [
        ("lakeside_so", "s1", (PHONE, PLATE))]


def test_only_the_latest_search_of_each_agency_is_named(engine: Engine) -> None:
    run(engine, party("lakeside_so", NOW, "s1"), [PHONE_TOKEN])
    run(engine, party("lakeside_so", NOW + dt.timedelta(hours=1), "s2", "det.b"), [PHONE_TOKEN])
    run(engine, party("rivertown_pd", NOW + dt.timedelta(hours=2), "s3"), [PHONE_TOKEN])
    found = run(engine, party("harbor_pd", NOW + dt.timedelta(hours=3), "s4"), [PHONE_TOKEN])
    assert found == [("lakeside_so", "s2", (PHONE,)), ("rivertown_pd", "s3", (PHONE,))]


@pytest.mark.parametrize(("agency", "after", "agreement", "tokens"), [
    ("lakeside_so", dt.timedelta(hours=1), "local-pilot", [PHONE_TOKEN]),    # same agency
    ("harbor_pd", dt.timedelta(days=31), "local-pilot", [PHONE_TOKEN]),      # outside the window
    ("harbor_pd", dt.timedelta(hours=1), "coastal", [PHONE_TOKEN]),          # another agreement
    ("harbor_pd", dt.timedelta(hours=1), "local-pilot", [PLATE_TOKEN]),      # another subject
    ("harbor_pd", dt.timedelta(hours=1), "local-pilot", [(NAME, b"\x01" * 32)]),  # name alone
])
def test_no_overlap(engine: Engine, agency: str, after: dt.timedelta, agreement: str,
                    tokens: list[tuple[int, bytes]]) -> None:
    run(engine, party("lakeside_so", NOW, "s1"), [PHONE_TOKEN, (NAME, b"\x01" * 32)])
    assert run(engine, party(agency, NOW + after, "s2"), tokens, agreement) == []


def test_the_window_includes_its_first_day(engine: Engine) -> None:
    run(engine, party("lakeside_so", NOW, "s1"), [PHONE_TOKEN])
    assert run(engine, party("harbor_pd", NOW + WINDOW, "s2"), [PHONE_TOKEN]) == [
        ("lakeside_so", "s1", (PHONE,))]


def test_the_hub_keeps_digests_not_tokens_and_forgets_them_after_a_year(engine: Engine) -> None:
    run(engine, party("lakeside_so", NOW, "s1"), [PHONE_TOKEN, (NAME, b"\x03" * 32)])
    with engine.connect() as conn:
        kept = [(r.kind, bytes(r.digest)) for r in conn.execute(select(search_subjects))]
    # Only the specific identifier, and not as the token a node would answer.
    assert kept == [(PHONE, subject_digest(*PHONE_TOKEN))]
    assert kept[0][1] != PHONE_TOKEN[1]

    run(engine, party("harbor_pd", NOW + dt.timedelta(days=400), "s2"), [PLATE_TOKEN])
    with engine.connect() as conn:
        agencies = [r.agency for r in conn.execute(select(search_subjects))]
    assert agencies == ["harbor_pd"]
