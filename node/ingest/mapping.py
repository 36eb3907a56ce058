"""Declarative ingest mappings: how a source system's columns become canonical records.

An agency describes each of its source systems (a CAD export, an RMS extract, a
tip-line dump, ...) in one small TOML file. :meth:`Mapping.load` parses and
checks the whole file up front, so a typo is reported once, naming the file and
the key, before any data is read; :meth:`Mapping.to_record` then turns one input
row into a :class:`node.records.Record`, or raises
:class:`accord.errors.InvalidRecord` naming the mapping key and the column.

The mapping file
================

Example (every key shown; the comments say which are optional)::

    version = 1                  # required, must be 1
    source = "rivertown_cad"     # required: names the source system;
                                 # (source, source_id) identifies a record
    format = "csv"               # optional: "csv" or "jsonl"; default: from the
                                 # input file's extension (.csv, .jsonl, .ndjson)
    date_order = "MDY"           # optional: "MDY" (default) or "DMY": how to read
                                 # ambiguous numeric dates such as 03/04/2020
    default_region = "US"        # optional, default "US": region for phone numbers
                                 # written without a country code (the tokeniser uses it)

    [csv]                        # optional, CSV input only
    delimiter = ","              # one character; default ","
    encoding = "utf-8"           # "utf-8" (default; a UTF-8 byte-order mark is
                                 # accepted), "latin-1" or "cp1252"

    [record]                     # required
    source_id = "CallNumber"                        # required
    record_type = { value = "cad_call" }            # required
    occurred_on = { column = "ReceivedAt", date_format = "%m/%d/%Y %H:%M" }  # required
    jurisdiction = { value = "Rivertown" }
    summary = "Narrative"
    labels = { column = "Flags", split = ";" }
    extra = { priority = "Priority", unit = { column = "Unit" } }

    [[people]]                   # zero or more blocks; each reads one person per row
    role = { column = "PartyType", map = { RP = "reporting_party", S = "suspect" } }  # required
    name = "CallerName"          # full name as written; "RAMIREZ, JAZMIN" is fine
    given = "CallerFirst"        # or given and family names kept apart
    family = "CallerLast"
    aliases = { column = "CallerAKA", split = ";" }
    nicknames = { column = "Moniker", split = ";" }
    dobs = { column = "CallerDOB", date_format = "%Y-%m-%d" }
    phones = { column = "CallbackNumber", split = ";" }
    emails = "CallerEmail"
    addresses = "CallerAddress"
    labels = { column = "CallerFlags", split = "|" }
    when = "CallerName"          # optional: see "Skipping empty blocks"

    [[vehicles]]                 # zero or more blocks; each reads one vehicle per row
    plate = "Plate"
    plate_state = "PlateState"   # required whenever plate is mapped
    vin = "VIN"
    when = "Plate"

A record needs at least one person or vehicle; a row that yields neither is a
row error.

Field specs
-----------
Every field (``record.*``, ``record.extra.*``, ``[[people]]``'s and
``[[vehicles]]``'s fields) takes a *field spec*, one of:

* a string: the column to read. In CSV input it is the header name, compared
  after stripping surrounding whitespace from the header. In JSON Lines input
  it is a key of the line's object or a dotted path into nested objects
  (``"caller.name"``); a key that itself contains dots is found first. A JSON
  array at the path is a list of values; numbers become their decimal text;
  ``null`` and missing keys are empty.
* a table with exactly one of:

  - ``column``: the column to read, as above;
  - ``value``: a constant, checked when the mapping is loaded (a constant
    ``record_type``, ``role``, date or label that is not valid fails the load);

  and optionally:

  - ``split``: separator for list fields (``aliases``, ``nicknames``, ``dobs``,
    ``phones``, ``emails``, ``addresses``, ``labels``); each piece is stripped
    and empty pieces are dropped. Without it a cell is one value.
  - ``date_format``: for date fields (``occurred_on``, ``dobs``), a
    :func:`datetime.datetime.strptime` format that must read year, month and
    day (``"%m/%d/%Y %H:%M"``); the time part, if any, is dropped. Without it,
    dates are read by :func:`node.normalize.parse_date` with ``date_order``.
  - ``map``: column only; translates codes to canonical values
    (``map = { RP = "reporting_party", S = "suspect" }``). Codes are matched
    exactly, after stripping and after ``split``; a non-empty code the map lacks
    is a row error naming the code and the known ones. Mapping a code to ``""``
    means "no value". Canonical values of ``record_type``, ``role`` and
    ``labels`` are checked at load.
  - ``default``: column only; the value to use when the column is empty. It is
    already canonical: ``map`` does not apply to it (``split`` does).

Field kinds: ``record_type`` takes one of the :class:`node.records.RecordType`
values, ``role`` one of the :class:`node.records.Role` values (both
case-insensitive); ``labels`` are lowercase words such as ``sealed``;
``occurred_on`` is one date and ``dobs`` any number of dates; ``extra`` values
are kept as text (stripped; empty ones are left out) under the name given in
the mapping (letters, digits and ``_``). Every other field is text. A single-valued field given a JSON array
of more than one value is a row error.

Skipping empty blocks
---------------------
A ``[[people]]`` or ``[[vehicles]]`` block is skipped for a row, silently, when

* ``when`` names a column and that column is empty in the row; or
* ``when`` is not given and every column the block names is empty; or
* what the block reads cannot make a person (no name, alias, nickname, phone or
  email) or a vehicle (no plate and no VIN).

A block must name at least one column.

Repeated people in JSON Lines (``each``)
----------------------------------------
In a ``[[people]]`` or ``[[vehicles]]`` block, ``each = "persons"`` iterates
over the array of objects at that path and reads one person (or vehicle) from
every element; the block's other columns and its ``when`` are then paths
relative to the element. A missing or ``null`` array yields nobody, ``null``
elements are passed over, and any other non-object element is a row error.
``each`` is for JSON Lines input only.

Errors
------
Loading fails with :class:`accord.errors.MappingError` naming the file and the
key, for example::

    x.toml: [[people]][0].phone: unknown key, did you mean 'phones'?
    x.toml: record.record_type.value: got 'cad', want one of [cad_call, ...]
    x.toml: not valid TOML: Expected '=' after a key in a key/value pair (at line 3, column 6)

Blocks are counted from 0: ``[[people]][0]`` is the first ``[[people]]`` block.
Row errors (:class:`accord.errors.InvalidRecord`) name the key and the column::

    record.occurred_on (column 'ReceivedAt'): got '13/45/2020', not a date in format '%m/%d/%Y'
    record.source_id (column 'CallNumber'): empty
    [[people]][0].name (column 'persons[2].name'): contains control characters
"""

