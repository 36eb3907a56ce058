"""The canonical schema every agency's records are ingested into.

A source system's rows (CAD calls, RMS incidents, arrests, ...) are mapped by a
declarative mapping file (see :mod:`node.ingest.mapping`) into these frozen
objects. They hold the *raw* identifier values as the agency recorded them;
normalisation and keyed tokenisation happen later, in :mod:`node.tokens`, so a
record can always be released as it was written.

Every constructor validates, so a constructed object is always valid
("parse, don't validate"); bad values raise :class:`accord.errors.InvalidRecord`
naming the field.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from dataclasses import dataclass, field
from typing import Any, TypeVar

from accord.errors import InvalidRecord
from node.normalize import MAX_YEAR, MIN_YEAR


class RecordType(enum.StrEnum):
    """The kinds of record an agency can hold."""

    CAD_CALL = "cad_call"
    RMS_INCIDENT = "rms_incident"
    ARREST = "arrest"
    WARRANT = "warrant"
    FIELD_INTERVIEW = "field_interview"
    MISSING_PERSON = "missing_person"
    HOTLINE_TIP = "hotline_tip"


class Role(enum.StrEnum):
    """A person's role in a record."""

    SUSPECT = "suspect"
    VICTIM = "victim"
    WITNESS = "witness"
    REPORTING_PARTY = "reporting_party"
    OTHER = "other"


#: Sensitivity labels are free-form lowercase words; these are the ones the
#: agreements in ``policies/`` know about.
KNOWN_LABELS = frozenset({"victim", "juvenile", "sealed", "confidential_source"})

_LABEL_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}\Z")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
#: Lone UTF-16 surrogates: a JSON escape such as \ud800 decodes to one, and no
#: UTF-8 encoder (the database driver's) can write it.
_SURROGATE_RE = re.compile(r"[\ud800-\udfff]")
#: A phone region code as a mapping's ``default_region`` gives it (ISO 3166).
_REGION_RE = re.compile(r"^[A-Z]{2}\Z")
MAX_TEXT = 4096
MAX_ITEMS = 64
#: The widths of the store's columns for a record's identity (node.store.records):
#: refused here, with the row's line, rather than by the database mid-batch.
MAX_SOURCE = 128
MAX_SOURCE_ID = 256


_E = TypeVar("_E", bound=enum.StrEnum)


def _parse_enum(cls: type[_E], value: str, where: str) -> _E:
    try:
        return cls(value.strip().lower())
    except ValueError:
        allowed = ", ".join(m.value for m in cls)
        raise InvalidRecord(f"{where}: got {value!r}, want one of [{allowed}]") from None


def parse_record_type(value: str, where: str = "record_type") -> RecordType:
    """Parse a record type name, naming the allowed ones on error."""
    return _parse_enum(RecordType, value, where)


def parse_role(value: str, where: str = "role") -> Role:
    """Parse a person role name, naming the allowed ones on error."""
    return _parse_enum(Role, value, where)


def _text(value: str, where: str, *, required: bool = False, limit: int = MAX_TEXT) -> str:
    value = value.strip()
    if required and not value:
        raise InvalidRecord(f"{where}: must not be empty")
    if len(value) > limit:
        raise InvalidRecord(f"{where}: {len(value)} characters, at most {limit} allowed")
    if _CONTROL_RE.search(value):
        raise InvalidRecord(f"{where}: contains control characters")
    if _SURROGATE_RE.search(value):
        raise InvalidRecord(f"{where}: not valid Unicode (a lone surrogate)")
    return value


def _year_refused(value: dt.date, where: str) -> InvalidRecord:
    """The error for a date outside the years the normaliser reads (MIN_YEAR..MAX_YEAR).

    Such dates are refused however they were parsed: a mapping's
    ``date_format`` parses with ``strptime``, which takes year 1, and such a
    date would then be refused, as malformed, in every pointer to it.
    """
    return InvalidRecord(f"{where}: got {value.isoformat()}, year {value.year} outside "
                         f"{MIN_YEAR}..{MAX_YEAR}")


