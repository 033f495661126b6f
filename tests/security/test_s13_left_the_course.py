"""Suspicion 13: a learner who left the course keeps what only members should get.

When the LMS roster no longer lists a learner, the roster sync makes their enrolment inactive
(never deleted: their evidence stays). Before the fix, two things ignored that:

- their secret calendar feed link kept opening the course's calendar, personal join links and
  all, for as long as anyone held the URL;
- reminders queued for them were still rendered and sent to their address.

Both tests failed on the code before the fix.
"""

from __future__ import annotations

import re

from sqlalchemy import update

from blendkit.notify import NotificationQueue, RecipientResolver
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
