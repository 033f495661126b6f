"""Google Meet end to end in the example tool: an instructor schedules a session on Meet, the
conference ends, and Google's Pub/Sub push to ``/webhooks/meet`` imports its attendance.

Google is played by :class:`tests.plugins.google_fake.GoogleFake` (Calendar, Meet spaces, the
token endpoint) with the conference records and directory of
:class:`tests.plugins.meet_records_data.MeetRecordsFake`, and its certificate endpoint by
:class:`tests.plugins.meet_push.CertsEndpoint`; pushes carry OIDC tokens signed like Google's.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from blendkit import Settings, Store
from blendkit.store._tables_courses import course_attendance, course_sessions, course_unmatched
from tests.app.conftest import INSTRUCTOR, Tool, launcher
from tests.fence import public_fence

pytest.importorskip("blendkit_meet")

from blendkit_meet import MeetProvider
from blendkit_meet._events import CONFERENCE_ENDED

from tests.plugins import meet_records_data as data
from tests.plugins.google_fake import write_key
from tests.plugins.meet_push import (
    AUDIENCE,
    CERTS_URL,
    PUSHER,
    CertsEndpoint,
    SigningKey,
    claims,
    push_body,
)

GOOGLE_KEY = SigningKey.generate("google-kid-1")
FORGER_KEY = SigningKey.generate("google-kid-1")  # the same key id; a key Google never published


@dataclass
class MeetTool:
    tool: Tool
    records: data.MeetRecordsFake
    certs: CertsEndpoint

    def session_rows(self) -> list[Any]:
        with self.tool.store.transaction() as s:
            return list(s.execute(select(course_sessions)).all())

    def attendance(self) -> list[tuple[str, float, str | None]]:
        """Who was present (minutes > 0); the roster's absentees are stored with 0 minutes."""
        with self.tool.store.transaction() as s:
            rows = s.execute(select(course_attendance).where(course_attendance.c.minutes > 0))
            return sorted((r.sub, round(r.minutes, 6), r.matched_by) for r in rows)

    def unmatched(self) -> list[tuple[str, str]]:
        with self.tool.store.transaction() as s:
            rows = s.execute(select(course_unmatched))
            return sorted((r.display_name, r.reason) for r in rows)

    def snapshot(self) -> list[Any]:
        """Every stored session, attendance and unmatched row, ids included."""
        with self.tool.store.transaction() as s:
            tables = (course_sessions, course_attendance, course_unmatched)
            return [tuple(row) for table in tables for row in s.execute(select(table))]

    def push(self, body: bytes, token: str) -> Any:
        headers = {"Authorization": f"Bearer {token}"}
        return self.tool.client.post(
            "/webhooks/meet", data=body, content_type="application/json", headers=headers
        )


@pytest.fixture
def meet(tmp_path: Path) -> Iterator[MeetTool]:
    from blendkit_examples.flask_app import create_app

    records = data.MeetRecordsFake()
    certs = CertsEndpoint([GOOGLE_KEY])

    def google(request: httpx.Request) -> httpx.Response:
        if str(request.url) == CERTS_URL:
            return certs(request)
        return records.google.handler(request)

    settings = Settings(
        database={"url": f"sqlite:///{tmp_path / 'tool.sqlite3'}"},
        tool={"base_url": "https://tool.example.edu", "secret_key": "test-secret"},
        meeting_provider="meet",
        meet={
            "service_account_file": write_key(tmp_path),
            "organizer": records.google.organizer,
            "push_audience": AUDIENCE,
            "push_service_account": PUSHER,
        },
    )
    store = Store(settings.database.url)
    client = httpx.Client(transport=httpx.MockTransport(google))
    provider = MeetProvider(settings, client=client, fence=public_fence(), sleep=lambda _: None)
    app = create_app(settings, store=store, provider=provider, migrate=True, TESTING=True)
    tool = Tool(app, app.test_client(), provider, store, launcher(app))  # type: ignore[arg-type]
    yield MeetTool(tool, records, certs)
    client.close()
    store.dispose()


def _schedule(meet: MeetTool) -> str:
    """The instructor schedules a 90-minute session at ``data.START`` through the form."""
    teacher = meet.tool.launch("teach", roles=(INSTRUCTOR,), name="Dr T", zone="UTC")
    form = {"title": "Week 1 seminar", "date": f"{data.START:%Y-%m-%d}",
            "time": f"{data.START:%H:%M}", "time_zone": "UTC", "duration": "90",
            "item": "live-session"}  # fmt: skip
    created = meet.tool.post("/teach/sessions", teacher, form)
    assert created.status_code == 302, created.get_data(as_text=True)
    (row,) = meet.session_rows()
    assert row.provider == "meet"
    return str(row.provider_meeting_id)


def test_a_signed_conference_ended_push_imports_attendance_once(meet: MeetTool) -> None:
    meet.tool.get("/course", meet.tool.launch("ana", name="Ana"))  # enrols ana@example.edu
    event_id = _schedule(meet)
    google = meet.records.google
    (event,) = google.events.values()
    assert event["id"] == event_id
    space = event["extendedProperties"]["private"]["blendkitMeetSpace"]
    assert space in {s["name"] for s in google.spaces.values()}

    ana = data.signed_in("p1", "111", "Ana on her laptop")
    # Ana: 0-40 and, after a dropped connection, 50-80 → 70 minutes; a visitor 0-20.
    data.serve_meeting(
        meet.records,
        [(ana, [(0, 40), (50, 80)]), (data.anonymous("p2", "Visitor"), [(0, 20)])],
        [data.conference(end=90)],
    )
    meet.records.objects["/admin/directory/v1/users/111"] = data.directory_user(
        "Ana@Example.edu", "111"
    )
    body = push_body(
        CONFERENCE_ENDED,
        {"conferenceRecord": {"name": data.RECORD}},
        event_id="meet-ended-1",
        subject=f"//meet.googleapis.com/{space}",
    )

    forged = meet.push(body, FORGER_KEY.sign(claims()))
    assert forged.status_code == 401, forged.get_data(as_text=True)
    assert "sessions.webhook_bad_signature" in forged.get_data(as_text=True)
    assert meet.attendance() == []
    assert meet.unmatched() == []
    assert not any(r.url.path.startswith("/v2/conferenceRecords") for r in meet.records.requests)

    answer = meet.push(body, GOOGLE_KEY.sign(claims()))
    assert 200 <= answer.status_code < 300, answer.get_data(as_text=True)
    assert meet.attendance() == [("ana", 70.0, "email")]
    assert meet.unmatched() == [("Visitor", "anonymous")]
    (row,) = meet.session_rows()
    assert row.attendance_imported
    assert meet.certs.fetches == 1

    calls, stored = len(google.requests), meet.snapshot()
    again = meet.push(body, GOOGLE_KEY.sign(claims()))
    assert 200 <= again.status_code < 300, again.get_data(as_text=True)
    assert len(google.requests) == calls, "a redelivered push asks Google nothing"
    assert meet.snapshot() == stored


def test_a_push_about_a_space_without_a_session_records_nothing(meet: MeetTool) -> None:
    meet.tool.get("/course", meet.tool.launch("ana", name="Ana"))
    _schedule(meet)
    body = push_body(
        CONFERENCE_ENDED,
        {"conferenceRecord": {"name": data.RECORD}},
        subject="//meet.googleapis.com/spaces/notOurs",
    )
    answer = meet.push(body, GOOGLE_KEY.sign(claims()))
    assert 200 <= answer.status_code < 300, answer.get_data(as_text=True)
    assert meet.attendance() == []
    assert meet.unmatched() == []
