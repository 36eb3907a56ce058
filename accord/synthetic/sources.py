"""The agencies' source systems: one class per file, each with its own layout.

Every source lays people out in its own columns, date formats, phone formats
and codes, as real exports do, so that each needs a different mapping file
(``deploy/examples/<source>.toml``). A source turns a :class:`Draft` (the
people a record is about, its date and id) into a :class:`Row`: the cells to
write, plus the ground-truth entity ids of the people in the order the
mapping reads them back.

Ground-truth order
-----------------
``Row.entity_ids[i]`` is the person at index ``i`` of the record the mapping
produces: people come in the order of the mapping's ``[[people]]`` blocks (and,
within an ``each`` block, in array order), and a block that is empty in a row
is skipped without taking an index. Renderers therefore list ids in block
order and only for blocks they fill in.
"""

from __future__ import annotations

import abc
import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from accord.synthetic import vocab
from accord.synthetic.noise import (
    Appearance,
    ErrorRates,
    exact,
    format_phone,
    format_plate,
    observe,
)
from accord.synthetic.people import Entity, EntityVehicle
from accord.synthetic.story import (
    ANONYMOUS_CALLER_ID,
    JAZMIN,
    JUVENILE_PERSON,
    MARCUS,
    SEALED_PERSON,
    STORY,
)

#: Share of records labelled ``sealed``.
SEALED_RATE = 0.03
#: Share of witnesses (and tips) labelled ``confidential_source``.
CONFIDENTIAL_RATE = 0.04

BadKind = Literal["bad_date", "empty_id", "too_few_fields", "too_many_fields", "invalid_json"]


@dataclass(frozen=True, slots=True)
class Draft:
    """A record about to be rendered: its id, when it happened, who it is about."""

    source_id: str
    when: dt.datetime
    people: tuple[Entity, ...]


@dataclass(frozen=True, slots=True)
class Row:
    """One rendered record: cells by column, and the people's entity ids in mapping order."""

    source_id: str
    values: dict[str, Any]
    entity_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class StoryRow:
    """A fixed record of the planted story and when it happened."""

    when: dt.datetime
    row: Row


def _minor(entity: Entity, when: dt.datetime) -> bool:
    return entity.age_on(when.date()) < 18


def _person_labels(rng: random.Random, entity: Entity, role: str, when: dt.datetime) -> list[str]:
    """The labels a careful records clerk would put on this person."""
    labels = []
    if role == "victim":
        labels.append("victim")
    if _minor(entity, when):
        labels.append("juvenile")
    if role == "witness" and rng.random() < CONFIDENTIAL_RATE:
        labels.append("confidential_source")
    return labels


def _sealed(rng: random.Random) -> list[str]:
    return ["sealed"] if rng.random() < SEALED_RATE else []


def _vehicle_of(
    rng: random.Random, people: Sequence[Appearance], rate: float
) -> EntityVehicle | None:
    """The first vehicle among ``people``, recorded with probability ``rate``."""
    for person in people:
        if person.vehicle is not None:
            return person.vehicle if rng.random() < rate else None
    return None


def _dob(app: Appearance, pattern: str) -> str:
    return app.dob.strftime(pattern) if app.dob is not None else ""


def _phones(rng: random.Random, app: Appearance, styles: Sequence[str], sep: str = " / ") -> str:
    return sep.join(format_phone(p, rng.choice(styles)) for p in app.phones)


def _last_first_upper(app: Appearance) -> str:
    """``RAMIREZ, JAZMIN`` (or just ``JAZMIN`` without a family name)."""
    if app.family:
        return f"{app.family.upper()}, {app.given.upper()}"
    return app.given.upper()


