"""Streaming readers: an input file and its mapping become a stream of row results.

:func:`read_records` reads CSV or JSON Lines one line at a time, so it works on
files of any size. Problems with the file as a whole (it is missing, it is
UTF-16, its CSV header lacks a column the mapping names) raise from the call
itself, before any row is read. Problems with one row (a wrong number of CSV
fields, a line that is not a JSON object, a bad date, bytes that are not valid
in the file's encoding) become a :class:`RowResult` carrying the error, and
reading goes on with the next row, so one bad row never stops a load.

Rows are numbered by the line of the file they start on, as an editor shows it:
in CSV the header is line 1 and the first data row line 2; in JSON Lines the
first line is line 1. Blank lines are skipped silently.

Files are split into lines on ``\n`` as read in binary, which is what the csv
module asks for (``newline=""``): a quoted cell may span lines, and one that
does in a CRLF file reads as it does in an LF file (``\r\n`` becomes ``\n``).
The input must be a regular file, as it is read more than once (a pipe is
refused). JSON Lines are strict JSON: ``NaN``, ``Infinity`` and numbers no
float holds (``1e400``) are row errors.
"""

from __future__ import annotations

import csv
import json
import math
import os
import re
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from accord.errors import InvalidArgument, InvalidRecord, MappingError
from node.ingest.mapping import CsvEncoding, Format, Mapping
from node.records import Record

__all__ = ["RawRow", "RowResult", "RowSource", "count_rows", "detect_format", "open_rows",
           "read_records"]

#: File extensions that tell the format when the mapping does not.
EXTENSIONS: dict[str, Format] = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}

_UTF8_BOM = b"\xef\xbb\xbf"
#: Byte-order marks of encodings we do not read; UTF-32 LE starts like UTF-16 LE.
_WIDE_BOMS = {b"\xff\xfe": "UTF-16 or UTF-32", b"\xfe\xff": "UTF-16", b"\x00\x00\xfe\xff": "UTF-32"}
#: Undecodable bytes, kept by the ``surrogateescape`` error handler as U+DC80..U+DCFF.
_ESCAPED = re.compile("[\udc80-\udcff]")
_CHUNK = 1 << 20

#: The longest CSV field read, in characters. Python's csv module stops at
#: 131,072 by default, and a quoted field over its limit ends the field where
#: it stands and goes on reading the rest of the cell as rows: lines inside a
#: narrative load as records and the good rows after it are lost. Far above
#: any cell a record takes (node.records.MAX_TEXT), so a long one is read
#: whole and refused as its row's error; a field longer still stops the file.
CSV_FIELD_LIMIT = 16 << 20
csv.field_size_limit(max(csv.field_size_limit(), CSV_FIELD_LIMIT))


@dataclass(frozen=True, slots=True)
class RowResult:
    """What one row of the input became: a record, or the reason it did not.

    ``row_number`` is the line of the file the row starts on (CSV header =
    line 1). Exactly one of ``record`` and ``error`` is set; ``error`` starts
    with ``line N:``.
    """

    row_number: int
    record: Record | None
    error: str | None

    def __post_init__(self) -> None:
        if (self.record is None) == (self.error is None):
            raise ValueError("RowResult: want exactly one of record and error")

    @property
    def ok(self) -> bool:
        """Whether the row became a record."""
        return self.record is not None


def detect_format(mapping: Mapping, path: Path) -> Format:
    """The input's format: the mapping's ``format``, else the file extension.

    Raises:
        InvalidArgument: neither tells the format.
    """
    if mapping.format is not None:
        return mapping.format
    fmt = EXTENSIONS.get(path.suffix.lower())
    if fmt is None:
        raise InvalidArgument(
            f"{path}: cannot tell the format from the extension {path.suffix!r}; "
            f"name the file .csv, .jsonl or .ndjson, or set format in {mapping.path}"
        )
    return fmt