from __future__ import annotations

import collections.abc as cabc
import dataclasses
import datetime as dt
import difflib
import enum
import functools
import re
import tomllib
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, TypeAlias, TypeVar

import phonenumbers

from accord.errors import InvalidArgument, InvalidRecord, MappingError
from node.normalize import DateOrder, parse_date
from node.records import (
    Person,
    Record,
    Vehicle,
    parse_labels,
    parse_record_type,
    parse_role,
)

__all__ = [
    "CsvEncoding",
    "CsvOptions",
    "FieldSpec",
    "Format",
    "Kind",
    "Mapping",
    "PartSpec",
]

#: The input formats a mapping can read.
Format: TypeAlias = Literal["csv", "jsonl"]
#: The text encodings a CSV input may use.
CsvEncoding: TypeAlias = Literal["utf-8", "latin-1", "cp1252"]

_FORMATS: dict[str, Format] = {"csv": "csv", "jsonl": "jsonl"}
_DATE_ORDERS: dict[str, DateOrder] = {"MDY": "MDY", "DMY": "DMY"}
_ENCODINGS: dict[str, CsvEncoding] = {"utf-8": "utf-8", "latin-1": "latin-1", "cp1252": "cp1252"}
_T = TypeVar("_T")
_SOURCE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}\Z")
_REGION_RE = re.compile(r"^[A-Z]{2}\Z")
_EXTRA_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}\Z")


class Kind(enum.Enum):
    """What a field holds, which decides how its cells are parsed."""

    TEXT = "text"
    TEXTS = "list of text"
    DATE = "date"
    DATES = "list of dates"
    LABELS = "labels"
    RECORD_TYPE = "record type"
    ROLE = "role"

    @property
    def is_list(self) -> bool:
        """Whether the field holds any number of values (and so takes ``split``)."""
        return self in (Kind.TEXTS, Kind.DATES, Kind.LABELS)

    @property
    def is_date(self) -> bool:
        """Whether the field holds dates (and so takes ``date_format``)."""
        return self in (Kind.DATE, Kind.DATES)


_RECORD_FIELDS: dict[str, Kind] = {
    "source_id": Kind.TEXT,
    "record_type": Kind.RECORD_TYPE,
    "occurred_on": Kind.DATE,
    "jurisdiction": Kind.TEXT,
    "summary": Kind.TEXT,
    "labels": Kind.LABELS,
}
_RECORD_REQUIRED = ("source_id", "record_type", "occurred_on")
_PERSON_FIELDS: dict[str, Kind] = {
    "role": Kind.ROLE,
    "name": Kind.TEXT,
    "given": Kind.TEXT,
    "family": Kind.TEXT,
    "aliases": Kind.TEXTS,
    "nicknames": Kind.TEXTS,
    "dobs": Kind.DATES,
    "phones": Kind.TEXTS,
    "emails": Kind.TEXTS,
    "addresses": Kind.TEXTS,
    "labels": Kind.LABELS,
}
#: A person needs at least one of these (mirrors :class:`node.records.Person`).
_PERSON_IDENTIFIERS = ("name", "given", "family", "aliases", "nicknames", "phones", "emails")
_VEHICLE_FIELDS: dict[str, Kind] = {"plate": Kind.TEXT, "plate_state": Kind.TEXT, "vin": Kind.TEXT}
_PART_KEYS = ("each", "when")
_TOP_KEYS = (
    "version",
    "source",
    "format",
    "date_order",
    "default_region",
    "csv",
    "record",
    "people",
    "vehicles",
)
_CSV_KEYS = ("delimiter", "encoding")
_SPEC_KEYS = ("column", "value", "split", "date_format", "map", "default")
#: Singular spellings of list fields, so the hint is certain rather than fuzzy.
_PLURALS = {
    "phone": "phones",
    "email": "emails",
    "dob": "dobs",
    "address": "addresses",
    "alias": "aliases",
    "nickname": "nicknames",
    "label": "labels",
    "person": "people",
    "vehicle": "vehicles",
}


