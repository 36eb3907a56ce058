"""Run the Rego unit tests (``*_test.rego``) with regopy, one process per test file.

``python -m accord.policy.regotest policies/`` runs every test file under
``policies/`` and exits non-zero if any test fails; ``run_tests()`` does the
same for code (our pytest suite wraps it).

For each test file the runner loads every policy under the directory (all
``.rego`` files that are not tests) plus that one test file, and evaluates each
``test_*`` rule: a test passes when its rule is ``true``, as in ``opa test``.

Why a process per file: regopy 1.5.2 can kill the whole process on some Rego
(a segfault, or a C++ abort at bundle build; policies/README.md lists what we
found). The runner starts ``python -m accord.policy.regotest --worker FILE``,
which writes one JSON line per result to a pipe; if the worker dies, the test
it was evaluating is reported as crashed, with the signal and the tail of its
stderr, and the tests after it are run again in a fresh worker. A crash is a
failed test, never a dead test run.

The worker first compiles all the file's tests into one bundle (a few ms per
test afterwards). If it dies while compiling, the file is run again with one
``query()`` per test: slower (each query recompiles) but a crash then names a
test.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

#: How long one worker process may run before its remaining tests fail.
DEFAULT_TIMEOUT = 120.0

#: The result name used when a whole file cannot be loaded or compiled.
LOAD = "(load)"

#: The result name used for constructs that regopy 1.5.2 crashes on or evaluates
#: wrongly (see :func:`find_pitfalls`); OPA runs them fine, but our tests must
#: mean the same on both engines.
PITFALLS = "(regopy pitfalls)"

Mode = Literal["bundle", "query"]

_PACKAGE = re.compile(r"^package\s+([A-Za-z_][A-Za-z0-9_.]*)", re.MULTILINE)
# A test is a rule whose name starts with test_ at the start of a line; a
# function (test_x(...)) is not a test.
_TEST_RULE = re.compile(r"^(test_[A-Za-z0-9_]*)\b(?!\s*\()", re.MULTILINE)
# regopy's RegoError text is an AST dump; each error in it starts like
#   (error 24:policies/x_test.rego|30|2
#     (errormsg 16:this is unclosed)
_REGO_ERROR = re.compile(
    r"\(error \d+:(?P<module>[^|\n]*)\|(?P<offset>\d+)\|\d+\s*\(errormsg \d+:(?P<msg>[^\n]*)\)"
)
_MAX_ERROR_CHARS = 2000
_RULE_NAME = re.compile(
    r"^(?:default\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*(?:\(|\[|:=|=|if\b|contains\b|\{)", re.MULTILINE
)
_IMPORT = re.compile(
    r"^import\s+(?:data|input)((?:\.[A-Za-z_][A-Za-z0-9_]*)+)(?:\s+as\s+([A-Za-z_][A-Za-z0-9_]*))?",
    re.MULTILINE,
)
_WITH_WHOLE_INPUT = re.compile(r"\bwith\s+input\s+as\b")
_WITH_VALUE = re.compile(r"\bwith\s+[A-Za-z_][A-Za-z0-9_.]*\s+as\s+([A-Za-z_][A-Za-z0-9_]*)(\s*[.\[(])?")


@dataclass(frozen=True)
class RegoTestResult:
    """The outcome of one Rego test rule (or of loading its file, named ``(load)``)."""

    file: str
    package: str
    name: str
    passed: bool
    error: str | None = None


# --------------------------------------------------------------------------
# Parent side: discovery and worker management.


def find_test_files(policy_dir: Path) -> list[Path]:
    """The ``*_test.rego`` files under ``policy_dir``, sorted."""
    return sorted(policy_dir.rglob("*_test.rego"))


def find_policy_files(policy_dir: Path) -> list[Path]:
    """The policy modules under ``policy_dir``: every ``.rego`` file that is not a test."""
    return sorted(p for p in policy_dir.rglob("*.rego") if not p.name.endswith("_test.rego"))


def parse_test_file(source: str) -> tuple[str | None, list[str]]:
    """The package of a Rego test module and the names of its ``test_*`` rules, in order."""
    package = _PACKAGE.search(source)
    names = list(dict.fromkeys(_TEST_RULE.findall(source)))  # a rule may have several bodies
    return (package.group(1) if package else None), names


def find_pitfalls(source: str, file: str = "<module>") -> list[str]:
    """``file:line: message`` for each ``with`` that regopy 1.5.2 crashes on or gets wrong.

    Found by testing regopy 1.5.2 against OPA (details in policies/README.md):
    ``with input as X`` segfaults when the rule under test uses other rules, and
    ``with T as R`` where R is a reference (a rule, an imported package, ``data``
    or ``input``) is silently dropped, or segfaults when R has a path (``R.x``).
    """
    code = "\n".join(_code_only(line) for line in source.splitlines())
    references = {"data", "input"} | set(_RULE_NAME.findall(code))
    for path, alias in _IMPORT.findall(code):
        references.add(alias or path.rsplit(".", 1)[-1])
    found = []
    for number, line in enumerate(code.splitlines(), start=1):
        if _WITH_WHOLE_INPUT.search(line):
            found.append(
                f"{file}:{number}: `with input as ...` crashes regopy when the rule under test "
                "uses other rules; set input field by field: `with input.<field> as ...`"
            )
            continue
        for match in _WITH_VALUE.finditer(line):
            name, after = match[1], (match[2] or "").strip()
            if name not in references or after == "(":
                continue
            if after:
                shown = f"{name}.<path>" if after == "." else f"{name}[...]"
                what = f"`as {shown}` (a path into a reference) crashes regopy"
            else:
                shown = name
                what = f"`as {name}` (a reference, not a value) is silently ignored by regopy"
            found.append(f"{file}:{number}: {what}; bind it to a local first: `v := {shown}` then `as v`")
    return found


def _code_only(line: str) -> str:
    """The line without its ``#`` comment and with string contents blanked out."""
    kept: list[str] = []
    quote = ""
    escaped = False
    for char in line:
        if quote:
            if escaped:
                escaped = False
            elif char == "\\" and quote == '"':
                escaped = True
            elif char == quote:
                quote = ""
                kept.append(char)
            continue
        if char == "#":
            break
        if char in '"`':
            quote = char
        kept.append(char)
    return "".join(kept)


