"""The Django adapter over real HTTP against the independent platform (lti1p3platform): login by
GET and POST, launch, replay, deep linking, AGS, NRPS, the host API's JSON error and the body
cap on a real socket. The app is the conformance module's, served by a threaded WSGI server."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from blendkit import Store
from tests.conformance.apps.django import DjangoServer, bind
from tests.e2e.conftest import registered_tool
from tests.e2e.form_browser import FormBrowser, forms
from tests.e2e.lti_platform import LTIPlatform

pytestmark = pytest.mark.e2e


class Running:
    def __init__(self, server: DjangoServer, platform: LTIPlatform, store: Store) -> None:
        self.server = server
        self.platform = platform
        self.store = store
        self.url = server.url


@pytest.fixture
def running(tmp_path: Path) -> Iterator[Running]:
    server = bind()
    platform = LTIPlatform()
    platform.configure_tool(server.url)
    settings, store = registered_tool(tmp_path, platform, server.url, max_webhook_bytes=65536)
    server.start(settings, store)
    platform.start()
    try:
        yield Running(server, platform, store)
    finally:
        platform.stop()
        server.stop()
        store.dispose()


@pytest.fixture
def browser() -> Iterator[FormBrowser]:
    b = FormBrowser()
    yield b
    b.close()


def _launch(browser: FormBrowser, running: Running, **kw: str) -> tuple[Any, Any]:
    first = browser.get(running.platform.launch_url(**kw))
    assert first.status_code == 200, first.text
    assert [f.action for f in forms(first.text)] == [f"{running.url}/lti/launch"]
    return first, browser.auto_submit(first)


def test_learner_launch_answers_the_handlers_json(running: Running, browser: FormBrowser) -> None:
    _, page = _launch(browser, running, user="student-1", role="learner")
    assert page.status_code == 200, page.text
    body = page.json()
    assert body["sub"] == "student-1"
    assert body["context_id"] == "course-101"
    assert body["message_type"] == "LtiResourceLinkRequest"
    assert any(r.endswith("#Learner") for r in body["roles"])
    kept = browser.get(
        f"{running.url}/conformance/launch/{body['launch_id']}?launch={body['launch_id']}"
    )
    assert kept.json() == body
    assert browser.get(f"{running.url}/conformance/launch/{body['launch_id']}").json() == body


def test_login_by_post_reaches_the_platform(running: Running, browser: FormBrowser) -> None:
    answer = browser.client.post(
        f"{running.url}/lti/login",
        data={
            "iss": running.platform.issuer,
            "login_hint": "student-1",
            "target_link_uri": f"{running.url}/lti/launch",
            "client_id": running.platform.client_id,
            "lti_deployment_id": running.platform.deployment_id,
        },
        follow_redirects=False,
    )
    assert answer.status_code == 302
    location = urlsplit(answer.headers["Location"])
    assert (
        f"{location.scheme}://{location.netloc}{location.path}" == running.platform.auth_login_url
    )


def test_replayed_id_token_is_refused(running: Running, browser: FormBrowser) -> None:
    auth_page, page = _launch(browser, running, user="student-2", role="learner")
    assert page.status_code == 200
    replay = browser.submit(auth_page)
    assert replay.status_code in {400, 401}
    assert "lti." in replay.text


def test_score_and_roster_through_the_platforms_services(
    running: Running, browser: FormBrowser
) -> None:
    _, page = _launch(browser, running, user="student-1", role="learner")
    launch_id = page.json()["launch_id"]
    posted = browser.client.post(
        f"{running.url}/conformance/score?launch={launch_id}", data={"score": "7", "max": "10"}
    )
    assert posted.status_code == 200, posted.text
    assert posted.json()["line_item"]
    assert [(s["userId"], s["scoreGiven"]) for s in running.platform.records.scores] == [
        ("student-1", 7)
    ]
    members = browser.get(f"{running.url}/conformance/roster?launch={launch_id}").json()
    assert [m["user_id"] for m in members] == [
        m["user_id"] for m in running.platform.records.members
    ]


def test_deep_linking_answer_is_accepted_by_the_platform(
    running: Running, browser: FormBrowser
) -> None:
    _, answer = _launch(browser, running, user="teacher-1", role="instructor", message="deeplink")
    assert answer.status_code == 200, answer.text
    assert "Platform received 1 item(s): Conformance item" in answer.text
    (claims,) = running.platform.records.deep_link_claims
    assert claims["aud"] == running.platform.issuer


def test_host_api_error_is_json(running: Running, browser: FormBrowser) -> None:
    answer = browser.get(f"{running.url}/conformance/api")
    assert answer.status_code == 401
    assert answer.json()["error"] == "lti.launch_session_expired"


def test_a_declared_oversized_body_is_refused_before_it_is_sent(running: Running) -> None:
    """Only the headers are sent: a server that waited for the body would never answer."""
    host, port = urlsplit(running.url).hostname, urlsplit(running.url).port
    assert host is not None
    assert port is not None
    with socket.create_connection((host, port), timeout=10) as conn:
        conn.sendall(
            b"POST /lti/launch HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n"
            b"Content-Length: 50000000\r\nConnection: close\r\n\r\n"
        )
        status_line = conn.recv(4096).split(b"\r\n", 1)[0]
    assert b" 413 " in status_line
