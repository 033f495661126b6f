"""Reminders end to end, wired as ``blendkit notify run`` wires them: the planner finds a live
session about to start, the preference-aware resolver sends it through the real SMTP server
(aiosmtpd) in the learner's own time, with the sitting's ``.ics`` attached and a one-click
unsubscribe link that the tool's key verifies; quiet hours hold it back; moving the sitting
sends the moved notice with a higher calendar SEQUENCE."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest

from blendkit import load_settings
from blendkit.courses import (
    CourseService,
    Enrolment,
    LiveSessionService,
    ReminderSettings,
    reminder_delivery,
    tool_secret,
)
from blendkit.lti import Tenant
from blendkit.notify import UnsubscribeTokens
from blendkit.progression import flipped_classroom
from blendkit.sessions import FakeMeetingProvider
from blendkit.store import Store
from blendkit.xapi import Outbox, StatementFactory

from .smtp_kit import HOST, Recorder, smtp_server

TENANT = Tenant(issuer="https://lms.example.edu", client_id="c1", deployment_id="d1")
ZONE = "Asia/Kathmandu"  # +05:45: a wrong offset anywhere shows in the minutes


@pytest.fixture
def store(tmp_path: Path) -> Store:
    made = Store(f"sqlite:///{tmp_path / 'delivery.sqlite3'}")
    made.migrate()
    return made


def _settings(monkeypatch: pytest.MonkeyPatch, store: Store, port: int) -> object:
    for key in [k for k in __import__("os").environ if k.startswith("BLENDKIT_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("BLENDKIT_DATABASE_URL", str(store.engine.url))
    monkeypatch.setenv("BLENDKIT_TOOL_BASE_URL", "https://tool.example.edu")
    monkeypatch.setenv("BLENDKIT_TOOL_SECRET_KEY", "a-long-random-tool-key-for-these-tests")
    monkeypatch.setenv("BLENDKIT_HTTP_ALLOWED_HOSTS", '["127.0.0.1"]')
    monkeypatch.setenv("BLENDKIT_EMAIL_HOST", HOST)
    monkeypatch.setenv("BLENDKIT_EMAIL_PORT", str(port))
    monkeypatch.setenv("BLENDKIT_EMAIL_SECURITY", "none")
    monkeypatch.setenv("BLENDKIT_EMAIL_FROM_ADDRESS", "courses@example.org")
    return load_settings()


def _course_with_session(store: Store, provider: FakeMeetingProvider, starts: datetime):  # type: ignore[no-untyped-def]
    courses = CourseService(
        store, outbox=Outbox(store), statements=StatementFactory("https://tool.example.edu")
    )
    course = courses.ensure_course(
        TENANT, "bio-101", title="Biology", path=flipped_classroom(starts + timedelta(days=7))
    )
    courses.enrol(course, Enrolment(sub="ana", name="Ana", email="ana@example.org", time_zone=ZONE))
    live = LiveSessionService(courses, provider)
    record = live.schedule(
        course, title="Lab briefing", start_utc=starts, time_zone="Europe/Berlin",
        duration_minutes=45,
    )  # fmt: skip
    return courses, live, course, record


def _mails(recorder: Recorder) -> list[EmailMessage]:
    return [
        message_from_bytes(bytes(e.content or b""), policy=policy.default)  # type: ignore[misc]
        for e in recorder.envelopes
    ]


def _ics(mail: EmailMessage) -> icalendar.Calendar:
    (part,) = [p for p in mail.walk() if p.get_content_type() == "text/calendar"]
    return icalendar.Calendar.from_ical(part.get_payload(decode=True))


def test_a_session_reminder_arrives_in_the_learners_time_with_its_calendar_file(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = Recorder()
    provider = FakeMeetingProvider()
    starts = (datetime.now(UTC) + timedelta(minutes=10)).replace(second=0, microsecond=0)
    with smtp_server(recorder) as port:
        settings = _settings(monkeypatch, store, port)
        _, live, course, record = _course_with_session(store, provider, starts)
        delivery = reminder_delivery(settings, store, provider=provider)
        delivery.queue.schedule(delivery.planner(datetime.now(UTC)))
        report = delivery.queue.deliver_once()
    assert report.delivered >= 1
    mails = [m for m in _mails(recorder) if "Lab briefing" in str(m["Subject"])]
    assert mails, [str(m["Subject"]) for m in _mails(recorder)]
    mail = mails[0]
    assert mail["To"].addresses[0].addr_spec == "ana@example.org"
    local = starts.astimezone(ZoneInfo(ZONE))
    text = mail.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    clock = f"{local.hour % 12 or 12}:{local.minute:02d}\u202f{'AM' if local.hour < 12 else 'PM'}"
    assert f"{clock} (Asia/Kathmandu)" in text  # Kathmandu's :45 offset, not Berlin's or UTC
    assert live.join_link(course, record.id, "ana") in text  # the personal join link
    (event,) = _ics(mail).walk("VEVENT")
    assert event.decoded("DTSTART").astimezone(UTC) == starts
    assert str(event["URL"]) == live.join_link(course, record.id, "ana")
    # The unsubscribe link is signed with the tool's key (the one its pages verify with).
    link = mail["List-Unsubscribe"].strip("<>")
    token = link.rsplit("/unsubscribe/", 1)[1]
    asked = UnsubscribeTokens(tool_secret(settings, store)).verify(
        token, ReminderSettings(store).tenant_of
    )
    assert (asked.course_id, asked.sub) == (course.id, "ana")


def test_quiet_hours_hold_the_reminder_and_a_moved_sitting_raises_the_sequence(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorder = Recorder()
    provider = FakeMeetingProvider()
    starts = (datetime.now(UTC) + timedelta(minutes=10)).replace(second=0, microsecond=0)
    with smtp_server(recorder) as port:
        settings = _settings(monkeypatch, store, port)
        _, _, course, record = _course_with_session(store, provider, starts)
        prefs = ReminderSettings(store)
        wall = datetime.now(UTC).astimezone(ZoneInfo(ZONE))
        # The learner's quiet hours are now, on their own clock.
        quiet = (f"{(wall.hour - 1) % 24:02d}:00", f"{(wall.hour + 2) % 24:02d}:00")
        prefs.set_preferences(
            course, "ana", channel=None, quiet_start=quiet[0], quiet_end=quiet[1], digest=False
        )
        delivery = reminder_delivery(settings, store, provider=provider)
        delivery.queue.schedule(delivery.planner(datetime.now(UTC)))
        delivery.queue.deliver_once()
        assert recorder.envelopes == []  # held back: nothing reached the server
        assert delivery.queue.status().pending >= 1
        prefs.set_preferences(
            course, "ana", channel=None, quiet_start=None, quiet_end=None, digest=False
        )
        delivery.queue.deliver_once(ignore_schedule=True)  # as if the night had ended
        first = [m for m in _mails(recorder) if "Lab briefing" in str(m["Subject"])]
        assert first
        before = int(next(iter(_ics(first[0]).walk("VEVENT")))["SEQUENCE"])

        live_notifying = LiveSessionService(
            CourseService(
                store,
                outbox=Outbox(store),
                statements=StatementFactory("https://tool.example.edu"),
                notifications=delivery.queue,
                reminder_links=delivery.planner.links,
            ),
            provider,
            notifications=delivery.queue,
        )
        live_notifying.reschedule(course, record.id, start_utc=starts + timedelta(hours=2))
        sent = len(recorder.envelopes)
        delivery.queue.deliver_once()
    moved = [m for m in _mails(recorder)[sent:] if "Lab briefing" in str(m["Subject"])]
    assert moved, "the moved notice was sent"
    (event,) = _ics(moved[0]).walk("VEVENT")
    assert event.decoded("DTSTART").astimezone(UTC) == starts + timedelta(hours=2)
    assert int(event["SEQUENCE"]) > before


def test_notify_run_plans_and_sends_the_session_reminder(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The production process: `blendkit notify run` (planning on) finds the sitting and sends
    its reminder; SIGTERM ends it with exit 0."""
    import os
    import signal
    import subprocess
    import sys
    import time as clock

    recorder = Recorder()
    starts = (datetime.now(UTC) + timedelta(minutes=10)).replace(second=0, microsecond=0)
    with smtp_server(recorder) as port:
        _settings(monkeypatch, store, port)
        _, live, course, record = _course_with_session(store, FakeMeetingProvider(), starts)
        # The fake provider keeps meetings in this process: the learner's link is made (and
        # kept in the store) here, as a launch would, so the process finds it there.
        live.join_link(course, record.id, "ana")
        env = dict(os.environ)
        env.update(BLENDKIT_NOTIFY_POLL_SECONDS="0.2", BLENDKIT_NOTIFY_PLAN_EVERY_SECONDS="0.5")
        worker = subprocess.Popen(
            [sys.executable, "-c", "from blendkit.cli import main; main()", "notify", "run"],
            env=env,
            stderr=subprocess.PIPE,
        )
        deadline = clock.monotonic() + 60
        while not any("Lab briefing" in str(m["Subject"]) for m in _mails(recorder)):
            assert worker.poll() is None, worker.communicate()[1].decode()
            if clock.monotonic() > deadline:
                worker.kill()
                pytest.fail("no reminder arrived: " + worker.communicate()[1].decode()[-3000:])
            clock.sleep(0.1)
        worker.send_signal(signal.SIGTERM)
        _, err = worker.communicate(timeout=60)
    assert worker.returncode == 0, err.decode()
    mail = next(m for m in _mails(recorder) if "Lab briefing" in str(m["Subject"]))
    assert _ics(mail).walk("VEVENT")  # the sitting's calendar file came with it