def run_tests(
    policy_dir: Path, data: Mapping[str, Any] | None = None, *, timeout: float = DEFAULT_TIMEOUT
) -> list[RegoTestResult]:
    """Run every ``*_test.rego`` under ``policy_dir``, each file in its own worker process.

    ``data`` is added as base documents (``data.*``) before the tests run.
    """
    results: list[RegoTestResult] = []
    for test_file in find_test_files(policy_dir):
        results.extend(run_test_file(test_file, policy_dir, data, timeout=timeout))
    return results


def run_test_file(
    test_file: Path,
    policy_dir: Path,
    data: Mapping[str, Any] | None = None,
    *,
    timeout: float = DEFAULT_TIMEOUT,
) -> list[RegoTestResult]:
    """Run the tests of one file against the policies under ``policy_dir``."""
    file = str(test_file)
    try:
        source = test_file.read_text(encoding="utf-8")
    except (OSError, UnicodeError) as exc:
        return [RegoTestResult(file, "", LOAD, False, f"{file}: cannot read: {exc}")]
    package, names = parse_test_file(source)
    if package is None:
        return [RegoTestResult(file, "", LOAD, False, f"{file}: no package declaration")]
    if not names:
        # A test file that tests nothing is a mistake, not a pass.
        return [RegoTestResult(file, package, LOAD, False, f"{file}: no test_* rules found")]

    pitfalls = find_pitfalls(source, file)
    flagged = [RegoTestResult(file, package, PITFALLS, False, "\n".join(pitfalls))] if pitfalls else []

    job: dict[str, Any] = {
        "package": package,
        "policies": [str(p) for p in find_policy_files(policy_dir)],
        "data": dict(data) if data is not None else None,
    }
    results: dict[str, RegoTestResult] = {}
    pending = names
    mode: Mode = "bundle"
    while pending:
        outcome = _run_worker(test_file, {**job, "tests": pending, "mode": mode}, timeout)
        for record in outcome.records:
            if "load_error" in record:
                return [*flagged, RegoTestResult(file, package, LOAD, False, record["load_error"])]
            if record.get("name") in pending:
                results[record["name"]] = RegoTestResult(
                    file, package, record["name"], bool(record["passed"]), record.get("error")
                )
        pending = [name for name in pending if name not in results]
        if outcome.died is None or not pending:
            break
        if mode == "bundle" and not outcome.built:
            # It died compiling: no test to blame yet. Go test by test.
            mode = "query"
            continue
        blamed = pending[0]
        if mode == "query":
            # query() compiles the whole file each time, so a construct anywhere
            # in it can crash every test; say so rather than blame this one.
            how = "compiling this file or evaluating this test (a construct anywhere in the file can do this"
            how += f"; see {PITFALLS} if reported, and policies/README.md)"
        else:
            how = "evaluating this test"
        results[blamed] = RegoTestResult(file, package, blamed, False, f"regopy {outcome.died} while {how}")
        pending = pending[1:]
        if outcome.timed_out:
            for name in pending:
                results[name] = RegoTestResult(
                    file, package, name, False, "not run: an earlier test timed out"
                )
            pending = []
    return [*flagged, *(results[name] for name in names)]


