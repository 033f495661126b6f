"""The runnable example of docs/peer-review.md, run as written."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.docs_blocks import run_python_blocks


def test_peer_review_page_example_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    run_python_blocks("peer-review.md", tmp_path, monkeypatch, count=1)
    assert capsys.readouterr().out.split("\n")[:3] == ["2", "available", "0"]