class Source(abc.ABC):
    """One agency source system: its file, layout, ids and how it writes people."""

    agency: ClassVar[str]
    #: The mapping's ``source``; also the file's stem and the mapping's file name.
    name: ClassVar[str]
    record_type: ClassVar[str]
    format: ClassVar[Literal["csv", "jsonl"]] = "csv"
    #: CSV header, in file order (JSON Lines sources leave it empty).
    columns: ClassVar[tuple[str, ...]] = ()
    delimiter: ClassVar[str] = ","
    #: Python codec the file is written with ("utf-8-sig" writes a byte-order mark).
    encoding: ClassVar[str] = "utf-8"
    line_terminator: ClassVar[str] = "\n"
    id_column: ClassVar[str]
    date_column: ClassVar[str]
    summary_column: ClassVar[str]
    #: What a broken export puts in the date column of an unparseable-date bad row.
    bad_date: ClassVar[str]
    min_people: ClassVar[int] = 1
    max_people: ClassVar[int] = 3
    #: Whether id numbers restart every year (``CAD-2026-000001``).
    ids_per_year: ClassVar[bool] = True
    #: Accents cannot be stored (legacy upper-case systems).
    ascii_only: ClassVar[bool] = False

    def __init__(self, rates: ErrorRates) -> None:
        self.rates = rates
        self._counters: dict[int, int] = {}
        self._reserved = frozenset(r.row.source_id for r in self.story_rows())

    @property
    def file_name(self) -> str:
        return f"{self.name}.{self.format}"

    @property
    def mapping_name(self) -> str:
        return f"{self.name}.toml"

    @property
    def bad_kinds(self) -> tuple[BadKind, ...]:
        if self.format == "jsonl":
            return ("bad_date", "empty_id", "invalid_json")
        return ("bad_date", "empty_id", "too_few_fields", "too_many_fields")

    def next_id(self, when: dt.datetime) -> str:
        """The next unused record id; ids of the story's fixed records are skipped."""
        key = when.year if self.ids_per_year else 0
        while True:
            number = self._counters.get(key, 0) + 1
            self._counters[key] = number
            source_id = self.format_id(when, number)
            if source_id not in self._reserved:
                return source_id

    def people_count(self, rng: random.Random) -> int:
        return rng.randint(self.min_people, self.max_people)

    def observe(self, rng: random.Random, entity: Entity, *, max_phones: int = 1) -> Appearance:
        return observe(rng, entity, self.rates, ascii_only=self.ascii_only, max_phones=max_phones)

    @abc.abstractmethod
    def format_id(self, when: dt.datetime, number: int) -> str:
        """Record id number ``number`` (of ``when``'s year if ids restart yearly)."""

    @abc.abstractmethod
    def render(self, rng: random.Random, draft: Draft) -> Row:
        """Lay ``draft`` out in this source's columns, with recording errors."""

    def story_rows(self) -> tuple[StoryRow, ...]:
        """This source's fixed story records (none by default)."""
        return ()


# --------------------------------------------------------------------------- rivertown_pd


class RivertownCad(Source):
    """Rivertown PD computer-aided dispatch: one caller and one subject per call.

    A legacy system: names upper case without accents as ``LAST, FIRST``,
    dates ``MM/DD/YYYY``, phones in whatever format the call taker typed.
    """

    agency = "rivertown_pd"
    name = "rivertown_cad"
    record_type = "cad_call"
    columns = (
        "CallNumber", "ReceivedAt", "CallType", "Priority", "Narrative",
        "CallerName", "CallerDOB", "CallbackNumber",
        "SubjectName", "SubjectAKA", "SubjectDOB", "SubjectPhone", "SubjectRole",
        "Location", "Plate", "PlateState", "Flags",
    )  # fmt: skip
    id_column = "CallNumber"
    date_column = "ReceivedAt"
    summary_column = "Narrative"
    bad_date = "13/45/2026 25:61"
    max_people = 2
    ascii_only = True
    _phone_styles: ClassVar[tuple[str, ...]] = ("paren", "paren", "dots", "dashes", "digits")
    _subject_roles: ClassVar[tuple[tuple[str, str], ...]] = (
        ("SUSP", "suspect"),
        ("VICT", "victim"),
        ("WIT", "witness"),
        ("INV", "other"),
    )

    def format_id(self, when: dt.datetime, number: int) -> str:
        return f"CAD-{when.year}-{number:06d}"

    def render(self, rng: random.Random, draft: Draft) -> Row:
        call_type, template = rng.choice(vocab.CALL_TYPES)
        place = rng.choice(vocab.PLACES)
        values: dict[str, Any] = {
            "CallNumber": draft.source_id,
            "ReceivedAt": draft.when.strftime("%m/%d/%Y %H:%M"),
            "CallType": call_type,
            "Priority": rng.choice(vocab.CAD_PRIORITIES),
            "Narrative": template.format(place=place).upper(),
            "Location": place.upper(),
        }
        caller: Entity | None
        subject: Entity | None
        if len(draft.people) == 2:
            caller, subject = draft.people
        elif rng.random() < 0.5:
            caller, subject = draft.people[0], None
        else:
            caller, subject = None, draft.people[0]
        flags = _sealed(rng)
        ids: list[str] = []
        seen: list[Appearance] = []
        if caller is not None:
            app = self.observe(rng, caller)
            values["CallerName"] = _last_first_upper(app)
            values["CallerDOB"] = _dob(app, "%m/%d/%Y") if rng.random() < 0.4 else ""
            values["CallbackNumber"] = _phones(rng, app, self._phone_styles)
            ids.append(app.entity_id)
            seen.append(app)
            if _minor(caller, draft.when):
                flags.append("juvenile")
            if rng.random() < 0.01:
                flags.append("confidential_source")
        if subject is not None:
            app = self.observe(rng, subject)
            code, role = rng.choice(self._subject_roles)
            values["SubjectName"] = _last_first_upper(app)
            values["SubjectAKA"] = app.nickname if rng.random() < 0.5 else ""
            values["SubjectDOB"] = _dob(app, "%m/%d/%Y")
            values["SubjectPhone"] = _phones(rng, app, self._phone_styles)
            values["SubjectRole"] = code
            ids.append(app.entity_id)
            seen.append(app)
            flags += _person_labels(rng, subject, role, draft.when)
        vehicle = _vehicle_of(rng, seen, 0.5)
        if vehicle is not None:
            values["Plate"] = format_plate(rng, vehicle.plate)
            values["PlateState"] = vehicle.state
        values["Flags"] = ";".join(dict.fromkeys(flags))
        return Row(draft.source_id, values, tuple(ids))

    def story_rows(self) -> tuple[StoryRow, ...]:
        values = {
            "CallNumber": STORY.cad_call_id,
            "ReceivedAt": "09/14/2026 23:17",
            "CallType": "WELFARE CHECK",
            "Priority": "2",
            "Narrative": (
                "ANON FEMALE RP CALLING FROM SUBJECT'S CELL AT BAYVIEW MOTEL RM 114 REPORTS "
                "YOUNG WOMAN RAMIREZ, JAZMIN AKA JAZZY DOB 03/04/1999 BEING KEPT IN ROOM BY "
                "OLDER MALE, AFRAID TO LEAVE. RP REFUSED NAME. CALLBACK (503) 555-0142 GOES "
                "TO VOICEMAIL."
            ),
            "CallerName": "",
            "CallerDOB": "",
            "CallbackNumber": STORY.phone,
            "SubjectName": "RAMIREZ, JAZMIN",
            "SubjectAKA": STORY.nickname,
            "SubjectDOB": STORY.dob.strftime("%m/%d/%Y"),
            "SubjectPhone": STORY.phone,
            "SubjectRole": "VICT",
            "Location": "BAYVIEW MOTEL, 2200 HARBOR BLVD, RIVERTOWN, OR",
            "Plate": "",
            "PlateState": "",
            "Flags": "victim",
        }
        row = Row(STORY.cad_call_id, values, (ANONYMOUS_CALLER_ID, JAZMIN.entity_id))
        return (StoryRow(dt.datetime(2026, 9, 14, 23, 17), row),)