@dataclass(frozen=True)
class _WorkerOutcome:
    records: list[dict[str, Any]]
    built: bool
    died: str | None  # how the worker died, or None if it finished
    timed_out: bool = False


def _run_worker(test_file: Path, job: Mapping[str, Any], timeout: float) -> _WorkerOutcome:
    env = dict(os.environ)
    # The worker imports this module: make sure it finds the same package.
    root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    command = [sys.executable, "-m", "accord.policy.regotest", "--worker", str(test_file)]
    try:
        proc = subprocess.run(  # noqa: S603 - our own interpreter and module, no shell
            command, input=json.dumps(job), capture_output=True, text=True, timeout=timeout, env=env
        )
    except subprocess.TimeoutExpired as exc:
        stdout = exc.stdout.decode() if isinstance(exc.stdout, bytes) else exc.stdout or ""
        records = list(_parse_records(stdout))
        built = any(r.get("built") for r in records)
        return _WorkerOutcome(records, built, f"timed out after {timeout:g}s", timed_out=True)
    records = list(_parse_records(proc.stdout))
    built = any(r.get("built") for r in records)
    if proc.returncode == 0:
        return _WorkerOutcome(records, built, None)
    return _WorkerOutcome(records, built, _describe_death(proc.returncode, proc.stderr))


def _parse_records(stdout: str) -> Iterator[dict[str, Any]]:
    for line in stdout.splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue  # a torn last line from a crash
        if isinstance(record, dict):
            yield record


def _describe_death(returncode: int, stderr: str) -> str:
    if returncode < 0:
        try:
            how = f"crashed ({signal.Signals(-returncode).name})"
        except ValueError:
            how = f"crashed (signal {-returncode})"
    else:
        how = f"worker exited with status {returncode}"
    tail = "\n".join(stderr.strip().splitlines()[-5:])
    return f"{how}{': ' + tail if tail else ''}"


# --------------------------------------------------------------------------
# Worker side: runs inside the child process, imports regopy.


def _worker(test_file: str, job: Mapping[str, Any], out: Any) -> None:
    """Evaluate the job's tests, writing one JSON line per event to ``out``."""
    import regopy

    def emit(record: Mapping[str, Any]) -> None:
        out.write(json.dumps(record) + "\n")
        out.flush()  # what was written survives a crash in the next step

    sources = {path: Path(path).read_text(encoding="utf-8") for path in [*job["policies"], test_file]}
    interpreter = regopy.Interpreter()
    try:
        for path, source in sources.items():
            interpreter.add_module(path, source)
        if job.get("data") is not None:
            interpreter.add_data(job["data"])
    except regopy.RegoError as exc:
        emit({"load_error": describe_rego_error(str(exc), sources)})
        return

    package: str = job["package"]
    tests: Sequence[str] = job["tests"]
    if job["mode"] == "bundle":
        entrypoints = {name: f"{package.replace('.', '/')}/{name}" for name in tests}
        try:
            bundle = interpreter.build(None, list(entrypoints.values()))
        except regopy.RegoError as exc:
            emit({"load_error": describe_rego_error(str(exc), sources)})
            return
        if not bundle.ok():
            emit({"load_error": f"{test_file}: the bundle did not build"})
            return
        emit({"built": True})
        for name in tests:
            emit(_test_record(name, lambda n: interpreter.query_bundle_entrypoint(bundle, entrypoints[n])))
    else:
        emit({"built": True})
        for name in tests:
            emit(_test_record(name, lambda n: interpreter.query(f"data.{package}.{n}")))


