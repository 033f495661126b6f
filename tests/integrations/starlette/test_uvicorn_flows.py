"""The FastAPI example tool under uvicorn against the independent platform (lti1p3platform), over
real HTTP on loopback: login by GET and POST, launch, replay refused, AGS, NRPS, deep linking,
host JSON routes. The platform's JWKS and every service call go through the adapter's
``httpx.AsyncClient``; the synchronous client stays unused."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from uvicorn.logging import AccessFormatter

from blendkit_examples.fastapi_app import create_app
from blendkit_examples.fastapi_app.app import QUIZ
from tests.e2e.conftest import registered_tool
from tests.e2e.form_browser import FormBrowser, forms
from tests.e2e.lti_platform import LTIPlatform
from tests.integrations.starlette.servers import UvicornServer

pytestmark = pytest.mark.e2e


@dataclass
class Running:
    platform: LTIPlatform
    url: str
    async_sent: list[str] = field(default_factory=list)
    sync_sent: list[str] = field(default_factory=list)


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Running]:
    server = UvicornServer()
    platform = LTIPlatform()
    platform.configure_tool(server.url)
    settings, store = registered_tool(tmp_path, platform, server.url)
    state = Running(platform=platform, url=server.url)

    async def seen_async(request: httpx.Request) -> None:
        state.async_sent.append(f"{request.method} {request.url.path}")

    def seen_sync(request: httpx.Request) -> None:
        state.sync_sent.append(f"{request.method} {request.url.path}")

    async_client = httpx.AsyncClient(timeout=10, event_hooks={"request": [seen_async]})
    sync_client = httpx.Client(timeout=10, event_hooks={"request": [seen_sync]})
    app = create_app(settings, store, async_client=async_client, http_client=sync_client)
    platform.start()
    server.start(app)
    try:
        yield state
    finally:
        server.stop()
        platform.stop()
        sync_client.close()
        store.dispose()


@pytest.fixture
def browser() -> Iterator[FormBrowser]:
    b = FormBrowser()
    yield b
    b.close()


def _launch(
    browser: FormBrowser, running: Running, **kw: str
) -> tuple[httpx.Response, httpx.Response]:
    """The platform's auth page (auto-posting id_token + state) and the tool's answer to it."""
    first = browser.get(running.platform.launch_url(**kw))
    assert [f.action for f in forms(first.text)] == [f"{running.url}/lti/launch"], first.text
    return first, browser.auto_submit(first)


def _page(browser: FormBrowser, running: Running, user: str, role: str) -> httpx.Response:
    return _launch(browser, running, user=user, role=role)[1]


def _launch_id(page: httpx.Response) -> str:
    return dict(parse_qsl(urlsplit(str(page.url)).query))["launch"]


def test_learner_launch_by_get_login_ends_on_the_course_page(
    running: Running, browser: FormBrowser
) -> None:
    final = _page(browser, running, "student-2", "learner")
    assert final.status_code == 200, final.text
    assert str(final.url).startswith(f"{running.url}/course?launch=")
    assert "Biology 101: Cells" in final.text
    assert "<strong class='role'>Learner</strong>" in final.text
    assert final.headers["cache-control"] == "no-store"
    # The platform's key set was fetched on the event loop, by the async client only.
    assert "GET /jwks" in running.async_sent
    assert running.sync_sent == []


def test_login_by_post_works_like_get(running: Running, browser: FormBrowser) -> None:
    start = browser.client.get(
        running.platform.launch_url(user="teacher-1", role="instructor"), follow_redirects=False
    )
    login_url = start.headers["location"]
    assert login_url.startswith(f"{running.url}/lti/login?")
    fields = dict(parse_qsl(urlsplit(login_url).query))
    auth = browser.client.post(f"{running.url}/lti/login", data=fields)
    final = browser.auto_submit(auth)
    assert final.status_code == 200, final.text
    assert "<strong class='role'>Instructor</strong>" in final.text


def test_replayed_id_token_is_refused(running: Running, browser: FormBrowser) -> None:
    auth_page, first = _launch(browser, running, user="student-3", role="learner")
    assert "Biology 101" in first.text
    replay = browser.submit(auth_page)  # the same id_token and state, posted again
    assert replay.status_code in {400, 401}
    assert "lti." in replay.text
    assert "Biology 101" not in replay.text


def test_quiz_score_reaches_the_platform_through_ags(
    running: Running, browser: FormBrowser
) -> None:
    page = _page(browser, running, "student-4", "learner")
    (form,) = forms(page.text)
    answers = {f"q{n}": right for n, (_, _, right) in enumerate(QUIZ)}
    answers["q2"] = "2"  # one wrong answer
    sent = browser.client.post(f"{running.url}/quiz", data={**form.fields, **answers})
    assert sent.status_code == 200, sent.text
    assert f"Score {len(QUIZ) - 1}/{len(QUIZ)} sent to the LMS" in sent.text
    scores = running.platform.records.scores
    assert [(s["userId"], s["scoreGiven"]) for s in scores] == [("student-4", len(QUIZ) - 1)]
    assert running.platform.records.tokens_issued == 1
    assert {"POST /token", "POST /scores"} <= {
        f"{m} /{p.rsplit('/', 1)[-1]}" for m, p in (s.split(" ", 1) for s in running.async_sent)
    }
    assert running.sync_sent == []


def test_quiz_without_its_csrf_token_is_refused(running: Running, browser: FormBrowser) -> None:
    page = _page(browser, running, "student-5", "learner")
    (form,) = forms(page.text)
    fields = dict(form.fields, csrf="forged")
    refused = browser.client.post(
        f"{running.url}/quiz", data=fields, headers={"Accept": "text/html"}
    )
    assert refused.status_code == 403
    assert "app.csrf_failed" in refused.text
    assert running.platform.records.scores == []


def test_instructor_roster_is_read_through_nrps(running: Running, browser: FormBrowser) -> None:
    page = _page(browser, running, "teacher-1", "instructor")
    launch_id = _launch_id(page)
    roster = browser.client.get(f"{running.url}/roster", params={"launch": launch_id})
    assert roster.status_code == 200, roster.text
    for member in running.platform.records.members:
        assert f"({member['user_id']})" in roster.text
    learner = _page(browser, running, "student-6", "learner")
    learner_id = _launch_id(learner)
    refused = browser.client.get(f"{running.url}/roster", params={"launch": learner_id})
    assert refused.status_code == 403
    assert refused.json()["error"] == "lti.role_required"


def test_deep_linking_answer_is_accepted_by_the_platform(
    running: Running, browser: FormBrowser
) -> None:
    answer = browser.auto_submit(
        browser.get(
            running.platform.launch_url(user="teacher-1", role="instructor", message="deeplink")
        ),
        max_hops=1,
    )
    (form,) = forms(answer.text)
    assert form.action.startswith(running.platform.base_url)
    returned = browser.client.post(form.action, data=form.fields)
    assert returned.status_code == 200, returned.text
    assert "Platform received 1 item(s): Readiness quiz" in returned.text
    (claims,) = running.platform.records.deep_link_claims
    assert claims["aud"] == running.platform.issuer


def test_host_json_route_answers_in_json_over_http(running: Running, browser: FormBrowser) -> None:
    page = _page(browser, running, "student-7", "learner")
    launch_id = _launch_id(page)
    me = httpx.get(f"{running.url}/api/me", params={"launch": launch_id})
    anonymous = httpx.get(f"{running.url}/api/me")
    assert me.json()["sub"] == "student-7"
    assert len(me.json()["tenant"]) == 24
    assert anonymous.status_code == 401
    assert anonymous.json()["error"] == "lti.launch_session_expired"


def test_uvicorn_access_log_never_shows_a_launch_id(running: Running, browser: FormBrowser) -> None:
    lines: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    handler = Keep()
    # uvicorn's own formatter, which unpacks the record's arguments: the redaction keeps them.
    handler.setFormatter(AccessFormatter('%(client_addr)s - "%(request_line)s" %(status_code)s'))
    access = logging.getLogger("uvicorn.access")
    access.addHandler(handler)
    old_level = access.level
    access.setLevel(logging.INFO)
    try:
        page = _page(browser, running, "student-1", "learner")
    finally:
        access.removeHandler(handler)
        access.setLevel(old_level)
    launch_id = _launch_id(page)
    assert any("/course?launch=[redacted]" in line for line in lines), lines
    assert all(launch_id not in line for line in lines)
