"""axe-core from the npm registry, and one headless Chromium shared by a test module.

``axe_source()`` installs the npm package ``axe-core`` once into a cache directory (never a CDN)
and returns its path; without npm the browser tests skip locally and fail in CI
(``BLENDKIT_TEST_BROWSER=required``), like a missing Chromium.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.chromium import CHROMIUM, FLAGS, require_chromium

AXE_VERSION = "axe-core@4"
CACHE = Path(os.environ.get("BLENDKIT_TEST_CACHE", Path.home() / ".cache" / "blendkit-tests"))
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
# WCAG 2.0, 2.1 and 2.2, levels A and AA: the rules axe tags with these are the ones we enforce.
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]


def _missing(message: str) -> None:
    if os.environ.get("BLENDKIT_TEST_BROWSER") == "required":
        pytest.fail(f"{message}, but BLENDKIT_TEST_BROWSER=required")
    pytest.skip(f"{message}; accessibility browser tests skipped")


def axe_source() -> Path:
    """``axe.min.js`` of the npm package, installed by npm on first use."""
    script = CACHE / "node_modules" / "axe-core" / "axe.min.js"
    if script.exists():
        return script
    npm = shutil.which("npm")
    if npm is None:
        _missing("npm is not installed (apt-get install npm): axe-core comes from the npm registry")
    CACHE.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(  # fixed arguments, npm found on PATH
        [str(npm), "install", "--prefix", str(CACHE), "--no-audit", "--no-fund", AXE_VERSION],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0 or not script.exists():
        _missing(f"npm install {AXE_VERSION} failed: {done.stderr.strip()[-400:]}")
    return script


@contextmanager
def shared_browser() -> Iterator[Any]:
    """One Chromium for a whole test module (a context per test is cheap, a browser is not)."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        try:
            yield browser
        finally:
            browser.close()


def run_axe(page: Any, script: Path) -> dict[str, Any]:
    """axe-core's results for the page's current document, WCAG 2.x A/AA rules only."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(path=str(script))
    results: dict[str, Any] = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: "
        "['violations', 'incomplete']})",
        WCAG_TAGS,
    )
    return results


def describe(results: list[dict[str, Any]]) -> str:
    """One line per rule and node: what axe found, where, and how to fix it."""
    lines = []
    for rule in results:
        for node in rule["nodes"]:
            target = " ".join(str(t) for t in node["target"])
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            lines.append(f"  [{rule['id']}] {rule['help']} at {target}: {summary}".rstrip(": "))
    return "\n".join(lines)


def screenshot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
