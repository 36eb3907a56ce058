"""docs/threat-model.md stays true: every threat names tests, and every test it names exists."""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MODEL = REPO / "docs" / "threat-model.md"
REFERENCE = re.compile(r"`(tests/[\w/]+\.py)::(\w+)`")
#: Tests promised by work in progress elsewhere: checked once their file exists.
PENDING: set[tuple[str, str]] = set()


def defined_tests(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {node.name for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)}


def test_every_threat_names_tests_that_exist() -> None:
    text = MODEL.read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if re.match(r"\| T\d+ \|", line)]
    assert len(rows) >= 50
    for row in rows:
        assert REFERENCE.search(row), f"threat without a test: {row[:80]}"
    missing = []
    for path, name in sorted(set(REFERENCE.findall(text))):
        if (path, name) in PENDING and not (REPO / path).exists():
            continue
        if not (REPO / path).exists() or name not in defined_tests(REPO / path):
            missing.append(f"{path}::{name}")
    assert missing == []


def test_threat_numbers_are_unique_and_in_order() -> None:
    numbers = [int(n) for n in re.findall(r"^\| T(\d+) \|", MODEL.read_text(encoding="utf-8"),
                                          flags=re.MULTILINE)]
    assert numbers == list(range(1, len(numbers) + 1))
