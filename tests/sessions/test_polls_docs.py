"""The examples of docs/sessions/polls-and-qa.md run in order, and print what they say."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.docs_blocks import run_python_blocks


def test_polls_page_examples_run_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    run_python_blocks("sessions/polls-and-qa.md", tmp_path, monkeypatch, count=4)
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "True (0, 2)",
        "['notes']",
        "locked",
        "None Ben 1",
        "available available",
        "('ben',) ('guest@elsewhere.org',)",
        "available",
    ]
