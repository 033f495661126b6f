"""Attending a booked office-hours slot: the host marks learners present, or the provider's
attendance report says who was there; either way it becomes evidence on the item."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, select, update

from blendkit.courses._booking_models import BookingSlot, SlotBooking
from blendkit.courses._models import Course, RecordOutcome
from blendkit.errors import CoursesError
from blendkit.progression import AttendanceRecorded, CompletionRecorded, EvidencePiece
from blendkit.sessions import (
    AttendanceReport,
    Learner,
    Occurrence,
    ParticipantRecord,
    build_attendance_report,
)
from blendkit.sessions._answers import provider_answers
from blendkit.store._tables_booking import course_booking_slots, course_bookings
from blendkit.xapi import Agent, Statement

if TYPE_CHECKING:
    from collections.abc import Callable

    from blendkit.courses._service import CourseService
    from blendkit.sessions import MeetingProvider
    from blendkit.store import Store

__all__ = ["OfficeHoursAttendance"]

_BOOKING = course_bookings.c


class OfficeHoursAttendance:
    """Attendance operations of :class:`~blendkit.courses.OfficeHoursService`."""

    courses: CourseService
    store: Store
    provider: MeetingProvider | None
    slot: Callable[[Course, str], BookingSlot]

    def bookings_of_slot(self, course: Course, slot_id: str) -> list[SlotBooking]:
        """Who booked the slot, first booked first, for its host."""
        found = self.slot(course, slot_id)
        names = {p.sub: p.display_name for p in self.courses.enrolments(course)}
        with self.store.transaction() as s:
            rows = s.execute(
                select(course_bookings)
                .where(_BOOKING.slot_id == found.id, _BOOKING.course_id == course.id)
                .order_by(_BOOKING.booked_at, _BOOKING.id)
            ).all()
        return [
            SlotBooking(
                slot_id=r.slot_id,
                sub=r.sub,
                name=names.get(r.sub, r.sub),
                booked_at=r.booked_at,
                attended_at=r.attended_at,
                attended_by=r.attended_by,
            )
            for r in rows
        ]

    def mark_present(
        self, course: Course, slot_id: str, sub: str, *, by: str
    ) -> RecordOutcome | None:
        """The host says ``sub`` attended the slot they booked: the office-hours item gets
        the attendance (and its completion, when the item has no criterion of its own).

        Marking again returns None and records nothing; refused before the slot starts
        (``courses.slot_not_started``) and for a learner who did not book it
        (``courses.not_booked``).
        """
        found = self.slot(course, slot_id)
        now = self.courses.clock()
        if now < found.start_utc:
            raise CoursesError(
                "this slot has not started yet; mark who came once it has begun",
                code="courses.slot_not_started",
                http_status=409,
            )
        with self.store.write_transaction() as s:
            return self._attended(
                s, course, found, sub, by=by, minutes=found.duration_minutes, percent=100.0
            )

    def import_slot_attendance(
        self,
        course: Course,
        slot_id: str,
        records: Sequence[ParticipantRecord] | None = None,
    ) -> AttendanceReport:
        """Match the slot meeting's participants (fetched from the provider when not given) to
        the learners who booked it, and record the attendance of each one who was there."""
        found = self.slot(course, slot_id)
        if records is None:
            if found.provider_meeting_id is None or self.provider is None:
                raise CoursesError(
                    "this slot has no meeting at a provider, so there is no attendance report "
                    "to import; mark who came on the slot's page instead",
                    code="courses.slot_without_meeting",
                    http_status=409,
                )
            with provider_answers(self.provider):
                records = self.provider.fetch_attendance(found.provider_meeting_id, None)
        booked = {b.sub for b in self.bookings_of_slot(course, slot_id)}
        roster = [
            Learner(id=p.sub, name=p.name, email=p.email)
            for p in self.courses.enrolments(course)
            if p.sub in booked
        ]
        occurrence = Occurrence(index=0, start_utc=found.start_utc, end_utc=found.end_utc)
        report = build_attendance_report(
            records, roster, occurrence, meeting_id=found.provider_meeting_id or found.id
        )
        with self.store.write_transaction() as s:
            for row in report.attendance:
                if row.minutes_present > 0:
                    self._attended(
                        s, course, found, row.learner_id, by=found.provider or "provider",
                        minutes=row.minutes_present, percent=row.percent_present,
                    )  # fmt: skip
            s.execute(
                update(course_booking_slots)
                .where(course_booking_slots.c.id == found.id)
                .values(attendance_imported=True)
            )
        return report

    def _attended(
        self,
        s: Connection,
        course: Course,
        slot: BookingSlot,
        sub: str,
        *,
        by: str,
        minutes: float,
        percent: float,
    ) -> RecordOutcome | None:
        now = self.courses.clock()
        marked = s.execute(
            update(course_bookings)
            .where(
                _BOOKING.slot_id == slot.id,
                _BOOKING.course_id == course.id,
                _BOOKING.sub == sub,
                _BOOKING.attended_at.is_(None),
            )
            .values(attended_at=now, attended_by=by)
            .returning(_BOOKING.id)
        ).first()
        if marked is None:
            known = s.execute(
                select(_BOOKING.id).where(_BOOKING.slot_id == slot.id, _BOOKING.sub == sub)
            ).first()
            if known is None:
                raise CoursesError(
                    f"{sub!r} did not book this slot, so their attendance cannot count for it",
                    code="courses.not_booked",
                    http_status=404,
                )
            return None  # already counted
        at = min(slot.end_utc, now)
        pieces: list[EvidencePiece] = [
            AttendanceRecorded(item=slot.item, minutes=minutes, percent=percent, at=at)
        ]
        if course.path.item(slot.item).complete_when is None:
            # No criterion of its own: attending the booked slot is what completes the item.
            pieces.append(CompletionRecorded(item=slot.item, state="complete", at=at))
        return self.courses.record(
            course,
            sub,
            pieces,
            details={"slot": slot.id, "marked_by": by},
            statements=self._attended_statement(slot, minutes * 60, at),
            session=s,
            when_locked="hold",
        )

    def _attended_statement(self, slot: BookingSlot, seconds: float, at: datetime) -> Any:
        def describe(actor: Agent, key: str) -> list[Statement]:
            return [
                self.courses.statements.live_session(
                    "terminated",
                    actor,
                    live_session_id=slot.id,
                    course_id=key,
                    occurrence="0",
                    attended=timedelta(seconds=seconds),
                    planned_duration=timedelta(minutes=slot.duration_minutes),
                    name=slot.title,
                    at=at,
                )
            ]

        return describe
