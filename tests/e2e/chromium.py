"""Headless Debian Chromium driven by Python playwright (never a downloaded browser build)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def require_chromium() -> None:
    """Skip without Chromium, unless BLENDKIT_TEST_BROWSER=required (CI), where it fails."""
    if not Path(CHROMIUM).exists():
        message = "Chromium is not installed (apt-get install chromium)"
        if os.environ.get("BLENDKIT_TEST_BROWSER") == "required":
            pytest.fail(f"{message}, but BLENDKIT_TEST_BROWSER=required")
        pytest.skip(f"{message}; browser tests skipped")
    pytest.importorskip("playwright.sync_api", reason="playwright is not installed")


@contextmanager
def chromium_page(user_data_dir: Path, artifacts: Path, name: str, **context: Any) -> Iterator[Any]:
    """A page in a fresh profile; a screenshot lands in ``artifacts`` when the block fails."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        ctx = pw.chromium.launch_persistent_context(
            str(user_data_dir),
            executable_path=CHROMIUM,
            headless=True,
            args=FLAGS,
            **context,
        )
        page = ctx.pages[0] if ctx.pages else ctx.new_page()
        try:
            yield page
        except BaseException:
            artifacts.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(artifacts / f"{name}.png"), full_page=True)
            raise
        finally:
            ctx.close()
