"""The examples of docs/courses/overview.md run as written, one after the other."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

PAGE = Path(__file__).parents[2] / "docs" / "courses" / "overview.md"


def test_overview_examples_run_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    blocks = re.findall(r"```python\n(.*?)```", PAGE.read_text(), flags=re.DOTALL)
    assert len(blocks) == 4
    monkeypatch.chdir(tmp_path)  # the example's SQLite file lands here
    namespace: dict[str, object] = {}
    for number, block in enumerate(blocks):
        exec(compile(block, f"overview.md:example {number + 1}", "exec"), namespace)
    printed = capsys.readouterr().out.splitlines()
    assert printed[0] == "('readiness-quiz',)"
    assert printed[1].startswith("True ")
    assert printed[3] == "True 1"  # the resent quiz form: the first result, no attempt spent
