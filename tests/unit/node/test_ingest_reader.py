"""Tests for node.ingest.reader: streaming CSV and JSON Lines into row results."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from accord.errors import InvalidArgument, MappingError
from node.ingest.mapping import Mapping
from node.ingest.reader import RowResult, count_rows, detect_format, read_records
from node.records import Person, Record, RecordType, Role, Vehicle

FIXTURES = Path(__file__).parent / "fixtures"
CAD_MAPPING = FIXTURES / "rivertown_cad.toml"
CAD_CSV = FIXTURES / "rivertown_cad.csv"
RMS_MAPPING = FIXTURES / "lakeside_rms.toml"
RMS_JSONL = FIXTURES / "lakeside_rms.jsonl"

#: A small CSV mapping for tests that write their own input.
SMALL = """\
version = 1
source = "small"
{top}

[record]
source_id = "Id"
record_type = {{ value = "arrest" }}
occurred_on = "Date"

[[people]]
role = {{ value = "suspect" }}
name = "Name"
{tail}
"""


def small_mapping(tmp_path: Path, *, top: str = "", tail: str = "") -> Mapping:
    path = tmp_path / "small.toml"
    path.write_text(SMALL.format(top=top, tail=tail), encoding="utf-8")
    return Mapping.load(path)


def write_bytes(tmp_path: Path, name: str, content: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


def arrest(source_id: str, name: str, day: int = 2) -> Record:
    return Record(
        source="small",
        source_id=source_id,
        record_type=RecordType.ARREST,
        occurred_on=dt.date(2024, 1, day),
        people=(Person(role=Role.SUSPECT, name=name),),
        phone_region="US",  # the mapping's default_region, by default
    )


def outcomes(results: list[RowResult]) -> list[tuple[int, Record | str | None]]:
    return [(r.row_number, r.record if r.ok else r.error) for r in results]


# --------------------------------------------------------------------------- CSV fixture


def cad(source_id: str, day: int, summary: str, **fields: object) -> Record:
    return Record(
        source="rivertown_cad",
        source_id=source_id,
        record_type=RecordType.CAD_CALL,
        occurred_on=dt.date(2024, 3, day),
        jurisdiction="Rivertown",
        summary=summary,
        phone_region="US",
        **fields,  # type: ignore[arg-type]
    )


CAD_EXPECTED: list[tuple[int, Record | str]] = [
    (
        2,
        cad(
            "24-000101",
            4,
            "Caller reports a break-in, suspect fled on foot\nlast seen northbound",
            people=(
                Person(
                    role=Role.REPORTING_PARTY,
                    name="RAMIREZ, JAZMIN",
                    aliases=("Jaz", "J. Ramirez"),
                    dobs=(dt.date(1990, 7, 14),),
                    phones=("555-867-5309", "(555) 123-4567"),
                    emails=("jaz@example.org",),
                    addresses=("12 Elm St, Rivertown",),
                ),
                Person(
                    role=Role.SUSPECT,
                    given="Marcus",
                    family="O'Neil",
                    nicknames=("Skinny", "Marky"),
                    dobs=(dt.date(1988, 2, 29),),
                    labels=frozenset({"juvenile"}),
                ),
            ),
            vehicles=(Vehicle(plate="ABC1234", plate_state="TX", vin="1HGCM82633A004352"),),
            labels=frozenset({"juvenile", "sealed"}),
            extra={"priority": "2", "unit": "E12"},
        ),
    ),
    # The quoted narrative of the first row spans lines 2-3, so this row is line 4.
    (
        4,
        cad(
            "24-000102",
            5,
            "Loud party",
            people=(Person(role=Role.SUSPECT, given="Dana", family="Whitfield", nicknames=("D-Dog",)),),
            extra={"priority": "4", "unit": "unassigned"},
        ),
    ),
    (
        5,
        "line 5: record.occurred_on (column 'ReceivedAt'): got '13/45/2024 10:00', "
        "not a date in format '%m/%d/%Y %H:%M'",
    ),
    (6, "line 6: record.source_id (column 'CallNumber'): empty"),
    (7, "line 7: 3 fields, but the header has 21"),
    (
        8,
        "line 8: [[people]][0].role (column 'PartyType'): code 'XX' is not in the map, "
        "want one of [RP, S, V, W]",
    ),
    # line 9 is blank; line 10's caller has a phone but no name, so `when` skips them.
    (
        10,
        cad(
            "24-000108",
            7,
            "Abandoned vehicle",
            vehicles=(Vehicle(plate="XYZ987", plate_state="NM"),),
            extra={"priority": "5", "unit": "T2"},
        ),
    ),
    (11, "line 11: record: has neither people nor vehicles, nothing to index"),
    (12, "line 12: not valid CSV: ',' expected after '\"'"),
    (
        13,
        cad(
            "24-000111",
            8,
            "Welfare check",
            people=(Person(role=Role.VICTIM, name="Ana Lima"),),
            extra={"priority": "1", "unit": "E7"},
        ),
    ),
]


def test_csv_fixture_gives_exact_records_and_errors() -> None:
    results = list(read_records(Mapping.load(CAD_MAPPING), CAD_CSV))
    assert outcomes(results) == CAD_EXPECTED


# --------------------------------------------------------------------------- JSONL fixture


def rms(source_id: str, record_type: RecordType, occurred_on: dt.date, **fields: object) -> Record:
    return Record(
        source="lakeside_rms",
        source_id=source_id,
        record_type=record_type,
        occurred_on=occurred_on,
        jurisdiction="Lakeside",
        phone_region="US",
        **fields,  # type: ignore[arg-type]
    )


RMS_EXPECTED: list[tuple[int, Record | str]] = [
    (
        1,
        rms(
            "2024001",
            RecordType.RMS_INCIDENT,
            dt.date(2024, 3, 4),  # "04/03/2024 22:10", DMY
            summary="Assault outside the Dock bar",
            labels=frozenset({"victim"}),
            extra={"beat": "B3", "case_officer": "4411"},
            people=(
                Person(
                    role=Role.SUSPECT,
                    given="Tomas",
                    family="Becker",
                    aliases=("Tommy B", "T. Becker"),
                    dobs=(dt.date(1985, 11, 19),),
                    phones=("5551234567", "555-765-4321"),
                    emails=("tb@example.net",),
                    labels=frozenset({"confidential_source", "juvenile"}),
                ),
                # The witness has no family name, so `when = "name.last"` skips them.
                Person(role=Role.VICTIM, given="Rosa", family="Quint"),
            ),
            vehicles=(Vehicle(plate="LKS-221", plate_state="MN"),),
        ),
    ),
    # line 2 is blank
    (3, "line 3: not valid JSON: Expecting ',' delimiter (column 28)"),
    (4, "line 4: got a JSON array, want a JSON object"),
    (
        5,
        "line 5: record.record_type (column 'incident.kind'): code 'ZZZ' is not in the map, "
        "want one of [ASLT, ARR, WAR]",
    ),
    (
        6,
        "line 6: [[people]][0].dobs (column 'persons[0].dob'): got '31/02/1990', no such date "
        "(year 1990, month 2, day 31: day is out of range for month)",
    ),
    (
        7,
        rms(
            "2024007",
            RecordType.WARRANT,
            dt.date(2024, 1, 15),
            summary="Warrant served",
            labels=frozenset({"sealed", "juvenile"}),
            people=(Person(role=Role.SUSPECT, given="Kai", family="Moreno", dobs=(dt.date(2001, 6, 5),)),),
        ),
    ),
    (
        8,
        "line 8: [[people]][0].each (column 'persons'): got a JSON object, want an array of objects",
    ),
]


def test_jsonl_fixture_gives_exact_records_and_errors() -> None:
    results = list(read_records(Mapping.load(RMS_MAPPING), RMS_JSONL))
    assert outcomes(results) == RMS_EXPECTED


# --------------------------------------------------------------------------- CSV details


def test_header_missing_a_column_raises_before_any_row(tmp_path: Path) -> None:
    mapping = small_mapping(tmp_path)
    path = write_bytes(tmp_path, "in.csv", b"Id,Date,Nmae\n1,2024-01-02,Ann\n")
    with pytest.raises(MappingError) as info:
        read_records(mapping, path)  # the call itself raises: no iteration needed
    assert info.value.message == (
        f"{path}: mapping {mapping.path} names column 'Name', which the header lacks "
        "(header has: Id, Date, Nmae)"
    )


def test_header_missing_several_columns_names_them_all(tmp_path: Path) -> None:
    mapping = small_mapping(tmp_path)
    path = write_bytes(tmp_path, "in.csv", b"Id\n1\n")
    with pytest.raises(MappingError, match=r"names columns 'Date', 'Name', which the header lack"):
        read_records(mapping, path)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty, want a header line"),
        (b"Id,Date,Name,Name\n", "line 1 (header): names column 'Name' 2 times"),
        (b"Id,D\xe4te,Name\n", "line 1 (header): not valid utf-8 (byte 0xe4); set [csv] encoding"),
        (b'Id,"Date"x,Name\n', "line 1 (header): not valid CSV: ',' expected after '\"'"),
        ("Id,Date,Name\n".encode("utf-16"), "starts with a UTF-16 or UTF-32 byte-order mark"),
    ],
)
def test_bad_csv_file_raises_before_any_row(tmp_path: Path, content: bytes, reason: str) -> None:
    path = write_bytes(tmp_path, "in.csv", content)
    with pytest.raises(InvalidArgument) as info:
        read_records(small_mapping(tmp_path), path)
    assert info.value.message.startswith(f"{path}: {reason}"), info.value.message


def test_missing_input_file_raises(tmp_path: Path) -> None:
    path = tmp_path / "nope.csv"
    with pytest.raises(InvalidArgument, match=r"nope\.csv: cannot open: No such file"):
        read_records(small_mapping(tmp_path), path)


def test_csv_with_utf8_bom_and_crlf(tmp_path: Path) -> None:
    content = "\ufeffId,Date,Name\r\n1,2024-01-02,Zoë\r\n".encode()
    path = write_bytes(tmp_path, "in.csv", content)
    results = list(read_records(small_mapping(tmp_path), path))
    assert outcomes(results) == [(2, arrest("1", "Zoë"))]


def test_bom_with_a_non_utf8_encoding_is_refused(tmp_path: Path) -> None:
    mapping = small_mapping(tmp_path, tail='[csv]\nencoding = "latin-1"')
    path = write_bytes(tmp_path, "in.csv", b"\xef\xbb\xbfId,Date,Name\n")
    with pytest.raises(InvalidArgument, match="starts with a UTF-8 byte-order mark, but"):
        read_records(mapping, path)


@pytest.mark.parametrize(("encoding", "name"), [("latin-1", "Ramírez, José"), ("cp1252", "O’Brien – Ñ")])
def test_csv_in_a_single_byte_encoding(tmp_path: Path, encoding: str, name: str) -> None:
    mapping = small_mapping(tmp_path, tail=f'[csv]\nencoding = "{encoding}"')
    content = f'Id,Date,Name\n1,2024-01-02,"{name}"\n'.encode(encoding)
    path = write_bytes(tmp_path, "in.csv", content)
    assert outcomes(list(read_records(mapping, path))) == [(2, arrest("1", name))]


def test_invalid_utf8_in_a_row_is_a_row_error_and_reading_goes_on(tmp_path: Path) -> None:
    content = b"Id,Date,Name\n1,2024-01-02,Ram\xedrez\n2,2024-01-03,Ann\n"
    path = write_bytes(tmp_path, "in.csv", content)
    results = list(read_records(small_mapping(tmp_path), path))
    assert outcomes(results) == [
        (2, "line 2: column 'Name': not valid utf-8 (byte 0xed)"),
        (3, arrest("2", "Ann", day=3)),
    ]


def test_csv_delimiter_and_header_whitespace(tmp_path: Path) -> None:
    mapping = small_mapping(tmp_path, tail='[csv]\ndelimiter = ";"')
    path = write_bytes(tmp_path, "in.csv", b"Id ; Date ;Name\n1;2024-01-02; Ann \n")
    assert outcomes(list(read_records(mapping, path))) == [(2, arrest("1", "Ann"))]


def test_csv_unterminated_quote_at_end_is_a_row_error(tmp_path: Path) -> None:
    path = write_bytes(tmp_path, "in.csv", b'Id,Date,Name\n1,2024-01-02,Ann\n2,2024-01-03,"Bo\n')
    results = list(read_records(small_mapping(tmp_path), path))
    assert outcomes(results) == [
        (2, arrest("1", "Ann")),
        (3, "line 3: not valid CSV: unexpected end of data"),
    ]


def test_each_with_csv_input_raises(tmp_path: Path) -> None:
    mapping = small_mapping(tmp_path, tail='[[vehicles]]\neach = "cars"\nplate = "p"\nplate_state = "s"')
    path = write_bytes(tmp_path, "in.csv", b"Id,Date,Name,cars\n")
    with pytest.raises(MappingError, match=r"'each' is for JSON Lines input, but .* is CSV"):
        read_records(mapping, path)


def test_rows_are_read_lazily(tmp_path: Path) -> None:
    path = write_bytes(tmp_path, "in.csv", b"Id,Date,Name\n1,2024-01-02,Ann\n")
    rows = read_records(small_mapping(tmp_path), path)
    # Rows appended after the call are still seen: nothing was read ahead of iteration.
    with path.open("ab") as file:
        file.write(b"2,2024-01-03,Bo\n")
    assert [r.row_number for r in rows] == [2, 3]


# --------------------------------------------------------------------------- JSONL details


def test_jsonl_row_errors_and_continuation(tmp_path: Path) -> None:
    mapping = small_mapping(tmp_path, top='format = "jsonl"')
    lines = [
        b'{"Id": 1, "Date": "2024-01-02", "Name": "Ann"}',
        b"   ",
        b'"just text"',
        b"null",
        b'{"Id": "3", "Date": "2024-01-02", "Name": "Ram\xedrez"}',
        b"{oops}",
        b'{"Id": "", "Date": "2024-01-02", "Name": "Cy"}',
        b'{"Id": "4", "Date": "2024-01-04", "Name": "Di"}',
    ]
    path = write_bytes(tmp_path, "in.txt", b"\xef\xbb\xbf" + b"\n".join(lines))
    assert outcomes(list(read_records(mapping, path))) == [
        (1, arrest("1", "Ann")),
        (3, "line 3: got a string, want a JSON object"),
        (4, "line 4: got null, want a JSON object"),
        (5, "line 5: not valid utf-8 (byte 0xed at offset 46)"),
        (6, "line 6: not valid JSON: Expecting property name enclosed in double quotes (column 2)"),
        (7, "line 7: record.source_id (column 'Id'): empty"),
        (8, arrest("4", "Di", day=4)),
    ]


def test_jsonl_utf16_raises_before_any_row(tmp_path: Path) -> None:
    path = write_bytes(tmp_path, "in.jsonl", '{"Id": 1}\n'.encode("utf-16"))
    with pytest.raises(InvalidArgument, match="byte-order mark; save it as UTF-8"):
        read_records(small_mapping(tmp_path), path)


# --------------------------------------------------------------------------- formats and counts


@pytest.mark.parametrize(
    ("top", "name", "expected"),
    [
        ("", "a.csv", "csv"),
        ("", "a.CSV", "csv"),
        ("", "a.jsonl", "jsonl"),
        ("", "a.ndjson", "jsonl"),
        ('format = "jsonl"', "a.csv", "jsonl"),
        ('format = "csv"', "a.txt", "csv"),
    ],
)
def test_detect_format(tmp_path: Path, top: str, name: str, expected: str) -> None:
    assert detect_format(small_mapping(tmp_path, top=top), Path(name)) == expected


def test_unknown_extension_without_format_raises(tmp_path: Path) -> None:
    mapping = small_mapping(tmp_path)
    with pytest.raises(InvalidArgument, match=r"a\.txt: cannot tell the format .* set format in"):
        read_records(mapping, tmp_path / "a.txt")


@pytest.mark.parametrize(
    ("name", "content", "fmt", "expected"),
    [
        ("a.csv", b"", None, 0),
        ("a.csv", b"H\n", None, 0),
        ("a.csv", b"H\n1\n2\n", None, 2),
        ("a.csv", b"H\r\n1\r\n2", None, 2),  # no final newline
        ("a.jsonl", b"{}\n{}\n{}\n", None, 3),
        ("a.ndjson", b"{}\n{}", None, 2),
        ("a.txt", b"{}\n{}\n", None, None),
        ("a.txt", b"{}\n{}\n", "jsonl", 2),
        ("a.txt", b"H\n1\n", "csv", 1),
    ],
)
def test_count_rows(tmp_path: Path, name: str, content: bytes, fmt: str | None, expected: int | None) -> None:
    path = write_bytes(tmp_path, name, content)
    assert count_rows(path, fmt) == expected  # type: ignore[arg-type]


def test_count_rows_of_fixtures_and_missing_files(tmp_path: Path) -> None:
    # 13 lines: a header, a row spanning two lines, a blank line; an overestimate by 2.
    assert count_rows(CAD_CSV) == 12
    assert count_rows(RMS_JSONL) == 8
    assert count_rows(tmp_path / "missing.csv") is None
    assert count_rows(tmp_path) is None  # a directory


def test_count_rows_spans_chunks(tmp_path: Path) -> None:
    path = write_bytes(tmp_path, "big.jsonl", b"{}\n" * 1_000_000)  # 3 MB, several chunks
    assert count_rows(path) == 1_000_000


def test_row_result_holds_exactly_one_outcome() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        RowResult(2, None, None)
    with pytest.raises(ValueError, match="exactly one"):
        RowResult(2, arrest("1", "Ann"), "line 2: both")
