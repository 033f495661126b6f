"""LTI Advantage against the independent platform over real HTTP: deep linking, AGS, NRPS.

Every call goes through the tool's Flask extension to the platform's endpoints; the platform
(lti1p3platform) checks the tool's client assertion and deep-linking JWT against the tool's JWKS,
which it fetches over HTTP from ``/lti/jwks``.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from blendkit.integrations.flask import Blendkit
from blendkit.lti import AGSScore, LineItem, ResourceLinkItem
from tests.e2e.conftest import Deployment
from tests.e2e.form_browser import FormBrowser, forms

pytestmark = pytest.mark.e2e


def _launch(browser: FormBrowser, deployment: Deployment, **kw: str):  # type: ignore[no-untyped-def]
    page = browser.auto_submit(browser.get(deployment.platform.launch_url(**kw)))
    assert page.status_code == 200, page.text
    launch_id = parse_qs(urlsplit(str(page.url)).query)["launch"][0]
    with deployment.app.app_context():
        return Blendkit.state().launches.get(launch_id)


def test_score_posted_through_ags_reaches_the_platform(
    deployment: Deployment, browser: FormBrowser
) -> None:
    launch = _launch(browser, deployment, user="student-1", role="learner")
    assert launch.ags is not None
    with deployment.app.app_context():
        grades = Blendkit.grades(launch)
        item = grades.create_line_item(
            LineItem(label="Readiness quiz", scoreMaximum=10, resourceId="quiz-1", tag="quiz")
        )
        assert item.id is not None
        grades.post_score(
            AGSScore(
                userId=launch.user.sub,
                scoreGiven=7,
                scoreMaximum=10,
                activityProgress="Completed",
                gradingProgress="FullyGraded",
            ),
            line_item=item,
        )
        listed = grades.line_items()
        results = grades.results(item)
    records = deployment.platform.records
    assert [s["userId"] for s in records.scores] == ["student-1"]
    assert records.scores[0]["scoreGiven"] == 7
    assert [i.label for i in listed] == ["Readiness quiz"]
    assert [(r.user_id, r.result_score) for r in results] == [("student-1", 7)]
    # One access token served every call: the tool caches it per platform and scopes.
    assert records.tokens_issued == 1


def test_roster_is_read_page_by_page(deployment: Deployment, browser: FormBrowser) -> None:
    launch = _launch(browser, deployment, user="teacher-1", role="instructor")
    with deployment.app.app_context():
        members = list(Blendkit.roster(launch).members(limit=3))
    assert [m.user_id for m in members] == [
        m["user_id"] for m in deployment.platform.records.members
    ]
    assert any(
        "Instructor" in role for m in members if m.user_id == "teacher-1" for role in m.roles
    )


def test_deep_linking_round_trip_without_a_data_claim(
    deployment: Deployment, browser: FormBrowser
) -> None:
    launch = _launch(browser, deployment, user="teacher-1", role="instructor", message="deeplink")
    assert launch.is_deep_linking
    assert launch.deep_linking_settings is not None
    assert launch.deep_linking_settings.data is None
    item = ResourceLinkItem(
        url=f"{deployment.tool_url}/lti/launch",
        title="Week 1 live session",
        custom={"item": "live-1"},
    )
    with deployment.app.test_request_context():
        page = Blendkit.deep_linking_response(launch, [item])
    html = page.get_data(as_text=True)
    (form,) = forms(html)
    assert form.action == launch.deep_linking_settings.deep_link_return_url
    returned = browser.client.post(form.action, data=form.fields)
    assert returned.status_code == 200, returned.text
    assert "Platform received 1 item(s): Week 1 live session" in returned.text
    (claims,) = deployment.platform.records.deep_link_claims
    assert "https://purl.imsglobal.org/spec/lti-dl/claim/data" not in claims
    assert claims["aud"] == deployment.platform.issuer


def test_deep_linking_echoes_the_platform_data_when_sent(
    deployment: Deployment, browser: FormBrowser
) -> None:
    launch = _launch(
        browser,
        deployment,
        user="teacher-1",
        role="instructor",
        message="deeplink",
        dl_data="opaque-42",
    )
    item = ResourceLinkItem(title="Quiz 1")
    with deployment.app.test_request_context():
        page = Blendkit.deep_linking_response(launch, [item])
    (form,) = forms(page.get_data(as_text=True))
    assert browser.client.post(form.action, data=form.fields).status_code == 200
    (claims,) = deployment.platform.records.deep_link_claims
    assert claims["https://purl.imsglobal.org/spec/lti-dl/claim/data"] == "opaque-42"