def _test_record(name: str, evaluate: Callable[[str], Any]) -> dict[str, Any]:
    """Evaluate test ``name`` and say whether it passed: only ``true`` passes, as in ``opa test``."""
    import regopy

    try:
        output = evaluate(name)
    except regopy.RegoError as exc:
        return {"name": name, "passed": False, "error": _clip(str(exc))}
    if not output.ok():
        return {"name": name, "passed": False, "error": _clip(str(output))}
    values = [value for result in output.results for value in result.expressions]
    if values == [True]:
        return {"name": name, "passed": True}
    if not values:
        error = "undefined: an expression in the test was false or undefined"
    else:
        error = _clip(f"got {json.dumps(values[0])}, want true")
    return {"name": name, "passed": False, "error": error}


def describe_rego_error(message: str, sources: Mapping[str, str]) -> str:
    """``file:line:col: message`` lines from regopy's AST-dump error text."""
    lines = []
    for match in _REGO_ERROR.finditer(message):
        module, offset, msg = match["module"], int(match["offset"]), match["msg"].rstrip(")")
        source = sources.get(module)
        if source is not None:
            before = source.encode("utf-8")[:offset].decode("utf-8", errors="ignore")
            line = before.count("\n") + 1
            column = len(before) - (before.rfind("\n") + 1) + 1
            lines.append(f"{module}:{line}:{column}: {msg}")
        else:
            lines.append(f"{module or '(query)'}: {msg}")
    return _clip("\n".join(dict.fromkeys(lines)) if lines else message)


def _clip(text: str) -> str:
    text = text.strip()
    return text if len(text) <= _MAX_ERROR_CHARS else text[:_MAX_ERROR_CHARS] + " [...]"


# --------------------------------------------------------------------------
# Command line.


def main(argv: Sequence[str] | None = None) -> int:
    """Run the Rego tests under a directory; print failures and a summary."""
    parser = argparse.ArgumentParser(
        prog="python -m accord.policy.regotest", description=__doc__.split("\n")[0]
    )
    parser.add_argument("path", type=Path, help="policy directory (or, with --worker, one test file)")
    parser.add_argument("--data", type=Path, help="JSON file added as base documents (data.*)")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds per worker process")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        # regopy's C++ core prints its error reports on stdout; keep our own
        # channel (the real stdout) for JSON records and send fd 1 to stderr.
        out = os.fdopen(os.dup(1), "w")
        os.dup2(2, 1)
        _worker(str(args.path), json.load(sys.stdin), out)
        return 0

    if not args.path.is_dir():
        print(f"error: {args.path}: not a directory", file=sys.stderr)
        return 2
    data = json.loads(args.data.read_text(encoding="utf-8")) if args.data else None
    results = run_tests(args.path, data, timeout=args.timeout)
    if not results:
        # No tests is a broken suite, not a green one.
        print(f"error: no *_test.rego files under {args.path}", file=sys.stderr)
        return 1
    passed = sum(r.passed for r in results)
    for file in dict.fromkeys(r.file for r in results):
        in_file = [r for r in results if r.file == file]
        print(f"{file}: {sum(r.passed for r in in_file)}/{len(in_file)} passed")
        for r in in_file:
            if not r.passed:
                detail = (r.error or "").replace("\n", "\n      ")
                print(f"  FAIL {r.package}.{r.name}\n      {detail}")
    print(f"{passed} passed, {len(results) - passed} failed")
    return 0 if passed == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