def _texts(values: tuple[str, ...], where: str) -> tuple[str, ...]:
    if not values:
        return ()
    if len(values) > MAX_ITEMS:
        raise InvalidRecord(f"{where}: {len(values)} items, at most {MAX_ITEMS} allowed")
    cleaned = (_text(v, f"{where}[{i}]") for i, v in enumerate(values))
    # Keep order, drop blanks and duplicates.
    return tuple(dict.fromkeys(v for v in cleaned if v))


def parse_labels(values: tuple[str, ...] | list[str] | frozenset[str],
                 where: str = "labels") -> frozenset[str]:
    """Parse sensitivity labels: lowercase words such as ``sealed`` or ``juvenile``."""
    if not values:
        return frozenset()
    labels = set()
    for i, raw in enumerate(values):
        label = raw.strip().lower()
        if not label:
            continue
        if not _LABEL_RE.match(label):
            raise InvalidRecord(f"{where}[{i}]: got {raw!r}, want a lowercase word like 'sealed'")
        labels.add(label)
    return frozenset(labels)


@dataclass(frozen=True, slots=True)
class Vehicle:
    """A vehicle by plate (with its issuing state) and/or VIN, as recorded."""

    plate: str = ""
    plate_state: str = ""
    vin: str = ""

    def __post_init__(self) -> None:
        for name in ("plate", "plate_state", "vin"):
            object.__setattr__(self, name, _text(getattr(self, name), f"vehicle.{name}"))
        if not (self.plate or self.vin):
            raise InvalidRecord("vehicle: needs a plate or a VIN")
        if self.plate and not self.plate_state:
            raise InvalidRecord("vehicle.plate_state: a plate needs its issuing state")

    def to_dict(self) -> dict[str, str]:
        return {"plate": self.plate, "plate_state": self.plate_state, "vin": self.vin}


