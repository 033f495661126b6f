"""Imports that follow a live session's end: a sweep of this provider's ended sessions (cron)
and the provider's verified webhook events."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from blendkit.courses._models import LiveSessionRecord, aware
from blendkit.courses._session_attendance import SessionAttendance
from blendkit.courses._session_recordings import SessionRecordings
from blendkit.errors import BlendkitError, CourseInputInvalid
from blendkit.sessions import AttendanceReport, MeetingEnded, RecordingCompleted, SessionEvent
from blendkit.store._tables_courses import course_sessions

__all__ = ["EndedSessions"]

_LONGEST_SITTING = timedelta(days=1)


class EndedSessions(SessionAttendance, SessionRecordings):
    """Sweeps and webhook events of :class:`~blendkit.courses.LiveSessionService`: attendance and
    recordings imported once a session has ended."""

    def import_ended(
        self, *, now: datetime, grace_minutes: int = 15
    ) -> list[tuple[LiveSessionRecord, AttendanceReport | BlendkitError]]:
        """Import attendance and recordings of every session of this provider that ended at
        least ``grace_minutes`` ago and has no attendance yet.

        For providers that send no "meeting ended" event (Teams) and as a safety net for missed
        webhooks; run it from cron (``blendkit sessions import-ended``). A failure for one
        session is returned with it and the others still run. Transcripts are fetched after it
        by :meth:`import_transcripts_due` (the command runs both), so each is tried once a run.
        """
        _require_aware(now, "import_ended")
        with self.store.transaction() as s:
            rows = s.execute(
                select(course_sessions.c.id, course_sessions.c.course_id).where(
                    course_sessions.c.provider == self.provider.name,
                    course_sessions.c.attendance_imported.is_(False),
                    course_sessions.c.cancelled.is_(False),
                )
            ).all()
        outcomes: list[tuple[LiveSessionRecord, AttendanceReport | BlendkitError]] = []
        for row in rows:
            course = self.courses.course_by_id(row.course_id)
            record = self.session(course, row.id)
            if record.end_utc + timedelta(minutes=grace_minutes) > now:
                continue
            try:
                report = self.import_attendance(course, record.id)
                self.import_recordings(course, record.id, transcripts=False)
            except BlendkitError as exc:  # provider down, meeting gone: report, keep going
                outcomes.append((record, exc))
                continue
            outcomes.append((record, report))
        return outcomes

    def meetings_with_sittings_after(self, since: datetime) -> list[str]:
        """Provider meeting ids of this provider's sessions with a sitting (not cancelled) that
        ends after ``since``, each once, in start order: the sessions whose event subscriptions
        a :class:`~blendkit.sessions.SessionSubscriber` keeps (``blendkit sessions
        import-ended`` passes them)."""
        _require_aware(since, "meetings_with_sittings_after")
        # No sitting is longer than a day (SessionSpec), so those starting earlier have ended.
        earliest = (since - _LONGEST_SITTING).astimezone(UTC)
        query = select(
            course_sessions.c.provider_meeting_id,
            course_sessions.c.start_utc,
            course_sessions.c.duration_minutes,
        ).where(
            course_sessions.c.provider == self.provider.name,
            course_sessions.c.cancelled.is_(False),
            course_sessions.c.start_utc > earliest,
        )
        with self.store.transaction() as s:
            rows = s.execute(query.order_by(course_sessions.c.start_utc)).all()
        ending_later = (
            row.provider_meeting_id
            for row in rows
            if aware(row.start_utc) + timedelta(minutes=row.duration_minutes) > since
        )
        return list(dict.fromkeys(ending_later))

    def handle_events(self, events: Iterable[SessionEvent]) -> int:
        """Act on verified webhook events: import attendance when a meeting ended, keep
        recordings when they are ready. Returns how many events matched a known session."""
        handled = 0
        for event in events:
            if not isinstance(event, MeetingEnded | RecordingCompleted) or not event.meeting_id:
                continue
            with self.store.transaction() as s:
                rows = s.execute(
                    select(
                        course_sessions.c.id,
                        course_sessions.c.course_id,
                        course_sessions.c.start_utc,
                        course_sessions.c.occurrence_id,
                    ).where(
                        course_sessions.c.provider == event.provider,
                        course_sessions.c.provider_meeting_id == event.meeting_id,
                        course_sessions.c.cancelled.is_(False),
                    )
                ).all()
            for row in _sittings_of(rows, event):
                course = self.courses.course_by_id(row.course_id)
                if isinstance(event, MeetingEnded):
                    self.import_attendance(course, row.id)
                else:
                    self.import_recordings(course, row.id, event.recordings)
                handled += 1
        return handled


def _require_aware(moment: datetime, method: str) -> None:
    if moment.tzinfo is None:
        raise CourseInputInvalid(
            f"{method} needs a timezone-aware time (UTC)",
            code="courses.naive_datetime",
            http_status=500,
        )


def _sittings_of(rows: Sequence[Any], event: SessionEvent) -> list[Any]:
    """The stored sittings an event of a meeting is about.

    One-off sessions: every row. A series' meeting has a row per sitting: the one whose
    occurrence id the event names, else the one held nearest before the event (attendance of
    the others is imported when they end).
    """
    if len(rows) <= 1:
        return list(rows)
    named = [r for r in rows if event.occurrence_id and r.occurrence_id == event.occurrence_id]
    if named:
        return named
    at = event.occurred_at
    if at is None:
        return []
    held = [r for r in rows if aware(r.start_utc) <= at]
    return [max(held, key=lambda r: aware(r.start_utc))] if held else []
