"""The Launch API page's runnable example keeps working."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).parents[2] / "docs" / "examples" / "validate_launch.py"


def test_validate_launch_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    runpy.run_path(str(EXAMPLE), run_name="__main__")
    out = capsys.readouterr().out
    assert "Ada Lovelace opened Biology 101; learner=True" in out
    assert "replay refused: lti.state_mismatch (HTTP 400)" in out
