"""Live sessions of a course: scheduling them at a meeting provider and personal join links;
attendance, recordings, series and moves come from the mixins the service is built of."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import bindparam, insert, select

from blendkit.courses._ended_sessions import EndedSessions
from blendkit.courses._models import Course, LiveSessionRecord
from blendkit.courses._series import SessionSeries, session_record
from blendkit.courses._service import CourseService
from blendkit.courses._session_moves import SessionMoves
from blendkit.courses._timeline import item_locked
from blendkit.errors import CourseInputInvalid, CoursesError, NotFound
from blendkit.notify._intent import NotificationSink
from blendkit.sessions import JoinLink, Learner, MeetingProvider, SessionSpec
from blendkit.sessions._answers import provider_answers
from blendkit.store._tables_courses import course_join_links, course_sessions

__all__ = ["LiveSessionService"]

# Built once: the course page runs it on every visit.
_COURSE_SESSIONS = (
    select(course_sessions)
    .where(
        course_sessions.c.course_id == bindparam("course_id"),
        course_sessions.c.cancelled.is_(False),
    )
    .order_by(course_sessions.c.start_utc)
)


class LiveSessionService(SessionSeries, SessionMoves, EndedSessions):
    """Schedules sessions (one sitting or a weekly series) at a provider and turns what
    happened in them into evidence.

    With ``notifications`` (the notification queue), moving or rescheduling a sitting cancels
    its pending reminders, schedules the new ones and a "moved" notice per learner.
    """

    def __init__(
        self,
        courses: CourseService,
        provider: MeetingProvider,
        *,
        notifications: NotificationSink | None = None,
    ) -> None:
        self.courses = courses
        self.store = courses.store
        self.provider = provider
        self.notifications = notifications
        # Called with the course after each attendance import (attendance grades queue here).
        self.after_attendance_import: list[Callable[[Course], object]] = []

    # --- scheduling ------------------------------------------------------------------------

    def schedule(
        self,
        course: Course,
        *,
        title: str,
        start_utc: datetime,
        time_zone: str,
        duration_minutes: int,
        item: str | None = None,
        agenda: str = "",
    ) -> LiveSessionRecord:
        """Create the meeting at the provider and keep it (linked to path item ``item``)."""
        self._check_item(course, item)
        spec = SessionSpec(
            title=title,
            start_utc=start_utc,
            time_zone=time_zone,
            duration_minutes=duration_minutes,
            agenda=agenda,
        )
        with provider_answers(self.provider):
            meeting = self.provider.create_session(spec)
        first = meeting.occurrences[0] if meeting.occurrences else None
        session_id = uuid.uuid4().hex[:16]
        with self.store.transaction() as s:
            s.execute(
                insert(course_sessions).values(
                    id=session_id, course_id=course.id, item=item, title=title,
                    start_utc=spec.start_utc, time_zone=spec.time_zone,
                    duration_minutes=duration_minutes, provider=meeting.provider,
                    provider_meeting_id=meeting.meeting_id,
                    occurrence_id=first.occurrence_id if first else None,
                    join_url=meeting.join_url, attendance_imported=False,
                    created_at=self.courses.clock(),
                )
            )  # fmt: skip
        return self.session(course, session_id)

    def _check_item(self, course: Course, item: str | None) -> None:
        if item is not None:
            try:
                kind = course.path.item(item).kind
            except KeyError:
                raise CourseInputInvalid(
                    f"the course path has no item {item!r} to link the session to",
                    code="courses.unknown_item",
                    http_status=400,
                ) from None
            if kind not in ("live_session", "office_hours"):
                raise CourseInputInvalid(
                    f"item {item!r} is a {kind}, not a live session or office hours",
                    code="courses.not_a_session_item",
                    http_status=400,
                )

    def sessions(self, course: Course) -> list[LiveSessionRecord]:
        """The course's sessions (each sitting of a series, cancelled ones left out), earliest
        first."""
        with self.store.transaction() as s:
            rows = s.execute(_COURSE_SESSIONS, {"course_id": course.id}).all()
        return [session_record(r) for r in rows]

    def session(self, course: Course, session_id: str) -> LiveSessionRecord:
        """One session of the course (``NotFound`` otherwise)."""
        with self.store.transaction() as s:
            row = s.execute(
                select(course_sessions).where(
                    course_sessions.c.id == session_id, course_sessions.c.course_id == course.id
                )
            ).first()
        if row is None:
            raise NotFound(f"live session {session_id!r} is not part of {course.title!r}")
        return session_record(row)

    # --- join links ------------------------------------------------------------------------

    def join_link(self, course: Course, session_id: str, sub: str) -> str:
        """The learner's personal join URL (registered at the provider once, then kept).

        Refused (``courses.item_locked``) while the session's own path item is locked for the
        learner: the gate decides who may join, whatever page the request came from.
        """
        record = self.session(course, session_id)
        if record.cancelled:
            raise CoursesError(
                "this sitting was cancelled, so it has no join link; join the next one",
                code="courses.session_cancelled",
                http_status=409,
            )
        if (
            record.item is not None
            and self.courses.learner_path(course, sub).state(record.item) == "locked"
        ):
            raise item_locked(record.item)
        with self.store.transaction() as s:
            url = s.execute(
                select(course_join_links.c.url).where(
                    course_join_links.c.session_id == session_id, course_join_links.c.sub == sub
                )
            ).scalar_one_or_none()
        if url:
            return str(url)
        person = self.courses.enrolment(course, sub)
        with provider_answers(self.provider):
            link = self.provider.join_link(
                record.provider_meeting_id,
                Learner(id=sub, name=person.name, email=person.email),
            )
        insert_new = self.store.insert_ignoring_conflicts(course_join_links, "session_id", "sub")
        with self.store.transaction() as s:
            stored = s.execute(
                insert_new.values(
                    session_id=session_id, sub=sub, url=link.url,
                    registrant_id=link.registrant_id, created_at=self.courses.clock(),
                ).returning(course_join_links.c.id)
            ).first()  # fmt: skip
        if stored is None:  # another request registered the same learner first: use theirs
            return self.join_link(course, session_id, sub)
        return link.url

    def _join_links(self, record: LiveSessionRecord) -> list[JoinLink]:
        with self.store.transaction() as s:
            rows = s.execute(
                select(course_join_links).where(course_join_links.c.session_id == record.id)
            ).all()
        # Rows the store already holds: built without validating again, so a link kept before
        # a provider's links were checked still matches its attendance.
        return [
            JoinLink.model_construct(
                meeting_id=record.provider_meeting_id,
                learner_id=r.sub,
                url=r.url,
                registrant_id=r.registrant_id,
            )
            for r in rows
        ]
