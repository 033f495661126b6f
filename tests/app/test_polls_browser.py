"""Live polls in real headless Chromium: the instructor opens a poll, two learners answer from
their own browsers, the console shows the result without a reload, and answering unlocks the
demo's class notes (a ``polls_answered`` condition) for the learner who had not answered yet.

Skipped only when /usr/bin/chromium is absent (CI installs it).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.app.test_demo_browser import ARGS, CHROMIUM, shot_on_failure
from tests.e2e.servers import ThreadedServer

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} is not installed"),
]

QUESTION = "Ready for the lab?"


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[tuple[Any, str]]:
    from blendkit_examples.flask_app.demo import build_demo

    server = ThreadedServer()
    port = int(server.url.rsplit(":", 1)[1])
    app, url = build_demo(tmp_path / "demo", host="127.0.0.1", port=port)
    server.start(app)
    try:
        yield app, url
    finally:
        server.stop()


@pytest.fixture
def browser() -> Iterator[Any]:
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            yield launched
        finally:
            launched.close()


def _passes_the_quiz(app: Any, sub: str) -> None:
    """Priya watched the pre-work in the demo; here she passes the quiz, so the live session
    (and its polls) open for her too."""
    from blendkit.lti import Tenant
    from blendkit.progression import ScoreRecorded
    from blendkit_examples.flask_app.app import services
    from blendkit_examples.flask_app.demo_lms import CLIENT_ID, CONTEXT_ID, DEPLOYMENT_ID

    lms = app.extensions["blendkit_demo_lms"]
    with app.app_context():
        svc = services()
        tenant = Tenant(issuer=lms.issuer, client_id=CLIENT_ID, deployment_id=DEPLOYMENT_ID)
        course = svc.courses.ensure_course(tenant, CONTEXT_ID, title="", path=None)
        svc.courses.record(
            course, sub, ScoreRecorded(item="readiness-quiz", score=100, at=datetime.now(UTC))
        )


def _tool(browser: Any, url: str, user: str) -> tuple[Any, Any]:
    page = browser.new_context(viewport={"width": 360, "height": 740}).new_page()
    page.set_default_timeout(15_000)
    page.goto(url)
    page.click(f"button[data-user='{user}'][data-message='resource']")
    tool = page.frame_locator("#tool")
    tool.locator(".role").wait_for()
    return page, tool


def _answer(tool: Any) -> None:
    tool.get_by_role("link", name="Live session", exact=True).click()
    tool.get_by_role("link", name="Polls and questions of “Week 1 live session”").click()
    poll = tool.locator("article.poll", has=tool.get_by_role("heading", name=QUESTION))
    poll.get_by_role("radio", name="Yes").check()
    poll.get_by_role("button", name=re.compile("Send my answer")).click()
    tool.get_by_text("Your answer is in.").wait_for()


def test_two_learners_answer_and_the_console_shows_it_live(demo, browser) -> None:  # type: ignore[no-untyped-def]
    app, url = demo
    _passes_the_quiz(app, "demo-priya")
    teacher_page, teacher = _tool(browser, url, "demo-rivera")
    kofi_page, kofi = _tool(browser, url, "demo-kofi")
    priya_page, priya = _tool(browser, url, "demo-priya")
    with (
        shot_on_failure(teacher_page, "polls-teacher"),
        shot_on_failure(priya_page, "polls-priya"),
        shot_on_failure(kofi_page, "polls-kofi"),
    ):
        assert priya.locator("#item-class-notes .badge").inner_text() == "Locked"

        teacher.get_by_role("link", name="Live sessions").click()
        teacher.get_by_role("link", name="Week 1 live session").click()
        teacher.get_by_role("link", name=re.compile("Polls and Q&A console")).click()
        teacher.get_by_role("textbox", name="Question", exact=True).fill(QUESTION)
        teacher.get_by_label("Kind").select_option("single")
        teacher.get_by_label("Options, one per line").fill("Yes\nNot yet")
        teacher.get_by_role("button", name="Create the poll").click()
        console = teacher.locator("article.poll", has=teacher.get_by_role("heading", name=QUESTION))
        assert console.locator(".respondents").count() == 0 or "0 answers" in console.inner_text()

        _answer(kofi)
        _answer(priya)

        # the console redraws its results from the state it polls: no reload, no click
        console.locator(".respondents").filter(has_text="2 answers").wait_for()
        assert console.get_by_label("Yes: 2 of 2").count() == 1
        # the learner's page shows the result too, in its live region
        poll = priya.locator("article.poll", has=priya.get_by_role("heading", name=QUESTION))
        assert poll.locator("[aria-live=polite]").count() == 1

        priya.get_by_role("link", name="Course path").click()
        badge = priya.locator("#item-class-notes .badge")
        badge.wait_for()
        assert badge.inner_text() != "Locked"
