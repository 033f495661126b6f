"""The example app launched from an independent LTI 1.3 platform (lti1p3platform) over real HTTP.

What every adapter must do with a launch (login by GET and POST, replay refused, a launch without
an id_token, JWKS) is checked for each framework by the conformance suite
(``tests/conformance/test_launch.py``); this module keeps what the example app shows.
"""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import Deployment
from tests.e2e.form_browser import FormBrowser, forms

pytestmark = pytest.mark.e2e


def _launch(
    browser: FormBrowser, deployment: Deployment, *, user: str, role: str, message: str = "resource"
):  # type: ignore[no-untyped-def]
    first = browser.get(deployment.platform.launch_url(user=user, role=role, message=message))
    assert first.status_code == 200, first.text
    # The platform's auth page auto-posts id_token + state to the tool's launch URL.
    assert [f.action for f in forms(first.text)] == [f"{deployment.tool_url}/lti/launch"]
    return first, browser.auto_submit(first)


def test_learner_launch_ends_on_the_course_page(
    deployment: Deployment, browser: FormBrowser
) -> None:
    _, page = _launch(browser, deployment, user="student-1", role="learner")
    assert page.status_code == 200, page.text
    assert str(page.url).startswith(f"{deployment.tool_url}/course?launch=")
    assert "Biology 101: Cells" in page.text
    assert re.search(r"Role: <strong class='role'>Learner</strong>", page.text)


def test_canvas_style_teacher_is_an_instructor(
    deployment: Deployment, browser: FormBrowser
) -> None:
    # The platform sends Instructor plus the system person#User role, as Canvas does.
    _, page = _launch(browser, deployment, user="teacher-1", role="instructor")
    assert page.status_code == 200, page.text
    assert "Role: <strong class='role'>Instructor</strong>" in page.text