class RivertownRms(Source):
    """Rivertown PD records management: up to three involved persons per incident.

    Given and family names in separate columns, involvement coded ``S``,
    ``V``, ``W``, ``RP`` or ``O``, a person's phones joined with ``/``.
    """

    agency = "rivertown_pd"
    name = "rivertown_rms"
    record_type = "rms_incident"
    columns = (
        "IncidentNo", "ReportDate", "Offense", "Synopsis", "Beat", "RecordFlags",
        *(
            f"P{k}{field}"
            for k in range(1, 4)
            for field in ("Role", "Given", "Family", "DOB", "Phone", "Address", "Flags")
        ),
        "VehPlate", "VehState", "VehVIN",
    )  # fmt: skip
    id_column = "IncidentNo"
    date_column = "ReportDate"
    summary_column = "Synopsis"
    bad_date = "13/45/2026"
    _roles: ClassVar[dict[str, str]] = {
        "S": "suspect",
        "V": "victim",
        "W": "witness",
        "RP": "reporting_party",
        "O": "other",
    }
    _phone_styles: ClassVar[tuple[str, ...]] = ("paren", "dashes", "dots")

    def format_id(self, when: dt.datetime, number: int) -> str:
        return f"RT{when.year % 100:02d}-{number:06d}"

    def render(self, rng: random.Random, draft: Draft) -> Row:
        _, offense = rng.choice(vocab.OFFENSES)
        values: dict[str, Any] = {
            "IncidentNo": draft.source_id,
            "ReportDate": draft.when.strftime("%m/%d/%Y"),
            "Offense": offense,
            "Synopsis": rng.choice(vocab.SYNOPSES).format(
                offense=offense, place=rng.choice(vocab.PLACES)
            ),
            "Beat": rng.choice(vocab.BEATS),
            "RecordFlags": ";".join(_sealed(rng)),
        }
        ids: list[str] = []
        seen: list[Appearance] = []
        for k, entity in enumerate(draft.people, start=1):
            code = _rms_role(rng, first=k == 1)
            app = self.observe(rng, entity, max_phones=2)
            values[f"P{k}Role"] = code
            values[f"P{k}Given"] = app.given
            values[f"P{k}Family"] = app.family
            values[f"P{k}DOB"] = _dob(app, "%m/%d/%Y")
            values[f"P{k}Phone"] = _phones(rng, app, self._phone_styles)
            values[f"P{k}Address"] = app.address if rng.random() < 0.6 else ""
            values[f"P{k}Flags"] = ";".join(
                _person_labels(rng, entity, self._roles[code], draft.when)
            )
            ids.append(app.entity_id)
            seen.append(app)
        vehicle = _vehicle_of(rng, seen, 0.4)
        if vehicle is not None:
            values["VehPlate"] = format_plate(rng, vehicle.plate)
            values["VehState"] = vehicle.state
            values["VehVIN"] = vehicle.vin
        return Row(draft.source_id, values, tuple(ids))

    def story_rows(self) -> tuple[StoryRow, ...]:
        sealed = Row(
            STORY.sealed_record_id,
            {
                "IncidentNo": STORY.sealed_record_id,
                "ReportDate": "03/02/2026",
                "Offense": "Burglary - residential",
                "Synopsis": "Burglary - residential reported at 4410 Alder Ln. Record sealed by "
                "court order.",
                "Beat": "R3",
                "RecordFlags": "sealed",
                "P1Role": "S",
                "P1Given": SEALED_PERSON.given,
                "P1Family": SEALED_PERSON.family,
                "P1DOB": SEALED_PERSON.dob.strftime("%m/%d/%Y"),
                "P1Phone": "(206) 555-0163",
                "P1Address": SEALED_PERSON.address,
                "P1Flags": "",
            },
            (SEALED_PERSON.entity_id,),
        )
        juvenile = Row(
            STORY.juvenile_record_id,
            {
                "IncidentNo": STORY.juvenile_record_id,
                "ReportDate": "04/18/2026",
                "Offense": "Theft from motor vehicle",
                "Synopsis": "Juvenile contacted near Lakeview Park after car prowl; released "
                "to parent.",
                "Beat": "R5",
                "RecordFlags": "juvenile",
                "P1Role": "S",
                "P1Given": JUVENILE_PERSON.given,
                "P1Family": JUVENILE_PERSON.family,
                "P1DOB": JUVENILE_PERSON.dob.strftime("%m/%d/%Y"),
                "P1Phone": "",
                "P1Address": JUVENILE_PERSON.address,
                "P1Flags": "juvenile",
            },
            (JUVENILE_PERSON.entity_id,),
        )
        return (
            StoryRow(dt.datetime(2026, 3, 2, 10, 5), sealed),
            StoryRow(dt.datetime(2026, 4, 18, 16, 40), juvenile),
        )


