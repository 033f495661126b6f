"""Peer review in real Chromium: three learners submit (one a file), review each other with the
rubric, and a learner's feedback opens only once she reviewed two peers; learners follow the
workshop's milestones on the course page and the instructor sees them as a chart."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.app.axe import screenshot, shared_browser
from tests.app.conftest import Tool
from tests.app.review_kit import PDF, learner, peer_course
from tests.e2e.servers import ThreadedServer

pytestmark = pytest.mark.browser


@pytest.fixture
def served(tool: Tool) -> Iterator[str]:
    server = ThreadedServer()
    server.start(tool.app)
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def browser() -> Iterator[Any]:
    with shared_browser() as chromium:
        yield chromium


class Learner:
    def __init__(self, browser: Any, base: str, launch_id: str, name: str) -> None:
        self.context = browser.new_context(viewport={"width": 1024, "height": 800})
        self.context.set_default_timeout(15_000)
        self.page = self.context.new_page()
        self.base, self.launch_id, self.name = base, launch_id, name

    def see(self, text: str) -> None:
        """Wait until the page that follows a click shows ``text``."""
        self.page.get_by_text(text).first.wait_for()

    def open(self, path: str) -> Any:
        return self.page.goto(f"{self.base}{path}?launch={self.launch_id}")

    def review_next(self, general: str) -> None:
        self.open("/review/reviews")
        self.page.get_by_role("link", name="Review 1: to do").or_(
            self.page.get_by_role("link", name="Review 2: to do")
        ).first.click()
        self.page.get_by_label("Mostly clear (2 points)").check()
        self.page.get_by_label("Some claims supported (2 points)").check()
        self.page.get_by_label("Your comment on Clarity").fill("clear enough")
        self.page.get_by_label("Your comment on Use of evidence").fill("cite a source")
        self.page.get_by_label("General comment").fill(general)
        self.page.get_by_role("button", name="Send the review").click()
        self.see("Your review was saved")


def test_feedback_unlocks_only_after_reviewing_two_peers(
    tool: Tool, served: str, browser: Any, tmp_path: Path
) -> None:
    teacher = peer_course(tool)
    people = {sub: Learner(browser, served, learner(tool, sub), sub.title())
              for sub in ("ada", "ben", "cy")}  # fmt: skip
    people["teach"] = Learner(browser, served, teacher, "Teach")
    ada, ben, cy = people["ada"], people["ben"], people["cy"]
    try:
        for who in (ada, ben):
            who.open("/review/reviews")
            who.page.get_by_label("Your text").fill(f"{who.name}'s essay on cells")
            who.page.get_by_role("button", name="Submit the text").click()
            who.see("Your work was submitted")
        work = tmp_path / "cy essay.pdf"
        work.write_bytes(PDF)
        cy.open("/review/reviews")
        cy.page.get_by_label("A file").set_input_files(str(work))
        cy.page.get_by_role("button", name="Submit the file").click()
        cy.see("Your work was submitted")

        ada.open("/review/reviews")
        assert ada.page.get_by_role("link", name="See your feedback").count() == 0
        assert "you gave 0" in ada.page.content()
        assert ada.open("/review/reviews/feedback").status == 403

        for who in (ben, cy):  # ada's work gets its two reviews
            who.review_next(f"{who.name} says well done")
            who.review_next(f"{who.name} says well done")

        ada.review_next("first review by ada")
        assert ada.open("/review/reviews/feedback").status == 403
        ada.open("/item/feedback")
        assert "you gave 1" in ada.page.content()  # the path's own reason, still locked

        ada.open("/course")  # the workshop's milestones, in words beside each bar
        given = ada.page.locator("#milestone-reviews-given")
        assert "On track" in given.inner_text()
        assert "0 of 1 items completed (0%)" in given.inner_text()
        assert ada.page.get_by_role("progressbar", name="2 reviews given").count() == 1
        assert "Done" in ada.page.locator("#milestone-submitted").inner_text()

        ada.review_next("second review by ada")
        ada.open("/review/reviews")
        ada.page.get_by_role("link", name="See your feedback").click()
        ada.see("Reviewer 2")
        text = ada.page.locator("main").inner_text()
        assert "Reviewer 1" in text
        assert "Reviewer 2" in text
        assert "Ben says well done" in text
        assert "Cy says well done" in text
        ada.open("/item/feedback")
        assert ada.page.get_by_role("link", name="See your feedback").count() == 1

        teach = people["teach"]  # every learner submitted and gave two reviews
        teach.open("/teach")
        chart = teach.page.get_by_role("img", name="Milestones")
        chart.wait_for()
        described = teach.page.locator("#milestones-d").text_content() or ""
        assert "2 reviews given: 3 done, 0 on track, 0 behind, 0 missed" in described
        row = teach.page.locator("#milestones-table tr", has_text="2 reviews given")
        assert [c.inner_text() for c in row.locator("td").all()][1:] == ["3", "0", "0", "0"]
    except BaseException:
        for who in people.values():
            screenshot(who.page, f"review-{who.name}")
        raise
    finally:
        for who in people.values():
            who.context.close()
