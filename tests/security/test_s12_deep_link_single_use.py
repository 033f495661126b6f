"""Suspicion 12: a deep-linking session could be submitted again after its response was signed.

A deep-linking request is one question from the platform; the tool answers it once. Each submit
of the example app's picker signed a new ``LtiDeepLinkingResponse``, so the same launch could
place items again and again (a replayed form, a second tab, a double click). The answer is now
single-use: the first signed response consumes the request atomically, every later or concurrent
submit is refused with ``lti.deep_linking_already_answered``, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
from flask import Flask

from blendkit import Settings, Store
from blendkit.integrations.flask import Blendkit
from blendkit.lti import Launch, LaunchContext, MessageType, ResourceLink, UserIdentity
from blendkit.sessions import FakeMeetingProvider

INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
DL_SETTINGS = {
    "deep_link_return_url": "https://lms.example.edu/dl-return",
    "accept_types": ["ltiResourceLink"],
    "accept_presentation_document_targets": ["iframe", "window"],
    "accept_multiple": True,
}


@pytest.fixture
def app(store: Store) -> Flask:
    from blendkit_examples.flask_app import create_app

    settings = Settings(
        database={"url": store.url.render_as_string(hide_password=False)},
        tool={"base_url": "http://tool.test", "secret_key": "test-secret"},
    )
    provider = FakeMeetingProvider(max_webhook_age=timedelta(days=30))
    return create_app(settings, store=store, provider=provider, migrate=True, TESTING=True)


def deep_linking_launch(app: Flask, sub: str = "teach") -> str:
    launch = Launch(
        message_type=MessageType.DEEP_LINKING,
        version="1.3.0",
        issuer="https://lms.example.edu",
        client_id="client-1",
        deployment_id="dep-1",
        user=UserIdentity(sub=sub, name="Dr T", email=f"{sub}@example.edu"),
        roles=(INSTRUCTOR,),
        context=LaunchContext(id="bio-101", title="Biology 101"),
        resource_link=ResourceLink(id="rl-1"),
        target_link_uri="http://tool.test/lti/launch",
        deep_linking_settings=DL_SETTINGS,
    )
    with app.app_context():
        return Blendkit.state().launches.save(launch)


def form(app: Flask, launch_id: str) -> dict[str, object]:
    page = app.test_client().get("/course", query_string={"launch": launch_id})
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.get_data(as_text=True))
    assert csrf is not None
    return {"launch": launch_id, "csrf": csrf.group(1), "item": ["readiness-quiz"]}


def signed(body: str) -> bool:
    return 'name="JWT" value="' in body


def test_second_submit_after_the_signed_response_is_refused(app: Flask) -> None:
    launch_id = deep_linking_launch(app)
    data = form(app, launch_id)
    client = app.test_client()
    first = client.post("/deep-link", data=data)
    assert first.status_code == 200
    assert signed(first.get_data(as_text=True))
    again = client.post("/deep-link", data={**data, "item": ["in-class"]})
    assert again.status_code == 409
    body = again.get_data(as_text=True)
    assert "lti.deep_linking_already_answered" in body
    assert not signed(body)


def test_a_refused_choice_does_not_use_up_the_request(app: Flask) -> None:
    launch_id = deep_linking_launch(app)
    data = form(app, launch_id)
    client = app.test_client()
    assert client.post("/deep-link", data={**data, "item": ["ghost"]}).status_code == 400
    assert client.post("/deep-link", data=data).status_code == 200


def test_other_deep_linking_launches_are_answered_independently(app: Flask) -> None:
    one, two = deep_linking_launch(app, "teach"), deep_linking_launch(app, "teach")
    assert app.test_client().post("/deep-link", data=form(app, one)).status_code == 200
    assert app.test_client().post("/deep-link", data=form(app, two)).status_code == 200


def test_concurrent_submits_sign_exactly_one_response(app: Flask) -> None:
    launch_id = deep_linking_launch(app)
    data = form(app, launch_id)
    workers = 6
    barrier = threading.Barrier(workers)
    answers: list[tuple[int, bool]] = []
    lock = threading.Lock()

    def submit() -> None:
        client = app.test_client()
        barrier.wait()
        response = client.post("/deep-link", data=data)
        with lock:
            answers.append((response.status_code, signed(response.get_data(as_text=True))))

    threads = [threading.Thread(target=submit) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(answers) == [(200, True)] + [(409, False)] * (workers - 1)