@dataclass(frozen=True)
class FieldSpec:
    """Where one field's value comes from, and how its cells are parsed.

    Exactly one of ``column`` and ``value`` is set. ``where`` is the key in the
    mapping file (``record.occurred_on``), used in every error message.
    """

    where: str
    name: str
    kind: Kind
    column: str | None = None
    value: str | None = None
    split: str | None = None
    date_format: str | None = None
    #: ``map``, code -> canonical value (read-only). Left out of the hash, which
    #: a mapping proxy does not support; still compared for equality.
    codes: cabc.Mapping[str, str] | None = field(default=None, hash=False)
    default: str | None = None

    @functools.cached_property
    def plain_text(self) -> bool:
        """Whether a text cell is read as it is: a text or texts field from a
        column, with no split, map or default (most fields of most mappings)."""
        return (self.column is not None and self.split is None and self.codes is None
                and self.default is None and self.kind in (Kind.TEXT, Kind.TEXTS))

    def __reduce__(self) -> tuple[Any, ...]:
        return _rebuild, (type(self), _plain_fields(self))


@dataclass(frozen=True)
class PartSpec:
    """One ``[[people]]`` or ``[[vehicles]]`` block, or the ``[record]`` table."""

    where: str
    #: Target field name -> spec (read-only); left out of the hash, like ``codes``.
    fields: cabc.Mapping[str, FieldSpec] = field(hash=False)
    when: str | None = None
    each: str | None = None

    def __reduce__(self) -> tuple[Any, ...]:
        return _rebuild, (type(self), _plain_fields(self))

    @functools.cached_property
    def columns(self) -> tuple[str, ...]:
        """The columns the block reads, relative to ``each`` elements if set."""
        names = [s.column for s in self.fields.values() if s.column is not None]
        if self.when is not None:
            names.append(self.when)
        return tuple(dict.fromkeys(names))


def _plain_fields(spec: FieldSpec | PartSpec) -> dict[str, Any]:
    """A spec's fields with its read-only mappings as dicts: what pickles.

    (A mapping proxy does not pickle; a mapping is sent to ingest workers.)
    """
    values = {f.name: getattr(spec, f.name) for f in dataclasses.fields(spec)}
    return {k: dict(v) if isinstance(v, MappingProxyType) else v for k, v in values.items()}


def _rebuild(cls: type[_Spec], values: dict[str, Any]) -> _Spec:
    fields: dict[str, Any] = {k: MappingProxyType(v) if isinstance(v, dict) else v
                              for k, v in values.items()}
    return cls(**fields)


_Spec = TypeVar("_Spec", FieldSpec, PartSpec)


@dataclass(frozen=True)
class CsvOptions:
    """How to read CSV input."""

    delimiter: str = ","
    encoding: CsvEncoding = "utf-8"


