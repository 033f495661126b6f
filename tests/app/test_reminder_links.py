"""The links of a reminder e-mail lead somewhere: rendered through the real delivery path (the
SMTP server the notify tests run), each ``/courses/…`` address opens the course or item page for
a browser whose launch is for that course, and the "open it from your learning platform" page for
every other browser, which tells a stranger nothing about any course."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import Flask

from blendkit import load_settings
from blendkit.courses import CourseService, Enrolment, reminder_delivery
from blendkit.integrations.flask import Blendkit
from blendkit.lti import Launch, LaunchContext, MessageType, ResourceLink, UserIdentity
from blendkit.lti._claims import LaunchPresentation
from blendkit.progression import flipped_classroom
from blendkit.sessions import FakeMeetingProvider
from blendkit.store import Store
from blendkit.xapi import Outbox, StatementFactory
from tests.notify.smtp_kit import HOST, Recorder, smtp_server

BASE = "https://tool.example.edu"
ISSUER = "https://lms.example.edu"
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"


@dataclass
class World:
    app: Flask
    course_id: int
    links: list[str]


def _launch(app: Flask, *, context: str, deployment: str = "d1") -> str:
    launch = Launch(
        message_type=MessageType.RESOURCE_LINK, version="1.3.0", issuer=ISSUER,
        client_id="c1", deployment_id=deployment,
        user=UserIdentity(sub="ana", name="Ana", email="ana@example.org"),
        roles=(LEARNER,), context=LaunchContext(id=context, title="Biology"),
        resource_link=ResourceLink(id="rl-1"), target_link_uri=f"{BASE}/lti/launch",
        launch_presentation=LaunchPresentation(return_url=f"{ISSUER}/course/view.php?id=7"),
    )  # fmt: skip
    with app.app_context():
        return Blendkit.state().launches.save(launch)


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    from blendkit_examples.flask_app import create_app

    for key in [k for k in __import__("os").environ if k.startswith("BLENDKIT_")]:
        monkeypatch.delenv(key)
    store = Store(f"sqlite:///{tmp_path / 'links.sqlite3'}")
    store.migrate()
    recorder = Recorder()
    with smtp_server(recorder) as port:
        monkeypatch.setenv("BLENDKIT_DATABASE_URL", str(store.engine.url))
        monkeypatch.setenv("BLENDKIT_TOOL_BASE_URL", BASE)
        monkeypatch.setenv("BLENDKIT_TOOL_SECRET_KEY", "a-long-random-tool-key-for-these-tests")
        monkeypatch.setenv("BLENDKIT_EMAIL_HOST", HOST)
        monkeypatch.setenv("BLENDKIT_EMAIL_PORT", str(port))
        monkeypatch.setenv("BLENDKIT_EMAIL_SECURITY", "none")
        monkeypatch.setenv("BLENDKIT_EMAIL_FROM_ADDRESS", "courses@example.org")
        monkeypatch.setenv("BLENDKIT_HTTP_ALLOWED_HOSTS", '["127.0.0.1"]')
        monkeypatch.setenv("BLENDKIT_TOOL_ENVIRONMENT", "development")
        settings = load_settings()
        provider = FakeMeetingProvider()
        app = create_app(settings, store=store, provider=provider, migrate=False, TESTING=True)
        _launch(app, context="bio-101")  # the course exists as a launch made it
        courses = CourseService(store, outbox=Outbox(store), statements=StatementFactory(BASE))
        from blendkit.lti import Tenant

        tenant = Tenant(issuer=ISSUER, client_id="c1", deployment_id="d1")
        due = (datetime.now(UTC) + timedelta(minutes=90)).replace(second=0, microsecond=0)
        course = courses.ensure_course(
            tenant, "bio-101", title="Biology", path=flipped_classroom(due)
        )
        courses.enrol(course, Enrolment(sub="ana", name="Ana", email="ana@example.org"))
        delivery = reminder_delivery(settings, store, provider=provider)
        delivery.queue.schedule(delivery.planner(datetime.now(UTC)))
        assert delivery.queue.deliver_once().delivered >= 1
    links: list[str] = []
    for envelope in recorder.envelopes:
        mail = message_from_bytes(bytes(envelope.content or b""), policy=policy.default)  # type: ignore[arg-type]
        for part in ("plain", "html"):
            body = mail.get_body(preferencelist=(part,)).get_content()  # type: ignore[union-attr]
            links += re.findall(re.escape(BASE) + r"/courses/[^\s\"<>)]+", body)
    yield World(app=app, course_id=course.id, links=sorted(set(links)))
    store.dispose()


def _path(url: str) -> str:
    return urlsplit(url).path


def test_every_link_of_a_reminder_opens_its_page_for_a_launch_of_that_course(world: World) -> None:
    assert world.links, "the reminder points at the tool"
    client = world.app.test_client()
    launch = _launch(world.app, context="bio-101")
    for url in world.links:
        answer = client.get(_path(url), query_string={"launch": launch})
        assert answer.status_code == 303, url
        target = urlsplit(answer.headers["Location"])
        opened = client.get(target.path, query_string=target.query)
        assert opened.status_code == 200, (url, target)
        if "/items/" in url:
            assert target.path == "/item/" + url.rsplit("/items/", 1)[1]
        else:
            assert target.path == "/course"


def test_without_a_launch_of_that_course_the_link_asks_to_open_it_from_the_platform(
    world: World,
) -> None:
    client = world.app.test_client()
    stranger = [client.get(_path(url)) for url in world.links]
    unknown = client.get(f"/courses/{world.course_id + 999}")
    unknown_item = client.get(f"/courses/{world.course_id + 999}/items/readiness-quiz")
    for answer in (*stranger, unknown, unknown_item):
        assert answer.status_code == 200
        body = answer.get_data(as_text=True)
        assert "from your learning platform to continue" in body
        assert "Biology" not in body
        assert "lms.example.edu" not in body
    assert {a.get_data() for a in (*stranger, unknown, unknown_item)} == {unknown.get_data()}
    # A launch of another course on the same platform is told which course to open, and where.
    other = _launch(world.app, context="chem-202")
    told = client.get(f"/courses/{world.course_id}", query_string={"launch": other})
    assert told.status_code == 200
    body = told.get_data(as_text=True)
    assert "Open Biology from your learning platform to continue" in body
    assert f'href="{ISSUER}/"' in body
    # A launch of another deployment learns nothing, and an expired launch id is no launch.
    foreign = _launch(world.app, context="bio-101", deployment="d2")
    for launch in (foreign, "no-such-launch"):
        answer = client.get(f"/courses/{world.course_id}", query_string={"launch": launch})
        assert answer.status_code == 200
        assert answer.get_data() == unknown.get_data()


def test_the_course_calendar_links_a_session_to_the_same_addresses(world: World) -> None:
    """A calendar event opens outside the LMS too: a session without a personal join link
    points at its item through the address reminder e-mails use."""
    from blendkit_examples.flask_app.app import services

    with world.app.app_context():
        svc = services()
        course = svc.courses.course_by_id(world.course_id)
        start = (datetime.now(UTC) + timedelta(days=2)).replace(second=0, microsecond=0)
        svc.live.schedule(
            course, title="Lab", start_utc=start, time_zone="UTC", duration_minutes=30,
            item="live-session",
        )  # fmt: skip
        (event,) = [e for e in svc.feeds.feed(course, "ana").items if e.title == "Lab"]
    assert event.url == f"{BASE}/courses/{world.course_id}/items/live-session"
    client = world.app.test_client()
    launch = _launch(world.app, context="bio-101")
    answer = client.get(_path(event.url), query_string={"launch": launch})
    assert answer.status_code == 303
    assert answer.headers["Location"].startswith("/item/live-session?")
