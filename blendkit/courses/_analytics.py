"""Course-wide figures for instructors: progression funnel, attendance over time, at-risk list."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from blendkit.courses._live import LiveSessionService
from blendkit.courses._models import Course, Enrolment, LiveSessionRecord
from blendkit.courses._service import CourseService
from blendkit.progression import (
    MilestoneCount,
    MilestoneProgress,
    PathResult,
    Signal,
    at_risk,
    evaluate,
    milestone_counts,
    milestone_progress,
)

__all__ = [
    "AttendancePoint",
    "FunnelStep",
    "LearnerRisk",
    "attendance_over_time",
    "course_milestones",
    "funnel",
    "learner_milestones",
    "not_started",
    "risks",
]


class FunnelStep(BaseModel):
    """How many learners reached each state of one item."""

    model_config = ConfigDict(frozen=True)

    item: str
    title: str
    kind: str
    completed: int
    open: int
    locked: int
    overdue: int
    learners: int


class AttendancePoint(BaseModel):
    """Attendance of one session: learners present out of those enrolled."""

    model_config = ConfigDict(frozen=True)

    session: LiveSessionRecord
    present: int
    enrolled: int
    average_percent: float


class LearnerRisk(BaseModel):
    """A learner with at least one at-risk signal, and the reasons."""

    model_config = ConfigDict(frozen=True)

    learner: Enrolment
    signals: tuple[Signal, ...]


def results(service: CourseService, course: Course, now: datetime) -> list[PathResult]:
    """Every learner's path result (one evaluation per learner)."""
    compiled = service.compiled(course)
    return [
        evaluate(compiled, service.evidence(course, person.sub), now)
        for person in service.enrolments(course, learners_only=True)
    ]


def funnel(service: CourseService, course: Course, now: datetime) -> list[FunnelStep]:
    """Per item, in path order: learners who completed it, have it open, locked or overdue."""
    all_results = results(service, course, now)
    steps = []
    for item in course.path.items():
        counts = Counter(r.state(item.id) for r in all_results)
        steps.append(
            FunnelStep(
                item=item.id,
                title=item.title or item.id,
                kind=item.kind,
                completed=counts["completed"],
                open=counts["available"] + counts["in_progress"],
                locked=counts["locked"],
                overdue=counts["overdue"],
                learners=len(all_results),
            )
        )
    return steps


def learner_milestones(
    service: CourseService, course: Course, sub: str, now: datetime
) -> tuple[MilestoneProgress, ...]:
    """The learner's progress on each milestone of the course path at ``now``."""
    evidence = service.evidence(course, sub, now=now)
    result = evaluate(service.compiled(course), evidence, now)
    return milestone_progress(course.path, result, evidence)


def course_milestones(
    service: CourseService, course: Course, now: datetime
) -> tuple[MilestoneCount, ...]:
    """Per milestone, how many learners are done, on track, behind or missed it at ``now``."""
    compiled = service.compiled(course)
    progress = []
    for person in service.enrolments(course, learners_only=True):
        evidence = service.evidence(course, person.sub, person=person, now=now)
        progress.append(
            milestone_progress(course.path, evaluate(compiled, evidence, now), evidence)
        )
    return milestone_counts(course.path, progress)


def attendance_over_time(
    service: CourseService, live: LiveSessionService, course: Course
) -> list[AttendancePoint]:
    """Each session whose attendance was imported, in time order."""
    learners = {p.sub for p in service.enrolments(course, learners_only=True)}
    rows = live.attendance(course)
    points = []
    for session in live.sessions(course):
        if not session.attendance_imported:
            continue
        mine = [r for r in rows if r.session_id == session.id and r.sub in learners]
        present = [r for r in mine if r.minutes > 0]
        average = sum(r.percent for r in mine) / len(learners) if learners else 0.0
        points.append(
            AttendancePoint(
                session=session,
                present=len(present),
                enrolled=len(learners),
                average_percent=round(average, 1),
            )
        )
    return points


def not_started(person: Enrolment, now: datetime) -> Signal:
    """The signal of a learner the roster knows who has never launched the tool."""
    since = person.enrolled_at or now
    days = max(0.0, (now - since).total_seconds() / 86400)
    return Signal(
        kind="not_started",
        learner=person.sub,
        reason=(
            f"On the course roster for {days:.0f} days and has not opened the tool yet "
            f"(first listed {since:%Y-%m-%d})"
        ),
        details={"listed_days": round(days, 1)},
        at=now,
    )


def risks(service: CourseService, course: Course, now: datetime) -> list[LearnerRisk]:
    """Learners with at-risk signals (not started, behind pace, missed sessions, failures,
    inactivity); a learner who never launched is flagged ``not_started`` instead of
    ``inactive``."""
    out = []
    for person in service.enrolments(course, learners_only=True):
        signals = at_risk(course.path, service.evidence(course, person.sub, person=person), now)
        if not person.launched:
            kept = tuple(s for s in signals if s.kind != "inactive")
            signals = (not_started(person, now), *kept)
        if signals:
            out.append(LearnerRisk(learner=person, signals=signals))
    return out