@dataclass(frozen=True)
class Mapping:
    """A parsed, checked mapping file: build it with :meth:`load`.

    ``format`` is ``None`` when the mapping leaves it to the input file's
    extension. ``default_region`` is the region phone numbers without a
    country code are read in: every record made here carries it as
    ``phone_region``, so the tokeniser reads them in it at ingest and again
    at every re-index.
    """

    path: Path
    source: str
    format: Format | None
    date_order: DateOrder
    default_region: str
    csv_options: CsvOptions
    record: PartSpec
    extra: tuple[FieldSpec, ...]
    people: tuple[PartSpec, ...]
    vehicles: tuple[PartSpec, ...]

    @classmethod
    def load(cls, path: Path) -> Mapping:
        """Read and check a mapping file.

        Raises:
            MappingError: the file cannot be read, is not TOML, or does not
                describe a valid mapping; the message names the file and key.
        """
        return _Loader(path).load()

    @property
    def columns(self) -> tuple[str, ...]:
        """Every top-level column the mapping reads, in mapping order.

        Columns inside ``each`` blocks are relative to the array's elements and
        are not listed; the ``each`` path itself is.
        """
        names: list[str] = list(self.record.columns)
        names += [s.column for s in self.extra if s.column is not None]
        for part in (*self.people, *self.vehicles):
            names += [part.each] if part.each is not None else part.columns
        return tuple(dict.fromkeys(names))

    @property
    def uses_each(self) -> bool:
        """Whether a block iterates over a JSON array (JSON Lines input only)."""
        return any(p.each is not None for p in (*self.people, *self.vehicles))

    def to_record(self, row: cabc.Mapping[str, Any]) -> Record:
        """Turn one input row into a record.

        ``row`` maps column names to cells: strings for CSV, any JSON values for
        JSON Lines. A column missing from ``row`` counts as empty.

        Raises:
            InvalidRecord: a value is missing or malformed; the message names
                the mapping key and the column.
        """
        reader = _RowReader(self.date_order)
        values = {name: reader.read(spec, row) for name, spec in self.record.fields.items()}
        for name in _RECORD_REQUIRED:
            if values[name] in ("", None):
                raise InvalidRecord(f"{_context(self.record.fields[name])}: empty")
        extra: dict[str, str] = {}
        for spec in self.extra:
            text = reader.read(spec, row)
            if text:
                extra[spec.name] = text
        people = tuple(p for part in self.people for p in _people(reader, part, row))
        vehicles = tuple(v for part in self.vehicles for v in _vehicles(reader, part, row))
        try:
            return Record(
                source=self.source,
                people=people,
                vehicles=vehicles,
                extra=extra,
                phone_region=self.default_region,
                **values,
            )
        except InvalidRecord as exc:
            head, _, reason = exc.message.partition(": ")
            for spec in self.extra:
                if head == f"extra.{spec.name}":
                    raise InvalidRecord(f"{_context(spec)}: {reason}") from exc
            raise _reword(exc, self.record, _RECORD_FIELDS) from exc


# --------------------------------------------------------------------------- rows


def _context(spec: FieldSpec, prefix: str = "") -> str:
    """``record.occurred_on (column 'ReceivedAt')``: the key and where it read."""
    if spec.column is None:
        return spec.where
    return f"{spec.where} (column {prefix + spec.column!r})"


def _reason(exc: InvalidArgument) -> str:
    """The message of ``exc`` without its leading ``field: `` part."""
    head, sep, rest = exc.message.partition(": ")
    return rest if sep else head


def _reword(exc: InvalidRecord, part: PartSpec, known: cabc.Mapping[str, Kind]) -> InvalidRecord:
    """Re-say a constructor's error ("person.name: ...") in mapping terms.

    The constructors of :mod:`node.records` name the field they reject as the
    first word of the message; if that field comes from a column, name it.
    """
    head, sep, reason = exc.message.partition(": ")
    match = re.fullmatch(r"(?:\w+\.)?(\w+)(?:\[\d+\])?", head) if sep else None
    name = match.group(1) if match else ""
    if name in part.fields:
        return InvalidRecord(f"{_context(part.fields[name])}: {reason}")
    if name in known:
        return InvalidRecord(f"{part.where}.{name}: {reason}")
    return InvalidRecord(f"{part.where}: {reason if sep else exc.message}")


def _json_kind(value: object) -> str:
    """How a JSON value is described in messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a JSON array"
    if isinstance(value, dict):
        return "a JSON object"
    return type(value).__name__


def _lookup(row: cabc.Mapping[str, Any], path: str, context: cabc.Callable[[], str]) -> object:
    """The value at ``path`` in ``row``: a key, else a dotted path; ``None`` if absent.

    ``context`` names the field for an error message; it is only called on error,
    so the hot path formats no strings.
    """
    if path in row:
        return row[path]
    if "." not in path:
        return None
    node: object = row
    walked: list[str] = []
    for key in path.split("."):
        if node is None:
            return None
        if not isinstance(node, cabc.Mapping):
            where = ".".join(walked)
            raise InvalidRecord(f"{context()}: {where!r} is {_json_kind(node)}, not an object")
        node = node.get(key)
        walked.append(key)
    return node


def _is_empty(value: object) -> bool:
    """Whether a cell holds nothing (``None``, blank text, or a list of those)."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list):
        return all(_is_empty(v) for v in value)
    return False


def _cells(value: object, context: cabc.Callable[[], str]) -> list[str]:
    """A cell as stripped, non-empty strings (a JSON array gives several)."""
    if type(value) is str:  # the common case, CSV cells: keep it fast
        text = value.strip()
        return [text] if text else []
    items = value if isinstance(value, list) else [value]
    cells: list[str] = []
    for item in items:
        if item is None:
            continue
        if isinstance(item, bool) or not isinstance(item, str | int | float):
            raise InvalidRecord(
                f"{context()}: got {_json_kind(item)}, want text, a number or an array of them"
            )
        text = (item if isinstance(item, str) else str(item)).strip()
        if text:
            cells.append(text)
    return cells


