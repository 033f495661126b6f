"""The examples of docs/courses/overview.md run as written, one after the other."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.docs_blocks import run_python_blocks


def test_overview_examples_run_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    run_python_blocks("courses/overview.md", tmp_path, monkeypatch, count=5)
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == "('readiness-quiz',)"
    assert printed[1].startswith("True ")
    assert printed[3] == "True 1"  # the resent quiz form: the first result, no attempt spent
    assert printed[4:] == ["Ana 75.0 new", "1"]  # attendance graded, reviewed, then queued
