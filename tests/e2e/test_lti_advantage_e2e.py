"""AGS reads through the Flask extension against the independent platform over real HTTP.

Deep linking both ways, a score reaching the platform and the paged NRPS roster are checked for
every adapter by the conformance suite (``tests/conformance/test_advantage.py``); this module
keeps what the suite's app does not do: listing line items and reading results back.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from blendkit.integrations.flask import Blendkit
from blendkit.lti import AGSScore, LineItem
from tests.e2e.conftest import Deployment
from tests.e2e.form_browser import FormBrowser

pytestmark = pytest.mark.e2e


def _launch(browser: FormBrowser, deployment: Deployment, **kw: str):  # type: ignore[no-untyped-def]
    page = browser.auto_submit(browser.get(deployment.platform.launch_url(**kw)))
    assert page.status_code == 200, page.text
    launch_id = parse_qs(urlsplit(str(page.url)).query)["launch"][0]
    with deployment.app.app_context():
        return Blendkit.state().launches.get(launch_id)


def test_line_items_and_results_are_read_back_from_the_platform(
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