def _rms_role(rng: random.Random, *, first: bool) -> str:
    """An involvement code: the first person is usually the suspect, victim or caller."""
    if first:
        return rng.choices(("S", "V", "RP", "W"), weights=(40, 30, 20, 10))[0]
    return rng.choices(("S", "V", "W", "O"), weights=(25, 25, 35, 15))[0]


# --------------------------------------------------------------------------- lakeside_so


class LakesideFieldInterviews(Source):
    """Lakeside SO field interview cards: a subject and maybe a companion.

    snake_case columns, ISO dates, phones as E.164 or bare digits, the
    companion's name in a single column.
    """

    agency = "lakeside_so"
    name = "lakeside_fi"
    record_type = "field_interview"
    columns = (
        "fi_id", "contact_date", "contact_time", "officer_badge", "reason", "location",
        "subject_first", "subject_last", "subject_dob", "subject_phone", "subject_email",
        "subject_address", "subject_moniker",
        "companion_name", "companion_dob", "companion_phone",
        "vehicle_plate", "vehicle_state", "vehicle_vin", "labels",
    )  # fmt: skip
    id_column = "fi_id"
    date_column = "contact_date"
    summary_column = "reason"
    bad_date = "2026-13-45"
    max_people = 2
    ids_per_year = False
    _phone_styles: ClassVar[tuple[str, ...]] = ("e164", "digits")

    def format_id(self, when: dt.datetime, number: int) -> str:
        return f"FI-{number:07d}"

    def render(self, rng: random.Random, draft: Draft) -> Row:
        values: dict[str, Any] = {
            "fi_id": draft.source_id,
            "contact_date": draft.when.strftime("%Y-%m-%d"),
            "contact_time": draft.when.strftime("%H%M"),
            "officer_badge": f"L{rng.randint(100, 499)}",
            "reason": rng.choice(vocab.FI_REASONS),
            "location": rng.choice(vocab.PLACES),
        }
        labels = _sealed(rng)
        subject = self.observe(rng, draft.people[0])
        values["subject_first"] = subject.given
        values["subject_last"] = subject.family
        values["subject_dob"] = _dob(subject, "%Y-%m-%d")
        values["subject_phone"] = _phones(rng, subject, self._phone_styles)
        values["subject_email"] = subject.email if rng.random() < 0.5 else ""
        values["subject_address"] = subject.address if rng.random() < 0.7 else ""
        values["subject_moniker"] = subject.nickname
        seen = [subject]
        for entity in draft.people:
            labels += _person_labels(rng, entity, "other", draft.when)
        if len(draft.people) > 1:
            companion = self.observe(rng, draft.people[1])
            values["companion_name"] = companion.full_name(rng, self.rates)
            values["companion_dob"] = _dob(companion, "%Y-%m-%d")
            values["companion_phone"] = _phones(rng, companion, self._phone_styles)
            seen.append(companion)
        vehicle = _vehicle_of(rng, seen, 0.6)
        if vehicle is not None:
            values["vehicle_plate"] = format_plate(rng, vehicle.plate)
            values["vehicle_state"] = vehicle.state
            values["vehicle_vin"] = vehicle.vin
        values["labels"] = "|".join(dict.fromkeys(labels))
        return Row(draft.source_id, values, tuple(a.entity_id for a in seen))


