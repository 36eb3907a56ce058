"""Source files at the edges of their formats: each loads what it holds, no more and no less.

Real files (and pipes), the real reader and loader, real SQLite (and
PostgreSQL where the ``database_url`` fixture parametrises).
"""

from __future__ import annotations

import contextlib
import csv
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from accord.errors import InvalidArgument
from node.ingest.mapping import Mapping
from node.ingest.reader import CSV_FIELD_LIMIT, read_records
from node.loader import ingest_file
from node.records import MAX_TEXT
from node.store import NodeStore
from node.tokens import TokenKeys
from tests.conftest import NOW

KEYS = [TokenKeys(bytes(range(32)), "local-pilot")]

CSV_MAPPING = (
    'version = 1\nsource = "cad"\n[record]\nsource_id = "id"\n'
    'record_type = { value = "cad_call" }\noccurred_on = "date"\nsummary = "note"\n'
    '[[people]]\nrole = { value = "other" }\nname = "name"\nphones = "phone"\n'
)
JSONL_MAPPING = (
    'version = 1\nsource = "tips"\n[record]\nsource_id = "id"\n'
    'record_type = { value = "hotline_tip" }\noccurred_on = "date"\n'
    '[[people]]\nrole = { value = "other" }\nname = "name"\n'
)
HEADER = "id,date,name,phone,note\n"


def mapping(tmp_path: Path, text: str) -> Mapping:
    path = tmp_path / "m.toml"
    path.write_text(text)
    return Mapping.load(path)


def outcomes(m: Mapping, path: Path) -> list[tuple[int, str]]:
    """(line, source id or error) of every row."""
    return [(r.row_number, r.record.source_id if r.record else r.error or "")
            for r in read_records(m, path)]


@pytest.fixture
def pipe() -> Iterator[tuple[Path, int]]:
    """A pipe as process substitution gives one, ``/dev/fd/N``, and its write end."""
    read_end, write_end = os.pipe()
    try:
        yield Path(f"/dev/fd/{read_end}"), write_end
    finally:
        os.close(read_end)
        with contextlib.suppress(OSError):  # the test closed it already
            os.close(write_end)


# --------------------------------------------------------------------------- CSV


def test_a_multiline_cell_in_a_crlf_file_reads_as_in_an_lf_file(tmp_path: Path) -> None:
    """A quoted cell over two lines keeps its line break as ``\\n``, not ``\\r\\n``.

    The CR used to stay in the cell and the row was refused for control characters.
    """
    m = mapping(tmp_path, CSV_MAPPING)
    lf = tmp_path / "lf.csv"
    lf.write_bytes(HEADER.encode() + b'1,2026-01-02,Ana Lopez,503-555-0101,"line one\nline two"\n'
                   b"2,2026-01-02,Bo Li,503-555-0102,x\n")
    crlf = tmp_path / "crlf.csv"
    crlf.write_bytes(lf.read_bytes().replace(b"\n", b"\r\n"))
    results = {name: list(read_records(m, path)) for name, path in (("lf", lf), ("crlf", crlf))}
    assert [r.record for r in results["crlf"]] == [r.record for r in results["lf"]]
    first = results["crlf"][0].record
    assert first is not None and first.summary == "line one\nline two"
    assert [r.row_number for r in results["crlf"]] == [2, 4]


def test_a_cell_over_the_csv_modules_default_limit_is_one_row_error(tmp_path: Path) -> None:
    """A quoted cell of 140,000 characters (the csv module's default limit is 131,072).

    It used to stop the cell where the limit fell, load the row written inside
    the rest of it (id 9) and lose the good rows after it. Now the cell is
    read whole and refused as its row's error, and the rows after it load.
    """
    m = mapping(tmp_path, CSV_MAPPING)
    note = "x" * 140_000 + "\n9,2026-01-09,Injected Person,503-555-0199,from inside a cell\n"
    data = tmp_path / "calls.csv"
    data.write_text(HEADER
                    + f'1,2026-01-02,Ana Lopez,503-555-0101,"{note}"\n'
                    + "2,2026-01-02,Bo Li,503-555-0102,x\n"
                    + "3,2026-01-02,Cy Young,503-555-0103,y\n")
    assert outcomes(m, data) == [
        (2, f"line 2: record.summary (column 'note'): {len(note.strip())} characters, "
            f"at most {MAX_TEXT} allowed"),
        (5, "2"),
        (6, "3"),
    ]


def test_a_cell_over_the_raised_limit_stops_the_file_naming_its_line(tmp_path: Path) -> None:
    """A field longer than the reader ever takes cannot be skipped: the file stops there.

    The rows before it come out; nothing inside or after the field does.
    """
    m = mapping(tmp_path, CSV_MAPPING)
    data = tmp_path / "calls.csv"
    with data.open("w") as file:
        file.write(HEADER + "1,2026-01-02,Ana Lopez,503-555-0101,x\n")
        file.write('2,2026-01-02,Bo Li,503-555-0102,"' + "x" * (CSV_FIELD_LIMIT + 1))
        file.write("\n4,2026-01-02,Injected Person,503-555-0199,y\n")
    rows = read_records(m, data)
    first = next(rows)
    assert (first.row_number, first.error) == (2, None)
    with pytest.raises(InvalidArgument) as caught:
        next(rows)
    assert caught.value.message == (
        f"{data}: line 3: a field over {csv.field_size_limit():,} characters (an unclosed "
        "quote?); the file cannot be read past it")
    assert isinstance(caught.value.__cause__, csv.Error)


