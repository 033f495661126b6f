"""Attendance to the gradebook: a course's grading policy turns imported attendance into scores
queued to AGS through the same grade queue (``course_grades``) and retries as quiz scores.

The policy (:class:`AttendanceGrading`) is off until an instructor turns it on. Scores come from
:func:`blendkit.sessions.score_attendance` over the stored attendance, one line item per session
(``per_session``) or one for all sessions (``aggregate``). With ``review_first`` (the default)
nothing is queued until the instructor approves the preview; without it, each attendance import
queues the scores that are new or changed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import insert, select

from blendkit.courses._live import LiveSessionService
from blendkit.courses._models import AttendanceRow, Course, LiveSessionRecord
from blendkit.courses._service import CourseService
from blendkit.errors import CoursesError
from blendkit.sessions import (
    Attendance,
    AttendanceReport,
    AttendanceScore,
    GradingPolicy,
    Occurrence,
    score_attendance,
)
from blendkit.store._tables_courses import course_grades
from blendkit.store._tables_roster import course_attendance_grading

__all__ = [
    "ATTENDANCE_ITEM",
    "AttendanceGradeLine",
    "AttendanceGrades",
    "AttendanceGrading",
]

ATTENDANCE_ITEM = "live-attendance"
"""Line item ``resourceId`` of the aggregate attendance grade (per session: ``…:<session id>``)."""

LineState = Literal["new", "changed", "queued", "sent", "failed"]


class AttendanceGrading(BaseModel):
    """A course's grading policy for live attendance."""

    model_config = ConfigDict(frozen=True)

    enabled: bool = False
    scope: Literal["per_session", "aggregate"] = "aggregate"
    policy: GradingPolicy = GradingPolicy.PROPORTIONAL
    full_credit_percent: float = Field(default=100.0, gt=0, le=100)
    review_first: bool = True
    """Scores wait in the preview until the instructor approves them."""


class AttendanceGradeLine(BaseModel):
    """One score the policy gives a learner, and where it stands against the grade queue."""

    model_config = ConfigDict(frozen=True)

    sub: str
    name: str
    item: str
    label: str
    score_given: float
    score_maximum: float
    comment: str
    state: LineState
    """``new`` or ``changed``: not queued yet; ``queued``, ``sent``, ``failed``: the grade
    queue holds this very score."""

    @property
    def waiting(self) -> bool:
        """Whether approving would queue this score."""
        return self.state in ("new", "changed")


