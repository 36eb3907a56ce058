"""Tests for node.ingest.mapping: loading mapping files and turning rows into records."""

from __future__ import annotations

import datetime as dt
import pickle
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest

from accord.errors import InvalidRecord, MappingError
from node.ingest.mapping import Mapping
from node.records import Person, Record, RecordType, Role, Vehicle

FIXTURES = Path(__file__).parent / "fixtures"

#: The smallest valid mapping; error cases below add to it or replace parts of it.
BASE = """\
version = 1
source = "test_src"

[record]
source_id = "Id"
record_type = { value = "cad_call" }
occurred_on = "Date"

[[people]]
role = { value = "suspect" }
name = "Name"
"""


def write(tmp_path: Path, text: str, name: str = "m.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def load(tmp_path: Path, text: str) -> Mapping:
    return Mapping.load(write(tmp_path, text))


def base_with(*, top: str = "", record: str = "", person: str = "", tail: str = "") -> str:
    """BASE with lines added to the top level, [record], the [[people]] block and the end."""
    text = BASE.replace("[record]\n", f"{top}\n[record]\n{record}\n")
    return text + person + "\n" + tail


# --------------------------------------------------------------------------- loading


def test_fixtures_load() -> None:
    cad = Mapping.load(FIXTURES / "rivertown_cad.toml")
    assert (cad.source, cad.format, cad.date_order, cad.default_region) == (
        "rivertown_cad",
        "csv",
        "MDY",
        "US",
    )
    assert cad.path == FIXTURES / "rivertown_cad.toml"
    assert "CallNumber" in cad.columns
    assert "PlateState" in cad.columns
    rms = Mapping.load(FIXTURES / "lakeside_rms.toml")
    assert (rms.format, rms.date_order) == (None, "DMY")
    assert rms.uses_each
    # Columns inside `each` blocks are relative to the elements: only the array is listed.
    assert "persons" in rms.columns
    assert "name.last" not in rms.columns


def test_mappings_compare_and_hash_by_content() -> None:
    first = Mapping.load(FIXTURES / "rivertown_cad.toml")
    second = Mapping.load(FIXTURES / "rivertown_cad.toml")
    assert first == second
    assert hash(first) == hash(second)  # usable as a cache key
    assert first != Mapping.load(FIXTURES / "lakeside_rms.toml")


def test_defaults_of_optional_top_level_keys(tmp_path: Path) -> None:
    mapping = load(tmp_path, BASE)
    assert mapping.format is None
    assert mapping.date_order == "MDY"
    assert mapping.default_region == "US"
    assert (mapping.csv_options.delimiter, mapping.csv_options.encoding) == (",", "utf-8")


LOAD_ERRORS: list[tuple[str, str, str]] = [
    # (mapping text, key the message names, reason fragment)
    ("version = \nsource = 'x'", "", "not valid TOML: "),
    (BASE.replace("version = 1\n", ""), "version", "required key missing"),
    (BASE.replace('source = "test_src"\n', ""), "source", "required key missing"),
    (BASE.replace('occurred_on = "Date"\n', ""), "record.occurred_on", "required key missing"),
    (BASE.replace('source_id = "Id"\n', ""), "record.source_id", "required key missing"),
    (
        BASE.replace('role = { value = "suspect" }\n', ""),
        "[[people]][0].role",
        "required key missing",
    ),
    ("version = 1\nsource = 'x'\n", "record", "required key missing"),
    # unknown keys, with and without a close match
    (base_with(record='sumary = "S"'), "record.sumary", "unknown key, did you mean 'summary'?"),
    (base_with(top="zzz = 1"), "zzz", "unknown key, want one of [version, source, format"),
    (
        BASE.replace('occurred_on = "Date"', 'occurred_on = { colum = "Date" }'),
        "record.occurred_on.colum",
        "unknown key, did you mean 'column'?",
    ),
    (
        base_with(tail='[csv]\ndelimeter = ";"'),
        "csv.delimeter",
        "unknown key, did you mean 'delimiter'?",
    ),
    (
        base_with(tail='[[person]]\nrole = { value = "victim" }\nname = "V"'),
        "person",
        "unknown key, did you mean 'people'?",
    ),
    (
        base_with(tail='[[vehicles]]\nplate = "P"\nplate_state = "S"\nvim = "V"'),
        "[[vehicles]][0].vim",
        "unknown key, did you mean 'vin'?",
    ),
    # constants are checked at load
    (
        BASE.replace('{ value = "cad_call" }', '{ value = "cad" }'),
        "record.record_type.value",
        "got 'cad', want one of [cad_call, rms_incident, arrest",
    ),
    (
        BASE.replace('{ value = "suspect" }', '{ value = "perp" }'),
        "[[people]][0].role.value",
        "got 'perp', want one of [suspect, victim, witness, reporting_party, other]",
    ),
    (
        BASE.replace('{ value = "suspect" }', '{ column = "R", map = { P = "perp" } }'),
        "[[people]][0].role.map.P",
        "got 'perp', want one of [suspect,",
    ),
    (
        BASE.replace('{ value = "cad_call" }', '{ column = "T", default = "call" }'),
        "record.record_type.default",
        "got 'call', want one of [cad_call,",
    ),
    (
        BASE.replace('occurred_on = "Date"', 'occurred_on = { value = "yesterday" }'),
        "record.occurred_on.value",
        "got 'yesterday', not a date in a known format",
    ),
    (
        base_with(record='labels = { value = "Not A Label" }'),
        "record.labels.value",
        "got 'Not A Label', want a lowercase word like 'sealed'",
    ),
    (
        base_with(record='labels = { column = "F", map = { X = "Bad Label" } }'),
        "record.labels.map.X",
        "got 'Bad Label', want a lowercase word",
    ),
    # field spec shapes
    (
        BASE.replace('{ value = "cad_call" }', '{ column = "T", value = "cad_call" }'),
        "record.record_type",
        "has both 'column' and 'value', want exactly one",
    ),
    (
        BASE.replace('{ value = "cad_call" }', '{ split = ";" }'),
        "record.record_type",
        "has neither 'column' nor 'value', want exactly one",
    ),
    (
        BASE.replace('{ value = "cad_call" }', '{ value = "cad_call", map = { C = "cad_call" } }'),
        "record.record_type.map",
        "only with 'column', not with a constant 'value'",
    ),
    (
        base_with(record='extra = { "my key" = "K" }'),
        "record.extra.my key",
        "want a name of letters, digits and '_'",
    ),
    (base_with(record="summary = 5"), "record.summary", "got 5, want a column name or a table"),
    (base_with(record='summary = ""'), "record.summary.column", "must not be empty"),
    (
        BASE.replace('name = "Name"', 'name = { column = "Name", split = ";" }'),
        "[[people]][0].name.split",
        "only list fields take a separator (name is one value)",
    ),
    (
        BASE.replace('name = "Name"', 'name = { column = "Name", date_format = "%Y" }'),
        "[[people]][0].name.date_format",
        "only date fields take a date_format (name is text)",
    ),
    (
        BASE.replace('occurred_on = "Date"', 'occurred_on = { column = "D", date_format = "%H:%M" }'),
        "record.occurred_on.date_format",
        "got '%H:%M', which does not read year, month and day",
    ),
    (
        BASE.replace('occurred_on = "Date"', 'occurred_on = { column = "D", date_format = "%Q" }'),
        "record.occurred_on.date_format",
        "got '%Q', not a strptime format",
    ),
    (
        BASE.replace('role = { value = "suspect" }', 'role = { column = "R", map = {} }'),
        "[[people]][0].role.map",
        "is empty, want at least one code",
    ),
    # top-level values
    (BASE.replace("version = 1", "version = 2"), "version", "got 2, want 1"),
    (BASE.replace("version = 1", 'version = "1"'), "version", "got '1', want 1"),
    (BASE.replace("version = 1", "version = true"), "version", "got true, want 1"),
    (base_with(top='date_order = "YMD"'), "date_order", "got 'YMD', want one of [MDY, DMY]"),
    (base_with(top='format = "xlsx"'), "format", "got 'xlsx', want one of [csv, jsonl]"),
    (base_with(top='default_region = "usa"'), "default_region", "got 'usa', want a region code"),
    # Well formed, but no region: every phone was then rejected, row by row.
    (base_with(top='default_region = "XX"'), "default_region", "got 'XX', want a region code"),
    (
        BASE.replace('"test_src"', '"Test Source"'),
        "source",
        "got 'Test Source', want a name of letters, digits",
    ),
    (base_with(tail='[csv]\ndelimiter = ";;"'), "csv.delimiter", "got ';;', want one character"),
    (
        base_with(tail='[csv]\nencoding = "utf-16"'),
        "csv.encoding",
        "got 'utf-16', want one of [utf-8, latin-1, cp1252]",
    ),
    (
        base_with(top='format = "jsonl"', tail='[csv]\ndelimiter = ";"'),
        "csv",
        "only for CSV input, but format is 'jsonl'",
    ),
    (
        base_with(top='format = "csv"', person='each = "persons"'),
        "[[people]][0].each",
        "only for JSON Lines input, but format is 'csv'",
    ),
    (
        BASE.replace("[[people]]", "[people]"),
        "people",
        "got a table, want an array of tables: [[people]]",
    ),
    (
        base_with(tail='[[vehicles]]\nplate = "P"'),
        "[[vehicles]][0]",
        "maps 'plate' but not 'plate_state'",
    ),
    (base_with(tail='[[vehicles]]\nvin = { value = "X" }'), "[[vehicles]][0]", "names no column"),
]


@pytest.mark.parametrize(("text", "where", "reason"), LOAD_ERRORS)
def test_load_error_names_file_and_key(tmp_path: Path, text: str, where: str, reason: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(MappingError) as info:
        Mapping.load(path)
    prefix = f"{path}: {where}: " if where else f"{path}: "
    assert info.value.message.startswith(prefix), info.value.message
    assert reason in info.value.message


@pytest.mark.parametrize(
    ("singular", "plural"),
    [
        ("phone", "phones"),
        ("email", "emails"),
        ("dob", "dobs"),
        ("address", "addresses"),
        ("alias", "aliases"),
        ("nickname", "nicknames"),
        ("label", "labels"),
    ],
)
def test_singular_list_field_suggests_plural(tmp_path: Path, singular: str, plural: str) -> None:
    path = write(tmp_path, base_with(person=f'{singular} = "X"'))
    with pytest.raises(MappingError) as info:
        Mapping.load(path)
    assert info.value.message == (f"{path}: [[people]][0].{singular}: unknown key, did you mean {plural!r}?")


def test_second_block_is_counted_from_zero(tmp_path: Path) -> None:
    path = write(tmp_path, base_with(tail='[[people]]\nrole = "R"\nphone = "P"'))
    with pytest.raises(MappingError) as info:
        Mapping.load(path)
    assert info.value.message == f"{path}: [[people]][1].phone: unknown key, did you mean 'phones'?"


@pytest.mark.parametrize(
    ("content", "reason"),
    [(None, "cannot read: No such file or directory"), (b"version = \xff1", "not valid UTF-8")],
)
def test_unreadable_mapping_file(tmp_path: Path, content: bytes | None, reason: str) -> None:
    path = tmp_path / "m.toml"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(MappingError) as info:
        Mapping.load(path)
    assert info.value.message.startswith(f"{path}: {reason}")


def test_mapping_file_with_bom_loads(tmp_path: Path) -> None:
    path = tmp_path / "m.toml"
    path.write_bytes(b"\xef\xbb\xbf" + BASE.encode())
    assert Mapping.load(path).source == "test_src"


# --------------------------------------------------------------------------- rows

#: A mapping that exercises every field-spec form against dict rows.
ROWS = """\
version = 1
source = "test_src"
date_order = "DMY"

[record]
source_id = "Id"
record_type = { column = "Type", map = { C = "cad_call", A = "arrest" }, default = "rms_incident" }
occurred_on = "Date"
jurisdiction = { value = "Elmira" }
summary = "Text"
labels = { column = "Flags", split = ";", map = { J = "juvenile", S = "sealed", N = "" } }
extra = { beat = "Beat", shift = { column = "Shift", default = "day" } }

[[people]]
role = { column = "Role", map = { S = "suspect", V = "victim" } }
name = "Name"
aliases = { column = "AKA", split = ";" }
dobs = { column = "DOB", split = ";" }
phones = { column = "Phones", split = ";" }
emails = "Email"
addresses = "Address"

[[vehicles]]
plate = "Plate"
plate_state = { column = "State", default = "NY" }
vin = "VIN"
when = "Plate"
"""

GOOD_ROW: dict[str, Any] = {
    "Id": " 17 ",
    "Type": "C",
    "Date": "03/04/2024",
    "Text": "Shots heard",
    "Flags": "J; N ;; S",
    "Beat": "B2",
    "Shift": "",
    "Role": "S",
    "Name": "Doe, John",
    "AKA": "JD;  ;Johnny",
    "DOB": "01/02/1990; 1990-02-01",
    "Phones": "555-0100",
    "Email": "",
    "Address": "1 Main St",
    "Plate": "",
    "State": "",
    "VIN": "",
}


@pytest.fixture
def rows_mapping(tmp_path: Path) -> Mapping:
    return load(tmp_path, ROWS)


def test_to_record_builds_exactly_the_expected_record(rows_mapping: Mapping) -> None:
    expected = Record(
        source="test_src",
        source_id="17",
        record_type=RecordType.CAD_CALL,
        occurred_on=dt.date(2024, 4, 3),  # DMY
        jurisdiction="Elmira",
        summary="Shots heard",
        labels=frozenset({"juvenile", "sealed"}),  # "N" maps to nothing
        extra={"beat": "B2", "shift": "day"},
        people=(
            Person(
                role=Role.SUSPECT,
                name="Doe, John",
                aliases=("JD", "Johnny"),
                dobs=(dt.date(1990, 2, 1),),  # two spellings of one date
                phones=("555-0100",),
                addresses=("1 Main St",),
            ),
        ),
        phone_region="US",  # the mapping's default_region, by default
    )
    assert rows_mapping.to_record(GOOD_ROW) == expected


def test_default_is_used_for_empty_column_and_not_mapped(rows_mapping: Mapping) -> None:
    record = rows_mapping.to_record({**GOOD_ROW, "Type": "  "})
    assert record.record_type is RecordType.RMS_INCIDENT


def test_vehicle_default_state_and_when(rows_mapping: Mapping) -> None:
    record = rows_mapping.to_record({**GOOD_ROW, "Plate": "ABC123"})
    assert record.vehicles == (Vehicle(plate="ABC123", plate_state="NY"),)
    # `when = "Plate"`: a VIN alone does not make the block read.
    assert rows_mapping.to_record({**GOOD_ROW, "VIN": "1HGCM82633A004352"}).vehicles == ()


def test_missing_columns_count_as_empty(rows_mapping: Mapping) -> None:
    row = {key: GOOD_ROW[key] for key in ("Id", "Date", "Role", "Name")}
    record = rows_mapping.to_record(row)
    assert record.extra == {"shift": "day"}  # empty extras are left out, defaults kept
    assert record.labels == frozenset()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"Id": "  "}, "record.source_id (column 'Id'): empty"),
        (
            {"Date": "31/02/2024"},
            "record.occurred_on (column 'Date'): got '31/02/2024', no such date",
        ),
        ({"Date": ""}, "record.occurred_on (column 'Date'): empty"),
        (
            {"Type": "Z"},
            "record.record_type (column 'Type'): code 'Z' is not in the map, want one of [C, A]",
        ),
        (
            {"Flags": "J;Q"},
            "record.labels (column 'Flags'): code 'Q' is not in the map, want one of [J, S, N]",
        ),
        ({"Role": ""}, "[[people]][0].role (column 'Role'): empty"),
        (
            {"Role": "s"},  # codes match exactly
            "[[people]][0].role (column 'Role'): code 's' is not in the map, want one of [S, V]",
        ),
        ({"DOB": "1990-01-01;someday"}, "[[people]][0].dobs (column 'DOB'): got 'someday', not a"),
        ({"Name": "Doe\x07"}, "[[people]][0].name (column 'Name'): contains control characters"),
        # A JSON escape such as \ud800 gives a lone surrogate, which no database can store.
        ({"Name": "Doe\ud800"},
         "[[people]][0].name (column 'Name'): not valid Unicode (a lone surrogate)"),
        # DOB and address alone cannot make a person: the block is skipped, leaving nobody.
        (
            {"Role": "", "Name": "", "Phones": "", "AKA": ""},
            "record: has neither people nor vehicles, nothing to index",
        ),
    ],
)
def test_row_errors_name_key_and_column(rows_mapping: Mapping, changes: dict[str, str], message: str) -> None:
    row = {**GOOD_ROW, **changes}
    with pytest.raises(InvalidRecord) as info:
        rows_mapping.to_record(row)
    assert info.value.message.startswith(message), info.value.message


