"""Weekly series of live sessions: scheduled once, each sitting moved or cancelled on its own.

A series is defined in its own time zone (the course's zone the instructor picked): every sitting
starts at the same local wall-clock time, so its UTC start shifts when daylight saving changes.
Each sitting is a row of ``course_sessions`` (attendance, join links and recordings stay per
sitting) that remembers its original start (iCalendar's RECURRENCE-ID), where it starts now,
whether it was cancelled and the provider's handle for it.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import insert, select, update

from blendkit.courses._models import Course, LiveSessionRecord, aware
from blendkit.errors import CourseInputInvalid, CoursesError, NotFound
from blendkit.sessions import (
    Occurrence,
    Recurrence,
    SessionSpec,
    SlotProposal,
    expand_occurrences,
    occurrence_ref,
)
from blendkit.sessions._answers import provider_answers
from blendkit.store._tables_courses import course_series, course_sessions

if TYPE_CHECKING:
    from collections.abc import Callable

    from blendkit.courses._service import CourseService
    from blendkit.sessions import MeetingProvider
    from blendkit.store import Store

__all__ = ["SeriesRecord", "SessionSeries", "session_record", "slot_first_start"]


class SeriesRecord(BaseModel):
    """A weekly series as scheduled, with every sitting (cancelled ones included), in order."""

    model_config = ConfigDict(frozen=True)

    id: str
    item: str | None
    title: str
    time_zone: str
    duration_minutes: int
    recurrence: Recurrence
    provider: str
    provider_meeting_id: str
    cancelled: bool
    occurrences: tuple[LiveSessionRecord, ...]

    def upcoming(self, now: datetime) -> tuple[LiveSessionRecord, ...]:
        """Sittings not cancelled that have not ended at ``now``, earliest first."""
        return tuple(
            o
            for o in sorted(self.occurrences, key=lambda o: o.start_utc)
            if not o.cancelled and o.end_utc > now
        )

    def next_occurrence(self, now: datetime) -> LiveSessionRecord | None:
        """The next sitting not cancelled and not over at ``now`` (None when none is left)."""
        left = self.upcoming(now)
        return left[0] if left else None


def slot_first_start(slot: SlotProposal, on_or_after: date) -> datetime:
    """The first start of a planner slot (a UTC weekday and time) on or after a date, in UTC."""
    days = (slot.weekday - on_or_after.weekday()) % 7
    return datetime.combine(on_or_after + timedelta(days=days), slot.utc_start, tzinfo=UTC)


def _invalid(message: str, code: str) -> CourseInputInvalid:
    return CourseInputInvalid(message, code=code, http_status=400)


def _matched(spec: SessionSpec, listed: tuple[Occurrence, ...]) -> list[Occurrence]:
    """Blendkit's own expansion (the authority on local times), with the provider's ids."""
    ids = {o.start_utc: o.occurrence_id for o in listed if o.occurrence_id}
    return [
        o.model_copy(update={"occurrence_id": ids.get(o.start_utc)})
        for o in expand_occurrences(spec)
    ]


class SessionSeries:
    """Series operations of :class:`~blendkit.courses.LiveSessionService`."""

    courses: CourseService
    store: Store
    provider: MeetingProvider
    session: Callable[[Course, str], LiveSessionRecord]
    _check_item: Callable[[Course, str | None], None]
    _announce_move: Callable[[Course, LiveSessionRecord, LiveSessionRecord], None]

    def schedule_series(
        self,
        course: Course,
        *,
        title: str,
        start_utc: datetime,
        time_zone: str,
        duration_minutes: int,
        count: int | None = None,
        until: date | None = None,
        weekdays: tuple[int, ...] = (),
        item: str | None = None,
        agenda: str = "",
    ) -> SeriesRecord:
        """Create a weekly series at the provider and keep each sitting.

        ``start_utc`` is the first sitting; later ones keep its local time in ``time_zone``.
        Exactly one of ``count`` or ``until`` (a local date, inclusive) ends the series;
        ``weekdays`` (0 = Monday) defaults to the first sitting's local weekday.
        """
        self._check_item(course, item)
        try:
            rule = Recurrence(frequency="weekly", weekdays=weekdays, count=count, until=until)
            spec = SessionSpec(
                title=title,
                start_utc=start_utc,
                time_zone=time_zone,
                duration_minutes=duration_minutes,
                recurrence=rule,
                agenda=agenda,
            )
        except ValueError as exc:
            raise _invalid(
                f"the series is not valid: {exc}. Give a timezone-aware first start, a length "
                "of 1 to 1440 minutes, and exactly one of a count or an end date",
                "courses.series_invalid",
            ) from None
        sittings = expand_occurrences(spec)
        if not sittings:
            raise _invalid(
                "the series has no sitting: its end date is before the first start",
                "courses.series_invalid",
            )
        with provider_answers(self.provider):
            meeting = self.provider.create_session(spec)
        series_id = uuid.uuid4().hex[:16]
        now = self.courses.clock()
        with self.store.transaction() as s:
            s.execute(
                insert(course_series).values(
                    id=series_id, course_id=course.id, item=item, title=title,
                    time_zone=spec.time_zone, duration_minutes=duration_minutes,
                    recurrence=rule.model_dump_json(), provider=meeting.provider,
                    provider_meeting_id=meeting.meeting_id, cancelled=False, created_at=now,
                )
            )  # fmt: skip
            for sitting in _matched(spec, meeting.occurrences):
                s.execute(
                    insert(course_sessions).values(
                        id=uuid.uuid4().hex[:16], course_id=course.id, item=item, title=title,
                        start_utc=sitting.start_utc, time_zone=spec.time_zone,
                        duration_minutes=duration_minutes, provider=meeting.provider,
                        provider_meeting_id=meeting.meeting_id,
                        occurrence_id=sitting.occurrence_id, join_url=meeting.join_url,
                        attendance_imported=False, created_at=now, series_id=series_id,
                        original_start_utc=sitting.start_utc, cancelled=False,
                        provider_ref=occurrence_ref(sitting),
                    )
                )  # fmt: skip
        return self.series(course, series_id)

    def schedule_series_from_slot(
        self,
        course: Course,
        slot: SlotProposal,
        *,
        on_or_after: date,
        title: str,
        time_zone: str,
        count: int | None = None,
        until: date | None = None,
        item: str | None = None,
        agenda: str = "",
    ) -> SeriesRecord:
        """Schedule a weekly series at a slot the planner suggested, from ``on_or_after`` on.

        The slot's first UTC start fixes the local wall-clock time in ``time_zone`` that every
        later sitting keeps.
        """
        return self.schedule_series(
            course,
            title=title,
            start_utc=slot_first_start(slot, on_or_after),
            time_zone=time_zone,
            duration_minutes=slot.duration_minutes,
            count=count,
            until=until,
            item=item,
            agenda=agenda,
        )

    def series(self, course: Course, series_id: str) -> SeriesRecord:
        """One series of the course with all its sittings (``NotFound`` otherwise)."""
        with self.store.transaction() as s:
            row = s.execute(
                select(course_series).where(
                    course_series.c.id == series_id, course_series.c.course_id == course.id
                )
            ).first()
            sittings = s.execute(
                select(course_sessions)
                .where(course_sessions.c.series_id == series_id)
                .order_by(course_sessions.c.original_start_utc)
            ).all()
        if row is None:
            raise NotFound(f"session series {series_id!r} is not part of {course.title!r}")
        return _series(row, tuple(session_record(r) for r in sittings))

    def all_series(self, course: Course) -> list[SeriesRecord]:
        """Every series of the course, in the order they were scheduled."""
        with self.store.transaction() as s:
            ids = list(
                s.execute(
                    select(course_series.c.id)
                    .where(course_series.c.course_id == course.id)
                    .order_by(course_series.c.created_at, course_series.c.id)
                ).scalars()
            )
        return [self.series(course, i) for i in ids]

    def move_occurrence(
        self,
        course: Course,
        session_id: str,
        *,
        start_utc: datetime,
        duration_minutes: int | None = None,
    ) -> LiveSessionRecord:
        """Move one sitting of a series to a new start (and length); the others stay.

        Its original start is kept (RECURRENCE-ID), so calendars and attendance still know
        which sitting it is. A cancelled sitting, or one whose attendance is already imported,
        cannot move.
        """
        record = self._sitting(course, session_id)
        length = duration_minutes if duration_minutes is not None else record.duration_minutes
        if start_utc.tzinfo is None or start_utc.utcoffset() is None:
            raise _invalid(
                "the new start must carry a time zone (e.g. 2026-03-10T16:00:00Z)",
                "courses.series_invalid",
            )
        if not 1 <= length <= 24 * 60:
            raise _invalid("a sitting lasts 1 to 1440 minutes", "courses.series_invalid")
        if record.attendance_imported:
            raise _invalid(
                "this sitting has been held (its attendance is imported) and cannot move",
                "courses.session_held",
            )
        start = start_utc.astimezone(UTC)
        ref = self._provider_ref(record)
        with provider_answers(self.provider):
            new_ref = self.provider.move_occurrence(record.provider_meeting_id, ref, start, length)
        with self.store.transaction() as s:
            s.execute(
                update(course_sessions)
                .where(course_sessions.c.id == record.id)
                .values(start_utc=start, duration_minutes=length, provider_ref=new_ref)
            )
        moved = self.session(course, session_id)
        self._announce_move(course, record, moved)
        return moved

    def cancel_occurrence(self, course: Course, session_id: str) -> LiveSessionRecord:
        """Cancel one sitting of a series (again: nothing happens); the others stay."""
        record = self.session(course, session_id)
        if record.series_id is None:
            raise _invalid(
                "this session is not part of a series; cancel it as a whole",
                "courses.not_a_series",
            )
        if record.cancelled:
            return record
        if record.attendance_imported:
            raise _invalid(
                "this sitting has been held (its attendance is imported) and cannot be cancelled",
                "courses.session_held",
            )
        self.provider.cancel_session(record.provider_meeting_id, self._provider_ref(record))
        with self.store.transaction() as s:
            s.execute(
                update(course_sessions)
                .where(course_sessions.c.id == record.id)
                .values(cancelled=True)
            )
        return self.session(course, session_id)

    def cancel_series(self, course: Course, series_id: str) -> SeriesRecord:
        """Cancel the whole series at the provider; sittings already held keep their records."""
        found = self.series(course, series_id)
        if found.cancelled:
            return found
        self.provider.cancel_session(found.provider_meeting_id)
        with self.store.transaction() as s:
            s.execute(
                update(course_series).where(course_series.c.id == series_id).values(cancelled=True)
            )
            s.execute(
                update(course_sessions)
                .where(
                    course_sessions.c.series_id == series_id,
                    course_sessions.c.attendance_imported.is_(False),
                )
                .values(cancelled=True)
            )
        return self.series(course, series_id)

    # --- internals -------------------------------------------------------------------------

    def _sitting(self, course: Course, session_id: str) -> LiveSessionRecord:
        record = self.session(course, session_id)
        if record.series_id is None:
            raise _invalid(
                "this session is not part of a series; reschedule it as a whole",
                "courses.not_a_series",
            )
        if record.cancelled:
            raise CoursesError(
                "this sitting was cancelled; schedule a new session instead of moving it",
                code="courses.session_cancelled",
                http_status=409,
            )
        return record

    def _provider_ref(self, record: LiveSessionRecord) -> str:
        with self.store.transaction() as s:
            ref = s.execute(
                select(course_sessions.c.provider_ref).where(course_sessions.c.id == record.id)
            ).scalar_one_or_none()
        if ref:
            return str(ref)
        original = record.original_start_utc or record.start_utc
        return record.occurrence_id or original.isoformat()


def session_record(row: Any) -> LiveSessionRecord:
    """A ``course_sessions`` row as a :class:`LiveSessionRecord`."""
    original = row.original_start_utc
    return LiveSessionRecord(
        id=row.id,
        item=row.item,
        title=row.title,
        start_utc=aware(row.start_utc),
        time_zone=row.time_zone,
        duration_minutes=row.duration_minutes,
        provider=row.provider,
        provider_meeting_id=row.provider_meeting_id,
        occurrence_id=row.occurrence_id,
        join_url=row.join_url,
        attendance_imported=row.attendance_imported,
        series_id=row.series_id,
        original_start_utc=aware(original) if original is not None else None,
        cancelled=row.cancelled,
    )


def _series(row: Any, sittings: tuple[LiveSessionRecord, ...]) -> SeriesRecord:
    return SeriesRecord(
        id=row.id,
        item=row.item,
        title=row.title,
        time_zone=row.time_zone,
        duration_minutes=row.duration_minutes,
        recurrence=Recurrence.model_validate_json(row.recurrence),
        provider=row.provider,
        provider_meeting_id=row.provider_meeting_id,
        cancelled=row.cancelled,
        occurrences=sittings,
    )
