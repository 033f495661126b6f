"""The examples of docs/sessions/time-zones.md run as written, one after the other."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

PAGE = Path(__file__).parents[2] / "docs" / "sessions" / "time-zones.md"


def test_time_zone_examples_run_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    blocks = re.findall(r"```python\n(.*?)```", PAGE.read_text(), flags=re.DOTALL)
    assert len(blocks) == 2
    monkeypatch.chdir(tmp_path)  # the example's SQLite file lands here
    namespace: dict[str, object] = {}
    for number, block in enumerate(blocks):
        exec(compile(block, f"time-zones.md:example {number + 1}", "exec"), namespace)
    # what each line's comment promises
    for line, printed in zip(
        [c for b in blocks for c in re.findall(r"^print\(.*?# (\S+)", b, re.M)],
        capsys.readouterr().out.splitlines(),
        strict=True,
    ):
        assert printed == line.rstrip(":")
