"""Tests of the synthetic agency data generator (:mod:`accord.synthetic`)."""

from __future__ import annotations

import collections
import csv
import hashlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from accord.synthetic import (
    DEMO_AGENCIES,
    NO_ERRORS,
    STORY,
    Dataset,
    ErrorRates,
    SourceFile,
    generate,
    population,
)
from accord.synthetic.generate import MAPPINGS_DIR
from accord.synthetic.names import FAMILY_NAMES, GIVEN_NAMES, NICKNAMES
from accord.synthetic.people import Entity, fold
from accord.synthetic.sources import SOURCES, Source
from accord.synthetic.story import ANONYMOUS_CALLER_ID, STORY_PEOPLE

# The mapping round trip uses the real ingest path. node.ingest.mapping and
# node.ingest.reader are written by another engineer; if they are missing or
# broken, the tests that use them fail (they are not skipped on purpose: the
# generated files and mappings must stay readable by the real reader).
from node.ingest.mapping import Mapping
from node.ingest.reader import read_records
from node.records import Record

SEED = 7
PEOPLE = 150
ROWS = 80
BAD = 4 * len(SOURCES)  # four per source: every kind of bad row of every source
SOURCE_CLASSES: dict[str, type[Source]] = {cls.name: cls for cls in SOURCES}
STORY_ENTITIES = {e.entity_id: e for e in STORY_PEOPLE}


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    return generate(
        tmp_path_factory.mktemp("clean"), seed=SEED, people=PEOPLE, records_per_source=ROWS
    )


