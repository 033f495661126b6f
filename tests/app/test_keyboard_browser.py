"""Keyboard only, in real Chromium: a learner launches from the demo LMS, passes the quiz, opens a
recording and joins the live session without a pointer; focus is visible at every stop and
never trapped.

Keys used: Tab, Shift+Tab, Enter and Space, and the arrow keys inside a radio group (the
standard way to pick a choice other than the first). The browser's own Back stands in for the
learner's Back key after the recording. One demo server and one Chromium serve the module.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.app.axe import axe_source, describe, run_axe, screenshot, shared_browser
from tests.app.contrast import FOCUSED, focus_ring
from tests.e2e.servers import ThreadedServer

pytestmark = pytest.mark.browser

Focused = dict[str, Any]
# Elements a Tab press stops at (visible ones only), to check that every one is reached.
TABBABLE = """() => [...document.querySelectorAll(
  'a[href], button:not([disabled]), input:not([type=hidden]):not([disabled]), select, textarea, ' +
  'video[controls], audio[controls], iframe, [tabindex]:not([tabindex="-1"])')]
  .filter(el => el.getClientRects().length && getComputedStyle(el).visibility !== 'hidden')
  .map(el => [el.tagName.toLowerCase(), el.id || '', el.getAttribute('href') || '',
    (el.getAttribute('aria-label') || el.innerText || el.value || '').trim().slice(0, 80)]
    .join('|'))"""


def key(found: Focused) -> str:
    return f"{found['tag']}|{found['id']}|{found['href']}|{found['name']}"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with shared_browser() as chromium:
        yield chromium


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from blendkit_examples.flask_app.demo import build_demo

    server = ThreadedServer()
    port = int(server.url.rsplit(":", 1)[1])
    app, url = build_demo(tmp_path_factory.mktemp("keyboard"), host="127.0.0.1", port=port)
    server.start(app)
    try:
        yield url
    finally:
        server.stop()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(bypass_csp=True, viewport={"width": 1024, "height": 800})
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        yield page
    except BaseException:
        screenshot(page, "keyboard")
        raise
    finally:
        context.close()


class Keyboard:
    """Tab presses that check the focus indicator at every stop."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.stops = 0

    def focused(self) -> Focused | None:
        found: Focused | None = self.page.evaluate(FOCUSED)
        return found

    def press(self, keys: str) -> Focused | None:
        self.page.keyboard.press(keys)
        found = self.focused()
        if found is not None:
            self.stops += 1
            ring = focus_ring(found)
            assert ring is not None, f"no visible focus indicator on {key(found)}"
            assert ring[1] >= 3, f"focus ring {ring[0]} on {key(found)}: {ring[1]:.2f}:1 < 3:1"
        return found

    def tab_to(self, wanted: Callable[[Focused], bool], what: str, limit: int = 120) -> Focused:
        for _ in range(limit):
            found = self.press("Tab")
            if found is not None and wanted(found):
                return found
        raise AssertionError(f"Tab never reached {what}")


def _named(tag: str, pattern: str) -> Callable[[Focused], bool]:
    return lambda f: f["tag"] == tag and re.search(pattern, f["name"]) is not None


def _tool(page: Any) -> Any:
    frame = page.frame(name="tool")
    assert frame is not None
    return frame