def test_a_booked_office_hour_reminder_arrives_with_its_calendar_file_and_stops_when_cancelled(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from blendkit.courses import OfficeHoursService
    from blendkit.progression import Item, Module, Path

    recorder = Recorder()
    starts = (datetime.now(UTC) + timedelta(minutes=10)).replace(second=0, microsecond=0)
    with smtp_server(recorder) as port:
        settings = _settings(monkeypatch, store, port)
        delivery = reminder_delivery(settings, store, provider=FakeMeetingProvider())
        courses = CourseService(
            store, outbox=Outbox(store), statements=StatementFactory("https://tool.example.edu"),
            notifications=delivery.queue, reminder_links=delivery.planner.links,
        )  # fmt: skip
        clinic = Path(id="p", modules=(Module(id="m", items=(Item(id="c", kind="office_hours"),)),))
        course = courses.ensure_course(TENANT, "clinic-1", title="Clinics", path=clinic)
        for sub in ("ana", "ben"):
            person = Enrolment(
                sub=sub, name=sub.title(), email=f"{sub}@example.org", time_zone=ZONE
            )
            courses.enrol(course, person)
        hours = OfficeHoursService(courses)
        (slot,) = hours.publish(
            course, "c", start_utc=starts, duration_minutes=20, host_name="Dr Rivera",
            time_zone="Europe/Berlin", capacity=2, location="Room 2.14",
        )  # fmt: skip
        hours.book(course, slot.id, "ana")
        hours.book(course, slot.id, "ben")
        hours.cancel_booking(course, slot.id, "ben", by_host=True)
        delivery.queue.schedule(delivery.planner(datetime.now(UTC)))  # the loop's tick: no revival
        report = delivery.queue.deliver_once()
    assert report.delivered >= 1
    mails = [m for m in _mails(recorder) if "Office hours" in str(m["Subject"])]
    assert {m["To"].addresses[0].addr_spec for m in mails} == {"ana@example.org"}
    text = mails[0].get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert "hosted by Dr Rivera" in text
    assert "Where: Room 2.14" in text
    assert "(Asia/Kathmandu)" in text
    (event,) = _ics(mails[0]).walk("VEVENT")
    assert event.decoded("DTSTART").astimezone(UTC) == starts
    assert str(event["LOCATION"]) == "Room 2.14"
