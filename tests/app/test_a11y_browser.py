"""WCAG 2.2 A/AA in real Chromium: axe-core on every page type, reflow at 320 px, screenshots.

One demo server (the tool with its demo LMS, launched into by real signed LTI launches) and one
Chromium serve the whole module. axe-core comes from the npm registry (``tests/app/axe.py``).
The pages are listed in ``tests/app/a11y_pages.py``; a route missing there fails
``test_a11y_routes.py``. "Needs review" results are printed, not failed.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.app.a11y_pages import Page, inventory
from tests.app.axe import ARTIFACTS, axe_source, describe, run_axe, screenshot, shared_browser
from tests.e2e.servers import ThreadedServer

pytestmark = pytest.mark.browser

# Who opens the pages of each role: (demo user, LTI message type).
LAUNCHES = {
    "learner": ("demo-kofi", "resource"),  # video watched, quiz passed: every item open
    "locked-learner": ("demo-ana", "resource"),  # nothing done yet: the quiz is locked
    "zoneless-learner": ("demo-noor", "resource"),  # no zone from Moodle: the browser's offered
    "instructor": ("demo-rivera", "resource"),
    "admin": ("demo-admin", "resource"),
    "deep-linking": ("demo-rivera", "deeplink"),
}
# Where an element overflows sideways: it must be a labelled, focusable scroll region.
REFLOW = """() => {
  const name = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    (typeof el.className === 'string' && el.className ? '.' + el.className.replace(/ /g, '.') : '');
  const scrolls = el => ['auto', 'scroll'].includes(getComputedStyle(el).overflowX);
  const width = document.documentElement.clientWidth;
  const unlabelled = [], outside = [];
  for (const el of document.querySelectorAll('body *')) {
    if (scrolls(el) && el.scrollWidth > el.clientWidth + 1) {
      const named = el.getAttribute('aria-label') || el.getAttribute('aria-labelledby');
      if (el.getAttribute('role') !== 'region' || !named || el.getAttribute('tabindex') !== '0')
        unlabelled.push(name(el));
    }
    const box = el.getBoundingClientRect();
    if (box.width > 0 && box.right > width + 1) {
      let up = el.parentElement, inside = false;
      for (; up && up !== document.body; up = up.parentElement) {
        if (scrolls(up)) { inside = true; break; }
      }
      if (!inside) outside.push(name(el) + ' right=' + Math.round(box.right));
    }
  }
  const scrollWidth = document.documentElement.scrollWidth;
  return {scrollWidth, unlabelled, outside: outside.slice(0, 5)};
}"""


class Demo:
    def __init__(self, url: str, app: Any) -> None:
        self.url = url  # the demo LMS course page
        self.base = url.removesuffix("/demo-lms")
        self.app = app
        self.launch_ids: dict[str, str] = {}

    def href(self, page: Page) -> str:
        if page.role == "lms":
            return self.base + page.path
        joiner = "&" if "?" in page.path else "?"
        return f"{self.base}{page.path}{joiner}launch={self.launch_ids[page.role]}"


@pytest.fixture(scope="module")
def axe_js() -> Path:
    return axe_source()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with shared_browser() as chromium:
        yield chromium


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, browser: Any) -> Iterator[Demo]:
    from blendkit_examples.flask_app.demo import build_demo

    server = ThreadedServer()
    port = int(server.url.rsplit(":", 1)[1])
    app, url = build_demo(tmp_path_factory.mktemp("a11y-demo"), host="127.0.0.1", port=port)
    server.start(app)
    try:
        found = Demo(url, app)
        context = browser.new_context()
        lms = context.new_page()
        for role, (user, message) in LAUNCHES.items():  # real signed launches from the demo LMS
            lms.goto(url)
            lms.click(f"button[data-user='{user}'][data-message='{message}']")
            frame = lms.frame(name="tool")
            frame.wait_for_url(re.compile(r"[?&]launch="))
            found.launch_ids[role] = re.search(r"launch=([^&]+)", frame.url).group(1)  # type: ignore[union-attr]
        context.close()
        yield found
    finally:
        server.stop()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(
        bypass_csp=True,
        viewport={"width": 1280, "height": 900},
        timezone_id="Asia/Kathmandu",  # not the demo's UTC: the time zone offer shows
    )
    context.set_default_timeout(15_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def _audit(page: Any, name: str, axe_js: Path, violations: list[str], review: list[str]) -> None:
    results = run_axe(page, axe_js)
    if results["violations"]:
        violations.append(f"{name} ({page.url}):\n{describe(results['violations'])}")
    if results["incomplete"]:
        review.append(f"{name}:\n{describe(results['incomplete'])}")


def test_axe_finds_no_wcag_violation_on_any_page(page: Any, demo: Demo, axe_js: Path) -> None:
    violations: list[str] = []
    review: list[str] = []
    pages = inventory(demo.app)
    for spec in pages:
        page.goto(demo.href(spec))
        _audit(page, spec.name, axe_js, violations, review)
    # Pages that answer a form: a registration link minted, content placed through deep linking.
    admin = next(p for p in pages if p.role == "admin")
    page.goto(demo.href(admin))
    page.get_by_role("button", name="Create registration link").click()
    page.wait_for_load_state()
    _audit(page, "admin: registration link", axe_js, violations, review)
    picker = next(p for p in pages if p.role == "deep-linking")
    page.goto(demo.href(picker))
    page.locator("input[name=item]").first.check()
    page.get_by_role("button", name="Add to the course").click()
    page.get_by_role("heading", name=re.compile("The LMS added")).wait_for()
    _audit(page, "demo LMS: content added", axe_js, violations, review)
    if review:  # listed in the test report and kept in a file, never failed
        ARTIFACTS.mkdir(exist_ok=True)
        report = ARTIFACTS / "axe-needs-review.txt"
        report.write_text("\n".join(review) + "\n", encoding="utf-8")
        print("axe-core: needs review (not failed)\n" + "\n".join(review))
        warnings.warn(
            f"axe-core: {sum(r.count(chr(10)) for r in review)} results on {len(review)} pages "
            f"need a manual review (listed in {report})",
            stacklevel=1,
        )
    assert violations == [], "WCAG 2.2 A/AA violations:\n" + "\n".join(violations)


def _reflow(page: Any, demo: Demo, specs: list[Page], width: int) -> list[str]:
    page.set_viewport_size({"width": width, "height": 640})
    failures = []
    for spec in specs:
        page.goto(demo.href(spec))
        found = page.evaluate(REFLOW)
        if found["scrollWidth"] > width or found["unlabelled"] or found["outside"]:
            failures.append(f"{spec.name} at {width} px: {found}")
        if width == 320 and spec.name in {"dashboard", "learners", "admin"}:
            screenshot(page, f"reflow-320-{spec.name}")
    return failures


def test_no_page_scrolls_sideways_at_320_px(page: Any, demo: Demo) -> None:
    failures = _reflow(page, demo, inventory(demo.app), 320)
    assert failures == [], "pages that scroll sideways outside a labelled region:\n" + "\n".join(
        failures
    )


def test_admin_page_fits_640_px_200_percent_zoom(page: Any, demo: Demo) -> None:
    admin = [p for p in inventory(demo.app) if p.role == "admin"]
    assert _reflow(page, demo, admin, 640) == []
