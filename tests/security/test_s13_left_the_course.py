"""Suspicion 13: a learner who left the course keeps what only members should get.

When the LMS roster no longer lists a learner, the roster sync makes their enrolment inactive
(never deleted: their evidence stays). Before the fix, two things ignored that:

- their secret calendar feed link kept opening the course's calendar, personal join links and
  all, for as long as anyone held the URL;
- reminders queued for them were still rendered and sent to their address.

Both tests failed on the code before the fix. So did the last one: a line break in a learner's
LMS name (or a platform that sends one) dropped every reminder of theirs as "the address cannot
be used", instead of sending it with the name on one line.
"""

from __future__ import annotations

import re

from sqlalchemy import update

from blendkit import Settings
from blendkit.notify import EmailNotifier, NotificationQueue, RecipientResolver
from blendkit.store import Store
from blendkit.store._tables_courses import course_enrolments
from tests.app import conftest as app
from tests.app.conftest import Tool
from tests.notify.queue_kit import T0, FakeClock, RecordingNotifier, enrol, make_course
from tests.notify.queue_kit import session_intent as intent

tool = app.tool  # the example tool launched on a real SQLite store (a fixture)


def _leave(store: Store, sub: str, *, back: bool = False) -> None:
    """What the roster sync does to a member the LMS no longer lists (``back``: lists again)."""
    with store.transaction() as s:
        s.execute(
            update(course_enrolments)
            .where(course_enrolments.c.sub == sub)
            .values(active=back, roster_status="Active" if back else "absent")
        )


def test_a_feed_link_stops_opening_when_its_learner_left_the_course(tool: Tool) -> None:
    ana = tool.launch("ana")
    tool.get("/course", ana)
    shown = tool.post("/my-calendar/link", ana).get_data(as_text=True)
    token = re.search(r"/calendar/([A-Za-z0-9_-]+)\.ics", shown)
    assert token is not None
    feed = f"/calendar/{token.group(1)}.ics"
    assert tool.client.get(feed).status_code == 200
    _leave(tool.store, "ana")
    gone = tool.client.get(feed)
    assert gone.status_code == 404
    assert b"BEGIN:VCALENDAR" not in gone.get_data()
    # Back on the roster, the same link opens again: nothing was revoked.
    _leave(tool.store, "ana", back=True)
    assert tool.client.get(feed).status_code == 200


def test_no_reminder_reaches_a_learner_who_left_the_course(store: Store) -> None:
    clock = FakeClock(T0)
    course = make_course(store)
    enrol(store, course, "ada", name="Ada Byron", time_zone="UTC")
    enrol(store, course, "bo", name="Bo", email="bo@example.org", time_zone="UTC")
    notifier = RecordingNotifier()
    box = NotificationQueue(
        store, RecipientResolver(store), {"email": notifier}, clock=clock, sleep=clock.sleep
    )
    box.schedule([intent(course, "ada"), intent(course, "bo")])
    _leave(store, "ada")
    box.deliver_once()
    assert [m.recipient.address for m in notifier.sent] == ["bo@example.org"]
    assert box.deliver_once().delivered == 0


def test_a_line_break_in_a_learners_name_injects_no_header_and_loses_no_reminder(
    store: Store,
) -> None:
    clock = FakeClock(T0)
    course = make_course(store)
    enrol(store, course, "ada", name="Ada\r\nBcc: boss@evil.example\r\n", time_zone="UTC")
    notifier = RecordingNotifier()
    box = NotificationQueue(
        store, RecipientResolver(store), {"email": notifier}, clock=clock, sleep=clock.sleep
    )
    box.schedule([intent(course, "ada")])
    assert box.deliver_once().delivered == 1
    [message] = notifier.sent
    assert message.recipient.address == "ada@example.org"
    assert message.recipient.name == "Ada Bcc: boss@evil.example"
    section = {"host": "smtp.example.org", "from_address": "courses@example.org"}
    mail = EmailNotifier(Settings(email=section)).build(message)
    assert mail.get_all("Bcc") is None
    assert "\n" not in str(mail["To"])
