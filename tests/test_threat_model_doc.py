"""Every test the threat model names exists: a renamed or deleted test must update the doc."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "security" / "threat-model.md"
# `tests/x.py::test_a` or `test_f01.py::test_a` (tests/security/ implied), then `::test_b`
# for another test of the same file.
REFERENCE = re.compile(r"`((?:tests/)?[\w/]+\.py)?::(test_\w+)`")


def _tests_in(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        node.name
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test_")
    }


def _references() -> list[tuple[str, str]]:
    found = []
    for line in DOC.read_text(encoding="utf-8").splitlines():
        current: str | None = None
        for match in REFERENCE.finditer(line):
            file, name = match.groups()
            if file is not None:
                current = file if file.startswith("tests/") else f"tests/security/{file}"
            assert current is not None, f"{match.group(0)} names no file: {line}"
            found.append((current, name))
    return found


def test_the_threat_model_names_tests() -> None:
    assert len(_references()) > 50


def test_every_test_the_threat_model_names_exists() -> None:
    missing = [
        f"{file}::{name}"
        for file, name in _references()
        if not (ROOT / file).is_file() or name not in _tests_in(ROOT / file)
    ]
    assert not missing, f"docs/security/threat-model.md names tests that do not exist: {missing}"
