"""Write a seeded synthetic dataset: agency source files, their mappings, and the truth.

Layout of ``out_dir`` after :func:`generate`::

    out_dir/
      ground_truth.csv          agency,source,source_id,person_index,entity_id
      bad_rows.csv              agency,source,file,line,source_id,kind,reason
      rivertown_pd/rivertown_cad.csv   rivertown_pd/rivertown_cad.toml
      rivertown_pd/rivertown_rms.csv   rivertown_pd/rivertown_rms.toml
      lakeside_so/lakeside_fi.csv      ...
      lakeside_so/lakeside_arrests.csv
      harbor_pd/harbor_rms.csv
      harbor_pd/harbor_missing.csv
      harbor_pd/harbor_warrants.csv
      tip_hotline/tip_hotline_tips.jsonl

Each data file comes with a copy of its mapping from ``deploy/examples/``.

``ground_truth.csv`` has one line per person per good record: ``person_index``
is the person's position in the record the mapping produces (people in the
order of the mapping's ``[[people]]`` blocks, array order within an ``each``
block, blocks that are empty in that row skipped), and ``entity_id`` says who
they really are (``P0000042`` for pool people, ``STORY-...`` for the planted
story). Two appearances with the same ``entity_id`` are the same person, so
benchmarks can score cross-agency matching by precision and recall.

``bad_rows.csv`` lists the deliberately malformed rows (``line`` is the
1-based physical line of the file, the CSV header being line 1); they have no
ground truth, and a correct ingest rejects exactly them.

Determinism: every random choice comes from a ``random.Random`` seeded from
``seed`` and the source's name, so the same arguments give byte-identical
files. Scale: rows are streamed to disk as they are made; memory holds the
person cache and a handful of counters, never the records.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import random
import shutil
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol

from accord.synthetic.noise import ErrorRates
from accord.synthetic.people import PersonPool, fold
from accord.synthetic.sources import SOURCES, BadKind, Draft, Row, Source, StoryRow
from accord.synthetic.story import STORY, STORY_PEOPLE

#: The agencies of the demo, in the order their files are generated.
DEMO_AGENCIES: tuple[str, ...] = ("rivertown_pd", "lakeside_so", "harbor_pd", "tip_hotline")

#: Where the mapping files live in the repository; generate() copies them.
MAPPINGS_DIR = Path(__file__).resolve().parents[2] / "deploy" / "examples"

GROUND_TRUTH_FILE = "ground_truth.csv"
BAD_ROWS_FILE = "bad_rows.csv"
GROUND_TRUTH_HEADER = ("agency", "source", "source_id", "person_index", "entity_id")
BAD_ROWS_HEADER = ("agency", "source", "file", "line", "source_id", "kind", "reason")

#: Records are spread evenly over these three years (the story sits in 2026).
TIMELINE_START = dt.datetime(2024, 1, 1)
TIMELINE_END = dt.datetime(2027, 1, 1)
#: How many rows go by between two calls of the progress callback.
PROGRESS_EVERY = 10_000

_BAD_REASONS: dict[BadKind, str] = {
    "bad_date": "unparseable date in {date_column}",
    "empty_id": "empty record id in {id_column}",
    "too_few_fields": "row has {count} fields, header has {width}",
    "too_many_fields": "row has {count} fields, header has {width}",
    "invalid_json": "line is not valid JSON (truncated)",
}


@dataclass(frozen=True)
class SourceFile:
    """One generated source file, its mapping, and how many data rows it holds.

    ``rows`` counts every data line (header excluded), bad rows and story rows
    included.
    """

    agency: str
    path: Path
    mapping: Path
    record_type: str
    rows: int

    @property
    def source(self) -> str:
        """The source name (the mapping's ``source``), which is also the file's stem."""
        return self.path.stem


@dataclass(frozen=True)
class BadRow:
    """One deliberately malformed row, as listed in ``bad_rows.csv``."""

    agency: str
    source: str
    file: str
    line: int
    source_id: str
    kind: str
    reason: str


@dataclass(frozen=True)
class GroundTruth:
    """One line of ``ground_truth.csv``: who the person at ``person_index`` really is."""

    agency: str
    source: str
    source_id: str
    person_index: int
    entity_id: str


@dataclass(frozen=True)
class Dataset:
    """A generated dataset: its directory, its source files and the truth about them."""

    root: Path
    sources: tuple[SourceFile, ...]
    ground_truth: Path

    def for_agency(self, agency: str) -> tuple[SourceFile, ...]:
        """The source files of ``agency`` (empty for an unknown agency)."""
        return tuple(s for s in self.sources if s.agency == agency)

    @property
    def bad_rows_file(self) -> Path:
        """``bad_rows.csv``, beside the ground truth."""
        return self.ground_truth.with_name(BAD_ROWS_FILE)

    def bad_rows(self) -> tuple[BadRow, ...]:
        """The malformed rows that were written on purpose."""
        with self.bad_rows_file.open(newline="", encoding="utf-8") as fh:
            return tuple(
                BadRow(
                    agency=r["agency"],
                    source=r["source"],
                    file=r["file"],
                    line=int(r["line"]),
                    source_id=r["source_id"],
                    kind=r["kind"],
                    reason=r["reason"],
                )
                for r in csv.DictReader(fh)
            )

    def iter_ground_truth(self) -> Iterator[GroundTruth]:
        """Stream ``ground_truth.csv`` (it can be large: one line per person per record)."""
        with self.ground_truth.open(newline="", encoding="utf-8") as fh:
            for r in csv.DictReader(fh):
                yield GroundTruth(
                    agency=r["agency"],
                    source=r["source"],
                    source_id=r["source_id"],
                    person_index=int(r["person_index"]),
                    entity_id=r["entity_id"],
                )


def generate(
    out_dir: Path,
    *,
    seed: int = 7,
    people: int = 400,
    records_per_source: int = 300,
    bad_rows: int = 0,
    story: bool = True,
    progress: Callable[[int], None] | None = None,
    errors: ErrorRates | None = None,
) -> Dataset:
    """Write a synthetic dataset of every demo agency's sources into ``out_dir``.

    Args:
        out_dir: created if missing; files already there are overwritten.
        seed: the same seed (and arguments) gives byte-identical files.
        people: size of the population records draw from (Zipf-like, so some
            people recur across agencies).
        records_per_source: data rows in every source file, story rows and
            bad rows included.
        bad_rows: malformed rows to plant, spread round-robin over the sources
            (listed in ``bad_rows.csv``).
        story: plant the demo story's fixed records (see :data:`STORY`).
        progress: called with the number of rows written so far, every
            :data:`PROGRESS_EVERY` rows and after each source.
        errors: rates of recording errors; default :class:`ErrorRates()`.

    Raises:
        ValueError: an argument is out of range, or a source has too few rows
            for its story records and its share of bad rows.
        FileNotFoundError: the mapping files are not in :data:`MAPPINGS_DIR`.
    """
    if people < 1:
        raise ValueError(f"people: got {people}, want at least 1")
    if records_per_source < 1:
        raise ValueError(f"records_per_source: got {records_per_source}, want at least 1")
    if bad_rows < 0:
        raise ValueError(f"bad_rows: got {bad_rows}, want 0 or more")
    rates = errors if errors is not None else ErrorRates()
    sources = [cls(rates) for cls in SOURCES]
    quotas = [bad_rows // len(sources) + (i < bad_rows % len(sources)) for i in range(len(sources))]
    for source, quota in zip(sources, quotas, strict=True):
        fixed = len(source.story_rows()) if story else 0
        if fixed + quota > records_per_source:
            raise ValueError(
                f"records_per_source: got {records_per_source}, but {source.name} needs "
                f"{fixed} story rows and {quota} bad rows"
            )
        if not (MAPPINGS_DIR / source.mapping_name).is_file():
            raise FileNotFoundError(f"mapping for {source.name} not found at {MAPPINGS_DIR}")

    pool = population(seed, people)
    out_dir.mkdir(parents=True, exist_ok=True)
    counter = _Progress(progress)
    files: list[SourceFile] = []
    truth_path = out_dir / GROUND_TRUTH_FILE
    with (
        truth_path.open("w", newline="", encoding="utf-8") as truth_fh,
        (out_dir / BAD_ROWS_FILE).open("w", newline="", encoding="utf-8") as bad_fh,
    ):
        truth = csv.writer(truth_fh, lineterminator="\n")
        truth.writerow(GROUND_TRUTH_HEADER)
        bad = csv.writer(bad_fh, lineterminator="\n")
        bad.writerow(BAD_ROWS_HEADER)
        for source, quota in zip(sources, quotas, strict=True):
            job = _SourceJob(
                source=source,
                out_dir=out_dir,
                seed=seed,
                rows=records_per_source,
                bad_rows=quota,
                story_rows=source.story_rows() if story else (),
            )
            files.append(job.run(pool, truth, bad, counter))
            counter.flush()
    return Dataset(root=out_dir, sources=tuple(files), ground_truth=truth_path)


def population(seed: int, people: int) -> PersonPool:
    """The pool :func:`generate` draws from for ``seed`` and ``people``.

    Benchmarks and tests use it to look up who a ground-truth ``entity_id``
    (``P0000042`` is ``population(seed, people).entity(42)``) really is.
    """
    return PersonPool(
        seed,
        people,
        reserved_names=[(fold(p.given), fold(p.family)) for p in STORY_PEOPLE],
        reserved_nicknames=[p.nickname for p in STORY_PEOPLE if p.nickname],
        reserved_phones=[phone for p in STORY_PEOPLE for phone in p.phones],
        reserved_plates=[STORY.plate],
    )


class _RowWriter(Protocol):
    """What :func:`csv.writer` returns, as far as we use it."""

    def writerow(self, row: Iterable[Any], /) -> Any: ...


class _Progress:
    """Counts rows and reports every :data:`PROGRESS_EVERY` of them."""

    def __init__(self, callback: Callable[[int], None] | None) -> None:
        self.callback = callback
        self.rows = 0
        self.reported = 0

    def tick(self) -> None:
        self.rows += 1
        if self.rows % PROGRESS_EVERY == 0:
            self.flush()

    def flush(self) -> None:
        """Report the rows so far, unless that number was just reported."""
        if self.callback is not None and self.rows != self.reported:
            self.callback(self.rows)
            self.reported = self.rows


@dataclass(frozen=True)
class _SourceJob:
    """Writes one source file (and its ground truth and bad rows)."""

    source: Source
    out_dir: Path
    seed: int
    rows: int
    bad_rows: int
    story_rows: tuple[StoryRow, ...]

    def run(
        self, pool: PersonPool, truth: _RowWriter, bad: _RowWriter, progress: _Progress
    ) -> SourceFile:
        """Write the file; add its people to ``truth`` and its broken rows to ``bad``."""
        source = self.source
        agency_dir = self.out_dir / source.agency
        agency_dir.mkdir(exist_ok=True)
        path = agency_dir / source.file_name
        mapping = agency_dir / source.mapping_name
        shutil.copyfile(MAPPINGS_DIR / source.mapping_name, mapping)
        relative = path.relative_to(self.out_dir).as_posix()

        rng = random.Random(f"accord.synthetic:{self.seed}:{source.name}")
        bad_rng = random.Random(f"accord.synthetic:{self.seed}:{source.name}:bad")
        story_at = self._story_positions()
        bad_at = self._bad_positions(bad_rng, story_at.keys())
        span = (TIMELINE_END - TIMELINE_START).total_seconds()
        step = span / self.rows

        with path.open("w", newline="", encoding=source.encoding) as fh:
            sink = _sink(fh, source)
            for k in range(self.rows):
                story_row = story_at.get(k)
                if story_row is not None:
                    row = story_row.row
                else:
                    offset = k * step + rng.random() * step
                    when = TIMELINE_START + dt.timedelta(seconds=int(offset))
                    count = source.people_count(rng)
                    draft = Draft(source.next_id(when), when, tuple(pool.draw(rng, count)))
                    row = source.render(rng, draft)
                progress.tick()
                kind = bad_at.get(k)
                if kind is not None:
                    detail = sink.write_bad(bad_rng, row, kind)
                    source_id = "" if kind == "empty_id" else row.source_id
                    bad.writerow(
                        (source.agency, source.name, relative, sink.first_line + k, source_id,
                         kind, detail)
                    )  # fmt: skip
                    continue
                sink.write(row.values)
                for index, entity_id in enumerate(row.entity_ids):
                    truth.writerow((source.agency, source.name, row.source_id, index, entity_id))
        return SourceFile(
            agency=source.agency,
            path=path,
            mapping=mapping,
            record_type=source.record_type,
            rows=self.rows,
        )

    def _story_positions(self) -> dict[int, StoryRow]:
        """Row positions of the story records, placed where their dates fall."""
        span = TIMELINE_END - TIMELINE_START
        at: dict[int, StoryRow] = {}
        for story_row in self.story_rows:
            k = int((story_row.when - TIMELINE_START) / span * self.rows)
            k = min(max(k, 0), self.rows - 1)
            while k in at:
                k = (k + 1) % self.rows
            at[k] = story_row
        return at

    def _bad_positions(self, rng: random.Random, taken: Collection[int]) -> dict[int, BadKind]:
        """Positions of the bad rows (never a story row) and what is wrong with each."""
        picked = rng.sample(range(self.rows), min(self.rows, self.bad_rows + len(taken)))
        positions = sorted(k for k in picked if k not in taken)[: self.bad_rows]
        kinds = self.source.bad_kinds
        # Cycle through the kinds from a random start so small counts still vary.
        start = rng.randrange(len(kinds))
        return {k: kinds[(start + i) % len(kinds)] for i, k in enumerate(positions)}


class _CsvSink:
    """Writes rows of a CSV source."""

    first_line = 2  # line 1 is the header

    def __init__(self, fh: IO[str], source: Source) -> None:
        self.source = source
        self.writer = csv.writer(
            fh, delimiter=source.delimiter, lineterminator=source.line_terminator
        )
        self.writer.writerow(source.columns)

    def cells(self, values: dict[str, Any]) -> list[str]:
        return [values.get(column, "") for column in self.source.columns]

    def write(self, values: dict[str, Any]) -> None:
        self.writer.writerow(self.cells(values))

    def write_bad(self, rng: random.Random, row: Row, kind: BadKind) -> str:
        """Write ``row`` broken in the way ``kind`` says; returns the reason."""
        source = self.source
        values = dict(row.values)
        width = len(source.columns)
        if kind == "bad_date":
            values[source.date_column] = source.bad_date
        elif kind == "empty_id":
            values[source.id_column] = ""
        cells = self.cells(values)
        if kind == "too_few_fields":
            cells = cells[: rng.randint(2, width // 2)]
        elif kind == "too_many_fields":
            # An exporter that forgot to quote: the summary's delimiter splits the cell.
            at = source.columns.index(source.summary_column)
            text = cells[at] or "see narrative"
            head, _, tail = text.partition(" ")
            cells[at : at + 1] = [head, tail or "cont."]
        self.writer.writerow(cells)
        return _BAD_REASONS[kind].format(
            date_column=source.date_column,
            id_column=source.id_column,
            count=len(cells),
            width=width,
        )


class _JsonlSink:
    """Writes rows of a JSON Lines source."""

    first_line = 1

    def __init__(self, fh: IO[str], source: Source) -> None:
        self.fh = fh
        self.source = source

    def write(self, values: dict[str, Any]) -> None:
        self.fh.write(json.dumps(values, ensure_ascii=False) + "\n")

    def write_bad(self, rng: random.Random, row: Row, kind: BadKind) -> str:
        """Write ``row`` broken in the way ``kind`` says; returns the reason."""
        source = self.source
        values = dict(row.values)
        if kind == "bad_date":
            values[source.date_column] = source.bad_date
        elif kind == "empty_id":
            values[source.id_column] = ""
        text = json.dumps(values, ensure_ascii=False)
        if kind == "invalid_json":
            # Cut short, as by a crashed writer: the closing brace is always lost.
            text = text[: rng.randint(len(text) // 3, len(text) - 2)]
        self.fh.write(text + "\n")
        return _BAD_REASONS[kind].format(
            date_column=source.date_column, id_column=source.id_column, count=0, width=0
        )


def _sink(fh: IO[str], source: Source) -> _CsvSink | _JsonlSink:
    return _JsonlSink(fh, source) if source.format == "jsonl" else _CsvSink(fh, source)
