"""The learner's calendar in real headless Chromium: the browser's zone (set through the
DevTools protocol, ``Emulation.setTimezoneOverride``) is detected and confirmed, the Upcoming
page shows every sitting on that clock, and the download link gives a calendar that, expanded
by ``recurring-ical-events``, holds exactly the sittings the page lists."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events

from tests.app.test_demo_browser import (
    _chromium_page,
    _launch_as,
    demo_url,
    pytestmark,
    shot_on_failure,
)

__all__ = ["demo_url", "pytestmark"]

ZONE = "Australia/Adelaide"  # +09:30 / +10:30: a half-hour offset with daylight saving
FORMAT = "%a %d %b %Y, %H:%M"


def _sittings(body: bytes, zone: str) -> list[str]:
    """The feed's live sittings still to come, as the tool shows a time, earliest first."""
    calendar = icalendar.Calendar.from_ical(body)
    now = datetime.now(UTC)
    found = []
    for event in recurring_ical_events.of(calendar).between(date(2000, 1, 1), date(2100, 1, 1)):
        if not str(event["UID"]).startswith(("session-", "series-")):
            continue
        if event["DTEND"].dt <= now:
            continue
        found.append(event["DTSTART"].dt.astimezone(ZoneInfo(zone)))
    return [f"{t:{FORMAT}} {t.tzname()} ({zone})" for t in sorted(found)]


def test_upcoming_follows_the_browsers_zone_and_the_feed_downloads_the_same_schedule(
    tmp_path: Path, demo_url: str
) -> None:
    for page in _chromium_page(tmp_path / "profile", accept_downloads=True):
        _check(page, demo_url, tmp_path)


def _check(page: Any, demo_url: str, tmp_path: Path) -> None:
    cdp = page.context.new_cdp_session(page)
    cdp.send("Emulation.setTimezoneOverride", {"timezoneId": ZONE})
    assert page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone") == ZONE
    with shot_on_failure(page, "calendar"):
        tool = _launch_as(page, demo_url, "demo-noor")  # her Moodle profile sends no zone
        offer = tool.locator("#zone-offer")
        offer.wait_for(state="visible")
        assert f"Show times in {ZONE}?" in offer.inner_text()
        tool.get_by_role("button", name="Use this zone").click()
        tool.locator("#item-readiness-quiz .due").filter(has_text=f"({ZONE})").wait_for()

        tool.get_by_role("link", name="Upcoming").click()
        tool.get_by_role("heading", name="Upcoming", exact=True).wait_for()
        assert tool.locator("#viewer-zone").inner_text() == ZONE
        shown = tool.locator("#upcoming-sessions .when").all_inner_texts()
        assert shown, "the demo has sessions ahead"
        assert all(t.endswith(f"({ZONE})") for t in shown), shown
        deadlines = tool.locator("#upcoming-deadlines .due").all_inner_texts()
        assert all(t.endswith(f"({ZONE})") for t in deadlines), deadlines

        tool.get_by_role("button", name="Create my calendar link").click()
        link = tool.locator("#download-link")
        link.wait_for()
        assert (tool.locator("#subscribe-link").get_attribute("href") or "").startswith("webcal://")
        with page.expect_download() as download:
            link.click()
        saved = tmp_path / "calendar.ics"
        download.value.save_as(saved)
        body = saved.read_bytes()

    assert body.startswith(b"BEGIN:VCALENDAR\r\n")
    assert _sittings(body, ZONE) == shown