def test_plate_without_state_is_a_row_error(tmp_path: Path) -> None:
    mapping = load(tmp_path, base_with(tail='[[vehicles]]\nplate = "Plate"\nplate_state = "State"'))
    row = {"Id": "1", "Date": "2024-01-01", "Name": "A", "Plate": "ABC", "State": " "}
    with pytest.raises(InvalidRecord) as info:
        mapping.to_record(row)
    assert info.value.message == (
        "[[vehicles]][0].plate_state (column 'State'): a plate needs its issuing state"
    )


def test_default_when_rule_skips_block_with_all_columns_empty(tmp_path: Path) -> None:
    mapping = load(
        tmp_path,
        base_with(tail='[[people]]\nrole = { value = "victim" }\nname = "Victim"\ndobs = "VDob"'),
    )
    row = {"Id": "1", "Date": "2024-01-01", "Name": "A", "Victim": "", "VDob": ""}
    assert [p.role for p in mapping.to_record(row).people] == [Role.SUSPECT]
    # A block that reads only a DOB cannot make a person: it is skipped, not an error.
    row["VDob"] = "1990-01-01"
    assert [p.role for p in mapping.to_record(row).people] == [Role.SUSPECT]
    row["Victim"] = "B"
    victim = mapping.to_record(row).people[1]
    assert victim == Person(role=Role.VICTIM, name="B", dobs=(dt.date(1990, 1, 1),))


