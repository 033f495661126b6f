"""Attendance of live sessions: participants merged (registrant id, then provider user id, then
e-mail; never names), stored per learner and recorded as evidence that unlocks what follows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, insert, select, update

from blendkit.courses._models import (
    AttendanceRow,
    Course,
    LiveSessionRecord,
    RecordOutcome,
    UnmatchedRow,
)
from blendkit.progression import AttendanceRecorded
from blendkit.sessions import (
    AttendanceReport,
    JoinLink,
    Learner,
    Occurrence,
    ParticipantRecord,
    build_attendance_report,
)
from blendkit.sessions._answers import provider_answers
from blendkit.store._tables_courses import course_attendance, course_sessions, course_unmatched
from blendkit.xapi import Agent, Statement

if TYPE_CHECKING:
    from collections.abc import Callable

    from blendkit.courses._service import CourseService
    from blendkit.sessions import MeetingProvider
    from blendkit.store import Store

__all__ = ["SessionAttendance"]


class SessionAttendance:
    """Attendance operations of :class:`~blendkit.courses.LiveSessionService`."""

    courses: CourseService
    store: Store
    provider: MeetingProvider
    after_attendance_import: list[Callable[[Course], object]]
    session: Callable[[Course, str], LiveSessionRecord]
    _join_links: Callable[[LiveSessionRecord], list[JoinLink]]

    def import_attendance(
        self,
        course: Course,
        session_id: str,
        records: Sequence[ParticipantRecord] | None = None,
    ) -> AttendanceReport:
        """Merge the session's participants (fetched from the provider when not given), store
        them per learner and record each learner's attendance as evidence."""
        record = self.session(course, session_id)
        if records is None:
            with provider_answers(self.provider):
                records = self.provider.fetch_attendance(
                    record.provider_meeting_id, _attendance_ref(record)
                )
        people = self.courses.enrolments(course)
        roster = [Learner(id=p.sub, name=p.name, email=p.email) for p in people]
        occurrence = Occurrence(
            index=0,
            start_utc=record.start_utc,
            end_utc=record.end_utc,
            occurrence_id=record.occurrence_id,
        )
        report = build_attendance_report(
            records,
            roster,
            occurrence,
            meeting_id=record.provider_meeting_id,
            join_links=self._join_links(record),
        )
        # Staff are on the roster so that a host is matched rather than reported as a stranger,
        # but attendance is learner evidence: no row, no evidence, no statement for them.
        staff = {p.sub for p in people if "instructor" in p.roles}
        report = report.model_copy(
            update={"attendance": tuple(a for a in report.attendance if a.learner_id not in staff)}
        )
        opened: list[tuple[str, RecordOutcome]] = []
        with self.store.transaction() as s:
            s.execute(delete(course_attendance).where(course_attendance.c.session_id == record.id))
            s.execute(delete(course_unmatched).where(course_unmatched.c.session_id == record.id))
            for row in report.attendance:
                s.execute(
                    insert(course_attendance).values(
                        session_id=record.id, sub=row.learner_id, minutes=row.minutes_present,
                        percent=row.percent_present, first_join=row.first_join,
                        last_leave=row.last_leave,
                        matched_by=row.matched_by.value if row.matched_by else None,
                    )
                )  # fmt: skip
            for person in report.unmatched:
                s.execute(
                    insert(course_unmatched).values(
                        session_id=record.id, display_name=person.display_name or "(no name)",
                        email=person.email, reason=person.reason.value,
                        minutes=person.minutes_present,
                    )
                )  # fmt: skip
            s.execute(
                update(course_sessions)
                .where(course_sessions.c.id == record.id)
                .values(attendance_imported=True)
            )
            if record.item is not None:
                for row in report.attendance:
                    if row.minutes_present <= 0:
                        continue
                    outcome = self.courses.record(
                        course,
                        row.learner_id,
                        AttendanceRecorded(
                            item=record.item,
                            minutes=row.minutes_present,
                            percent=row.percent_present,
                            at=row.last_leave or record.end_utc,
                        ),
                        statements=self._attended(record, row.minutes_present * 60),
                        session=s,
                        when_locked="hold",  # stored; never counts while the item was locked
                    )
                    if self.courses.notifications is not None and outcome.unlocked():
                        opened.append((row.learner_id, outcome))
        for sub, outcome in opened:  # committed: the queue may now be told
            self.courses.announce_unlocked(course, self.courses.enrolment(course, sub), outcome)
        for follow_up in self.after_attendance_import:
            follow_up(course)
        return report

    def _attended(self, record: LiveSessionRecord, seconds: float) -> Any:
        def describe(actor: Agent, key: str) -> list[Statement]:
            return [
                self.courses.statements.live_session(
                    "terminated",
                    actor,
                    live_session_id=record.id,
                    course_id=key,
                    occurrence=_attendance_ref(record) or "0",
                    attended=timedelta(seconds=seconds),
                    name=record.title,
                    at=record.end_utc,
                )
            ]

        return describe

    def attendance(self, course: Course) -> list[AttendanceRow]:
        """Every stored attendance figure of the course's sessions."""
        with self.store.transaction() as s:
            rows = s.execute(
                select(course_attendance)
                .join(course_sessions, course_sessions.c.id == course_attendance.c.session_id)
                .where(course_sessions.c.course_id == course.id)
            ).all()
        return [
            AttendanceRow(
                session_id=r.session_id,
                sub=r.sub,
                minutes=r.minutes,
                percent=r.percent,
                first_join=r.first_join,
                last_leave=r.last_leave,
                matched_by=r.matched_by,
            )
            for r in rows
        ]

    def unmatched(self, course: Course) -> list[UnmatchedRow]:
        """Participants of the course's sessions no enrolment could be tied to."""
        with self.store.transaction() as s:
            rows = s.execute(
                select(course_unmatched)
                .join(course_sessions, course_sessions.c.id == course_unmatched.c.session_id)
                .where(course_sessions.c.course_id == course.id)
            ).all()
        return [
            UnmatchedRow(
                session_id=r.session_id,
                display_name=r.display_name,
                email=r.email,
                reason=r.reason,
                minutes=r.minutes,
            )
            for r in rows
        ]


def _attendance_ref(record: LiveSessionRecord) -> str | None:
    """How to ask the provider for one sitting's attendance: its id, else (in a series) the
    start it was held at, so a moved sitting's participants map to it."""
    if record.occurrence_id or record.series_id is None:
        return record.occurrence_id
    return record.start_utc.isoformat()