def read_records(mapping: Mapping, path: Path) -> Iterator[RowResult]:
    """Stream ``path``'s rows through ``mapping``, one :class:`RowResult` per row.

    The file is checked (and a CSV header read) by this call itself; the rows
    are read lazily as the returned iterator is consumed.

    Raises:
        InvalidArgument: the file cannot be opened, is not a regular file (a
            pipe), is empty (CSV), starts with a UTF-16/UTF-32 byte-order mark,
            has an undecodable or malformed CSV header, or repeats a header
            name the mapping reads. While iterating: a CSV field is over
            :data:`CSV_FIELD_LIMIT`, past which the file cannot be read.
        MappingError: the CSV header lacks a column the mapping names, or the
            mapping uses ``each`` on CSV input.
    """
    source = open_rows(mapping, path)
    return (row if isinstance(row, RowResult) else source.convert(row) for row in source.raw())


#: One row as read and not yet mapped: its line and its CSV fields, or its
#: line and its JSON Lines bytes.
RawRow = tuple[int, list[str] | bytes]


@dataclass(frozen=True)
class RowSource:
    """A checked input file, read in two steps: :meth:`raw` rows, then :meth:`convert`.

    Reading (splitting lines, tokenising CSV) must be done in order, by one
    reader; converting (decoding, parsing JSON, mapping) is independent per
    row, so it can be done elsewhere: a ``RowSource`` pickles, and a worker
    process given one and a raw row makes the same :class:`RowResult` that
    :func:`read_records` makes.
    """

    mapping: Mapping
    path: Path
    format: Format
    #: The CSV header, stripped (``()`` for JSON Lines).
    header: tuple[str, ...]

    def raw(self) -> Iterator[RawRow | RowResult]:
        """The rows in file order; a row that cannot be split (bad CSV) comes as its result."""
        if self.format == "jsonl":
            return _jsonl_rows(self.path)
        return _csv_rows(self.mapping, self.path)

    def convert(self, row: RawRow) -> RowResult:
        """The result of one raw row: a record, or the reason it is not one."""
        line, content = row
        if isinstance(content, bytes):
            return _jsonl_row(self.mapping, content, line)
        return _csv_row(self.mapping, self.header, content, line)


def open_rows(mapping: Mapping, path: Path) -> RowSource:
    """Check ``path`` (and read its CSV header) for reading through ``mapping``.

    Raises as :func:`read_records` does.
    """
    fmt = detect_format(mapping, path)
    if fmt == "csv" and mapping.uses_each:
        raise MappingError(f"{mapping.path}: 'each' is for JSON Lines input, but {path} is CSV")
    options = mapping.csv_options
    with _open(path) as file:
        start = file.read(4)
        _check_start(path, start)
        if fmt == "jsonl":
            return RowSource(mapping, path, fmt, ())
        if start.startswith(_UTF8_BOM) and options.encoding != "utf-8":
            raise InvalidArgument(
                f"{path}: starts with a UTF-8 byte-order mark, but {mapping.path} says "
                f"[csv] encoding = {options.encoding!r}"
            )
        file.seek(0)
        lines = _lines(file, options.encoding)
        header = _csv_header(mapping, path, csv.reader(lines, delimiter=options.delimiter, strict=True))
    return RowSource(mapping, path, fmt, tuple(header))


def count_rows(path: Path, format: Format | None = None) -> int | None:
    """A fast estimate of the data rows in ``path``, for a progress bar's total.

    Counts lines in binary chunks (minus the header for CSV). Blank lines and
    CSV fields spanning lines make it an overestimate, by the number of such
    lines. ``None`` when the format is unknown (no ``format`` and an unknown
    extension) or ``path`` is not a readable regular file.
    """
    fmt = format or EXTENSIONS.get(path.suffix.lower())
    if fmt is None:
        return None
    lines = 0
    last = b""
    try:
        with path.open("rb") as file:
            if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
                return None
            while chunk := file.read(_CHUNK):
                lines += chunk.count(b"\n")
                last = chunk
    except OSError:
        return None
    if last and not last.endswith(b"\n"):
        lines += 1  # a last line without its newline
    return max(lines - 1, 0) if fmt == "csv" else lines