class _RowReader:
    """Reads field specs from rows, with the mapping's date order."""

    def __init__(self, date_order: DateOrder) -> None:
        self.date_order = date_order

    def read(self, spec: FieldSpec, row: cabc.Mapping[str, Any], prefix: str = "") -> Any:
        """The parsed value of ``spec`` in ``row``; ``prefix`` names an ``each`` element.

        Returns ``""`` for an empty text field and ``None`` for an empty single
        date, record type or role; list fields give a tuple (labels a frozenset).
        """
        if spec.plain_text:
            # The hot path: a CSV cell (or JSON string) read as it is. Anything
            # else (absent, dotted path, number, array) takes the general path.
            cell = row.get(spec.column)  # type: ignore[arg-type]
            if type(cell) is str:
                text = cell.strip()
                if spec.kind is Kind.TEXT:
                    return text
                return (text,) if text else ()
        if spec.value is not None:
            return _constant(self, spec, prefix)
        assert spec.column is not None  # exactly one of column and value (see _Loader.field)

        def context() -> str:
            return _context(spec, prefix)

        cells = _cells(_lookup(row, spec.column, context), context)
        if not cells and spec.default is not None:
            # The default is canonical already: split, but not translated by the map.
            return self.convert(spec, _split([spec.default.strip()], spec.split), prefix)
        cells = _split(cells, spec.split)
        if spec.codes is not None:
            cells = [self._translate(spec.codes, cell, context) for cell in cells]
            cells = [cell for cell in cells if cell]
        return self.convert(spec, cells, prefix)

    @staticmethod
    def _translate(codes: cabc.Mapping[str, str], code: str, context: cabc.Callable[[], str]) -> str:
        try:
            return codes[code]
        except KeyError:
            known = ", ".join(codes)
            raise InvalidRecord(
                f"{context()}: code {code!r} is not in the map, want one of [{known}]"
            ) from None

    def convert(self, spec: FieldSpec, cells: list[str], prefix: str = "") -> Any:
        """Parse ``cells`` (stripped, split and translated already) as the field's kind.

        ``prefix`` names the ``each`` element the cells come from, for messages.
        """
        kind = spec.kind
        if len(cells) > 1 and not kind.is_list:
            raise InvalidRecord(f"{_context(spec, prefix)}: got {len(cells)} values, want one")
        if kind is Kind.TEXT:
            return cells[0] if cells else ""
        if kind is Kind.TEXTS:
            return tuple(cells)
        if kind is Kind.LABELS:
            try:
                return parse_labels(cells)
            except InvalidRecord as exc:
                raise InvalidRecord(f"{_context(spec, prefix)}: {_reason(exc)}") from None
        if kind is Kind.DATES:
            return tuple(self._date(spec, cell, prefix) for cell in cells)
        if not cells:
            return None
        if kind is Kind.DATE:
            return self._date(spec, cells[0], prefix)
        # The field's name goes into the message only when there is one: it
        # is formatted on error, not for every row.
        try:
            if kind is Kind.RECORD_TYPE:
                return parse_record_type(cells[0])
            return parse_role(cells[0])
        except InvalidRecord as exc:
            raise InvalidRecord(f"{_context(spec, prefix)}: {_reason(exc)}") from None

    def _date(self, spec: FieldSpec, cell: str, prefix: str) -> dt.date:
        if spec.date_format is not None:
            try:
                return _strptime_date(cell, spec.date_format)
            except (ValueError, OverflowError):
                raise InvalidRecord(
                    f"{_context(spec, prefix)}: got {cell!r}, not a date in format {spec.date_format!r}"
                ) from None
        try:
            return parse_date(cell, self.date_order)
        except InvalidArgument as exc:
            # parse_date's message is "date: got '...', <why>"; keep the why.
            raise InvalidRecord(f"{_context(spec, prefix)}: {_reason(exc)}") from exc


def _constant(reader: _RowReader, spec: FieldSpec, prefix: str) -> Any:
    """The parsed ``value`` of a constant field: the same for every row, made once."""
    key = (spec, reader.date_order)
    found = _CONSTANTS.get(key)
    if found is None:
        if len(_CONSTANTS) >= 1024:
            _CONSTANTS.clear()
        assert spec.value is not None
        # A constant that does not parse raises here, on every row, as before.
        found = _CONSTANTS[key] = reader.convert(spec, _split([spec.value.strip()], spec.split),
                                                 prefix)
    return found


#: Parsed constants (immutable values) by (spec, date order).
_CONSTANTS: dict[tuple[FieldSpec, DateOrder], Any] = {}


@functools.lru_cache(maxsize=1 << 16)
def _strptime_date(cell: str, date_format: str) -> dt.date:
    """``strptime`` for dates, memoised: birth and event dates recur across rows.

    ``strptime`` costs some 40 µs a call (locale checks, a regular expression
    per format); a source file holds far fewer distinct dates than rows.
    Failures raise as ``strptime`` does and are not memoised.
    """
    return dt.datetime.strptime(cell, date_format).date()


