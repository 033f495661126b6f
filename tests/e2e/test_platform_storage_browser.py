"""Cookie-less launches in real Chromium: the tool framed by an LMS page on another site.

The platform runs on ``localhost`` and the tool on ``127.0.0.1``: different sites, so the tool's
frame is third-party and its login cookie does not come back on the platform's cross-site form
post. With LTI Platform Storage (``lti_storage_target``) the launch still succeeds because the
state binding travels through the platform's postMessage storage; without it the launch is refused
with a named reason instead of silently trusting an unbound state.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.chromium import chromium_page, require_chromium
from tests.e2e.conftest import running_deployment

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def test_launch_in_a_third_party_frame_succeeds_through_platform_storage(tmp_path: Path) -> None:
    require_chromium()
    with running_deployment(tmp_path, platform_host="localhost") as deployment:
        url = deployment.platform.course_page_url(user="student-3", role="learner", storage=True)
        with chromium_page(tmp_path / "profile", ARTIFACTS, "platform-storage-launch") as page:
            page.goto(url)
            frame = page.frame_locator("#tool")
            heading = frame.locator("h1")
            heading.wait_for(timeout=15000)
            assert heading.inner_text() == "Biology 101: Cells"
            assert frame.locator(".role").inner_text() == "Learner"


def test_same_frame_without_platform_storage_is_refused_with_a_reason(tmp_path: Path) -> None:
    require_chromium()
    with running_deployment(tmp_path, platform_host="localhost") as deployment:
        url = deployment.platform.course_page_url(user="student-4", role="learner", storage=False)
        with chromium_page(tmp_path / "profile", ARTIFACTS, "no-storage-launch") as page:
            page.goto(url)
            frame = page.frame_locator("#tool")
            code = frame.locator("code")
            code.wait_for(timeout=15000)
            assert code.inner_text() == "lti.browser_mismatch"
            assert "Biology 101" not in frame.locator("body").inner_text()
