"""The Rego policies' own tests (``policies/**/*_test.rego``), and the runner that runs them.

Each Rego test file is one pytest test, run by :mod:`accord.policy.regotest`
with regopy in a worker process. The tests after it show that the runner
fails when it should: a failing test, a syntax error, a regopy crash.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from accord.policy import regotest
from accord.policy.regotest import LOAD, PITFALLS, RegoTestResult, find_pitfalls, run_test_file, run_tests

POLICY_DIR = Path(__file__).resolve().parents[3] / "policies"
TEST_FILES = regotest.find_test_files(POLICY_DIR)

POLICY = """\
package demo

import rego.v1

default allow := false

allow if is_admin

is_admin if "admin" in input.roles
"""


def write(directory: Path, name: str, source: str) -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    return path


def rego_module(body: str, package: str = "demo_test") -> str:
    """A Rego test module: the package line, ``import rego.v1`` and ``body``."""
    return f"package {package}\n\nimport rego.v1\n\n{body}\n"


def summary(results: list[RegoTestResult]) -> str:
    return "\n".join(f"{r.package}.{r.name}: {r.error}" for r in results if not r.passed)


# ------------------------------------------------------------------ the policies' tests


def test_there_are_rego_tests_for_every_policy() -> None:
    policies = {p.with_name(p.stem + "_test.rego") for p in regotest.find_policy_files(POLICY_DIR)}
    assert policies, f"no policies under {POLICY_DIR}"
    assert sorted(policies - set(TEST_FILES)) == []


@pytest.mark.parametrize("test_file", TEST_FILES, ids=lambda p: str(p.relative_to(POLICY_DIR)))
def test_rego_test_file_passes(test_file: Path) -> None:
    results = run_test_file(test_file, POLICY_DIR)
    assert results, f"{test_file}: no results"
    failed = [r for r in results if not r.passed]
    assert not failed, (
        f"{len(failed)} of {len(results)} Rego tests failed in {test_file}:\n{summary(results)}"
    )


# ------------------------------------------------------------------ the runner fails when it should


def test_passing_and_failing_tests_are_reported(tmp_path: Path) -> None:
    write(tmp_path, "demo.rego", POLICY)
    test_file = write(
        tmp_path,
        "demo_test.rego",
        """\
        package demo_test

        import rego.v1

        test_admin_is_allowed if data.demo.allow with input.roles as ["admin"]

        test_everyone_is_allowed if data.demo.allow with input.roles as ["clerk"]

        test_not_a_boolean := 42
        """,
    )
    results = run_tests(tmp_path)
    assert [(r.name, r.passed) for r in results] == [
        ("test_admin_is_allowed", True),
        ("test_everyone_is_allowed", False),
        ("test_not_a_boolean", False),
    ]
    assert all(r.file == str(test_file) and r.package == "demo_test" for r in results)
    assert results[1].error is not None and "undefined" in results[1].error
    assert results[2].error == "got 42, want true"


def test_data_is_given_to_the_tests(tmp_path: Path) -> None:
    write(tmp_path, "demo.rego", rego_module("limit := data.settings.limit", "demo"))
    write(tmp_path, "demo_test.rego", rego_module("test_limit if data.demo.limit == 3"))
    assert [r.passed for r in run_tests(tmp_path, {"settings": {"limit": 3}})] == [True]
    assert [r.passed for r in run_tests(tmp_path)] == [False]


def test_syntax_error_is_reported_with_the_file_and_line(tmp_path: Path) -> None:
    write(tmp_path, "demo.rego", POLICY)
    test_file = write(tmp_path, "demo_test.rego", rego_module("test_x if {\n\tx := {\n}"))
    [result] = run_tests(tmp_path)
    assert (result.name, result.passed) == (LOAD, False)
    assert result.error is not None and f"{test_file}:5:11: this is unclosed" in result.error


def test_syntax_error_in_a_policy_is_reported_with_its_file(tmp_path: Path) -> None:
    policy = write(tmp_path, "broken.rego", rego_module("allow if {", "broken"))
    write(tmp_path, "demo.rego", POLICY)
    write(tmp_path, "demo_test.rego", rego_module("test_x if true"))
    [result] = run_tests(tmp_path)
    assert not result.passed and result.error is not None and str(policy) in result.error


def test_regopy_crash_is_a_failed_test_not_a_dead_run(tmp_path: Path) -> None:
    # `with input as {...}` against a rule that uses another rule segfaults regopy 1.5.2.
    write(tmp_path, "demo.rego", POLICY)
    write(
        tmp_path,
        "demo_test.rego",
        """\
        package demo_test

        import rego.v1

        test_crashes if data.demo.allow with input as {"roles": ["admin"]}
        """,
    )
    write(tmp_path, "other_test.rego", rego_module("test_fine if data.demo.allow == false", "other_test"))
    results = run_tests(tmp_path)
    by_name = {r.name: r for r in results}
    assert by_name["test_fine"].passed  # the next file still ran
    crashed = by_name["test_crashes"]
    assert not crashed.passed and crashed.error is not None and "regopy crashed (SIG" in crashed.error
    pitfalls = by_name[PITFALLS]
    assert not pitfalls.passed and pitfalls.error is not None and "demo_test.rego:5:" in pitfalls.error


def test_tests_after_a_crash_are_run_in_a_fresh_worker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A worker that dies after compiling, while evaluating test_b: test_b is
    # blamed, test_c runs in the next worker.
    write(tmp_path, "demo.rego", POLICY)
    write(tmp_path, "demo_test.rego", rego_module("test_a if true\n\ntest_b if true\n\ntest_c if true"))
    jobs: list[list[str]] = []

    def fake_worker(test_file: Path, job: dict[str, Any], timeout: float) -> regotest._WorkerOutcome:
        jobs.append(list(job["tests"]))
        if len(jobs) == 1:
            records: list[dict[str, Any]] = [{"built": True}, {"name": "test_a", "passed": True}]
            return regotest._WorkerOutcome(records, built=True, died="crashed (SIGSEGV)")
        return regotest._WorkerOutcome([{"built": True}, {"name": "test_c", "passed": True}], True, None)

    monkeypatch.setattr(regotest, "_run_worker", fake_worker)
    results = run_tests(tmp_path)
    assert jobs == [["test_a", "test_b", "test_c"], ["test_c"]]
    assert [(r.name, r.passed) for r in results] == [("test_a", True), ("test_b", False), ("test_c", True)]
    assert results[1].error == "regopy crashed (SIGSEGV) while evaluating this test"


def test_file_without_tests_fails(tmp_path: Path) -> None:
    write(tmp_path, "demo.rego", POLICY)
    write(tmp_path, "demo_test.rego", rego_module("helper := 1"))
    [result] = run_tests(tmp_path)
    assert (result.name, result.passed) == (LOAD, False)
    assert result.error is not None and "no test_* rules" in result.error


def test_command_line_exits_non_zero_on_failure(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, "demo.rego", POLICY)
    write(tmp_path, "demo_test.rego", rego_module("test_ok if true\n\ntest_bad if false"))
    assert regotest.main([str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "FAIL demo_test.test_bad" in out
    assert out.splitlines()[-1] == "1 passed, 1 failed"


def test_command_line_passes_and_reads_data(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path, "demo.rego", rego_module("limit := data.settings.limit", "demo"))
    write(tmp_path, "demo_test.rego", rego_module("test_limit if data.demo.limit == 3"))
    data = write(tmp_path, "data.json", json.dumps({"settings": {"limit": 3}}))
    assert regotest.main([str(tmp_path), "--data", str(data)]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "1 passed, 0 failed"


def test_command_line_fails_when_there_are_no_tests(tmp_path: Path) -> None:
    write(tmp_path, "demo.rego", POLICY)
    assert regotest.main([str(tmp_path)]) == 1


# ------------------------------------------------------------------ known regopy pitfalls


def test_pitfalls_are_found() -> None:
    source = textwrap.dedent(
        """\
        package demo_test

        import rego.v1

        import data.accord.search

        fixture := {"local-pilot": {}}

        test_a if data.demo.allow with input as {"roles": ["admin"]}

        test_b if search.allow with data.agreements as fixture

        test_c if search.allow with input.purpose as fixture.purpose

        test_d if search.allow with input.purpose as data.purposes[0]

        test_e if search.allow with input.principal as search.principal
        """
    )
    found = find_pitfalls(source, "x_test.rego")
    assert [line.split(":")[1] for line in found] == ["9", "11", "13", "15", "17"]
    assert "crashes" in found[0] and "silently ignored" in found[1] and "crashes" in found[2]


def test_safe_with_is_not_a_pitfall() -> None:
    source = textwrap.dedent(
        """\
        package demo_test

        import rego.v1

        fixture := {"local-pilot": {}}

        # `with input as {...}` in a comment is fine
        decide(req) := d if {
        \tlocal := fixture
        \td := data.demo.allow with data.agreements as local
        \t\twith input.purpose as req.purpose
        \t\twith input.roles as ["admin"]
        \t\twith input.note as "with input as x # not a comment"
        }
        """
    )
    assert find_pitfalls(source) == []


def test_rego_error_is_described_by_file_line_and_column() -> None:
    # The text of regopy's RegoError for an unclosed brace: an AST dump.
    message = textwrap.dedent(
        """\
        (rego-errorseq
          (error 10:a/x.rego|30|2
            (errormsg 16:this is unclosed)
            (errorast |30|2)))"""
    )
    source = "package a\nimport rego.v1\nx := {\n"
    assert regotest.describe_rego_error(message, {"a/x.rego": source}) == "a/x.rego:3:6: this is unclosed"
