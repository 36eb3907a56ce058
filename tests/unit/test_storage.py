"""One storage suite, run on SQLite and on PostgreSQL (``database_url`` fixture)."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Sequence
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import text

from accord.checkpoint import Ed25519Signer
from accord.db import make_engine
from hub.audit import AuditEvent, AuditLog, leaf_hash
from node.records import Person, Record, RecordType, Role
from node.store import NodeStore, Prepared
from node.tokens import Kind, Query, TokenKeys, query_tokens, record_tokens
from tests.conftest import NOW

SIGNER = Ed25519Signer(Ed25519PrivateKey.generate(), "accord-hub")

KEYS = TokenKeys(bytes(range(32)), "pilot")


def rec(source_id: str, phone: str, *, labels: frozenset[str] = frozenset(),
        day: int = 1) -> Prepared:
    record = Record(source="cad", source_id=source_id, record_type=RecordType.CAD_CALL,
                    occurred_on=dt.date(2026, 1, day), labels=labels,
                    people=(Person(role=Role.OTHER, name="Ana Lopez", phones=(phone,)),))
    return Prepared(record, record_tokens(record, KEYS, "US"))


def phone(p: str) -> list:  # type: ignore[type-arg]
    return query_tokens(Query(phone=p), KEYS, "US")


@pytest.fixture
def store(database_url: str) -> NodeStore:
    s = NodeStore.open(database_url)
    yield s  # type: ignore[misc]
    s.close()


def test_upsert_counts_and_never_duplicates(store: NodeStore) -> None:
    first = store.upsert([rec("1", "503-555-0101"), rec("2", "503-555-0102")], NOW)
    again = store.upsert([rec("1", "503-555-0101"), rec("2", "503-555-0199")], NOW)
    assert (first.loaded, first.updated, first.unchanged) == (2, 0, 0)
    assert (again.loaded, again.updated, again.unchanged) == (0, 1, 1)
    assert store.count_records() == 2
    # name + phone per record, replaced (not added to) on update
    assert store.count_tokens() == 4


def test_duplicate_in_one_batch_keeps_the_last(store: NodeStore) -> None:
    counts = store.upsert([rec("1", "503-555-0101"), rec("1", "503-555-0102"),
                           rec("1", "503-555-0102")], NOW)
    # Counted as batches of one would count them: loaded, then updated, then unchanged.
    assert (counts.loaded, counts.updated, counts.unchanged) == (1, 1, 1)
    assert [m.record_id for m in store.match(phone("503-555-0101"), limit=10)] == []
    assert len(store.match(phone("503-555-0102"), limit=10)) == 1


def test_match_reports_kinds_and_respects_limit_and_labels(store: NodeStore) -> None:
    store.upsert([rec(str(i), "503-555-0101", day=i + 1) for i in range(5)]
                 + [rec("sealed", "503-555-0101", labels=frozenset({"sealed"}))], NOW)
    tokens = phone("503-555-0101") + query_tokens(Query(name="Ana Lopez"), KEYS, "US")
    matches = store.match(tokens, limit=3, exclude_labels=frozenset({"sealed"}))
    assert len(matches) == 3
    assert all(m.kinds == frozenset({Kind.PHONE, Kind.NAME}) for m in matches)
    # most recent first
    assert [m.occurred_on.day for m in matches] == [5, 4, 3]
    everything = store.match(tokens, limit=100)
    assert len(everything) == 6


def test_pointers_are_unique_opaque_handles(store: NodeStore) -> None:
    store.upsert([rec("1", "503-555-0101")], NOW)

def test_match_filters_by_type_and_update_time_and_reads_values_back(store: NodeStore) -> None:
    later = NOW + dt.timedelta(hours=1)
    store.upsert([rec("old", "503-555-0101", day=3)], NOW)
    store.upsert([rec("new", "503-555-0101", day=9, labels=frozenset({"victim"}))], later)
    tokens = phone("503-555-0101")
    both = store.match(tokens, limit=10)
    # Dates and labels come back as Python values on either backend.
    assert [(m.occurred_on, m.labels, m.record_type) for m in both] == [
        (dt.date(2026, 1, 9), frozenset({"victim"}), RecordType.CAD_CALL),
        (dt.date(2026, 1, 3), frozenset(), RecordType.CAD_CALL)]
    changed = store.match(tokens, limit=10, updated_after=NOW + dt.timedelta(minutes=30))
    assert [store_id(store, m.record_id) for m in changed] == ["new"]
    assert store.match(tokens, limit=10, updated_after=later) == []
    assert store.match(tokens, limit=10, record_types=frozenset({"rms_incident"})) == []
    assert len(store.match(tokens, limit=10, record_types=frozenset({"cad_call"}))) == 2

    ids = [m.record_id for m in store.match(phone("503-555-0101"), limit=1)]
    h1 = store.issue_pointers(ids, "lakeside_so", "s1", NOW)
    h2 = store.issue_pointers(ids, "lakeside_so", "s2", NOW)
    assert h1 != h2
    assert all(h.startswith("ptr_") and len(h) >= 28 for h in h1 + h2)


def test_records_round_trip(store: NodeStore) -> None:
    prepared = rec("1", "503-555-0101")
    store.upsert([prepared], NOW)
    assert store.get_record("cad", "1") == prepared.record


def test_profiles_are_stored_replaced_and_matched_per_agreement(store: NodeStore) -> None:
    from node.encodings import Profile, prepare_record

    def full(source_id: str, name: str, phone: str) -> Prepared:
        record = Record(source="cad", source_id=source_id, record_type=RecordType.CAD_CALL,
                        occurred_on=dt.date(2026, 1, 1),
                        people=(Person(role=Role.OTHER, name=name, phones=(phone,)),
                                Person(role=Role.OTHER, name="Bo Diaz")))
        return prepare_record(record, [KEYS, TokenKeys(bytes(range(32)), "other")], "US")

    # Many new records in one batch: ids come back in the order of the rows.
    batch = [full(str(i), "Ana Lopez", f"503-555-01{i:02d}") for i in range(30)]
    assert store.upsert(batch, NOW).loaded == 30
    assert store.count_profiles() == 30 * 2 * 2
    for i in (0, 17, 29):
        [m] = store.match(phone(f"503-555-01{i:02d}"), limit=5, agreement="pilot")
        assert store.get_record("cad", str(i)) == batch[i].record
        assert [person for person, _ in m.profiles] == [0, 1]
        assert Profile.from_bytes(m.profiles[0][1]) == Profile.from_bytes(
            next(p.profile for p in batch[i].profiles if p.agreement == "pilot" and p.person == 0))
    # An update replaces the profiles; no agreement asked, none returned.
    assert store.upsert([full("0", "Ana Maria Lopez", "503-555-0199")], NOW).updated == 1
    assert store.count_profiles() == 30 * 2 * 2
    [m] = store.match(phone("503-555-0199"), limit=5)
    assert m.profiles == ()


def test_profiles_are_read_only_for_the_matches_kept(store: NodeStore,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from node.encodings import prepare_record

    def person(i: int) -> Prepared:
        record = Record(source="cad", source_id=str(i), record_type=RecordType.CAD_CALL,
                        occurred_on=dt.date(2026, 1, 1 + i),
                        people=(Person(role=Role.OTHER, name="Ana Lopez",
                                       phones=(f"503-555-01{i:02d}",)),))
        return prepare_record(record, KEYS, "US")

    store.upsert([person(i) for i in range(20)], NOW)
    asked: list[list[int]] = []
    lookup = store._lookup
    profiles_sql = lookup.profiles

    def spy(ids: Sequence[int], agreements: Sequence[str]) -> tuple[str, list[Any]]:
        asked.append(list(ids))
        return profiles_sql(ids, agreements)

    name_tokens = query_tokens(Query(name="Ana Lopez"), KEYS, "US")
    monkeypatch.setattr(lookup, "profiles", spy)
    found = store.match(name_tokens, limit=3, agreement="pilot")
    # The three most recent of the twenty who share the name, each with its profile...
    assert [store_id(store, m.record_id) for m in found] == ["19", "18", "17"]
    assert all(len(m.profiles) == 1 for m in found)
    # ...and the profiles of only those three were read, in one statement.
    assert asked == [[m.record_id for m in found]]


def store_id(store: NodeStore, record_id: int) -> str:
    with store.engine.connect() as conn:
        return str(conn.execute(text("SELECT source_id FROM records WHERE id = :i"),
                                {"i": record_id}).scalar_one())


def event(i: int) -> AuditEvent:
    return AuditEvent(event="search", time=NOW + dt.timedelta(seconds=i), outcome="ok",
                      actor=f"det.{i}", agency="lakeside_so", case=f"C-{i}",
                      details={"pointers": i})


def test_audit_appends_in_order_with_leaf_hashes(database_url: str) -> None:
    log = AuditLog(make_engine(database_url), SIGNER, "test-log")
    log.create_schema()
    seqs = [log.append(event(i)) for i in range(5)]
    assert seqs == [1, 2, 3, 4, 5]
    entries = list(log.entries())
    assert [e.seq for e in entries] == seqs
    for entry in entries:
        assert entry.leaf_hash == leaf_hash(entry.entry)
        assert entry.doc["seq"] == entry.seq
    assert entries[2].doc["case"] == "C-2"
    assert entries[2].doc["time"] == "2026-11-23T15:00:02.000000+00:00"


def test_concurrent_audit_appends_stay_linear(database_url: str) -> None:
    log = AuditLog(make_engine(database_url), SIGNER, "test-log")
    log.create_schema()
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            for i in range(10):
                log.append(event(n * 100 + i))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert [e.seq for e in log.entries()] == list(range(1, 41))
    assert log.size() == 40


def test_stored_log_serves_proofs_that_verify(database_url: str) -> None:
    from accord import merkle
    from accord.checkpoint import verify_checkpoint

    log = AuditLog(make_engine(database_url), SIGNER, "test-log")
    log.create_schema()
    for i in range(37):
        log.append(event(i))
    leaves = [e.leaf_hash for e in log.entries()]
    signed = {c.checkpoint.size: c for c in log.checkpoints()}
    assert sorted(signed) == list(range(1, 38))
    for size in (1, 2, 7, 16, 37):
        cp = verify_checkpoint(signed[size], SIGNER.public_key(), "accord-hub", "test-log")
        assert cp.root == merkle.root_from_leaves(leaves[:size])
        for seq in {1, size // 2 + 1, size}:
            merkle.verify_inclusion(leaves[seq - 1], seq - 1, size,
                                    log.inclusion_proof(seq, size), cp.root)
    old = verify_checkpoint(signed[11], SIGNER.public_key(), "accord-hub", "test-log")
    new = verify_checkpoint(signed[37], SIGNER.public_key(), "accord-hub", "test-log")
    merkle.verify_consistency(11, 37, old.root, new.root, log.consistency_proof(11, 37))


def test_profiles_of_the_longest_agreement_id_fit_during_a_rotation(store: NodeStore) -> None:
    from node.encodings import prepare_record
    from node.tokens import NEXT_GENERATION

    longest = "a" * 64  # the agreement schema's longest id
    record = Record(source="cad", source_id="r1", record_type=RecordType.CAD_CALL,
                    occurred_on=dt.date(2026, 1, 1),
                    people=(Person(role=Role.OTHER, name="Ana Lopez"),))
    secret = bytes(range(32))
    prepared = prepare_record(record, [TokenKeys(secret, longest),
                                       TokenKeys(secret, longest, generation=NEXT_GENERATION)],
                              "US")
    assert {p.agreement for p in prepared.profiles} == {longest, longest + NEXT_GENERATION}
    assert store.upsert([prepared], NOW).loaded == 1
    [m] = store.match(query_tokens(Query(name="Ana Lopez"), TokenKeys(secret, longest), "US"),
                      limit=5, agreement=longest)
    assert len(m.profiles) == 2  # both generations, for the scorer to choose from