def _split(cells: list[str], separator: str | None) -> list[str]:
    if separator is None:
        return cells
    return [piece.strip() for cell in cells for piece in cell.split(separator) if piece.strip()]


def _elements(
    part: PartSpec, row: cabc.Mapping[str, Any]
) -> cabc.Iterator[tuple[cabc.Mapping[str, Any], str]]:
    """The rows a block reads from, each with the prefix that names it in messages."""
    if part.each is None:
        yield row, ""
        return
    context = f"{part.where}.each (column {part.each!r})"
    items = _lookup(row, part.each, lambda: context)
    if items is None:
        return
    if not isinstance(items, list):
        raise InvalidRecord(f"{context}: got {_json_kind(items)}, want an array of objects")
    for i, item in enumerate(items):
        if item is None:
            continue
        if not isinstance(item, cabc.Mapping):
            where = f"{part.each}[{i}]"
            raise InvalidRecord(
                f"{part.where}.each (column {where!r}): got {_json_kind(item)}, want an object"
            )
        yield item, f"{part.each}[{i}]."


def _skipped(part: PartSpec, row: cabc.Mapping[str, Any], prefix: str) -> bool:
    """The ``when`` rule: skip a block whose ``when`` (or every) column is empty."""
    columns = (part.when,) if part.when is not None else part.columns
    for column in columns:
        value = row.get(column)
        if type(value) is str:  # the common case, a CSV cell: no lookup, no context
            if value.strip():
                return False
        elif value is None and "." not in column:
            continue  # absent
        elif not _is_empty(_lookup(row, column,
                                   partial(_column_context, part.where, prefix + column))):
            return False
    return True


def _column_context(where: str, column: str) -> str:
    return f"{where} (column {column!r})"


def _read_part(
    reader: _RowReader, part: PartSpec, row: cabc.Mapping[str, Any], prefix: str
) -> dict[str, Any]:
    return {name: reader.read(spec, row, prefix) for name, spec in part.fields.items()}


def _people(reader: _RowReader, part: PartSpec, row: cabc.Mapping[str, Any]) -> cabc.Iterator[Person]:
    for element, prefix in _elements(part, row):
        if _skipped(part, element, prefix):
            continue
        values = _read_part(reader, part, element, prefix)
        if not any(values.get(name) for name in _PERSON_IDENTIFIERS):
            continue  # nothing to find this person by: an empty block, skipped
        role = values.pop("role")
        if role is None:
            raise InvalidRecord(f"{_context(part.fields['role'], prefix)}: empty")
        try:
            yield Person(role=role, **values)
        except InvalidRecord as exc:
            raise _reword(exc, _at(part, prefix), _PERSON_FIELDS) from exc


def _vehicles(reader: _RowReader, part: PartSpec, row: cabc.Mapping[str, Any]) -> cabc.Iterator[Vehicle]:
    for element, prefix in _elements(part, row):
        if _skipped(part, element, prefix):
            continue
        values = _read_part(reader, part, element, prefix)
        if not (values.get("plate") or values.get("vin")):
            continue  # neither plate nor VIN: an empty block, skipped
        try:
            yield Vehicle(**values)
        except InvalidRecord as exc:
            raise _reword(exc, _at(part, prefix), _VEHICLE_FIELDS) from exc


def _at(part: PartSpec, prefix: str) -> PartSpec:
    """``part`` with its columns shown relative to the ``each`` element ``prefix``."""
    if not prefix:
        return part
    fields = {
        name: spec if spec.column is None else replace(spec, column=prefix + spec.column)
        for name, spec in part.fields.items()
    }
    return replace(part, fields=fields)


# --------------------------------------------------------------------------- loading


