"""The runnable example in docs/examples runs and shows what the docs say it shows."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "progression_quickstart.py"


def test_quickstart_runs(capsys: pytest.CaptureFixture[str]) -> None:
    spec = importlib.util.spec_from_file_location("progression_quickstart", EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    outcome = module.main()
    out = capsys.readouterr().out
    assert "live-session -> Score at least 60% on Readiness quiz — your best is 55%" in out
    assert "bo: [('practice', 'available')]" in out
    assert outcome["states"]["practice"] == "available"
    assert any(signal.startswith("Missed Live session") for signal in outcome["signals"])
