"""Run a docs page's ```python blocks as written, one after the other, in one namespace."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"


def run_python_blocks(
    page: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, count: int
) -> list[str]:
    """Every block of ``docs/<page>`` (``count`` of them), run in ``tmp_path`` (where an
    example's SQLite file lands); returns the blocks' source."""
    blocks = re.findall(r"```python\n(.*?)```", (DOCS / page).read_text(), flags=re.DOTALL)
    assert len(blocks) == count
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {}
    for number, block in enumerate(blocks):
        exec(compile(block, f"{page}:example {number + 1}", "exec"), namespace)
    return blocks