class AttendanceGrades:
    """The policy, the preview and the approval of attendance scores for a course."""

    def __init__(
        self,
        courses: CourseService,
        live: LiveSessionService,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.courses = courses
        self.live = live
        self.store = courses.store
        self.clock = clock
        live.after_attendance_import.append(self.attendance_imported)

    def grading(self, course: Course) -> AttendanceGrading:
        """The course's policy (off when never set)."""
        with self.store.transaction() as s:
            row = s.execute(
                select(course_attendance_grading).where(
                    course_attendance_grading.c.course_id == course.id
                )
            ).first()
        if row is None:
            return AttendanceGrading()
        return AttendanceGrading(
            enabled=row.enabled,
            scope=row.scope,
            policy=GradingPolicy(row.policy),
            full_credit_percent=row.full_credit_percent,
            review_first=row.review_first,
        )

    def set_grading(self, course: Course, grading: AttendanceGrading) -> AttendanceGrading:
        """Store the course's policy (replacing the earlier one)."""
        values = {
            "course_id": course.id,
            **grading.model_dump(mode="json"),
            "updated_at": self.clock(),
        }
        columns = [k for k in values if k != "course_id"]
        with self.store.transaction() as s:
            s.execute(
                self.store.insert_or_replace(
                    course_attendance_grading, ["course_id"], values, columns
                )
            )
        return grading

    def preview(
        self, course: Course, grading: AttendanceGrading | None = None
    ) -> list[AttendanceGradeLine]:
        """Every score the policy gives now, with its state against the grade queue (learners
        in name order, then line items in session order)."""
        policy = grading or self.grading(course)
        people = {p.sub: p for p in self.courses.enrolments(course, learners_only=True)}
        sessions = [s for s in self.live.sessions(course) if s.attendance_imported]
        if not sessions or not people:
            return []
        rows: dict[str, list[AttendanceRow]] = {}
        for row in self.live.attendance(course):
            if row.sub in people:
                rows.setdefault(row.session_id, []).append(row)
        reports = [_report(s, rows.get(s.id, [])) for s in sessions]
        groups: list[tuple[str, str, list[AttendanceReport]]]
        if policy.scope == "per_session":
            groups = [
                (f"{ATTENDANCE_ITEM}:{s.id}", f"Attendance: {s.title}", [r])
                for s, r in zip(sessions, reports, strict=True)
            ]
        else:
            groups = [(ATTENDANCE_ITEM, "Live session attendance", reports)]
        latest = self._queued(course)
        lines = []
        for item, label, group in groups:
            for score in score_attendance(
                group, policy.policy, full_credit_percent=policy.full_credit_percent
            ):
                lines.append(
                    _line(score, people[score.learner_id].display_name, item, label, latest)
                )
        order = {sub: n for n, sub in enumerate(people)}
        return sorted(lines, key=lambda line: order[line.sub])

    def approve(self, course: Course, *, subs: set[str] | None = None) -> int:
        """Queue the waiting scores (all, or those of ``subs``) to the gradebook; returns how
        many. They go through the grade queue (``blendkit grades deliver``) with its retries."""
        grading = self.grading(course)
        if not grading.enabled:
            return 0
        lines = [
            line
            for line in self.preview(course, grading)
            if line.waiting and (subs is None or line.sub in subs)
        ]
        if not lines:
            return 0
        if not (course.ags or {}).get("lineitems"):
            raise CoursesError(
                "the platform's launches gave this course no line items service (AGS "
                "lineitems), so attendance cannot get a gradebook column of its own; enable "
                "grade passback with line item management for the tool on the platform",
                code="courses.no_gradebook",
            )
        now = self.clock()
        with self.store.transaction() as s:
            for line in lines:
                s.execute(
                    insert(course_grades).values(
                        course_id=course.id, sub=line.sub, item=line.item, label=line.label,
                        score_given=line.score_given, score_maximum=line.score_maximum,
                        scored_at=now, status="pending", attempts=0, next_attempt_at=now,
                    )
                )  # fmt: skip
        return len(lines)

    def attendance_imported(self, course: Course) -> int:
        """After an import: queue new and changed scores unless the policy says review first."""
        grading = self.grading(course)
        if not grading.enabled or grading.review_first:
            return 0
        return self.approve(course)

    def _queued(self, course: Course) -> dict[tuple[str, str], tuple[float, str]]:
        """The newest queued score and its status per (learner, attendance line item)."""
        g = course_grades.c
        with self.store.transaction() as s:
            rows = s.execute(
                select(g.sub, g.item, g.score_given, g.status)
                .where(g.course_id == course.id, g.item.startswith(ATTENDANCE_ITEM))
                .order_by(g.id)
            ).all()
        return {(r.sub, r.item): (r.score_given, r.status) for r in rows}


def _report(session: LiveSessionRecord, rows: list[AttendanceRow]) -> AttendanceReport:
    occurrence = Occurrence(index=0, start_utc=session.start_utc, end_utc=session.end_utc)
    limit = occurrence.duration_minutes
    return AttendanceReport(
        meeting_id=session.id,
        occurrence=occurrence,
        attendance=tuple(
            Attendance(
                learner_id=r.sub,
                minutes_present=min(r.minutes, limit),
                percent_present=min(r.percent, 100.0),
            )
            for r in rows
        ),
    )


def _line(
    score: AttendanceScore,
    name: str,
    item: str,
    label: str,
    latest: dict[tuple[str, str], tuple[float, str]],
) -> AttendanceGradeLine:
    state: LineState = "new"
    queued = latest.get((score.learner_id, item))
    if queued is not None:
        given, status = queued
        if abs(given - score.score_given) >= 0.005:  # scores have 2 decimals
            state = "changed"
        else:
            state = {"pending": "queued", "sent": "sent"}.get(status, "failed")  # type: ignore[assignment]
    return AttendanceGradeLine(
        sub=score.learner_id, name=name, item=item, label=label, score_given=score.score_given,
        score_maximum=score.score_maximum, comment=score.comment, state=state,
    )  # fmt: skip