def test_csv_from_a_pipe_is_refused_naming_the_file(tmp_path: Path,
                                                     pipe: tuple[Path, int]) -> None:
    """A pipe cannot be read twice (header check, then rows): it is refused, by its name.

    It used to fail with io's "File or stream is not seekable.", naming nothing.
    """
    m = mapping(tmp_path, CSV_MAPPING.replace("version = 1\n", 'version = 1\nformat = "csv"\n'))
    path, write_end = pipe
    os.write(write_end, (HEADER + "1,2026-01-02,Ana Lopez,503-555-0101,x\n").encode())
    os.close(write_end)
    with pytest.raises(InvalidArgument) as caught:
        read_records(m, path)
    assert caught.value.message == (
        f"{path}: is a pipe; ingest reads its input more than once, so give it a regular "
        "file (save a pipe's output to a file first)")


# --------------------------------------------------------------------------- JSON Lines


def test_jsonl_from_a_pipe_is_refused_before_any_line_is_read(tmp_path: Path,
                                                               pipe: tuple[Path, int]) -> None:
    """``accord node ingest ... <(zcat tips.jsonl.gz)``: refused, not loaded in part.

    It used to lose the lines the format check read ahead (73 of 2,000 here,
    the first one rejected as half a line) and number every line after wrongly.
    """
    m = mapping(tmp_path, JSONL_MAPPING.replace("version = 1\n", 'version = 1\nformat = "jsonl"\n'))
    path, write_end = pipe
    os.write(write_end, b'{"id": "1", "date": "2026-01-02", "name": "Ana Lopez"}\n')
    os.close(write_end)
    store = NodeStore.open(f"sqlite:///{tmp_path}/store.db")
    try:
        with pytest.raises(InvalidArgument) as caught:
            ingest_file(store, m, path, KEYS, NOW)
        assert caught.value.message.startswith(f"{path}: is a pipe; ")
        assert store.count_records() == 0
    finally:
        store.close()


def test_a_lone_surrogate_in_jsonl_is_a_row_error_and_the_rest_loads(
        tmp_path: Path, database_url: str) -> None:
    """``"\\ud800"`` is valid JSON but not Unicode text: refused with its line.

    It used to reach the database driver, whose UnicodeEncodeError failed the
    whole load.
    """
    m = mapping(tmp_path, JSONL_MAPPING)
    data = tmp_path / "tips.jsonl"
    data.write_text('{"id": "1\\ud800", "date": "2026-01-02", "name": "Ana Lopez"}\n'
                    '{"id": "2", "date": "2026-01-02", "name": "Bo \\udfff Li"}\n'
                    '{"id": "3", "date": "2026-01-02", "name": "Cy Young"}\n')
    store = NodeStore.open(database_url)
    try:
        report = ingest_file(store, m, data, KEYS, NOW)
        assert (report.counts.loaded, report.rejected) == (1, 2)
        assert [(r.line, r.reason) for r in report.rejections] == [
            (1, "line 1: record.source_id (column 'id'): not valid Unicode (a lone surrogate)"),
            (2, "line 2: [[people]][0].name (column 'name'): not valid Unicode "
                "(a lone surrogate)"),
        ]
        assert store.get_record("tips", "3") is not None
    finally:
        store.close()


def test_nan_infinity_and_overflowing_numbers_are_row_errors(tmp_path: Path) -> None:
    """JSON has no NaN or Infinity, and no float holds 1e400.

    Python's json module read them as nan and inf, which became the source ids
    'nan' and 'inf' (the last two rows one record).
    """
    m = mapping(tmp_path, JSONL_MAPPING)
    data = tmp_path / "tips.jsonl"
    data.write_text('{"id": NaN, "date": "2026-01-02", "name": "Ana Lopez"}\n'
                    '{"id": Infinity, "date": "2026-01-02", "name": "Bo Li"}\n'
                    '{"id": -Infinity, "date": "2026-01-02", "name": "Bo Li"}\n'
                    '{"id": 1e400, "date": "2026-01-02", "name": "Cy Young"}\n'
                    '{"id": 1.5e3, "date": "2026-01-02", "name": "Di Ross"}\n')
    assert outcomes(m, data) == [
        (1, "line 1: not valid JSON: NaN is not a JSON value"),
        (2, "line 2: not valid JSON: Infinity is not a JSON value"),
        (3, "line 3: not valid JSON: -Infinity is not a JSON value"),
        (4, "line 4: not valid JSON: number 1e400 is out of range"),
        (5, "1500.0"),
    ]