class LakesideArrests(Source):
    """Lakeside SO arrests: arrestee, maybe a co-arrestee and a victim.

    A pipe-delimited export; names in one column (``First Last`` or
    ``LAST, FIRST``), date-times ``YYYY-MM-DDTHH:MM``.
    """

    agency = "lakeside_so"
    name = "lakeside_arrests"
    record_type = "arrest"
    columns = (
        "ArrestID", "ArrestDateTime", "Statute", "Charge",
        "ArresteeName", "ArresteeDOB", "ArresteePhone", "ArresteeAddress", "ArresteeAKA",
        "CoArresteeName", "CoArresteeDOB",
        "VictimName", "VictimDOB", "VictimPhone",
        "Plate", "PlateState", "Flags",
    )  # fmt: skip
    delimiter = "|"
    id_column = "ArrestID"
    date_column = "ArrestDateTime"
    summary_column = "Charge"
    bad_date = "2026-13-45T25:61"
    _phone_styles: ClassVar[tuple[str, ...]] = ("e164", "digits", "digits")

    def format_id(self, when: dt.datetime, number: int) -> str:
        return f"A{when.year}{number:06d}"

    def render(self, rng: random.Random, draft: Draft) -> Row:
        statute, charge = rng.choice(vocab.CHARGES)
        values: dict[str, Any] = {
            "ArrestID": draft.source_id,
            "ArrestDateTime": draft.when.strftime("%Y-%m-%dT%H:%M"),
            "Statute": statute,
            "Charge": charge,
        }
        flags = _sealed(rng)
        people = list(draft.people)
        arrestee = self.observe(rng, people.pop(0))
        values["ArresteeName"] = arrestee.full_name(rng, self.rates)
        values["ArresteeDOB"] = _dob(arrestee, "%Y-%m-%d")
        values["ArresteePhone"] = _phones(rng, arrestee, self._phone_styles)
        values["ArresteeAddress"] = arrestee.address
        values["ArresteeAKA"] = arrestee.nickname if rng.random() < 0.6 else ""
        ids = [arrestee.entity_id]
        co: Appearance | None = None
        victim: Appearance | None = None
        if len(people) == 2 or (people and rng.random() < 0.4):
            co = self.observe(rng, people.pop(0))
            values["CoArresteeName"] = co.full_name(rng, self.rates)
            values["CoArresteeDOB"] = _dob(co, "%Y-%m-%d")
            ids.append(co.entity_id)
        if people:
            victim = self.observe(rng, people.pop(0))
            values["VictimName"] = victim.full_name(rng, self.rates)
            values["VictimDOB"] = _dob(victim, "%Y-%m-%d")
            values["VictimPhone"] = _phones(rng, victim, self._phone_styles)
            ids.append(victim.entity_id)
        if any(_minor(e, draft.when) for e in draft.people):
            flags.append("juvenile")
        vehicle = _vehicle_of(rng, [arrestee], 0.5)
        if vehicle is not None:
            values["Plate"] = format_plate(rng, vehicle.plate)
            values["PlateState"] = vehicle.state
        values["Flags"] = ",".join(flags)
        return Row(draft.source_id, values, tuple(ids))


# --------------------------------------------------------------------------- harbor_pd


