"""Suspicion 14: a meeting provider answering a link that is not a web address.

Join, personal join and recording-page links are validated as absolute http(s) links by the
session models, so a provider (or a compromised or misconfigured account there) answering
``javascript:alert(1)`` no longer reaches a page. Before the fix the refusal was pydantic's
``ValidationError``, outside blendkit's error tree: the learner's join button answered 500, and a
reminder tick asking for personal join links stopped on it. Now it is a ``ProviderError``
(``sessions.provider_invalid_answer``) naming the provider and the field but not the value (a
join link may carry a meeting password): the app shows its error page, and the reminder plan
skips that learner with a WARNING.
"""

from __future__ import annotations

import html
import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from blendkit import ProviderError
from blendkit.courses import reminder_delivery
from blendkit.sessions import JoinLink, Learner, ProviderMeeting, provider_answers
from blendkit.store._tables_notify import notify_queue
from blendkit_examples.flask_app.app import services
from tests.app import conftest as app
from tests.app.conftest import INSTRUCTOR, Tool

tool = app.tool  # the example tool launched on a real SQLite store (a fixture)

SCRIPT = "javascript:alert(1)"


def _scripted_join_links(tool: Tool, monkeypatch: pytest.MonkeyPatch) -> None:
    """The provider answers ana's personal join link with a script link (built as a plugin
    builds its answer: into blendkit's model, inside the provider's method); others' as ever."""
    real = tool.provider.join_link

    def join_link(meeting_id: str, learner: Learner) -> JoinLink:
        if learner.id != "ana":
            return real(meeting_id, learner)
        return JoinLink(meeting_id=meeting_id, learner_id=learner.id, url=SCRIPT)

    monkeypatch.setattr(tool.provider, "join_link", join_link)


def _session_soon(tool: Tool) -> tuple[object, str]:
    tool.get("/course", tool.launch("rivera", roles=(INSTRUCTOR,), name="Rivera"))
    with tool.app.app_context():
        svc = services()
        course = svc.courses.course_by_id(1)
        record = svc.live.schedule(
            course, title="Seminar", start_utc=datetime.now(UTC) + timedelta(minutes=50),
            time_zone="UTC", duration_minutes=60,
        )  # fmt: skip
    return course, record.id


def test_a_script_join_link_from_the_provider_shows_the_error_page(
    tool: Tool, monkeypatch: pytest.MonkeyPatch
) -> None:
    ana = tool.launch("ana")
    tool.get("/course", ana)
    _course, session_id = _session_soon(tool)
    _scripted_join_links(tool, monkeypatch)
    answer = tool.post(f"/item/live-session/join/{session_id}", ana)
    page = html.unescape(answer.get_data(as_text=True))
    assert answer.status_code == 502
    assert "sessions.provider_invalid_answer" in page
    assert "'fake'" in page
    assert "url" in page
    assert "javascript" not in page
    assert "Location" not in answer.headers


def _ana_and_ben_before_a_session(
    tool: Tool, monkeypatch: pytest.MonkeyPatch
) -> tuple[object, str]:
    """Two learners, a session starting soon, and a provider answering ana a script link."""
    tool.get("/course", tool.launch("ana"))
    tool.get("/course", tool.launch("ben", name="Ben"))
    found = _session_soon(tool)
    _scripted_join_links(tool, monkeypatch)
    return found


def test_a_script_personal_link_skips_that_learner_in_the_reminder_plan(
    tool: Tool, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    course, session_id = _ana_and_ben_before_a_session(tool, monkeypatch)
    with tool.app.app_context():
        settings = services().settings
    planner = reminder_delivery(settings, tool.store, provider=tool.provider).planner
    with caplog.at_level(logging.WARNING):
        intents = planner.plan_course(course, datetime.now(UTC))  # type: ignore[arg-type]
    assert {i.recipient for i in intents if session_id in i.event} == {"ben"}
    [warning] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert "sessions.provider_invalid_answer" in warning.getMessage()
    assert "ana" in warning.getMessage()
    assert "javascript" not in warning.getMessage()


def test_an_invalid_answer_is_a_provider_error_naming_provider_and_field() -> None:
    class Provider:
        name = "acme"

    with pytest.raises(ProviderError) as caught, provider_answers(Provider()):
        ProviderMeeting(provider="acme", meeting_id="1", join_url=f"{SCRIPT}?pwd=secret")
    assert caught.value.code == "sessions.provider_invalid_answer"
    assert "'acme'" in caught.value.message
    assert "join_url" in caught.value.message
    assert "secret" not in caught.value.message
    assert "javascript" not in caught.value.message
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__
    with provider_answers(Provider()):  # a valid answer passes through as it was built
        kept = ProviderMeeting(provider="acme", meeting_id="1", join_url="https://acme.example/j/1")
    assert kept.join_url == "https://acme.example/j/1"


def _zoom(url: str) -> object:
    from blendkit_zoom._convert import provider_meeting

    return provider_meeting({"id": 81234567890, "join_url": url, "duration": 30})


def _teams(url: str) -> object:
    from blendkit_teams._convert import provider_meeting

    return provider_meeting({"id": "AAMk-1", "onlineMeeting": {"joinUrl": url}}, None)


def _meet(url: str) -> object:
    from blendkit_meet._calendar import provider_meeting

    return provider_meeting({"id": "evt-1", "hangoutLink": url}, None)


@pytest.mark.parametrize(("name", "convert"), [("zoom", _zoom), ("teams", _teams), ("meet", _meet)])
def test_each_plugin_turns_a_script_join_link_into_a_provider_error(name: str, convert) -> None:  # type: ignore[no-untyped-def]
    assert convert("https://meet.example/j/1")  # an ordinary answer converts
    with pytest.raises(ProviderError) as caught:
        convert(SCRIPT)
    assert caught.value.code == "sessions.provider_invalid_answer"
    assert f"{name!r}" in caught.value.message
    assert "join_url" in caught.value.message
    assert "javascript" not in caught.value.message


def test_a_script_personal_link_skips_that_learner_when_a_sitting_moves(
    tool: Tool, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    course, session_id = _ana_and_ben_before_a_session(tool, monkeypatch)
    with caplog.at_level(logging.WARNING), tool.app.app_context():
        services().live.reschedule(
            course,  # type: ignore[arg-type]
            session_id,
            start_utc=datetime.now(UTC) + timedelta(hours=3),
        )
    with tool.store.transaction() as s:
        moved = set(
            s.execute(
                select(notify_queue.c.recipient).where(notify_queue.c.offset == "moved")
            ).scalars()
        )
    assert moved == {"ben"}
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("ana" in w and "sessions.provider_invalid_answer" in w for w in warnings)
