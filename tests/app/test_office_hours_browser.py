"""Booking office hours in real headless Chromium: one learner books the last seat of a slot,
and a second browser, another learner, sees that slot full."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.app.test_demo_browser import (
    ARGS,
    CHROMIUM,
    _launch_as,
    demo_url,
    shot_on_failure,
)

__all__ = ["demo_url"]  # the demo server fixture, shared with the demo's other browser tests

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} is not installed"),
]


def test_a_learner_books_a_slot_and_a_second_browser_sees_it_full(
    tmp_path: Path, demo_url: str
) -> None:
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as pw:
        # Two browsers with their own profiles: nothing is shared between the two learners.
        first, second = (
            pw.chromium.launch_persistent_context(
                str(tmp_path / name), executable_path=CHROMIUM, headless=True, args=ARGS
            )
            for name in ("lucas", "sam")
        )
        try:
            for context in (first, second):
                context.set_default_timeout(15_000)
            lucas_page, sam_page = first.new_page(), second.new_page()
            with shot_on_failure(lucas_page, "office-hours-lucas"):
                lucas = _launch_as(lucas_page, demo_url, "demo-lucas")
                lucas.get_by_role("link", name="Office hours with Dr Rivera").click()
                # The demo's second room slot: one seat, free (Kofi booked the first).
                free = lucas.locator("li.slot").nth(1)
                assert "1 of 1 seat free" in free.inner_text()
                slot_id = free.get_attribute("data-slot")
                free.get_by_role("button", name="Book this slot").click()
                mine = lucas.locator(f"li.slot[data-slot='{slot_id}']")
                mine.filter(has_text="You booked this slot").wait_for()
                lucas.locator("[role=status]").filter(has_text="Booked:").wait_for()
                assert "Sao_Paulo" in lucas.locator("#slots-h + p").inner_text()

            with shot_on_failure(sam_page, "office-hours-sam"):
                sam = _launch_as(sam_page, demo_url, "demo-sam")
                sam.get_by_role("link", name="Office hours with Dr Rivera").click()
                taken = sam.locator(f"li.slot[data-slot='{slot_id}']")
                taken.filter(has_text="Full").wait_for()
                assert taken.get_by_role("button", name="Book this slot").count() == 0
                assert "America/Chicago" in sam.locator("#slots-h + p").inner_text()
        finally:
            first.close()
            second.close()
