"""The notification queue example of docs/notifications.md runs as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.docs_blocks import DOCS


def test_the_queue_example_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    page = (DOCS / "notifications.md").read_text()
    [block] = [
        b for b in re.findall(r"```python\n(.*?)```", page, flags=re.DOTALL)
        if "NotificationQueue(" in b
    ]  # fmt: skip
    monkeypatch.chdir(tmp_path)
    exec(compile(block, "notifications.md:queue", "exec"), {})
    assert capsys.readouterr().out.startswith("ada@example.edu | Live session")
