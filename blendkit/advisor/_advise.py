"""The course-design advisor: a delivery recommendation for every item and live session, and
the pitfall linter's findings. Pure: values in, values out."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Literal

from blendkit.advisor._lint import lint_course
from blendkit.advisor._models import (
    AdvisorThresholds,
    CohortFacts,
    CourseAdvice,
    DeliveryRecommendation,
    RecordingFacts,
    SessionFacts,
)
from blendkit.advisor._rules import Context, Subject, evidence_of, first_rule
from blendkit.progression import Path
from blendkit.progression._time import ensure_utc
from blendkit.sessions import SchedulePlan, plan_slots

__all__ = ["advise"]

_DEFAULT_TERM = timedelta(weeks=4)
_WEEK = timedelta(days=6)  # a term of at least a week has every weekday


def _term(path: Path, now: datetime) -> tuple[date, date]:
    start = (path.course_start or now).date()
    end = path.course_end.date() if path.course_end else start + _DEFAULT_TERM
    if end < start:
        end = start + _DEFAULT_TERM
    return start, min(max(end, start + _WEEK), start + timedelta(days=366))


def _plan(
    path: Path, cohort: CohortFacts, limits: AdvisorThresholds, now: datetime
) -> SchedulePlan | None:
    """The planner's answer for one weekly session of the planning length (None: no zones).

    The term spans at least a week and class hours lie on the planner's half-hour grid, so
    every zone has a slot on some working day: the planner always finds one.
    """
    if not cohort.zones:
        return None
    start, end = _term(path, now)
    window = limits.local_end.hour * 60 + limits.local_end.minute
    window -= limits.local_start.hour * 60 + limits.local_start.minute
    return plan_slots(
        cohort.zones,
        term_start=start,
        term_end=end,
        duration_minutes=min(limits.planning_minutes, window),
        min_share=limits.min_live_share,
        local_start=limits.local_start,
        local_end=limits.local_end,
    )


def advise(
    path: Path,
    *,
    now: datetime,
    cohort: CohortFacts | None = None,
    sessions: Iterable[SessionFacts] = (),
    recordings: Iterable[RecordingFacts] = (),
    thresholds: AdvisorThresholds | None = None,
) -> CourseAdvice:
    """Recommend how to deliver each item of ``path`` and each scheduled session, and lint it.

    ``now`` anchors the planning term when the path has no ``course_start``. The cohort's time
    zones go through :func:`blendkit.sessions.plan_slots` (inside ``local_start``–``local_end``
    on working days): when one weekly slot serves fewer than ``min_live_share`` of learners,
    the cohort is globally distributed. Raises :class:`ScheduleError` for an unknown zone.
    """
    limits = thresholds or AdvisorThresholds()
    cohort = cohort or CohortFacts()
    sessions = tuple(sessions)
    plan = _plan(path, cohort, limits, ensure_utc(now, "now"))
    share = round(plan.covered / plan.learners, 4) if plan else None
    global_cohort = share is not None and share < limits.min_live_share
    office = plan.recommendation.office_hours[: limits.office_hours] if plan else ()
    ctx = Context(
        thresholds=limits,
        learners=cohort.learners,
        global_cohort=global_cohort,
        live_share=share,
        pace_spread=cohort.pace_spread,
    )
    recommendations = []
    for item in path.items():
        minutes = item.expected_minutes or item.duration_minutes
        subject = Subject(kind=item.kind, nature=item.nature, minutes=minutes)
        recommendations.append(_recommend("item", item.id, item.title, subject, ctx))
    items = {item.id: item for item in path.items()}
    for session in sessions:
        linked = items.get(session.item or "")
        subject = Subject(
            kind=linked.kind if linked and linked.kind == "office_hours" else "live_session",
            nature=linked.nature if linked else None,
            minutes=session.duration_minutes,
        )
        recommendations.append(_recommend("session", session.id, session.title, subject, ctx))
    return CourseAdvice(
        recommendations=tuple(recommendations),
        findings=lint_course(path, sessions=sessions, recordings=recordings, thresholds=limits),
        learners=cohort.learners,
        time_zones=len(set(cohort.zones.values())),
        live_share=share,
        global_cohort=global_cohort,
        office_hours=office if global_cohort else (),
        pace_spread=cohort.pace_spread,
        thresholds=limits,
    )


def _recommend(
    kind: Literal["item", "session"], subject_id: str, title: str, subject: Subject, ctx: Context
) -> DeliveryRecommendation:
    rule = first_rule(subject, ctx)
    return DeliveryRecommendation(
        subject=kind,
        id=subject_id,
        title=title or subject_id,
        mode=rule.mode,
        rule=rule.id,
        reason=rule.reason(ctx),
        evidence=evidence_of(subject, ctx),
    )
