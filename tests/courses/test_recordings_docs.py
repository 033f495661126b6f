"""The example of docs/sessions/recordings.md runs as written and prints what the page says."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.docs_blocks import run_python_blocks


def test_recordings_example_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    run_python_blocks("sessions/recordings.md", tmp_path, monkeypatch, count=1)
    assert capsys.readouterr().out.splitlines() == [
        "fake",
        "40.0",
        "58.3 False",
        "58.3",
        "['Welcome.']",
    ]