def test_explicit_when_skips_even_if_other_columns_are_filled(tmp_path: Path) -> None:
    mapping = load(tmp_path, base_with(person='phones = "Phone"\nwhen = "Name"'))
    row = {"Id": "1", "Date": "2024-01-01", "Name": "", "Phone": "555-0100"}
    with pytest.raises(InvalidRecord, match="has neither people nor vehicles"):
        mapping.to_record(row)


# --------------------------------------------------------------------------- JSON rows

JSON_MAPPING = """\
version = 1
source = "tips"
format = "jsonl"

[record]
source_id = "id"
record_type = { value = "hotline_tip" }
occurred_on = "meta.received"
summary = "meta.text"
labels = "meta.tags"

[[people]]
each = "subjects"
role = { column = "kind", default = "other" }
given = "name.given"
family = "name.family"
phones = "phones"
when = "name.family"
"""


@pytest.fixture
def json_mapping(tmp_path: Path) -> Mapping:
    return load(tmp_path, JSON_MAPPING)


def test_json_nested_paths_each_numbers_and_arrays(json_mapping: Mapping) -> None:
    row = {
        "id": 991,
        "meta": {"received": "2024-05-06T10:00:00Z", "text": None, "tags": ["sealed"]},
        "subjects": [
            {"kind": "Victim", "name": {"given": "Ann", "family": "Lee"}, "phones": [5550100]},
            {"kind": "suspect", "name": {"given": "Bo"}},  # no family: `when` skips it
            None,
            {"name": {"family": "Cruz"}, "phones": "555-0199"},
        ],
    }
    record = json_mapping.to_record(row)
    assert record == Record(
        source="tips",
        source_id="991",
        record_type=RecordType.HOTLINE_TIP,
        occurred_on=dt.date(2024, 5, 6),
        labels=frozenset({"sealed"}),
        people=(
            Person(role=Role.VICTIM, given="Ann", family="Lee", phones=("5550100",)),
            Person(role=Role.OTHER, family="Cruz", phones=("555-0199",)),
        ),
        phone_region="US",
    )


