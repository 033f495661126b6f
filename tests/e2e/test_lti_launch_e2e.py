"""Launches from an independent LTI 1.3 platform (lti1p3platform) over real HTTP."""

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


def test_replayed_id_token_is_refused_even_with_its_valid_state(
    deployment: Deployment, browser: FormBrowser
) -> None:
    auth_page, page = _launch(browser, deployment, user="student-2", role="learner")
    assert page.status_code == 200
    replay = browser.submit(auth_page)  # the very same id_token and state, posted again
    assert replay.status_code in {400, 401}
    assert "lti." in replay.text
    assert "Biology 101" not in replay.text


def test_launch_page_without_a_login_is_refused_with_a_named_reason(
    deployment: Deployment, browser: FormBrowser
) -> None:
    response = browser.client.post(f"{deployment.tool_url}/lti/launch", data={"state": "x"})
    assert response.status_code == 400
    assert "lti.missing_id_token" in response.text


def test_jwks_is_published(deployment: Deployment, browser: FormBrowser) -> None:
    keys = browser.get(f"{deployment.tool_url}/lti/jwks").json()["keys"]
    assert keys
    assert all(k["kty"] == "RSA" and k["alg"] == "RS256" and "d" not in k for k in keys)
