"""`accord node reindex`: stored records re-tokenised as ingest tokenised them.

A real federation's node config, real SQLite, the real `accord` command.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from click.testing import CliRunner

from accord.cli.main import cli
from node.config import NodeConfig
from node.encodings import prepare_record
from node.ingest.mapping import Mapping
from node.loader import ingest_file
from node.records import Person, Record, RecordType, Role
from node.reindex import reindex
from node.store import NodeStore
from node.tokens import Kind
from tests.conftest import NOW

CSV_MAPPING = (
    'version = 1\nsource = "cad"\n[record]\nsource_id = "id"\n'
    'record_type = { value = "cad_call" }\noccurred_on = "date"\n'
    '[[people]]\nrole = { value = "other" }\nname = "name"\nphones = "phone"\n'
)


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def node_config(tmp_path: Path) -> Path:
    code, out, err = run("federation", "init", str(tmp_path / "fed"), "--agencies",
                         "rivertown_pd,lakeside_so", "--base-port", "0", "--json")
    assert code == 0, err
    return Path(json.loads(out)["directory"]) / "nodes" / "rivertown_pd" / "node.toml"


def ingest_with_region(tmp_path: Path, region: str, phone: str) -> NodeConfig:
    """A US node holding one record from a source whose mapping reads phones in ``region``."""
    config = NodeConfig.load(node_config(tmp_path))
    assert config.default_region == "US"
    mapping = tmp_path / "m.toml"
    mapping.write_text(CSV_MAPPING.replace('source = "cad"',
                                           f'source = "cad"\ndefault_region = "{region}"'))
    data = tmp_path / "calls.csv"
    data.write_text(f"id,date,name,phone\n1,2026-01-02,Ana Lopez,{phone}\n")
    store = NodeStore.open(config.database_url)
    try:
        report = ingest_file(store, Mapping.load(mapping), data, config.keyring().all(), NOW)
        assert (report.counts.loaded, report.rejected) == (1, 0)
    finally:
        store.close()
    return config


def test_reindex_under_the_same_keys_leaves_a_non_us_sources_phone_tokens_alone(
        tmp_path: Path) -> None:
    """A Mexican source's "55 1234 5678" stays +52 55 1234 5678 on a US node.

    Re-indexing used to read it in the node's region (US), as another number,
    and the record was no longer found by its phone.
    """
    config = ingest_with_region(tmp_path, "MX", "55 1234 5678")
    keys = config.keyring().all()[0]
    store = NodeStore.open(config.database_url)
    try:
        def found(e164: str) -> int:
            return len(store.match([keys.token(Kind.PHONE, e164)], limit=10))

        assert found("+525512345678") == 1
        report = reindex(config, NOW)
        assert (report.updated, report.unchanged, report.failed) == (0, 1, 0)
        assert found("+525512345678") == 1
        record = store.get_record("cad", "1")
        assert record is not None and record.phone_region == "MX"
    finally:
        store.close()


def test_reindex_reads_a_phone_only_its_sources_region_can_read(tmp_path: Path) -> None:
    """A British "020 7946 0958" is too long for a US number: read in GB, as at ingest.

    Re-indexing used to raise on it, and so stopped on that record at every run.
    """
    config = ingest_with_region(tmp_path, "GB", "020 7946 0958")
    report = reindex(config, NOW)
    assert (report.updated, report.unchanged, report.failed) == (0, 1, 0)


def stored_without_region(store: NodeStore, config: NodeConfig, source_id: str, phone: str,
                          region: str) -> None:
    """A record as stored before records kept their phone region (its body has none)."""
    record = Record(source="old", source_id=source_id, record_type=RecordType.CAD_CALL,
                    occurred_on=dt.date(2026, 1, 2),
                    people=(Person(role=Role.OTHER, name="Ana Lopez", phones=(phone,)),))
    assert "phone_region" not in record.to_dict()
    store.upsert([prepare_record(record, config.keyring().all(), region)], NOW)


def test_a_record_that_cannot_be_re_tokenised_is_reported_and_the_rest_re_indexed(
        tmp_path: Path) -> None:
    """A record re-indexing cannot read is counted, named and left alone; the others go on.

    Record 1 was stored with a British phone before records kept their
    region, so the node's region (US) is all there is to read it in, and it
    cannot. It used to stop re-indexing there, before record 2, at every run.
    Record 2, stored the same old way, is read in the node's region too and
    is unchanged.
    """
    path = node_config(tmp_path)
    config = NodeConfig.load(path)
    store = NodeStore.open(config.database_url)
    try:
        stored_without_region(store, config, "1", "020 7946 0958", "GB")
        stored_without_region(store, config, "2", "503-555-0101", "US")
    finally:
        store.close()
    reason = ("people[0].phone: got '020 7946 0958', not a possible phone number "
              "(too long)")
    code, out, _ = run("node", "reindex", "--config", str(path), "--json")
    assert code == 3
    assert json.loads(out) == {
        "updated": 0, "unchanged": 1, "failed": 1, "failures_not_listed": 0,
        "failures": [{"source": "old", "source_id": "1", "reason": reason}],
    }
    code, out, _ = run("node", "reindex", "--config", str(path))
    assert code == 3
    assert out.splitlines() == ["2 records: 0 re-indexed, 1 already current, 1 failed",
                                f"  failed old 1: {reason}"]
