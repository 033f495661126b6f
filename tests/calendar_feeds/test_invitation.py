"""The ``.ics`` attachment of a session e-mail: sent through a real SMTP server, it arrives and
parses, with the sitting's time in its zone and the learner's join link."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime

import icalendar

from blendkit.calendar import INVITATION_CONTENT_TYPE, session_invitation, session_uid
from blendkit.courses import CourseService, LiveSessionService
from blendkit.notify import Delivered, EmailNotifier, Message, Recipient
from blendkit.sessions import FakeMeetingProvider
from tests.courses.test_course_service import START, _course
from tests.courses.test_import_ended import clock, service
from tests.notify.smtp_kit import Recorder, smtp_server
from tests.notify.test_notify_email import settings

__all__ = ["clock", "service"]


def test_a_session_email_carries_a_calendar_that_parses(service: CourseService) -> None:
    course = _course(service)
    live = LiveSessionService(service, FakeMeetingProvider())
    record = live.schedule(
        course, title="Kick-off", start_utc=START, time_zone="Asia/Kathmandu", duration_minutes=45
    )
    link = "https://meet.example.org/j/123?pwd=personal"
    attachment = session_invitation(
        course, record, join_url=link, changed_at=datetime(2030, 3, 1, tzinfo=UTC), sequence=2
    )
    message = Message(
        recipient=Recipient(address="ada@example.org", name="Ada"),
        subject="Kick-off starts tomorrow",
        text=f"Join: {link}",
        attachments=(attachment,),
        key=f"ada:{record.id}:v1:24h",
    )
    recorder = Recorder()
    with smtp_server(recorder) as port:
        assert isinstance(EmailNotifier(settings(port)).send(message), Delivered)

    raw = recorder.envelopes[-1].original_content
    assert isinstance(raw, bytes)
    mail = email.message_from_bytes(raw, policy=email.policy.default)
    (part,) = list(mail.iter_attachments())  # type: ignore[attr-defined]
    assert part.get_content_type() == "text/calendar"
    assert part.get_param("method") == "PUBLISH"
    assert INVITATION_CONTENT_TYPE.startswith(part.get_content_type())
    calendar = icalendar.Calendar.from_ical(part.get_payload(decode=True))
    assert str(calendar["METHOD"]) == "PUBLISH"
    (event,) = calendar.walk("VEVENT")
    assert str(event["UID"]) == session_uid(course, record.id)
    assert event["DTSTART"].params["TZID"] == "Asia/Kathmandu"
    assert event["DTSTART"].dt.astimezone(UTC) == START
    assert event["DTSTART"].dt.strftime("%H:%M") == "21:45"  # 16:00 UTC is 21:45 in Kathmandu
    assert (event["DTEND"].dt - event["DTSTART"].dt).total_seconds() == 45 * 60
    assert str(event["URL"]) == link
    assert str(event["LOCATION"]) == link
    assert int(event["SEQUENCE"]) == 2
    (zone,) = calendar.walk("VTIMEZONE")
    assert str(zone["TZID"]) == "Asia/Kathmandu"
