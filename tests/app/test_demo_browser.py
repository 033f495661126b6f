"""The demo in real headless Chromium: launches from the demo LMS into the tool's iframe.

Skipped only when /usr/bin/chromium is absent (CI installs it). Screenshots of the page are
saved to test-artifacts/ when a step fails.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.e2e.servers import ThreadedServer

CHROMIUM = "/usr/bin/chromium"
FORMAT = "%a %d %b %Y, %H:%M"  # how the tool shows a time
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} is not installed"),
]


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from blendkit_examples.flask_app.demo import build_demo

    server = ThreadedServer()
    port = int(server.url.rsplit(":", 1)[1])
    app, url = build_demo(tmp_path_factory.mktemp("demo"), host="127.0.0.1", port=port)
    server.start(app)
    try:
        yield url
    finally:
        server.stop()


def _chromium_page(profile: Path, **options: object) -> Iterator[object]:
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, headless=True, args=ARGS, **options
        )
        context.set_default_timeout(15_000)
        try:
            yield context.pages[0] if context.pages else context.new_page()
        finally:
            context.close()


@pytest.fixture
def page(tmp_path: Path) -> Iterator[object]:
    yield from _chromium_page(tmp_path / "profile")


@pytest.fixture
def page_in_kathmandu(tmp_path: Path) -> Iterator[object]:
    """A browser whose clock is in Nepal (UTC+05:45, a 45-minute offset)."""
    yield from _chromium_page(tmp_path / "profile", timezone_id="Asia/Kathmandu")


@contextmanager
def shot_on_failure(page: object, name: str) -> Iterator[None]:
    try:
        yield
    except BaseException:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]
        raise


def _launch_as(page, demo_url: str, user: str, message: str = "resource"):  # type: ignore[no-untyped-def]
    page.goto(demo_url)
    page.click(f"button[data-user='{user}'][data-message='{message}']")
    return page.frame_locator("#tool")


def test_learner_fails_then_passes_the_quiz_and_the_live_session_unlocks(
    page, demo_url: str
) -> None:  # type: ignore[no-untyped-def]
    with shot_on_failure(page, "learner"):
        tool = _launch_as(page, demo_url, "demo-ana")
        tool.locator(".role").filter(has_text="Learner").wait_for()
        quiz_row = tool.locator("#item-readiness-quiz")
        assert quiz_row.locator(".badge").inner_text() == "Locked"
        assert "Watch at least 90%" in quiz_row.inner_text() or "90" in quiz_row.inner_text()
        assert tool.locator("#item-live-session .badge").inner_text() == "Locked"
        # times are shown in Ana's own zone (sent by the LMS as a custom parameter)
        assert "(Europe/Madrid)" in tool.locator("#item-readiness-quiz .due").inner_text()

        tool.get_by_role("link", name="Pre-work video").click()
        tool.get_by_role("button", name="I have watched the whole video").click()
        tool.locator("#watched").filter(has_text="100%").wait_for()  # the form's answer page
        tool.get_by_role("link", name="← Course path").click()
        tool.get_by_role("link", name="Readiness quiz").click()

        for question in ("q1", "q2", "q3"):  # choice 1 is wrong for q3, right for q1 and q2
            tool.locator(f"#{question}-2").check()
        tool.get_by_role("button", name="Submit answers").click()
        tool.get_by_role("heading", name=re.compile("Not passed yet")).wait_for()
        assert tool.locator(".score").inner_text() == "0%"

        tool.get_by_role("link", name="try again").click()
        tool.locator("#q1-1").check()
        tool.locator("#q2-1").check()
        tool.locator("#q3-0").check()
        tool.get_by_role("button", name="Submit answers").click()
        tool.get_by_role("heading", name=re.compile("Passed")).wait_for()
        assert "Live session" in tool.locator(".unlocked").inner_text()

        tool.get_by_role("link", name="← Course path").click()
        assert tool.locator("#item-live-session .badge").inner_text() == "Open"
        tool.get_by_role("link", name="Live session").click()
        tool.get_by_role("button", name=re.compile("personal link")).wait_for()


def test_learner_confirms_the_browsers_zone_and_sees_the_schedule_in_it(
    page_in_kathmandu, demo_url: str
) -> None:  # type: ignore[no-untyped-def]
    page = page_in_kathmandu
    with shot_on_failure(page, "time-zone"):
        tool = _launch_as(page, demo_url, "demo-noor")  # her Moodle profile sends 99
        tool.locator(".role").filter(has_text="Learner").wait_for()
        due = tool.locator("#item-readiness-quiz .due")
        before = due.inner_text()  # the course default until she confirms: UTC
        assert before.endswith(" UTC"), before
        offer = tool.locator("#zone-offer")
        offer.wait_for(state="visible")  # shown by the script under the app's CSP
        assert "Show times in Asia/Kathmandu?" in offer.inner_text()
        tool.get_by_role("button", name="Use this zone").click()
        due.filter(has_text="(Asia/Kathmandu)").wait_for()
        utc = datetime.strptime(before.removeprefix("Due ").removesuffix(" UTC"), FORMAT)
        shown = utc.replace(tzinfo=UTC).astimezone(ZoneInfo("Asia/Kathmandu"))
        assert shown.utcoffset() == timedelta(hours=5, minutes=45)
        assert due.inner_text() == f"Due {shown:{FORMAT}} {shown.tzname()} (Asia/Kathmandu)"
        assert tool.locator("#zone-offer").count() == 0, "nothing left to confirm"
        assert tool.locator("#time_zone").input_value() == "Asia/Kathmandu"
        session = tool.locator("#item-live-session .when").first.inner_text()
        assert session.endswith("(Asia/Kathmandu)"), session


def test_instructor_sees_the_attendance_chart(page, demo_url: str) -> None:  # type: ignore[no-untyped-def]
    with shot_on_failure(page, "instructor"):
        tool = _launch_as(page, demo_url, "demo-rivera")
        tool.locator(".role").filter(has_text="Instructor").wait_for()
        chart = tool.locator("svg#attendance")
        chart.wait_for()
        assert chart.locator("title").first.text_content() == "Attendance over time"
        assert chart.locator("rect").count() == 2, "two past sessions, one bar each"
        assert "Orientation" in (chart.locator("desc").text_content() or "")
        assert tool.locator("svg#funnel").count() == 1
        risks = tool.locator(".risks").inner_text()
        assert "Mei Chen" in risks
        assert "Failed" in risks


def test_deep_linking_places_a_quiz_in_the_lms(page, demo_url: str) -> None:  # type: ignore[no-untyped-def]
    with shot_on_failure(page, "deep-linking"):
        tool = _launch_as(page, demo_url, "demo-rivera", "deeplink")
        tool.get_by_label(re.compile("^Readiness quiz")).check()
        tool.get_by_role("button", name="Add to the course").click()
        tool.get_by_role("heading", name="The LMS added 1 item(s)").wait_for()
        assert "readiness-quiz" in tool.locator(".received").inner_text()
        # The placed link launches straight into its item, with its custom parameter.
        page.goto(demo_url)
        page.click("button[data-item='readiness-quiz']")
        frame = page.frame_locator("#tool")
        frame.get_by_role("heading", name=re.compile("^Readiness quiz")).wait_for()
        assert "/item/readiness-quiz?launch=" in (page.frame(name="tool").url or "")  # type: ignore[union-attr]


def test_playing_the_video_reports_progress_and_unlocks_the_quiz(page, demo_url: str) -> None:  # type: ignore[no-untyped-def]
    with shot_on_failure(page, "video"):
        tool = _launch_as(page, demo_url, "demo-lucas")
        tool.get_by_role("link", name="Pre-work video").click()
        player = tool.locator("video#player")
        player.wait_for()
        player.evaluate("v => { v.muted = true; v.playbackRate = 16; return v.play(); }")
        tool.locator("#watched").filter(has_text=re.compile(r"^(9\d|100)(\.\d)?%$")).wait_for(
            timeout=30_000
        )
        tool.get_by_role("link", name="← Course path").click()
        assert tool.locator("#item-readiness-quiz .badge").inner_text() == "Open"