def _show(value: object) -> str:
    """How a TOML value is described in messages."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dt.date | dt.time):
        return f"{value.isoformat()} (a TOML date or time; quote it)"
    return repr(value)


def _join(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


class _Loader:
    """Parses one mapping file; every error names the file and the key."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.format: Format | None = None
        self.date_order: DateOrder = "MDY"

    def error(self, where: str, message: str) -> MappingError:
        if where:
            return MappingError(f"{self.path}: {where}: {message}")
        return MappingError(f"{self.path}: {message}")

    def load(self) -> Mapping:
        try:
            raw = self.path.read_bytes()
        except OSError as exc:
            raise self.error("", f"cannot read: {exc.strerror or exc}") from exc
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise self.error("", f"not valid UTF-8 (byte {exc.start}: {exc.reason})") from exc
        try:
            doc = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise self.error("", f"not valid TOML: {exc}") from exc
        return self.mapping(doc)

    def mapping(self, doc: dict[str, Any]) -> Mapping:
        self.check_keys(doc, _TOP_KEYS, "")
        version = self.required(doc, "version", "")
        if type(version) is not int or version != 1:
            raise self.error("version", f"got {_show(version)}, want 1")
        source = self.string(self.required(doc, "source", ""), "source")
        if not _SOURCE_RE.match(source):
            raise self.error(
                "source",
                f"got {source!r}, want a name of letters, digits, '_', '.' and '-', like 'rivertown_cad'",
            )
        if "format" in doc:
            self.format = self.choice(doc["format"], _FORMATS, "format")
        if "date_order" in doc:
            self.date_order = self.choice(doc["date_order"], _DATE_ORDERS, "date_order")
        region = self.string(doc.get("default_region", "US"), "default_region")
        if not _REGION_RE.match(region) or region not in phonenumbers.SUPPORTED_REGIONS:
            raise self.error("default_region", f"got {region!r}, want a region code like 'US' "
                             "(ISO 3166, one the phone number library knows)")
        record_table = self.table(self.required(doc, "record", ""), "record")
        record = self.part(record_table, "record", _RECORD_FIELDS, ("extra",))
        for name in _RECORD_REQUIRED:
            self.required(record_table, name, "record")
        people = tuple(
            self.block(table, where, _PERSON_FIELDS, required=("role",))
            for table, where in self.blocks(doc.get("people", []), "people")
        )
        vehicles = tuple(
            self.block(table, where, _VEHICLE_FIELDS, required=())
            for table, where in self.blocks(doc.get("vehicles", []), "vehicles")
        )
        for vehicle in vehicles:
            if "plate" in vehicle.fields and "plate_state" not in vehicle.fields:
                raise self.error(
                    vehicle.where,
                    "maps 'plate' but not 'plate_state'; a plate needs its issuing state "
                    '(for a constant: plate_state = { value = "TX" })',
                )
        return Mapping(
            path=self.path,
            source=source,
            format=self.format,
            date_order=self.date_order,
            default_region=region,
            csv_options=self.csv_options(doc.get("csv")),
            record=record,
            extra=self.extra_fields(record_table.get("extra")),
            people=people,
            vehicles=vehicles,
        )

    # -- tables

    def check_keys(self, table: cabc.Mapping[str, Any], allowed: tuple[str, ...], where: str) -> None:
        for key in table:
            if key in allowed:
                continue
            plural = _PLURALS.get(key)
            if plural in allowed:
                hint = f"did you mean {plural!r}?"
            elif close := difflib.get_close_matches(key, allowed, n=1, cutoff=0.6):
                hint = f"did you mean {close[0]!r}?"
            else:
                hint = f"want one of [{', '.join(allowed)}]"
            raise self.error(_join(where, key), f"unknown key, {hint}")

    def required(self, table: cabc.Mapping[str, Any], key: str, where: str) -> Any:
        if key not in table:
            raise self.error(_join(where, key), "required key missing")
        return table[key]

    def table(self, value: object, where: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.error(where, f"got {_show(value)}, want a table")
        return value

    def string(self, value: object, where: str, *, empty: bool = False) -> str:
        if not isinstance(value, str):
            raise self.error(where, f"got {_show(value)}, want a string")
        if not empty and not value.strip():
            raise self.error(where, "must not be empty")
        return value

    def choice(self, value: object, choices: cabc.Mapping[str, _T], where: str) -> _T:
        if isinstance(value, str) and value in choices:
            return choices[value]
        raise self.error(where, f"got {_show(value)}, want one of [{', '.join(choices)}]")

    def blocks(self, value: object, key: str) -> list[tuple[dict[str, Any], str]]:
        if not isinstance(value, list):
            raise self.error(key, f"got {_show(value)}, want an array of tables: [[{key}]]")
        blocks = []
        for i, item in enumerate(value):
            where = f"[[{key}]][{i}]"
            blocks.append((self.table(item, where), where))
        return blocks

    def csv_options(self, value: object) -> CsvOptions:
        if value is None:
            return CsvOptions()
        if self.format == "jsonl":
            raise self.error("csv", "only for CSV input, but format is 'jsonl'")
        table = self.table(value, "csv")
        self.check_keys(table, _CSV_KEYS, "csv")
        delimiter = self.string(table.get("delimiter", ","), "csv.delimiter", empty=True)
        if len(delimiter) != 1 or delimiter in '"\r\n':
            raise self.error(
                "csv.delimiter", f"got {delimiter!r}, want one character (not a quote or newline)"
            )
        encoding = self.choice(table.get("encoding", "utf-8"), _ENCODINGS, "csv.encoding")
        return CsvOptions(delimiter=delimiter, encoding=encoding)

    def extra_fields(self, value: object) -> tuple[FieldSpec, ...]:
        if value is None:
            return ()
        table = self.table(value, "record.extra")
        for name in table:
            if not _EXTRA_NAME_RE.match(name):
                raise self.error(
                    f"record.extra.{name}", "want a name of letters, digits and '_', like 'priority'"
                )
        return tuple(
            self.field(spec, name, Kind.TEXT, f"record.extra.{name}") for name, spec in table.items()
        )

    def part(
        self,
        table: dict[str, Any],
        where: str,
        kinds: dict[str, Kind],
        other_keys: tuple[str, ...],
    ) -> PartSpec:
        """The field specs of a table whose keys are ``kinds`` and ``other_keys``."""
        self.check_keys(table, (*kinds, *other_keys), where)
        fields = {
            name: self.field(table[name], name, kind, f"{where}.{name}")
            for name, kind in kinds.items()
            if name in table
        }
        return PartSpec(where=where, fields=MappingProxyType(fields))

    def block(
        self,
        table: dict[str, Any],
        where: str,
        kinds: dict[str, Kind],
        *,
        required: tuple[str, ...],
    ) -> PartSpec:
        """A ``[[people]]`` or ``[[vehicles]]`` block."""
        part = self.part(table, where, kinds, _PART_KEYS)
        for name in required:
            self.required(table, name, where)
        when = self.string(table["when"], f"{where}.when") if "when" in table else None
        each = self.string(table["each"], f"{where}.each") if "each" in table else None
        if each is not None and self.format == "csv":
            raise self.error(f"{where}.each", "only for JSON Lines input, but format is 'csv'")
        if not part.columns:
            raise self.error(where, "names no column; a block reads its values from each row")
        return PartSpec(where=where, fields=part.fields, when=when, each=each)

    # -- field specs

    def field(self, raw: object, name: str, kind: Kind, where: str) -> FieldSpec:
        if isinstance(raw, str):
            raw = {"column": raw}
        if not isinstance(raw, dict):
            raise self.error(
                where,
                f"got {_show(raw)}, want a column name or a table with 'column' or 'value'",
            )
        self.check_keys(raw, _SPEC_KEYS, where)
        if ("column" in raw) == ("value" in raw):
            which = "both 'column' and" if "column" in raw else "neither 'column' nor"
            raise self.error(where, f"has {which} 'value', want exactly one")
        for key in ("map", "default"):
            if key in raw and "value" in raw:
                raise self.error(f"{where}.{key}", "only with 'column', not with a constant 'value'")
        if "split" in raw and not kind.is_list:
            raise self.error(f"{where}.split", f"only list fields take a separator ({name} is one value)")
        if "date_format" in raw and not kind.is_date:
            raise self.error(
                f"{where}.date_format",
                f"only date fields take a date_format ({name} is {kind.value})",
            )
        if "map" in raw and kind.is_date:
            raise self.error(f"{where}.map", "date fields take no map")
        spec = FieldSpec(
            where=where,
            name=name,
            kind=kind,
            column=self.string(raw["column"], f"{where}.column") if "column" in raw else None,
            value=self.string(raw["value"], f"{where}.value") if "value" in raw else None,
            split=self.string(raw["split"], f"{where}.split", empty=True) if "split" in raw else None,
            date_format=self.date_format(raw["date_format"], f"{where}.date_format")
            if "date_format" in raw
            else None,
            codes=self.codes(raw["map"], kind, f"{where}.map") if "map" in raw else None,
            default=self.string(raw["default"], f"{where}.default") if "default" in raw else None,
        )
        if spec.split == "":
            raise self.error(f"{where}.split", "must not be empty")
        # Constants and defaults are checked now, so a typo fails the load, not every row.
        reader = _RowReader(self.date_order)
        probe = replace(spec, column=None)  # so messages name the key only
        for key, constant in (("value", spec.value), ("default", spec.default)):
            if constant is not None:
                try:
                    reader.convert(probe, _split([constant.strip()], spec.split))
                except InvalidRecord as exc:
                    raise self.error(f"{where}.{key}", _reason(exc)) from None
        return spec

    def date_format(self, value: object, where: str) -> str:
        fmt = self.string(value, where)
        sample = dt.datetime(2001, 2, 3, 4, 5, 6)
        try:
            parsed = dt.datetime.strptime(sample.strftime(fmt), fmt)
        except ValueError as exc:
            raise self.error(where, f"got {fmt!r}, not a strptime format: {exc}") from None
        if parsed.date() != sample.date():
            raise self.error(where, f"got {fmt!r}, which does not read year, month and day")
        return fmt

    def codes(self, value: object, kind: Kind, where: str) -> cabc.Mapping[str, str]:
        table = self.table(value, where)
        if not table:
            raise self.error(where, "is empty, want at least one code")
        reader = _RowReader(self.date_order)
        probe = FieldSpec(where=where, name="", kind=kind)
        codes: dict[str, str] = {}
        for code, canonical in table.items():
            text = self.string(canonical, _join(where, code), empty=True).strip()
            try:
                reader.convert(probe, [text] if text else [])
            except InvalidRecord as exc:
                raise self.error(_join(where, code), _reason(exc)) from None
            codes[code] = text
        return MappingProxyType(codes)
