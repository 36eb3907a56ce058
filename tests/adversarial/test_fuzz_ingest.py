"""Property-based fuzzing of the ingest parsers: mapping files and source files.

An agency's mapping and its export files come from outside Accord: a typo, a
truncated export or a hostile file must end in our own error (naming the file
and key, or the line) or a row-level rejection, never in a stray exception.

* ``Mapping.load`` on random TOML (random text, random bytes, random documents
  built from the mapping's own vocabulary, and mutations of a real mapping):
  loads, or raises :class:`accord.errors.MappingError`.
* ``read_records`` on random CSV and JSON Lines bytes through real mappings:
  raises :class:`InvalidArgument`/:class:`MappingError` from the call, or
  yields one well-formed :class:`RowResult` per row; a record's identifiers
  normalise or are rejected with :class:`InvalidArgument`, as ingest does.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import json
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from hypothesis import example, given
from hypothesis import strategies as st

from accord.errors import InvalidArgument, MappingError
from node import normalize
from node.ingest.mapping import Mapping
from node.ingest.reader import RowResult, read_records
from node.records import Record

EXAMPLES = Path(__file__).resolve().parents[2] / "deploy" / "examples"
CAD = EXAMPLES / "rivertown_cad.toml"
TIPS = EXAMPLES / "tip_hotline_tips.toml"


@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    # Hypothesis runs many examples per test: one directory, files overwritten.
    with tempfile.TemporaryDirectory(prefix="fuzz-ingest-") as name:
        yield Path(name)


# --- mapping files ----------------------------------------------------------------------------

KEYS = ["version", "source", "format", "date_order", "default_region", "csv", "delimiter",
        "encoding", "record", "source_id", "record_type", "occurred_on", "jurisdiction",
        "summary", "labels", "extra", "people", "vehicles", "role", "name", "given", "family",
        "aliases", "nicknames", "dobs", "phones", "emails", "addresses", "plate", "plate_state",
        "vin", "when", "each", "column", "value", "split", "date_format", "map", "default"]
WORDS = ["csv", "jsonl", "MDY", "DMY", "US", "GB", "utf-8", "latin-1", "cp1252", "utf-16",
         "cad_call", "arrest", "suspect", "victim", "sealed", "%m/%d/%Y", "%Y", "%H:%M", "%",
         ";", ",", "", " ", "Name", "a.b.c", "persons", "x" * 300, "\x00", "é"]

SCALARS = st.one_of(
    st.sampled_from(WORDS), st.text(max_size=20), st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True), st.booleans(),
    st.dates(min_value=dt.date(1, 1, 1)), st.datetimes(),
)


def toml_values(depth: int = 0) -> st.SearchStrategy[Any]:
    if depth >= 3:
        return SCALARS
    inner = toml_values(depth + 1)
    return st.one_of(
        SCALARS,
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(KEYS), inner, max_size=5),
        st.lists(st.dictionaries(st.sampled_from(KEYS), inner, max_size=4), max_size=3),
    )


DOCUMENTS = st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=8), toml_values(),
                            max_size=8)
#: What a real mapping is made of, for mutations that stay close to valid.
BASE = CAD.read_text(encoding="utf-8")


def load(workdir: Path, data: bytes) -> Mapping | None:
    path = workdir / "m.toml"
    path.write_bytes(data)
    try:
        return Mapping.load(path)
    except MappingError as exc:
        error = exc
    assert str(path) in error.message, error.message  # names the file
    return None


@given(st.binary(max_size=400))
@example(b"\xff\xfe\x00v")
@example(b"version = 1\n" + b"[" * 10_000)
def test_fuzz_mapping_load_on_random_bytes(workdir: Path, data: bytes) -> None:
    load(workdir, data)


@given(st.text(max_size=400))
@example("version = 1\nsource = 'x'\n" + "a = [" * 5000)
@example("version = 1\nsource = 'x'\n" + "a = {b = " * 5000)
def test_fuzz_mapping_load_on_random_text(workdir: Path, text: str) -> None:
    load(workdir, text.encode("utf-8", "surrogatepass"))


@given(DOCUMENTS)
def test_fuzz_mapping_load_on_random_documents(workdir: Path, doc: dict[str, Any]) -> None:
    try:
        data = tomli_w.dumps(doc).encode()
    except (TypeError, ValueError):
        return  # not representable as TOML (e.g. NaN keys): nothing to load
    load(workdir, data)


@given(st.data())
def test_fuzz_mapping_load_on_mutated_real_mappings(workdir: Path, data: st.DataObject) -> None:
    lines = BASE.splitlines()
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(lines) - 1))
        line = lines[i]
        choice = data.draw(st.sampled_from(["drop", "value", "key", "dup", "garble"]))
        if choice == "drop":
            lines.pop(i)
        elif choice == "value" and "=" in line:
            key = line.split("=", 1)[0]
            value = data.draw(st.one_of(SCALARS, st.lists(SCALARS, max_size=3)))
            try:
                rendered = tomli_w.dumps({"v": value})
            except (TypeError, ValueError):
                continue
            if rendered.startswith("v = "):
                lines[i] = key + "= " + rendered[4:].strip()
        elif choice == "key" and "=" in line:
            lines[i] = data.draw(st.sampled_from(KEYS)) + " =" + line.split("=", 1)[1]
        elif choice == "dup":
            lines.insert(i, line)
        else:
            lines[i] = data.draw(st.text(max_size=30))
        if not lines:
            break
    load(workdir, "\n".join(lines).encode())


# --- source files -----------------------------------------------------------------------------


def identifiers_normalise_or_reject(record: Record, default_region: str) -> None:
    """Each identifier normalises or raises InvalidArgument, as ingest expects."""
    def check(fn: Any, *args: Any) -> None:
        with contextlib.suppress(InvalidArgument):
            fn(*args)

    for person in record.people:
        check(normalize.parse_name, person.name)
        for alias in person.aliases:
            check(normalize.parse_name, alias)
        for phone in person.phones:
            check(normalize.normalize_phone, phone, default_region)
        for email in person.emails:
            check(normalize.normalize_email, email)
        for address in person.addresses:
            check(normalize.normalize_address, address)
    for vehicle in record.vehicles:
        if vehicle.plate:
            check(normalize.normalize_plate, vehicle.plate, vehicle.plate_state)
        if vehicle.vin:
            check(normalize.normalize_vin, vehicle.vin)


def read_all(mapping: Mapping, path: Path) -> list[RowResult]:
    """Every row, or our whole-file error; anything else escapes and fails the test."""
    try:
        rows = list(read_records(mapping, path))
    except (InvalidArgument, MappingError):
        return []
    for row in rows:
        assert (row.record is None) != (row.error is None)
        if row.error is not None:
            assert row.error.startswith(f"line {row.row_number}:"), row.error
        else:
            assert isinstance(row.record, Record)
            identifiers_normalise_or_reject(row.record, mapping.default_region)
    numbers = [row.row_number for row in rows]
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)
    return rows


CELLS = st.one_of(
    st.sampled_from(["", "03/04/1999", "13/45/2020", "09/14/2026 14:03", "RAMIREZ, JAZMIN",
                     "Jazmin Ramirez", "SUSP", "VICT", "XX", "(503) 555-0142", "555", "OR",
                     "7KDX214", "sealed;minor", ";;", "\"", "\r", "\n", "\x00", "\ufeff",
                     "ÿ", "9" * 400, "a,b", "=cmd|' /C calc'!A0"]),
    st.text(max_size=40),
)


@pytest.fixture(scope="module")
def cad() -> Mapping:
    return Mapping.load(CAD)


@pytest.fixture(scope="module")
def tips() -> Mapping:
    return Mapping.load(TIPS)


def csv_text(header: list[str], rows: list[list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


@given(st.data())
def test_fuzz_csv_rows_through_a_real_mapping(workdir: Path, cad: Mapping,
                                              data: st.DataObject) -> None:
    header = list(cad.columns)
    if data.draw(st.booleans()):
        header = data.draw(st.permutations(header))
    rows = data.draw(st.lists(st.lists(CELLS, min_size=len(header) - 1,
                                       max_size=len(header) + 1), max_size=8))
    path = workdir / "cad.csv"
    path.write_text(csv_text(header, rows), encoding="utf-8", errors="surrogatepass")
    results = read_all(cad, path)
    assert len(results) <= len(rows)


@given(st.binary(max_size=600))
@example(b"\xef\xbb\xbf")
@example(b"\xff\xfeC\x00a\x00")
@example(b"CallNumber\n\"unterminated")
def test_fuzz_csv_bytes_through_a_real_mapping(workdir: Path, cad: Mapping, raw: bytes) -> None:
    header = ",".join(cad.columns).encode() + b"\n"
    for data in (raw, header + raw):
        path = workdir / "cad.csv"
        path.write_bytes(data)
        read_all(cad, path)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | CELLS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(
        st.sampled_from(["tip_id", "received", "summary", "labels", "persons", "name", "role",
                         "nickname", "phone", "dob", "vehicle", "plate", "state"]) | st.text(
            max_size=5), children, max_size=6),
    max_leaves=20,
)


@given(st.lists(JSON, max_size=6))
def test_fuzz_jsonl_values_through_a_real_mapping(workdir: Path, tips: Mapping,
                                                  values: list[Any]) -> None:
    path = workdir / "tips.jsonl"
    path.write_text("".join(json.dumps(v) + "\n" for v in values), encoding="utf-8")
    read_all(tips, path)


@given(st.binary(max_size=600))
@example(b"[" * 100_000 + b"\n")
@example(b'{"tip_id": 1' + b"9" * 5000 + b"}\n")
@example(b'{"persons": ' + b"[" * 3000 + b"]" * 3000 + b"}\n")
def test_fuzz_jsonl_bytes_through_a_real_mapping(workdir: Path, tips: Mapping, raw: bytes) -> None:
    path = workdir / "tips.jsonl"
    path.write_bytes(raw)
    read_all(tips, path)
