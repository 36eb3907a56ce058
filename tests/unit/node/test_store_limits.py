"""The node store's columns and what records, releases and request keys may put there.

On SQLite and on PostgreSQL: PostgreSQL refuses what SQLite takes (a value
wider than its column, NUL in text, an integer past 32 bits in an INTEGER),
and such a refusal mid-batch would come back as a raw driver error.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from accord.errors import InvalidRecord
from node.ingest.mapping import Mapping
from node.loader import ingest_file
from node.records import MAX_SOURCE_ID, Person, Record, RecordType, Role
from node.server import _subject
from node.store import NodeStore
from node.tokens import TokenKeys
from tests.conftest import NOW

KEYS = TokenKeys(bytes(range(32)), "pilot")
MAPPING = ('version = 1\nsource = "cad"\n[record]\nsource_id = "id"\n'
           'record_type = { value = "cad_call" }\noccurred_on = "date"\n'
           '[[people]]\nrole = { value = "other" }\nname = "name"\n')


@pytest.fixture
def store(database_url: str) -> Iterator[NodeStore]:
    s = NodeStore.open(database_url)
    yield s
    s.close()


def test_a_source_id_wider_than_its_column_is_refused_by_the_record() -> None:
    with pytest.raises(InvalidRecord) as refused:
        Record(source="cad", source_id="X" * (MAX_SOURCE_ID + 1),
               record_type=RecordType.CAD_CALL, occurred_on=dt.date(2026, 1, 1),
               people=(Person(role=Role.OTHER, name="Ana Lopez"),))
    assert refused.value.message == "source_id: 257 characters, at most 256 allowed"


def test_ingest_rejects_a_row_whose_id_is_too_long_and_loads_the_rest(
        store: NodeStore, tmp_path: Path) -> None:
    # On PostgreSQL the batch's COPY failed on the column's width: the whole
    # batch rolled back and the run stopped with an internal error.
    mapping = tmp_path / "m.toml"
    mapping.write_text(MAPPING)
    data = tmp_path / "calls.csv"
    data.write_text("id,date,name\n1,2026-01-02,Ana Lopez\n"
                    f"{'X' * 300},2026-01-03,Bo Li\n3,2026-01-04,Cy Diaz\n")
    report = ingest_file(store, Mapping.load(mapping), data, [KEYS], NOW)
    assert (report.rows, report.counts.loaded, report.rejected) == (3, 2, 1)
    [rejection] = report.rejections
    assert rejection.line == 3
    assert "at most 256 allowed" in rejection.reason
    assert store.count_records() == 2


def test_the_release_log_keeps_audit_positions_past_32_bits(store: NodeStore) -> None:
    seq = 2**31  # the hub's audit log numbers entries with a BIGINT
    store.record_release({
        "grant_id": "g1", "release_id": "rel_x", "pointer": "ptr_x", "record_id": 1,
        "requester_agency": "lakeside_so", "requester": "det.a", "purpose": "p",
        "case_number": "C-1", "audit_seq": seq, "checkpoint_size": seq, "withheld": [],
        "released_at": NOW, "ciphertext": b"c"}, (seq, b"\x00" * 32))
    assert store.last_checkpoint() == (seq, b"\x00" * 32)


def test_an_unverified_subject_labels_a_request_key_only_when_printable(
        store: NodeStore) -> None:
    # The node reads the subject before the hub has checked the token: a NUL in
    # it failed the request as internal on PostgreSQL, which refuses NUL in text.
    def bearer(sub: str) -> list[tuple[str, str]]:
        token = jwt.encode({"sub": sub}, Ed25519PrivateKey.generate(), algorithm="EdDSA")
        return [("authorization", f"Bearer {token}")]

    assert _subject(bearer("det.a")) == "det.a"
    assert _subject(bearer("det.a\x00evil")) == ""
    assert _subject(bearer("d" * 300)) == "d" * 256
    assert _subject([("authorization", "Bearer not-a-jwt")]) == ""
    store.save_request_key("rk_12345678", _subject(bearer("det.a\x00evil")), b"k" * 32, NOW)