class HarborRms(Source):
    """Harbor PD RMS: up to three persons, each named ``Family, Given`` in one column.

    Report times ``YYYY-MM-DD HH:MM``, birth dates ``YYYYMMDD``, involvement
    spelled out in capitals, labels in capitals.
    """

    agency = "harbor_pd"
    name = "harbor_rms"
    record_type = "rms_incident"
    columns = (
        "CaseNumber", "ReportedOn", "IncidentType", "Narrative", "District", "CaseLabels",
        *(
            f"Person{k}{field}"
            for k in range(1, 4)
            for field in ("Involvement", "Name", "DOB", "Phone", "Alias", "Labels")
        ),
        "VehiclePlate", "VehicleState", "VehicleVIN",
    )  # fmt: skip
    id_column = "CaseNumber"
    date_column = "ReportedOn"
    summary_column = "Narrative"
    bad_date = "2026-13-45 25:61"
    _involvements: ClassVar[dict[str, tuple[str, str]]] = {
        "S": ("SUSPECT", "suspect"),
        "V": ("VICTIM", "victim"),
        "W": ("WITNESS", "witness"),
        "RP": ("REPORTING PARTY", "reporting_party"),
        "O": ("OTHER", "other"),
    }
    _phone_styles: ClassVar[tuple[str, ...]] = ("dashes", "paren", "spaced")

    def format_id(self, when: dt.datetime, number: int) -> str:
        return f"HPD-{when.year % 100:02d}-{number:06d}"

    def render(self, rng: random.Random, draft: Draft) -> Row:
        kind = rng.choice(vocab.HARBOR_INCIDENT_TYPES)
        values: dict[str, Any] = {
            "CaseNumber": draft.source_id,
            "ReportedOn": draft.when.strftime("%Y-%m-%d %H:%M"),
            "IncidentType": kind,
            "Narrative": rng.choice(vocab.HARBOR_NARRATIVES).format(
                kind=kind.lower(), place=rng.choice(vocab.PLACES)
            ),
            "District": rng.choice(vocab.DISTRICTS),
            "CaseLabels": ";".join(_sealed(rng)).upper(),
        }
        ids: list[str] = []
        seen: list[Appearance] = []
        for k, entity in enumerate(draft.people, start=1):
            word, role = self._involvements[_rms_role(rng, first=k == 1)]
            app = self.observe(rng, entity)
            if app.family and rng.random() >= self.rates.last_first:
                name = f"{app.family}, {app.given}"
            else:
                name = f"{app.given} {app.family}".strip()
            values[f"Person{k}Involvement"] = word
            values[f"Person{k}Name"] = name
            values[f"Person{k}DOB"] = _dob(app, "%Y%m%d")
            values[f"Person{k}Phone"] = _phones(rng, app, self._phone_styles)
            values[f"Person{k}Alias"] = app.nickname if rng.random() < 0.4 else ""
            values[f"Person{k}Labels"] = ";".join(
                _person_labels(rng, entity, role, draft.when)
            ).upper()
            ids.append(app.entity_id)
            seen.append(app)
        vehicle = _vehicle_of(rng, seen, 0.4)
        if vehicle is not None:
            values["VehiclePlate"] = format_plate(rng, vehicle.plate)
            values["VehicleState"] = vehicle.state
            values["VehicleVIN"] = vehicle.vin
        return Row(draft.source_id, values, tuple(ids))

    def story_rows(self) -> tuple[StoryRow, ...]:
        marcus = exact(MARCUS)
        values = {
            "CaseNumber": STORY.harbor_incident_id,
            "ReportedOn": "2026-09-16 22:40",
            "IncidentType": "Suspicious Circumstances",
            "Narrative": (
                "Patrol contacted driver of silver sedan idling in lot of Seaside Inn, "
                "14 Pier Rd. Driver identified as Dell, Marcus; gave phone 503-555-0142. "
                "Young female passenger left on foot before contact. No enforcement action."
            ),
            "District": "Waterfront",
            "CaseLabels": "",
            "Person1Involvement": "SUSPECT",
            "Person1Name": f"{marcus.family}, {marcus.given}",
            "Person1DOB": _dob(marcus, "%Y%m%d"),
            "Person1Phone": "503-555-0142",
            "Person1Alias": "",
            "Person1Labels": "",
            "VehiclePlate": STORY.plate,
            "VehicleState": STORY.plate_state,
            "VehicleVIN": "",
        }
        row = Row(STORY.harbor_incident_id, values, (MARCUS.entity_id,))
        return (StoryRow(dt.datetime(2026, 9, 16, 22, 40), row),)


class HarborFieldInterviews(LakesideFieldInterviews):
    """Harbor PD field interview cards: the same card layout as Lakeside's (one vendor)."""

    agency = "harbor_pd"
    name = "harbor_fi"

    def format_id(self, when: dt.datetime, number: int) -> str:
        return f"HFI-{number:06d}"

    def story_rows(self) -> tuple[StoryRow, ...]:
        marcus = exact(MARCUS)
        values = {
            "fi_id": STORY.harbor_fi_id,
            "contact_date": "2026-10-02",
            "contact_time": "0115",
            "officer_badge": "H214",
            "reason": "Loitering in motel lot; subject says he is waiting for a friend",
            "location": "Bayview Motel, 2200 Coast Hwy",
            "subject_first": marcus.given,
            "subject_last": marcus.family,
            "subject_dob": _dob(marcus, "%Y-%m-%d"),
            "subject_phone": "+15035550142",
            "subject_email": "",
            "subject_address": "",
            "subject_moniker": "",
            "companion_name": "",
            "companion_dob": "",
            "companion_phone": "",
            "vehicle_plate": STORY.plate,
            "vehicle_state": STORY.plate_state,
            "vehicle_vin": "",
            "labels": "",
        }
        row = Row(STORY.harbor_fi_id, values, (MARCUS.entity_id,))
        return (StoryRow(dt.datetime(2026, 10, 2, 1, 15), row),)


