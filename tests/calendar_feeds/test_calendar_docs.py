"""The calendar feeds page's examples run as written."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.docs_blocks import run_python_blocks


def test_the_calendar_feeds_page_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run_python_blocks("calendar-feeds.md", tmp_path, monkeypatch, count=2)
