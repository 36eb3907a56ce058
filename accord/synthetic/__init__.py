"""Seeded synthetic agency data for the demo, the tests and the benchmarks.

:func:`generate` writes every demo agency's source files (CSV and JSON Lines,
each in its own layout), a copy of each file's mapping, ``ground_truth.csv``
saying who every person in every record really is, and ``bad_rows.csv``
listing the rows broken on purpose::

    from accord.synthetic import STORY, generate

    dataset = generate(Path("demo-data"), seed=7)
    for source in dataset.for_agency("rivertown_pd"):
        print(source.path, source.mapping, source.rows)

:data:`STORY` describes the planted demo persona (Jazmin Ramírez, "Jazzy") and
the fixed ids of the records about her; see :mod:`accord.synthetic.story`.
"""

from accord.synthetic.generate import (
    DEMO_AGENCIES,
    BadRow,
    Dataset,
    GroundTruth,
    SourceFile,
    generate,
    population,
)
from accord.synthetic.noise import NO_ERRORS, REALISTIC, ErrorRates
from accord.synthetic.story import STORY, Story, StoryRecord

__all__ = [
    "DEMO_AGENCIES",
    "NO_ERRORS",
    "REALISTIC",
    "STORY",
    "BadRow",
    "Dataset",
    "ErrorRates",
    "GroundTruth",
    "SourceFile",
    "Story",
    "StoryRecord",
    "generate",
    "population",
]