class HarborMissing(Source):
    """Harbor PD missing persons: the missing person, who reported it, who they were with.

    Exported from a European-made product: dates ``DD.MM.YYYY`` (the mapping
    says ``date_order = "DMY"``) and a UTF-8 byte-order mark.
    """

    agency = "harbor_pd"
    name = "harbor_missing"
    record_type = "missing_person"
    columns = (
        "MissingNo", "ReportDate", "LastSeenDate", "LastSeenLocation", "Circumstances",
        "FirstName", "LastName", "DOB", "Nickname", "Phone", "HomeAddress",
        "ReporterName", "ReporterRelation", "ReporterPhone", "ReporterEmail",
        "CompanionName", "CompanionPhone", "Labels",
    )  # fmt: skip
    encoding = "utf-8-sig"
    id_column = "MissingNo"
    date_column = "ReportDate"
    summary_column = "Circumstances"
    bad_date = "45.13.2026"
    _phone_styles: ClassVar[tuple[str, ...]] = ("dashes", "paren", "dots")

    def format_id(self, when: dt.datetime, number: int) -> str:
        return f"MP-{when.year}-{number:04d}"

    def render(self, rng: random.Random, draft: Draft) -> Row:
        last_seen = draft.when - dt.timedelta(hours=rng.randint(4, 96))
        values: dict[str, Any] = {
            "MissingNo": draft.source_id,
            "ReportDate": draft.when.strftime("%d.%m.%Y"),
            "LastSeenDate": last_seen.strftime("%d.%m.%Y"),
            "LastSeenLocation": rng.choice(vocab.PLACES),
            "Circumstances": rng.choice(vocab.MISSING_CIRCUMSTANCES),
        }
        labels = _sealed(rng)
        missing = self.observe(rng, draft.people[0])
        values["FirstName"] = missing.given
        values["LastName"] = missing.family
        values["DOB"] = _dob(missing, "%d.%m.%Y")
        values["Nickname"] = missing.nickname
        values["Phone"] = _phones(rng, missing, self._phone_styles)
        values["HomeAddress"] = missing.address
        ids = [missing.entity_id]
        if _minor(draft.people[0], draft.when):
            labels.append("juvenile")
        if len(draft.people) > 1:
            reporter = observe(rng, draft.people[1], self.rates, max_phones=1, phone_rate=1.0)
            values["ReporterName"] = f"{reporter.given} {reporter.family}".strip()
            values["ReporterRelation"] = rng.choice(vocab.REPORTER_RELATIONS)
            values["ReporterPhone"] = _phones(rng, reporter, self._phone_styles)
            values["ReporterEmail"] = reporter.email
            ids.append(reporter.entity_id)
        if len(draft.people) > 2:
            companion = self.observe(rng, draft.people[2])
            values["CompanionName"] = companion.full_name(rng, self.rates)
            values["CompanionPhone"] = _phones(rng, companion, self._phone_styles)
            ids.append(companion.entity_id)
        values["Labels"] = ";".join(labels)
        return Row(draft.source_id, values, tuple(ids))


class HarborWarrants(Source):
    """Harbor PD warrants: the wanted person and, sometimes, the complainant.

    A Windows export: cp1252 encoding, CRLF line ends, issue dates
    ``YYYYMMDD``, birth dates ``MM/DD/YYYY``.
    """

    agency = "harbor_pd"
    name = "harbor_warrants"
    record_type = "warrant"
    columns = (
        "WarrantNo", "IssueDate", "Court", "Offense", "Status",
        "LastName", "FirstName", "DOB", "AKA", "Phone", "LastKnownAddress",
        "Plate", "PlateState",
        "ComplainantName", "ComplainantPhone", "Flags",
    )  # fmt: skip
    encoding = "cp1252"
    line_terminator = "\r\n"
    id_column = "WarrantNo"
    date_column = "IssueDate"
    summary_column = "Offense"
    bad_date = "20261345"
    max_people = 2
    ids_per_year = False
    _phone_styles: ClassVar[tuple[str, ...]] = ("paren", "digits")

    def format_id(self, when: dt.datetime, number: int) -> str:
        return f"W{number:08d}"

    def render(self, rng: random.Random, draft: Draft) -> Row:
        values: dict[str, Any] = {
            "WarrantNo": draft.source_id,
            "IssueDate": draft.when.strftime("%Y%m%d"),
            "Court": rng.choice(vocab.COURTS),
            "Offense": rng.choice(vocab.WARRANT_OFFENSES),
            "Status": rng.choice(vocab.WARRANT_STATUSES),
        }
        flags = _sealed(rng)
        wanted = self.observe(rng, draft.people[0])
        values["LastName"] = wanted.family.upper()
        values["FirstName"] = wanted.given.upper()
        values["DOB"] = _dob(wanted, "%m/%d/%Y")
        values["AKA"] = wanted.nickname.upper()
        values["Phone"] = _phones(rng, wanted, self._phone_styles)
        values["LastKnownAddress"] = wanted.address.upper()
        ids = [wanted.entity_id]
        if _minor(draft.people[0], draft.when):
            flags.append("juvenile")
        vehicle = _vehicle_of(rng, [wanted], 0.5)
        if vehicle is not None:
            values["Plate"] = format_plate(rng, vehicle.plate)
            values["PlateState"] = vehicle.state
        if len(draft.people) > 1:
            complainant = self.observe(rng, draft.people[1])
            values["ComplainantName"] = (
                f"{complainant.family}, {complainant.given}"
                if complainant.family
                else complainant.given
            )
            values["ComplainantPhone"] = _phones(rng, complainant, self._phone_styles)
            ids.append(complainant.entity_id)
        values["Flags"] = ";".join(flags).upper()
        return Row(draft.source_id, values, tuple(ids))