def test_json_key_containing_a_dot_is_found_before_a_path(json_mapping: Mapping) -> None:
    row = {
        "id": "1",
        "meta.received": "2024-05-06",
        "meta": {"received": "1999-01-01"},
        "subjects": [{"name": {"family": "Lee"}}],
    }
    assert json_mapping.to_record(row).occurred_on == dt.date(2024, 5, 6)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (
            {"id": "1", "meta": {"received": "2024-01-01"}, "subjects": "Lee"},
            "[[people]][0].each (column 'subjects'): got a string, want an array of objects",
        ),
        (
            {"id": "1", "meta": {"received": "2024-01-01"}, "subjects": [["Lee"]]},
            "[[people]][0].each (column 'subjects[0]'): got a JSON array, want an object",
        ),
        (
            {"id": "1", "meta": {"received": "2024-01-01"}, "subjects": [{"name": "Lee"}]},
            "[[people]][0] (column 'subjects[0].name.family'): 'name' is a string, not an object",
        ),
        (
            {"id": True, "meta": {"received": "2024-01-01"}},
            "record.source_id (column 'id'): got true, want text, a number or an array of them",
        ),
        (
            {"id": ["1", "2"], "meta": {"received": "2024-01-01"}},
            "record.source_id (column 'id'): got 2 values, want one",
        ),
        (
            {"id": "1", "meta": {"received": "2024-01-01", "tags": [{"a": 1}]}},
            "record.labels (column 'meta.tags'): got a JSON object, want text",
        ),
        (
            {
                "id": "1",
                "meta": {"received": "2024-01-01"},
                "subjects": [{}, {"kind": "perp", "name": {"family": "Lee"}}],
            },
            "[[people]][0].role (column 'subjects[1].kind'): got 'perp', want one of [suspect,",
        ),
    ],
)
def test_json_row_errors(json_mapping: Mapping, row: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidRecord) as info:
        json_mapping.to_record(row)
    assert info.value.message.startswith(message), info.value.message


