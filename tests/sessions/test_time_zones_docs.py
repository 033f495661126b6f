"""The examples of docs/sessions/time-zones.md run as written and print what they promise."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.docs_blocks import run_python_blocks


def test_time_zone_examples_run_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    blocks = run_python_blocks("sessions/time-zones.md", tmp_path, monkeypatch, count=2)
    promised = [c for b in blocks for c in re.findall(r"^print\(.*?# (\S+)", b, re.M)]
    printed = capsys.readouterr().out.splitlines()
    assert printed == [line.rstrip(":") for line in promised]