def test_learner_passes_the_quiz_opens_a_recording_and_joins_by_keyboard(
    page: Any, demo_url: str
) -> None:
    keys = Keyboard(page)
    page.goto(demo_url)
    first = keys.press("Tab")
    assert first is not None
    assert first["href"] == "#main", "the LMS starts with a skip link"
    keys.tab_to(_named("button", r"^Ana López"), "Ana's launch button")
    page.keyboard.press("Enter")
    _tool(page).wait_for_url(re.compile(r"/course\?launch="))

    keys.tab_to(_named("a", r"^Pre-work video$"), "the video link")
    page.keyboard.press("Enter")
    _tool(page).wait_for_url(re.compile(r"/item/prework-video"))
    keys.tab_to(_named("button", r"watched the whole video"), "the watched button")
    page.keyboard.press("Space")
    _tool(page).locator("#watched").filter(has_text="100%").wait_for()

    keys.tab_to(_named("a", r"Course path$"), "the way back to the path")
    page.keyboard.press("Enter")
    keys.tab_to(_named("a", r"^Readiness quiz$"), "the quiz link")
    page.keyboard.press("Enter")
    _tool(page).wait_for_url(re.compile(r"/item/readiness-quiz"))
    for question, downs in (("q1", 1), ("q2", 1), ("q3", 0)):  # the right answers
        keys.tab_to(lambda f, q=question: f["id"] == f"{q}-0", f"question {question}")
        page.keyboard.press("Space")
        for _ in range(downs):
            keys.press("ArrowDown")
    submit = keys.tab_to(_named("button", r"^Submit answers$"), "the submit button")
    back = keys.press("Shift+Tab")
    assert back is not None
    assert back["id"].startswith("q3-"), "Shift+Tab goes back"
    assert keys.press("Tab") == submit
    page.keyboard.press("Enter")
    _tool(page).get_by_role("heading", name=re.compile("Passed")).wait_for()
    results = run_axe(_tool(page), axe_source())
    assert results["violations"] == [], describe(results["violations"])

    keys.tab_to(_named("a", r"Course path$"), "the way back to the path")
    page.keyboard.press("Enter")
    _tool(page).wait_for_url(re.compile(r"/course\?launch="))
    keys.tab_to(lambda f: "/recording/" in f["href"], "a recording")
    page.keyboard.press("Enter")
    _tool(page).get_by_role("heading", name=re.compile("^Recap of week 1")).wait_for()
    _tool(page).evaluate("history.back()")  # the browser's Back
    _tool(page).wait_for_url(re.compile(r"/course\?launch="))

    keys.tab_to(_named("a", r"^Live session$"), "the live session link")
    page.keyboard.press("Enter")
    keys.tab_to(_named("button", r"^Join .*personal link"), "the join button")
    page.keyboard.press("Enter")
    _tool(page).get_by_role("heading", name=re.compile("^Fake meeting")).wait_for()
    assert keys.stops > 20


def _cycle(page: Any, url: str) -> None:
    """Tab from the top through every stop of the page and around again: nothing traps focus."""
    page.goto(url)
    # A frame is entered, not focused: its own stops are checked where its page is opened.
    expected = {k for k in page.evaluate(TABBABLE) if not k.startswith("iframe|")}
    keys = Keyboard(page)
    seen: list[str] = []
    for _ in range(3 * len(expected) + 60):  # a frame's own stops come on top
        found = keys.press("Tab")
        seen.append(key(found) if found else "(page)")
        if len(seen) > 1 and seen[-1] == seen[0] and expected <= set(seen):
            break
    missing = expected - set(seen)
    assert missing == set(), f"{url}: never focused: {sorted(missing)[:5]}"
    assert seen[-1] == seen[0], f"{url}: focus did not come back round: {seen[-5:]}"
    # Between the last stop and the first, focus rests on no element (the browser's own UI).
    longest = max(len(run) for run in _runs(seen) if run[0] != "(page)")
    assert longest <= 8, f"{url}: focus stayed on one element for {longest} presses"


def _runs(seen: list[str]) -> Iterator[list[str]]:
    run: list[str] = []
    for item in seen:
        if run and item != run[-1]:
            yield run
            run = []
        run.append(item)
    if run:
        yield run


def _launch(page: Any, demo_url: str, user: str) -> str:
    page.goto(demo_url)
    page.click(f"button[data-user='{user}'][data-message='resource']")
    _tool(page).wait_for_url(re.compile(r"[?&]launch="))
    return re.search(r"launch=([^&]+)", _tool(page).url).group(1)  # type: ignore[union-attr]


def test_focus_is_never_trapped_and_always_visible(page: Any, demo_url: str) -> None:
    base = demo_url.removesuffix("/demo-lms")
    learner = _launch(page, demo_url, "demo-lucas")
    instructor = _launch(page, demo_url, "demo-rivera")
    _cycle(page, demo_url)
    for path in ("/course", "/item/prework-video", "/item/readiness-quiz", "/item/live-session"):
        _cycle(page, f"{base}{path}?launch={learner}")
    for path in ("/teach", "/teach/learners"):  # tables scroll in focusable regions
        _cycle(page, f"{base}{path}?launch={instructor}")
