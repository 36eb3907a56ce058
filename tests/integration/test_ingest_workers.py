"""Ingest with worker processes: the same report and the same store as without.

Real worker processes (spawned), real files, real SQLite; the comparison is
of every stored row, not of counts.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from accord.errors import InvalidArgument, Unavailable
from accord.synthetic import Dataset, generate
from node.ingest.mapping import Mapping
from node.loader import CHUNK_ROWS, IngestReport, Workers, ingest_file
from node.store import NodeStore
from node.tokens import TokenKeys
from tests.conftest import NOW

KEYS = [TokenKeys(bytes(range(32)), "local-pilot"),
        TokenKeys(bytes(range(1, 33)), "harbor-county")]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    # Bad rows of every kind, so that rejections must come back in file order too.
    return generate(tmp_path_factory.mktemp("data"), people=300, records_per_source=400,
                    bad_rows=36)


@pytest.fixture(scope="module")
def workers() -> Any:
    with Workers(2, KEYS) as pool:
        yield pool


def load(db: Path, dataset: Dataset, pool: Workers | None, **options: Any) -> list[IngestReport]:
    store = NodeStore.open(f"sqlite:///{db}")
    try:
        return [ingest_file(store, Mapping.load(s.mapping), s.path, KEYS, NOW, workers=pool,
                            **options)
                for s in dataset.sources]
    finally:
        store.close()


def stored(db: Path) -> list[list[tuple[Any, ...]]]:
    with sqlite3.connect(db) as conn:
        return [conn.execute(query).fetchall() for query in (
            "SELECT id, source, source_id, record_type, occurred_on, labels, body,"
            " content_hash, updated_at FROM records ORDER BY id",
            "SELECT token, kind, record_id FROM record_tokens ORDER BY 1, 2, 3",
            "SELECT record_id, person, agreement, profile FROM person_profiles ORDER BY 1, 2, 3",
        )]


def test_workers_store_exactly_what_one_process_stores(
        tmp_path: Path, dataset: Dataset, workers: Workers) -> None:
    serial = load(tmp_path / "serial.db", dataset, None)
    parallel = load(tmp_path / "parallel.db", dataset, workers)

    assert [r.to_dict() for r in parallel] == [r.to_dict() for r in serial]
    assert sum(r.rejected for r in serial) == 36
    assert sum(r.counts.loaded for r in serial) > 3000
    records, tokens, profiles = stored(tmp_path / "parallel.db")
    assert (records, tokens, profiles) == tuple(stored(tmp_path / "serial.db"))
    assert profiles and {row[2] for row in profiles} == {"local-pilot", "harbor-county"}

    # Loading again through the workers changes nothing.
    again = load(tmp_path / "parallel.db", dataset, workers)
    assert sum(r.counts.unchanged for r in again) == sum(r.counts.loaded for r in serial)
    assert sum(r.counts.loaded + r.counts.updated for r in again) == 0


def calls(tmp_path: Path, count: int, *extra: str) -> tuple[Mapping, Path]:
    """A mapping and a CSV file of ``count`` calls (source ids 0, 1, ...), then ``extra`` rows."""
    mapping = tmp_path / "m.toml"
    mapping.write_text(
        'version = 1\nsource = "cad"\n[record]\nsource_id = "id"\n'
        'record_type = { value = "cad_call" }\noccurred_on = "date"\n'
        '[[people]]\nrole = { value = "other" }\nname = "name"\nphones = "phone"\n')
    rows = [f"{i},2026-01-02,Person {i:05d},503-555-{i % 10000:04d}" for i in range(count)]
    data = tmp_path / "calls.csv"
    data.write_text("id,date,name,phone\n" + "\n".join([*rows, *extra]) + "\n")
    return Mapping.load(mapping), data


def test_a_record_repeated_far_apart_is_stored_once_as_its_last_version(
        tmp_path: Path, workers: Workers) -> None:
    # Record 7 again, chunks later, with another phone: the later row wins.
    mapping, data = calls(tmp_path, 3 * CHUNK_ROWS, "7,2026-01-03,Person 00007,503-555-9999")
    store = NodeStore.open(f"sqlite:///{tmp_path / 'n.db'}")
    try:
        report = ingest_file(store, mapping, data, KEYS, NOW, workers=workers, batch_size=100)
        assert (report.rows, report.counts.loaded, report.counts.updated) == (
            3 * CHUNK_ROWS + 1, 3 * CHUNK_ROWS, 1)
        assert store.count_records() == 3 * CHUNK_ROWS
    finally:
        store.close()
    with sqlite3.connect(tmp_path / "n.db") as conn:
        (body,), = conn.execute("SELECT body FROM records WHERE source_id = '7'").fetchall()
    assert "9999" in body and '"2026-01-03"' in body


def test_a_worker_that_dies_stops_the_load_with_the_file_named(tmp_path: Path) -> None:
    mapping, data = calls(tmp_path, 20 * CHUNK_ROWS)
    store = NodeStore.open(f"sqlite:///{tmp_path / 'n.db'}")
    killed = []
    others = {p.pid for p in multiprocessing.active_children()}  # other tests' pools

    def kill_a_worker(_rows: int) -> None:
        if not killed:
            child = next(p for p in multiprocessing.active_children() if p.pid not in others)
            assert child.pid is not None
            os.kill(child.pid, signal.SIGKILL)
            killed.append(child.pid)

    try:
        with Workers(2, KEYS) as pool, pytest.raises(Unavailable) as caught:
            ingest_file(store, mapping, data, KEYS, NOW, workers=pool, batch_size=50,
                        progress=kill_a_worker)
        assert str(data) in caught.value.message
        assert "worker process died" in caught.value.message
        committed = store.count_records()
    finally:
        store.close()
    # Only whole batches were committed, in file order: the stored records
    # are the file's first rows, and fewer than all of them.
    assert 0 < committed < 20 * CHUNK_ROWS and committed % 50 == 0
    with sqlite3.connect(tmp_path / "n.db") as conn:
        ids = sorted(int(i) for (i,) in conn.execute("SELECT source_id FROM records"))
    assert ids == list(range(committed))


def test_workers_refuse_a_count_below_one() -> None:
    with pytest.raises(InvalidArgument, match="workers: got 0, want at least 1"):
        Workers(0, KEYS)


def test_workers_with_other_keys_are_refused_before_anything_is_read(
        tmp_path: Path, workers: Workers) -> None:
    mapping, data = calls(tmp_path, 10)
    store = NodeStore.open(f"sqlite:///{tmp_path / 'n.db'}")
    try:
        with pytest.raises(InvalidArgument, match="workers: started with other token keys"):
            ingest_file(store, mapping, data, KEYS[:1], NOW, workers=workers)
        other = [TokenKeys(bytes(range(2, 34)), "local-pilot"), KEYS[1]]  # another secret
        with pytest.raises(InvalidArgument, match="workers: started with other token keys"):
            ingest_file(store, mapping, data, other, NOW, workers=workers)
        assert store.count_records() == 0
    finally:
        store.close()



def test_workers_ignore_ctrl_c_and_leave_stopping_the_load_to_the_command(
        tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    """Ctrl-C reaches every process of the terminal's group, the workers too.

    They ignore it: the command, interrupted, stops the load and shuts them
    down, and all it prints is ``error: interrupted``. A worker waiting for
    work used to die of it, printing its KeyboardInterrupt traceback first.
    Here the signal goes to the workers alone, while they wait: nothing is
    printed, no worker dies, and the load goes on to its end.
    """
    mapping, data = calls(tmp_path, 20 * CHUNK_ROWS)
    store = NodeStore.open(f"sqlite:///{tmp_path / 'n.db'}")
    others = {p.pid for p in multiprocessing.active_children()}  # other tests' pools
    interrupted: list[int] = []

    def interrupt_the_workers(_rows: int) -> None:
        if not interrupted:
            time.sleep(0.5)  # the chunks in flight are done: the workers wait for more
            for child in multiprocessing.active_children():
                if child.pid is not None and child.pid not in others:
                    os.kill(child.pid, signal.SIGINT)
                    interrupted.append(child.pid)
            time.sleep(0.2)

    try:
        with Workers(2, KEYS) as pool:
            report = ingest_file(store, mapping, data, KEYS, NOW, workers=pool, batch_size=50,
                                 progress=interrupt_the_workers)
    finally:
        store.close()
    assert len(interrupted) == 2
    assert (report.rows, report.counts.loaded) == (20 * CHUNK_ROWS, 20 * CHUNK_ROWS)
    assert "Traceback" not in capfd.readouterr().err