@dataclass(frozen=True, slots=True)
class Person:
    """A person as they appear in one record.

    ``name`` is the full name as recorded ("Ramírez, Jazmin" or "Jazmin Ramírez");
    ``given`` and ``family`` are filled when the source keeps them apart, which
    lets the normaliser avoid guessing the order.
    """

    role: Role
    name: str = ""
    given: str = ""
    family: str = ""
    aliases: tuple[str, ...] = ()
    nicknames: tuple[str, ...] = ()
    dobs: tuple[dt.date, ...] = ()
    phones: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    addresses: tuple[str, ...] = ()
    labels: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        for name in ("name", "given", "family"):
            object.__setattr__(self, name, _text(getattr(self, name), f"person.{name}"))
        for name in ("aliases", "nicknames", "phones", "emails", "addresses"):
            object.__setattr__(self, name, _texts(tuple(getattr(self, name)), f"person.{name}"))
        object.__setattr__(self, "dobs", tuple(dict.fromkeys(self.dobs)))
        for i, dob in enumerate(self.dobs):
            if not MIN_YEAR <= dob.year <= MAX_YEAR:
                raise _year_refused(dob, f"person.dobs[{i}]")
        object.__setattr__(self, "labels", parse_labels(tuple(self.labels), "person.labels"))
        if not (self.full_name or self.aliases or self.nicknames or self.phones or self.emails):
            raise InvalidRecord("person: needs at least a name, alias, nickname, phone or email")

    @property
    def full_name(self) -> str:
        """The name as one string: ``name`` if given, else ``given family``."""
        if self.name:
            return self.name
        return " ".join(p for p in (self.given, self.family) if p)

    def to_dict(self) -> dict[str, Any]:
        return {
            "role": self.role.value,
            "name": self.name,
            "given": self.given,
            "family": self.family,
            "aliases": list(self.aliases),
            "nicknames": list(self.nicknames),
            "dobs": [d.isoformat() for d in self.dobs],
            "phones": list(self.phones),
            "emails": list(self.emails),
            "addresses": list(self.addresses),
            "labels": sorted(self.labels),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Person:
        return cls(
            role=parse_role(str(data["role"])),
            name=data.get("name", ""),
            given=data.get("given", ""),
            family=data.get("family", ""),
            aliases=tuple(data.get("aliases", ())),
            nicknames=tuple(data.get("nicknames", ())),
            dobs=tuple(dt.date.fromisoformat(d) for d in data.get("dobs", ())),
            phones=tuple(data.get("phones", ())),
            emails=tuple(data.get("emails", ())),
            addresses=tuple(data.get("addresses", ())),
            labels=frozenset(data.get("labels", ())),
        )


@dataclass(frozen=True, slots=True)
class Record:
    """One record of an agency's source system, in canonical form.

    ``(source, source_id)`` identifies it: ingesting the same pair again updates
    the record instead of adding a second one.

    ``phone_region`` is the region its phones without a country code are read
    in: the ``default_region`` of the mapping it was ingested with, kept so
    that re-indexing reads them as ingest did. ``""`` (records stored before it
    was kept, or made without a mapping) leaves it to the node's own
    ``default_region``.
    """

    source: str
    source_id: str
    record_type: RecordType
    occurred_on: dt.date
    jurisdiction: str = ""
    summary: str = ""
    people: tuple[Person, ...] = ()
    vehicles: tuple[Vehicle, ...] = ()
    labels: frozenset[str] = frozenset()
    extra: dict[str, str] = field(default_factory=dict)
    phone_region: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "source", _text(self.source, "source", required=True,
                                                 limit=MAX_SOURCE))
        if self.phone_region and not _REGION_RE.match(self.phone_region):
            raise InvalidRecord(f"phone_region: got {self.phone_region!r}, want a region "
                                "code like 'US'")
        object.__setattr__(self, "source_id", _text(self.source_id, "source_id", required=True,
                                                    limit=MAX_SOURCE_ID))
        object.__setattr__(self, "jurisdiction", _text(self.jurisdiction, "jurisdiction"))
        object.__setattr__(self, "summary", _text(self.summary, "summary"))
        object.__setattr__(self, "labels", parse_labels(tuple(self.labels), "labels"))
        if not MIN_YEAR <= self.occurred_on.year <= MAX_YEAR:
            raise _year_refused(self.occurred_on, "occurred_on")
        if self.extra:
            object.__setattr__(self, "extra", {name: _text(value, f"extra.{name}")
                                               for name, value in self.extra.items()})
        if len(self.people) > MAX_ITEMS:
            raise InvalidRecord(f"people: {len(self.people)} people, at most {MAX_ITEMS} allowed")
        if len(self.vehicles) > MAX_ITEMS:
            raise InvalidRecord(f"vehicles: {len(self.vehicles)}, at most {MAX_ITEMS} allowed")
        if not (self.people or self.vehicles):
            raise InvalidRecord("record: has neither people nor vehicles, nothing to index")

    @property
    def all_labels(self) -> frozenset[str]:
        """The record's labels together with those of every person in it."""
        return self.labels.union(*(p.labels for p in self.people))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form, used for storage and (later) for release.

        ``phone_region`` is left out when unset, so the stored form (and content
        hash) of a record from before it was kept does not change.
        """
        body = {
            "source": self.source,
            "source_id": self.source_id,
            "record_type": self.record_type.value,
            "occurred_on": self.occurred_on.isoformat(),
            "jurisdiction": self.jurisdiction,
            "summary": self.summary,
            "people": [p.to_dict() for p in self.people],
            "vehicles": [v.to_dict() for v in self.vehicles],
            "labels": sorted(self.labels),
            "extra": dict(sorted(self.extra.items())),
        }
        if self.phone_region:
            body["phone_region"] = self.phone_region
        return body

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Record:
        return cls(
            source=data["source"],
            source_id=data["source_id"],
            record_type=parse_record_type(data["record_type"]),
            occurred_on=dt.date.fromisoformat(data["occurred_on"]),
            jurisdiction=data.get("jurisdiction", ""),
            summary=data.get("summary", ""),
            people=tuple(Person.from_dict(p) for p in data.get("people", ())),
            vehicles=tuple(Vehicle(**v) for v in data.get("vehicles", ())),
            labels=frozenset(data.get("labels", ())),
            extra=dict(data.get("extra", {})),
            phone_region=data.get("phone_region", ""),
        )