# --------------------------------------------------------------------------- files


def _open(path: Path) -> BinaryIO:
    """Open ``path`` for reading, refusing anything but a regular file.

    An input is read more than once (checked, its header read, then its
    rows), which a pipe cannot give: ``<(zcat x.jsonl.gz)`` would lose the
    lines the check read. It is checked before it is opened, as opening a
    named pipe waits for a writer.
    """
    try:
        mode = path.stat().st_mode
        if not stat.S_ISREG(mode):
            what = "a pipe" if stat.S_ISFIFO(mode) else "not a regular file"
            raise InvalidArgument(
                f"{path}: is {what}; ingest reads its input more than once, so give it a "
                "regular file (save a pipe's output to a file first)")
        return path.open("rb")
    except OSError as exc:
        raise InvalidArgument(f"{path}: cannot open: {exc.strerror or exc}") from exc


def _check_start(path: Path, start: bytes) -> None:
    """Refuse encodings we cannot read line by line, before reading any row."""
    for bom, name in _WIDE_BOMS.items():
        if start.startswith(bom):
            raise InvalidArgument(f"{path}: starts with a {name} byte-order mark; save it as UTF-8")


def _lines(file: BinaryIO, encoding: CsvEncoding) -> Iterator[str]:
    """Decoded lines, with undecodable bytes escaped so a bad row cannot stop the file.

    Splitting on ``b"\\n"`` before decoding is safe for every encoding we
    accept: all of them are ASCII-compatible.
    """
    first = True
    for raw in file:
        if first:
            first = False
            if encoding == "utf-8" and raw.startswith(_UTF8_BOM):
                raw = raw[len(_UTF8_BOM) :]
        yield raw.decode(encoding, "surrogateescape")


def _undecodable(text: str, encoding: CsvEncoding) -> str | None:
    """Why ``text`` (decoded with ``surrogateescape``) was not valid, or ``None``."""
    match = _ESCAPED.search(text)
    if match is None:
        return None
    byte = ord(match.group()) - 0xDC00
    return f"not valid {encoding} (byte 0x{byte:02x})"


# --------------------------------------------------------------------------- CSV


def _csv_header(mapping: Mapping, path: Path, reader: Iterator[list[str]]) -> list[str]:
    """Read and check the header: every column the mapping names must be in it once."""
    where = f"{path}: line 1 (header)"
    try:
        header = next(reader)
    except StopIteration:
        raise InvalidArgument(f"{path}: empty, want a header line") from None
    except csv.Error as exc:
        raise InvalidArgument(f"{where}: not valid CSV: {exc}") from exc
    for cell in header:
        if problem := _undecodable(cell, mapping.csv_options.encoding):
            raise InvalidArgument(f"{where}: {problem}; set [csv] encoding in {mapping.path}")
    header = [cell.strip() for cell in header]
    missing = [name for name in mapping.columns if name not in header]
    if missing:
        names = ", ".join(repr(name) for name in missing)
        plural = "s" if len(missing) > 1 else ""
        which = "which the header lacks" if len(missing) == 1 else "which the header lack"
        raise MappingError(
            f"{path}: mapping {mapping.path} names column{plural} {names}, {which} "
            f"(header has: {', '.join(header)})"
        )
    for name in mapping.columns:
        if header.count(name) > 1:
            raise InvalidArgument(
                f"{where}: names column {name!r} {header.count(name)} times; "
                "the mapping cannot tell which to read"
            )
    return header


