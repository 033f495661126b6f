"""Suspicion 14: the course calendar feed outlives the instructor who took its link.

The course feed (every session with its join links, the path's deadlines) opens with a secret
link an instructor takes on the Upcoming page. Before the fix the token did not record who took
it, so once that instructor left the course (inactive on the roster) or lost the instructor
role, the link kept opening the course's calendar for as long as anyone held the URL. Both tests
through the app failed on the code before the fix; the refusal is the same 404 an unknown token
gets, so the answer tells nothing about why.
"""

from __future__ import annotations

import json
import re

from alembic import command
from alembic.config import Config
from sqlalchemy import select, update

from blendkit.calendar import CalendarFeeds
from blendkit.courses import CourseService, Enrolment
from blendkit.store import Store
from blendkit.store._migrate import _MIGRATIONS
from blendkit.store._tables_calendar import calendar_feed_tokens
from blendkit.store._tables_courses import course_enrolments
from tests.app import conftest as app
from tests.app.conftest import INSTRUCTOR, Tool
from tests.courses.test_course_service import _course
from tests.courses.test_import_ended import clock, service

__all__ = ["clock", "service"]

tool = app.tool  # the example tool launched on a real SQLite store (a fixture)


def _set(store: Store, sub: str, **values: object) -> None:
    """What the roster sync writes for ``sub`` (``active``, ``roles`` as JSON)."""
    with store.transaction() as s:
        s.execute(update(course_enrolments).where(course_enrolments.c.sub == sub).values(values))


def _course_feed(tool: Tool, sub: str) -> str:
    teacher = tool.launch(sub, roles=(INSTRUCTOR,), name=sub.title())
    tool.get("/course", teacher)
    shown = tool.post("/course-calendar/link", teacher).get_data(as_text=True)
    token = re.search(r"/calendar/([A-Za-z0-9_-]+)\.ics", shown)
    assert token is not None
    return f"/calendar/{token.group(1)}.ics"


def _unknown(tool: Tool) -> tuple[int, bytes]:
    answer = tool.client.get("/calendar/" + "A" * 43 + ".ics")
    return answer.status_code, answer.get_data()


def test_the_course_feed_stops_opening_when_its_instructor_left_the_course(tool: Tool) -> None:
    feed = _course_feed(tool, "rivera")
    tool.get("/course", tool.launch("lee", roles=(INSTRUCTOR,), name="Lee"))  # still teaching
    assert tool.client.get(feed).status_code == 200
    _set(tool.store, "rivera", active=False, roster_status="absent")
    gone = tool.client.get(feed)
    assert (gone.status_code, gone.get_data()) == _unknown(tool)
    assert b"BEGIN:VCALENDAR" not in gone.get_data()
    _set(tool.store, "rivera", active=True, roster_status="Active")  # back on the roster
    assert tool.client.get(feed).status_code == 200


def test_the_course_feed_stops_opening_when_its_instructor_lost_the_role(tool: Tool) -> None:
    feed = _course_feed(tool, "rivera")
    assert tool.client.get(feed).status_code == 200
    _set(tool.store, "rivera", roles=json.dumps(["learner"]))
    gone = tool.client.get(feed)
    assert (gone.status_code, gone.get_data()) == _unknown(tool)
    _set(tool.store, "rivera", roles=json.dumps(["instructor"]))
    assert tool.client.get(feed).status_code == 200


def test_course_feed_tokens_without_an_issuer_are_revoked_by_the_migration(
    service: CourseService,
) -> None:
    course = _course(service)
    service.enrol(course, Enrolment(sub="rivera", name="Rivera", roles=("instructor",)))
    feeds = CalendarFeeds(service)
    learner = feeds.issue_token(course, "ana")
    teachers = feeds.issue_token(course, issued_by="rivera")
    assert feeds.render_token(teachers) is not None
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    with service.store.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "calendar_0002")  # tokens as they were kept before
        command.upgrade(config, "heads")
    with service.store.transaction() as s:
        issuers = dict(
            s.execute(select(calendar_feed_tokens.c.kind, calendar_feed_tokens.c.issued_by)).all()
        )
    assert issuers == {"learner": "ana", "course": None}
    assert feeds.render_token(teachers) is None  # nobody can say who took it: revoked
    assert feeds.render_token(learner) is not None  # a learner's link was always their own
    again = feeds.issue_token(course, issued_by="rivera")
    assert feeds.render_token(again) is not None
