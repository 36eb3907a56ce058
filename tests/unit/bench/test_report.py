"""The benchmark report: every measured target becomes a row with its floor, ratio and verdict."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from accord.cli.main import cli
from benchmarks import report
from benchmarks.stats import percentile, verdict

SAMPLE = json.loads((Path(__file__).parent / "results_sample.json").read_text())


def test_every_target_of_the_issue_has_a_row() -> None:
    names = [row[0] for row in report.rows(SAMPLE)]
    for number in "12345678":
        assert any(name.startswith(f"{number}.") for name in names), number
    for row in report.rows(SAMPLE):
        assert row[5] in {"**yes**", "no", "-"}


def test_ingest_with_workers_is_shown_beside_one_process_and_not_judged() -> None:
    rows = {row[0]: row for row in report.rows(SAMPLE)}
    assert rows["5. ingest end to end, 2 workers"][1:4] == (
        "1803 records/s", "1.48x one process", "0.064")
    assert rows["5. ingest end to end, 2 workers"][5] == "-"
    assert rows["5. ingest end to end"][5] == "no"


def test_the_markdown_names_the_machine_and_holds_the_table() -> None:
    text = report.markdown(SAMPLE, [])
    assert "nproc" in text and SAMPLE["machine"]["cpu_model"] in text
    assert report.table(SAMPLE) in text


def test_verdicts_and_percentiles() -> None:
    assert verdict(1.9, 2.0, at_most=True)["met"]
    assert not verdict(2.1, 2.0, at_most=True)["met"]
    assert verdict(0.3, 0.25, at_most=False)["met"]
    assert percentile([float(x) for x in range(1, 101)], 0.99) == 99.0
    assert percentile([float(x) for x in range(1, 101)], 0.5) == 50.0


def test_accord_bench_is_a_command() -> None:
    result = CliRunner().invoke(cli, ["bench", "run", "--help"])
    assert result.exit_code == 0
    assert "--index-large" in result.output


def test_accord_bench_run_hands_every_option_to_the_suite(monkeypatch: pytest.MonkeyPatch) -> None:
    import benchmarks.run

    seen: list[argparse.Namespace] = []
    monkeypatch.setattr(benchmarks.run, "main", lambda argv: seen.append(
        benchmarks.run.parser().parse_args(argv)))
    result = CliRunner().invoke(cli, ["bench", "run", "--only", "audit", "--audit-appends", "1000",
                                      "--rounds", "3", "--no-plots"])
    assert result.exit_code == 0, result.output
    (ns,) = seen
    assert (ns.only, ns.audit_appends, ns.rounds, ns.no_plots) == ("audit", 1000, 3, True)