@pytest.mark.parametrize("path", sorted(Path(__file__).parents[3].joinpath("deploy", "examples")
                                        .glob("*.toml")), ids=lambda p: p.stem)
def test_a_mapping_pickles_to_an_equal_mapping(path: Path) -> None:
    """Ingest workers are sent the mapping: it must arrive whole (maps, constants, blocks)."""
    mapping = Mapping.load(path)
    copy = pickle.loads(pickle.dumps(mapping))
    assert copy == mapping
    specs = [*mapping.record.fields.values(), *mapping.extra,
             *(s for part in (*mapping.people, *mapping.vehicles) for s in part.fields.values())]
    copies = [*copy.record.fields.values(), *copy.extra,
              *(s for part in (*copy.people, *copy.vehicles) for s in part.fields.values())]
    assert [s.codes for s in copies] == [s.codes for s in specs]
    assert all(isinstance(s.codes, MappingProxyType) for s in copies if s.codes is not None)


@pytest.mark.parametrize(("cell", "year"), [("0999-09-14", 999), ("0001-01-01", 1),
                                            ("9999-12-31", 9999)])
def test_a_date_format_reads_only_the_years_the_normaliser_reads(
    tmp_path: Path, cell: str, year: int,
) -> None:
    # strptime takes year 1; such a record, once stored, made every pointer to it malformed.
    iso = '{ column = "%s", date_format = "%%Y-%%m-%%d" }'
    mapping = load(tmp_path, BASE.replace('occurred_on = "Date"', f"occurred_on = {iso % 'Date'}")
                   .replace('name = "Name"', f'name = "Name"\ndobs = {iso % "Dob"}'))
    good = {"Id": "1", "Date": "2026-09-14", "Name": "Ann Lee", "Dob": "1999-03-04"}
    assert mapping.to_record(good).occurred_on == dt.date(2026, 9, 14)
    with pytest.raises(InvalidRecord) as info:
        mapping.to_record({**good, "Date": cell})
    assert info.value.message == (f"record.occurred_on (column 'Date'): got {cell}, "
                                  f"year {year} outside 1800..2199")
    with pytest.raises(InvalidRecord) as info:
        mapping.to_record({**good, "Dob": cell})
    assert info.value.message.startswith("[[people]][0].dobs (column 'Dob'): got ")


def test_extra_columns_are_checked_like_any_text(tmp_path: Path) -> None:
    mapping = load(tmp_path, BASE + '\n[record.extra]\nnote = "Note"\n')
    good = {"Id": "1", "Date": "2026-09-14", "Name": "Ann Lee"}
    assert mapping.to_record({**good, "Note": " seen "}).extra == {"note": "seen"}
    with pytest.raises(InvalidRecord) as info:
        mapping.to_record({**good, "Note": "bell\x07"})
    assert info.value.message == "record.extra.note (column 'Note'): contains control characters"
