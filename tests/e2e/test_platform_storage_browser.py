"""Cookie-less launches in real Chromium: the tool framed by an LMS page on another site.

The platform runs on ``localhost`` and the tool on ``127.0.0.1``: different sites, so the tool's
frame is third-party and its login cookie does not come back on the platform's cross-site form
post. With LTI Platform Storage (``lti_storage_target``) the launch still succeeds because the
state binding travels through the platform's postMessage storage; without it the launch is refused
with a named reason instead of silently trusting an unbound state.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.e2e.chromium import chromium_page, require_chromium
from tests.e2e.conftest import running_deployment

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def _tool_frame_at(page: Any, path: str, selector: str = "h1", seconds: float = 30.0) -> Any:
    """The tool's frame once it has navigated to ``path`` and shows ``selector``.

    The frame moves between sites (platform storage bridge on the tool, form post, redirect), so
    Chromium swaps its renderer process on the way; a locator resolved through ``#tool`` can stay
    bound to the frame it saw first. Looking the frame up by its URL each time avoids that.
    """
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for frame in page.frames:
            if urlsplit(frame.url).path == path and frame.locator(selector).count():
                return frame
        page.wait_for_timeout(100)
    urls = [frame.url for frame in page.frames]
    raise AssertionError(f"no frame reached {path} showing {selector}; frames: {urls}")


def test_launch_in_a_third_party_frame_succeeds_through_platform_storage(tmp_path: Path) -> None:
    require_chromium()
    with running_deployment(tmp_path, platform_host="localhost") as deployment:
        url = deployment.platform.course_page_url(user="student-3", role="learner", storage=True)
        with chromium_page(tmp_path / "profile", ARTIFACTS, "platform-storage-launch") as page:
            page.goto(url)
            frame = _tool_frame_at(page, "/course")
            assert frame.locator("h1").inner_text() == "Biology 101: Cells"
            assert frame.locator(".role").inner_text() == "Learner"


def test_same_frame_without_platform_storage_is_refused_with_a_reason(tmp_path: Path) -> None:
    require_chromium()
    with running_deployment(tmp_path, platform_host="localhost") as deployment:
        url = deployment.platform.course_page_url(user="student-4", role="learner", storage=False)
        with chromium_page(tmp_path / "profile", ARTIFACTS, "no-storage-launch") as page:
            page.goto(url)
            frame = _tool_frame_at(page, "/lti/launch", "code")
            assert frame.locator("code").inner_text() == "lti.browser_mismatch"
            assert "Biology 101" not in frame.locator("body").inner_text()
