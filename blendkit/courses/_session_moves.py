"""Rescheduling a one-off live session, and telling learners when any sitting moves."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import update

from blendkit.courses._models import Course, LiveSessionRecord
from blendkit.errors import CourseInputInvalid
from blendkit.sessions import SessionSpec
from blendkit.sessions._answers import provider_answers
from blendkit.store._tables_courses import course_sessions

if TYPE_CHECKING:
    from collections.abc import Callable

    from blendkit.courses._live import LiveSessionService
    from blendkit.courses._service import CourseService
    from blendkit.notify._intent import NotificationSink
    from blendkit.sessions import MeetingProvider
    from blendkit.store import Store

__all__ = ["SessionMoves"]


def _invalid(message: str, code: str) -> CourseInputInvalid:
    return CourseInputInvalid(message, code=code, http_status=400)


class SessionMoves:
    """Moves of :class:`~blendkit.courses.LiveSessionService` (sittings of a series move with
    ``move_occurrence``)."""

    courses: CourseService
    store: Store
    provider: MeetingProvider
    notifications: NotificationSink | None
    session: Callable[[Course, str], LiveSessionRecord]

    def reschedule(
        self,
        course: Course,
        session_id: str,
        *,
        start_utc: datetime,
        duration_minutes: int | None = None,
    ) -> LiveSessionRecord:
        """Move a one-off session to a new start (and length) at the provider and here."""
        record = self.session(course, session_id)
        if record.series_id is not None:
            raise _invalid(
                "this session is a sitting of a series; move that sitting instead",
                "courses.series_sitting",
            )
        if record.attendance_imported:
            raise _invalid(
                "this session has been held (its attendance is imported) and cannot move",
                "courses.session_held",
            )
        length = duration_minutes if duration_minutes is not None else record.duration_minutes
        try:
            spec = SessionSpec(
                title=record.title,
                start_utc=start_utc,
                time_zone=record.time_zone,
                duration_minutes=length,
            )
        except ValueError as exc:
            raise _invalid(
                f"the new time is not valid: {exc}. Give a timezone-aware start and a length "
                "of 1 to 1440 minutes",
                "courses.series_invalid",
            ) from None
        with provider_answers(self.provider):
            self.provider.update_session(record.provider_meeting_id, spec)
        with self.store.transaction() as s:
            s.execute(
                update(course_sessions)
                .where(course_sessions.c.id == record.id)
                .values(start_utc=spec.start_utc.astimezone(UTC), duration_minutes=length)
            )
        moved = self.session(course, session_id)
        self._announce_move(course, record, moved)
        return moved

    def _announce_move(
        self, course: Course, before: LiveSessionRecord, after: LiveSessionRecord
    ) -> None:
        """Reminders follow a sitting that moved (nothing without notifications)."""
        if self.notifications is None:
            return
        from blendkit.courses._reminder_hooks import announce_move

        live: LiveSessionService = self  # type: ignore[assignment]
        announce_move(
            self.notifications, live, course, before=before, after=after, now=self.courses.clock()
        )