# --------------------------------------------------------------------------- tip_hotline


class TipHotline(Source):
    """The regional tip line: JSON Lines, one tip per line, persons as an array.

    Tipsters know people by first name or nickname more often than by full
    name, rarely know a birth date, and give phones however they remember them.
    """

    agency = "tip_hotline"
    name = "tip_hotline_tips"
    record_type = "hotline_tip"
    format = "jsonl"
    id_column = "tip_id"
    date_column = "received"
    summary_column = "summary"
    bad_date = "2026-13-45T25:61:00-07:00"
    ids_per_year = False
    _roles: ClassVar[tuple[str, ...]] = ("suspect", "suspect", "victim", "witness", "other")
    _phone_styles: ClassVar[tuple[str, ...]] = ("dots", "dashes", "paren", "digits")

    def format_id(self, when: dt.datetime, number: int) -> str:
        return f"TIP-{10000 + number}"

    def render(self, rng: random.Random, draft: Draft) -> Row:
        labels = _sealed(rng)
        if rng.random() < CONFIDENTIAL_RATE:
            labels.append("confidential_source")
        persons = []
        seen = []
        for entity in draft.people:
            app = self.observe(rng, entity)
            role = rng.choice(self._roles)
            roll = rng.random()
            if roll < 0.15 and app.nickname:
                name = app.nickname
            elif roll < 0.4:
                name = app.given
            else:
                name = f"{app.given} {app.family}".strip()
            persons.append(
                {
                    "name": name,
                    "nickname": app.nickname or None,
                    "phone": _phones(rng, app, self._phone_styles) or None,
                    "dob": app.dob.isoformat() if app.dob and rng.random() < 0.3 else None,
                    "role": role,
                }
            )
            seen.append(app)
            labels += _person_labels(rng, entity, role, draft.when)
        vehicle = _vehicle_of(rng, seen, 0.5)
        values: dict[str, Any] = {
            "tip_id": draft.source_id,
            "received": _local_iso(draft.when),
            "summary": rng.choice(vocab.TIP_SUMMARIES).format(place=rng.choice(vocab.PLACES)),
            "persons": persons,
            "vehicle": None
            if vehicle is None
            else {"plate": format_plate(rng, vehicle.plate), "state": vehicle.state},
            "labels": list(dict.fromkeys(labels)),
        }
        return Row(draft.source_id, values, tuple(a.entity_id for a in seen))

    def story_rows(self) -> tuple[StoryRow, ...]:
        when = dt.datetime(2026, 9, 15, 8, 12, 44)
        values = {
            "tip_id": STORY.tip_id,
            "received": _local_iso(when),
            "summary": (
                "Caller says a girl who goes by Jazzy is being kept at a motel by an older "
                "guy with a silver car; gave her number 503.555.0142."
            ),
            "persons": [
                {"name": "Jazzy", "nickname": "Jazzy", "phone": "503.555.0142", "role": "victim"}
            ],
            "vehicle": None,
            "labels": ["victim"],
        }
        return (StoryRow(when, Row(STORY.tip_id, values, (JAZMIN.entity_id,))),)


def _local_iso(when: dt.datetime) -> str:
    """``when`` as Pacific local time with its UTC offset (daylight time roughly Mar-Oct)."""
    offset = "-07:00" if 3 <= when.month <= 10 else "-08:00"
    return when.strftime("%Y-%m-%dT%H:%M:%S") + offset


#: Every source, in the order files are generated and listed.
SOURCES: tuple[type[Source], ...] = (
    RivertownCad,
    RivertownRms,
    LakesideFieldInterviews,
    LakesideArrests,
    HarborRms,
    HarborFieldInterviews,
    HarborMissing,
    HarborWarrants,
    TipHotline,
)