def _csv_rows(mapping: Mapping, path: Path) -> Iterator[RawRow | RowResult]:
    options = mapping.csv_options
    with _open(path) as file:
        reader = csv.reader(_lines(file, options.encoding), delimiter=options.delimiter, strict=True)
        _csv_header(mapping, path, reader)  # read anew: checked again, like the first time
        done = reader.line_num  # lines consumed so far; the next row starts after them
        while True:
            line = done + 1
            try:
                fields = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                if _over_field_limit(exc):
                    # The reader is lost mid-cell: what follows cannot be told
                    # from rows (see CSV_FIELD_LIMIT).
                    raise InvalidArgument(
                        f"{path}: line {line}: a field over {csv.field_size_limit():,} "
                        "characters (an unclosed quote?); the file cannot be read past it"
                    ) from exc
                done = reader.line_num
                yield RowResult(line, None, f"line {line}: not valid CSV: {exc}")
                continue
            done = reader.line_num
            if not fields:
                continue  # a blank line
            yield line, fields


def _over_field_limit(exc: csv.Error) -> bool:
    """Whether the csv module refused a field for its length (it has no error class for it)."""
    return str(exc).startswith("field larger than field limit")


def _csv_row(mapping: Mapping, header: Sequence[str], fields: list[str], line: int) -> RowResult:
    if "\r" in "".join(fields):  # one search per row, as for undecodable bytes below
        # A quoted cell spanning lines of a CRLF file keeps its CR LF; read it
        # as the same cell in an LF file reads.
        fields = [cell.replace("\r\n", "\n") for cell in fields]
    if len(fields) != len(header):
        return RowResult(line, None, f"line {line}: {len(fields)} fields, but the header has {len(header)}")
    if _ESCAPED.search("".join(fields)):  # one search per row; per cell only to name it
        for name, cell in zip(header, fields, strict=True):
            if problem := _undecodable(cell, mapping.csv_options.encoding):
                return RowResult(line, None, f"line {line}: column {name!r}: {problem}")
    try:
        record = mapping.to_record(dict(zip(header, fields, strict=True)))
    except InvalidRecord as exc:
        return RowResult(line, None, f"line {line}: {exc.message}")
    return RowResult(line, record, None)


# --------------------------------------------------------------------------- JSON Lines


def _jsonl_rows(path: Path) -> Iterator[RawRow]:
    with _open(path) as file:
        for line, raw in enumerate(file, start=1):
            if line == 1 and raw.startswith(_UTF8_BOM):
                raw = raw[len(_UTF8_BOM) :]
            if not raw.strip():
                continue  # a blank line
            yield line, raw


def _jsonl_row(mapping: Mapping, raw: bytes, line: int) -> RowResult:
    try:
        text = raw.decode("utf-8").rstrip("\r\n")  # so error columns count on this line
    except UnicodeDecodeError as exc:
        byte = raw[exc.start]
        return RowResult(
            line, None, f"line {line}: not valid utf-8 (byte 0x{byte:02x} at offset {exc.start})"
        )
    try:
        value = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)
    except json.JSONDecodeError as exc:
        return RowResult(line, None, f"line {line}: not valid JSON: {exc.msg} (column {exc.colno})")
    except (ValueError, RecursionError) as exc:  # e.g. an integer of 5000 digits, deep nesting
        return RowResult(line, None, f"line {line}: not valid JSON: {exc}")
    if not isinstance(value, dict):
        return RowResult(line, None, f"line {line}: got {_json_kind(value)}, want a JSON object")
    try:
        record = mapping.to_record(value)
    except InvalidRecord as exc:
        return RowResult(line, None, f"line {line}: {exc.message}")
    return RowResult(line, record, None)


def _refuse_constant(name: str) -> float:
    """``NaN``, ``Infinity`` and ``-Infinity``: Python's json reads them, JSON has none."""
    raise ValueError(f"{name} is not a JSON value")


def _finite_float(text: str) -> float:
    """A JSON number with a fraction or exponent, refused if no float holds it (``1e400``)."""
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text} is out of range")
    return value


def _json_kind(value: object) -> str:
    if isinstance(value, list):
        return "a JSON array"
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, str):
        return "a string"
    return "a number"