@pytest.fixture(scope="module")
def bad_dataset(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    return generate(
        tmp_path_factory.mktemp("bad"),
        seed=SEED,
        people=PEOPLE,
        records_per_source=ROWS,
        bad_rows=BAD,
    )


@pytest.fixture(scope="module")
def exact_dataset(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    return generate(
        tmp_path_factory.mktemp("exact"),
        seed=SEED,
        people=PEOPLE,
        records_per_source=ROWS,
        errors=NO_ERRORS,
    )


# --------------------------------------------------------------------------- helpers


def _file_hashes(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _raw_rows(source: SourceFile) -> Iterator[dict[str, Any]]:
    """A source file's rows as written, read without the mapping."""
    cls = SOURCE_CLASSES[source.source]
    if cls.format == "jsonl":
        with source.path.open(encoding="utf-8") as fh:
            for line in fh:
                yield json.loads(line)
        return
    with source.path.open(newline="", encoding=cls.encoding) as fh:
        yield from csv.DictReader(fh, delimiter=cls.delimiter)


def _row(dataset: Dataset, source_name: str, source_id: str) -> dict[str, Any]:
    source = next(s for s in dataset.sources if s.source == source_name)
    id_column = SOURCE_CLASSES[source_name].id_column
    matches = [r for r in _raw_rows(source) if r[id_column] == source_id]
    assert len(matches) == 1, f"{source_name} {source_id}: {len(matches)} rows"
    return matches[0]


def _records(source: SourceFile) -> list[Record]:
    """A source file's records, read through its mapping."""
    results = list(read_records(Mapping.load(source.mapping), source.path))
    assert [r.error for r in results if r.error] == []
    return [r.record for r in results if r.record is not None]


def _digits(phone: str) -> str:
    return re.sub(r"\D", "", phone)[-10:]


def _ground_truth(dataset: Dataset) -> dict[tuple[str, str], list[str]]:
    """``(source, source_id)`` -> entity ids by person index."""
    truth: dict[tuple[str, str], list[str]] = collections.defaultdict(list)
    for row in dataset.iter_ground_truth():
        people = truth[(row.source, row.source_id)]
        assert row.person_index == len(people), f"{row}: indices must count up from 0"
        people.append(row.entity_id)
    return truth


# --------------------------------------------------------------------------- determinism


def test_same_seed_gives_byte_identical_files(tmp_path: Path) -> None:
    first = generate(tmp_path / "a", seed=3, people=60, records_per_source=30, bad_rows=8)
    second = generate(tmp_path / "b", seed=3, people=60, records_per_source=30, bad_rows=8)

    hashes = _file_hashes(first.root)
    assert hashes == _file_hashes(second.root)
    assert len(hashes) == 2 + 2 * len(SOURCES)  # truth, bad rows, a data file + mapping each


def test_different_seeds_give_different_files(tmp_path: Path) -> None:
    first = generate(tmp_path / "a", seed=1, people=60, records_per_source=30)
    second = generate(tmp_path / "b", seed=2, people=60, records_per_source=30)

    for a, b in zip(first.sources, second.sources, strict=True):
        assert a.path.read_bytes() != b.path.read_bytes(), a.path.name
        assert a.mapping.read_bytes() == b.mapping.read_bytes()


# --------------------------------------------------------------------------- layout


def test_every_agency_gets_its_sources(dataset: Dataset) -> None:
    assert {s.agency for s in dataset.sources} == set(DEMO_AGENCIES)
    assert [s.source for s in dataset.for_agency("lakeside_so")] == [
        "lakeside_fi",
        "lakeside_arrests",
    ]
    assert dataset.for_agency("nobody") == ()
    for source in dataset.sources:
        assert source.path.is_file()
        assert source.mapping == source.path.with_suffix(".toml")
        assert source.mapping.read_bytes() == (MAPPINGS_DIR / source.mapping.name).read_bytes()
        assert source.rows == ROWS
        assert sum(1 for _ in _raw_rows(source)) == ROWS


def test_names_tables_are_varied_and_encodable() -> None:
    assert len(GIVEN_NAMES) >= 200
    assert len(FAMILY_NAMES) >= 200
    assert {"Jazmín", "Ramírez", "Núñez", "de la Cruz", "Nguyen", "Haddad"} <= {
        *GIVEN_NAMES,
        *FAMILY_NAMES,
    }
    assert set(NICKNAMES) <= set(GIVEN_NAMES)
    # harbor_warrants is written in cp1252, so every name must fit it.
    for name in (*GIVEN_NAMES, *FAMILY_NAMES):
        name.encode("cp1252")


def test_phones_stay_in_the_fictional_range(dataset: Dataset) -> None:
    pool = population(SEED, PEOPLE)
    for index in range(PEOPLE):
        for phone in pool.entity(index).phones:
            assert re.fullmatch(r"\d{3}55501\d\d", phone), phone


# --------------------------------------------------------------------------- story


def test_story_cad_call(dataset: Dataset) -> None:
    row = _row(dataset, "rivertown_cad", STORY.cad_call_id)

    assert row["ReceivedAt"].startswith("09/14/2026")
    assert row["SubjectName"] == "RAMIREZ, JAZMIN"
    assert row["SubjectAKA"] == STORY.nickname == "Jazzy"
    assert row["SubjectDOB"] == "03/04/1999"
    assert row["CallbackNumber"] == STORY.phone == "(503) 555-0142"
    assert "MOTEL" in row["Narrative"]


def test_story_tip_has_only_her_nickname(dataset: Dataset) -> None:
    row = _row(dataset, "tip_hotline_tips", STORY.tip_id)

    assert row["persons"] == [
        {"name": "Jazzy", "nickname": "Jazzy", "phone": "503.555.0142", "role": "victim"}
    ]


def test_story_harbor_incident_links_her_phone_to_marcus_dell(dataset: Dataset) -> None:
    row = _row(dataset, "harbor_rms", STORY.harbor_incident_id)

    assert row["Person1Name"] == "Dell, Marcus"
    assert row["Person1Involvement"] == "SUSPECT"
    assert row["Person1Phone"] == "503-555-0142"
    assert (row["VehiclePlate"], row["VehicleState"]) == (STORY.plate, STORY.plate_state)
    assert STORY.associate_name == "Marcus Dell"


def test_story_constant_describes_her() -> None:
    assert STORY.name == "Jazmin Ramírez"
    assert (STORY.given, STORY.family) == ("Jazmin", "Ramírez")
    assert STORY.dob.isoformat() == "1999-03-04"
    assert (STORY.plate, STORY.plate_state) == ("7KDX214", "OR")
    assert STORY.investigator_agency == "lakeside_so"
    assert {r.agency for r in STORY.records} == {"rivertown_pd", "tip_hotline", "harbor_pd"}


def test_only_the_story_records_mention_her(dataset: Dataset) -> None:
    truth = _ground_truth(dataset)
    hers = {key for key, ids in truth.items() if STORY.entity_id in ids}
    assert hers == {("rivertown_cad", STORY.cad_call_id), ("tip_hotline_tips", STORY.tip_id)}

    story_ids = {r.source_id for r in STORY.records}
    for source in dataset.sources:
        id_column = SOURCE_CLASSES[source.source].id_column
        for row in _raw_rows(source):
            if row[id_column] in story_ids:
                continue
            text = json.dumps(row, ensure_ascii=False)
            cells = re.findall(r'"([^"]*)"', text)
            assert not any(_digits(c) == "5035550142" for c in cells), row
            assert STORY.plate not in text, row


def test_investigator_agency_holds_nothing_about_her(dataset: Dataset) -> None:
    assert not [s for s in STORY.records if s.agency == STORY.investigator_agency]
    for source in dataset.for_agency(STORY.investigator_agency):
        text = source.path.read_text(encoding="utf-8")
        assert "Jazzy" not in text
        assert not re.search(r"503\D{0,2}555\D?0142", text)
        assert STORY.plate not in text
        # Other women called Jazmín may exist; Jazmin Ramírez may not.
        names = [fold(" ".join(p.full_name for p in r.people)) for r in _records(source)]
        assert not [n for n in names if "jazmin" in n and "ramirez" in n]


def test_story_policy_records(dataset: Dataset) -> None:
    sealed = _row(dataset, "rivertown_rms", STORY.sealed_record_id)
    juvenile = _row(dataset, "rivertown_rms", STORY.juvenile_record_id)

    assert sealed["RecordFlags"] == "sealed"
    assert (sealed["P1Given"], sealed["P1Family"]) == ("Daniel", "Okafor")
    assert juvenile["RecordFlags"] == "juvenile"
    assert juvenile["P1Flags"] == "juvenile"


def test_story_is_the_same_for_every_seed(tmp_path: Path) -> None:
    a = generate(tmp_path / "a", seed=11, people=50, records_per_source=20)
    b = generate(tmp_path / "b", seed=12, people=50, records_per_source=20)
    for record in (*STORY.records, *STORY.policy_records):
        assert _row(a, record.source, record.source_id) == _row(b, record.source, record.source_id)


def test_no_story_when_asked(tmp_path: Path) -> None:
    data = generate(tmp_path, seed=SEED, people=50, records_per_source=40, story=False)

    entities = {row.entity_id for row in data.iter_ground_truth()}
    assert not {e for e in entities if e.startswith("STORY-")}
    ids = {(row.source, row.source_id) for row in data.iter_ground_truth()}
    for record in (*STORY.records, *STORY.policy_records):
        assert (record.source, record.source_id) not in ids


# --------------------------------------------------------------------------- ground truth


def test_ground_truth_points_at_existing_records(dataset: Dataset) -> None:
    truth = _ground_truth(dataset)
    written: set[tuple[str, str]] = set()
    for source in dataset.sources:
        id_column = SOURCE_CLASSES[source.source].id_column
        ids = [row[id_column] for row in _raw_rows(source)]
        assert len(ids) == len(set(ids)), f"{source.source}: duplicate ids"
        written |= {(source.source, i) for i in ids}

    # Every good record has people (each source's blocks always find someone),
    # and every ground-truth line names a record that exists.
    assert set(truth) == written
    agencies = {row.source: row.agency for row in dataset.iter_ground_truth()}
    assert agencies == {s.source: s.agency for s in dataset.sources}


def test_people_recur_across_agencies(dataset: Dataset) -> None:
    seen: dict[str, set[str]] = collections.defaultdict(set)
    for row in dataset.iter_ground_truth():
        seen[row.entity_id].add(row.agency)

    recurring = [e for e, agencies in seen.items() if len(agencies) >= 2]
    assert len(recurring) >= 20
    assert any(len(agencies) == len(DEMO_AGENCIES) for agencies in seen.values())


# --------------------------------------------------------------------------- bad rows


def test_bad_rows_are_listed(bad_dataset: Dataset) -> None:
    bad = bad_dataset.bad_rows()

    assert len(bad) == BAD
    per_source = collections.Counter(b.source for b in bad)
    assert per_source == {cls.name: BAD // len(SOURCES) for cls in SOURCES}
    assert {b.kind for b in bad} == {
        "bad_date",
        "empty_id",
        "too_few_fields",
        "too_many_fields",
        "invalid_json",
    }
    truth = _ground_truth(bad_dataset)
    for b in bad:
        cls = SOURCE_CLASSES[b.source]
        lines = (bad_dataset.root / b.file).read_text(encoding=cls.encoding).splitlines()
        line = lines[b.line - 1]
        if cls.format == "jsonl":
            if b.kind == "invalid_json":
                with pytest.raises(json.JSONDecodeError):
                    json.loads(line)
                continue
            cells = json.loads(line)
        else:
            header = next(csv.reader([lines[0]], delimiter=cls.delimiter))
            fields = next(csv.reader([line], delimiter=cls.delimiter))
            if b.kind in ("too_few_fields", "too_many_fields"):
                assert (len(fields) < len(header)) == (b.kind == "too_few_fields"), b
                assert len(fields) != len(header), b
                continue
            cells = dict(zip(header, fields, strict=True))
        if b.kind == "empty_id":
            assert cells[cls.id_column] == "", b
        else:
            assert b.kind == "bad_date"
            assert cells[cls.date_column] == cls.bad_date, b
            assert (b.source, b.source_id) not in truth, "bad rows have no ground truth"


def test_bad_rows_only_replace_rows(dataset: Dataset, bad_dataset: Dataset) -> None:
    """The same seed with bad rows writes the same good rows, minus the broken ones."""
    bad_lines = {(b.source, b.line) for b in bad_dataset.bad_rows()}
    for clean, broken in zip(dataset.sources, bad_dataset.sources, strict=True):
        cls = SOURCE_CLASSES[clean.source]
        first = 2 if cls.format == "csv" else 1
        clean_lines = clean.path.read_text(encoding=cls.encoding).splitlines()
        broken_lines = broken.path.read_text(encoding=cls.encoding).splitlines()
        assert len(clean_lines) == len(broken_lines)
        for number, (a, b) in enumerate(zip(clean_lines, broken_lines, strict=True), start=1):
            if number >= first and (clean.source, number) in bad_lines:
                assert a != b
            else:
                assert a == b


# --------------------------------------------------------------------------- mappings


@pytest.mark.parametrize("source", SOURCES, ids=lambda cls: cls.name)
def test_mapping_in_deploy_examples_loads(source: type[Source]) -> None:
    mapping = Mapping.load(MAPPINGS_DIR / f"{source.name}.toml")

    assert mapping.source == source.name
    assert mapping.format == source.format


def test_every_file_ingests_cleanly_through_its_mapping(dataset: Dataset) -> None:
    truth = _ground_truth(dataset)
    for source in dataset.sources:
        mapping = Mapping.load(source.mapping)
        results = list(read_records(mapping, source.path))

        assert [r.error for r in results if r.error] == []
        assert len(results) == source.rows
        for result in results:
            assert result.record is not None
            record = result.record
            assert record.record_type.value == source.record_type
            assert len(record.people) == len(truth[(source.source, record.source_id)])


def test_ingest_rejects_exactly_the_bad_rows(bad_dataset: Dataset) -> None:
    rejected = set()
    for source in bad_dataset.sources:
        mapping = Mapping.load(source.mapping)
        for result in read_records(mapping, source.path):
            if result.error is not None:
                rejected.add((source.source, result.row_number))

    assert rejected == {(b.source, b.line) for b in bad_dataset.bad_rows()}


def _entity(pool_entity: Any, entity_id: str) -> Entity | None:
    if entity_id in STORY_ENTITIES:
        return STORY_ENTITIES[entity_id]
    if entity_id == ANONYMOUS_CALLER_ID:
        return None
    assert re.fullmatch(r"P\d{7}", entity_id), entity_id
    entity: Entity = pool_entity(int(entity_id[1:]))
    return entity


def test_ground_truth_names_the_right_person(exact_dataset: Dataset) -> None:
    """Without recording errors, each person read back is the entity the truth names."""
    truth = _ground_truth(exact_dataset)
    pool = population(SEED, PEOPLE)
    checked = 0
    for source in exact_dataset.sources:
        mapping = Mapping.load(source.mapping)
        for result in read_records(mapping, source.path):
            assert result.record is not None, result.error
            record = result.record
            ids = truth[(source.source, record.source_id)]
            assert len(ids) == len(record.people)
            for person, entity_id in zip(record.people, ids, strict=True):
                entity = _entity(pool.entity, entity_id)
                if entity is None:  # the story's anonymous caller: a phone only
                    assert person.phones == (STORY.phone,)
                    continue
                text = fold(" ".join((person.full_name, *person.nicknames, *person.aliases)))
                assert fold(entity.given) in text or fold(entity.nickname) in text, (
                    source.source,
                    record.source_id,
                    person,
                    entity,
                )
                if person.family or "," in person.name or " " in person.name:
                    assert fold(entity.family) in text, (source.source, person, entity)
                assert {_digits(p) for p in person.phones} <= set(entity.phones)
                assert set(person.dobs) <= {entity.dob}
                checked += 1
    assert checked > len(exact_dataset.sources) * ROWS


def test_victims_and_juveniles_are_labelled(dataset: Dataset) -> None:
    labels: collections.Counter[str] = collections.Counter()
    records = 0
    for source in dataset.sources:
        mapping = Mapping.load(source.mapping)
        for result in read_records(mapping, source.path):
            assert result.record is not None
            records += 1
            record = result.record
            labels.update(record.all_labels)
            for person in record.people:
                if person.role.value == "victim" and source.source != "tip_hotline_tips":
                    assert "victim" in record.all_labels, (source.source, record.source_id)
    assert labels["victim"] > 0
    assert labels["juvenile"] > 0
    assert 0 < labels["sealed"] < records * 0.1
    assert labels["confidential_source"] > 0


# --------------------------------------------------------------------------- arguments


def test_progress_reports_every_row(tmp_path: Path) -> None:
    seen: list[int] = []
    generate(tmp_path, people=30, records_per_source=20, progress=seen.append)

    # After each source (fewer rows than PROGRESS_EVERY in all), never twice the same.
    assert seen == [20 * k for k in range(1, len(SOURCES) + 1)]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"people": 0}, "people"),
        ({"records_per_source": 0}, "records_per_source"),
        ({"bad_rows": -1}, "bad_rows"),
        ({"records_per_source": 1}, "rivertown_rms needs 2 story rows"),
        ({"records_per_source": 5, "bad_rows": 48}, "bad rows"),
    ],
)
def test_bad_arguments_are_refused(tmp_path: Path, kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        generate(tmp_path, **kwargs)


def test_error_rates_are_probabilities() -> None:
    with pytest.raises(ValueError, match=r"ErrorRates\.typo"):
        ErrorRates(typo=1.5)
