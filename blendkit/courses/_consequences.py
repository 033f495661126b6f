"""What follows from new evidence: xAPI statements for state changes and queued AGS scores."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, insert
from sqlalchemy.orm import Session

from blendkit.courses._models import Course, Enrolment
from blendkit.courses._records import new_id
from blendkit.progression import (
    ChangeEvent,
    Evidence,
    EvidencePiece,
    Replay,
    ScoreRecorded,
    milestones_reached,
)
from blendkit.progression._milestones import milestone_due
from blendkit.store._tables_courses import course_grades
from blendkit.xapi import Agent, Statement, StatementFactory

__all__ = ["event_statements", "milestone_statements", "queue_grades"]


def event_statements(
    statements: StatementFactory,
    course: Course,
    actor: Agent,
    key: str,
    events: Sequence[ChangeEvent],
) -> list[Statement]:
    out = []
    for event in events:
        title = course.path.item(event.item).title or event.item
        if event.state == "completed":
            out.append(
                statements.module(
                    "completed",
                    actor,
                    module_id=event.item,
                    course_id=key,
                    name=title,
                    at=event.at,
                )
            )
        elif event.previous == "locked":
            out.append(
                statements.module(
                    "unlocked",
                    actor,
                    module_id=event.item,
                    course_id=key,
                    name=title,
                    at=event.at,
                )
            )
    return out


def milestone_statements(  # noqa: PLR0917
    statements: StatementFactory,
    course: Course,
    actor: Agent,
    key: str,
    before: Replay,
    after: Replay,
    at: datetime,
) -> list[Statement]:
    """A statement for each milestone whose items are all completed now and were not before;
    ``on_time`` says whether that happened by the learner's date for the milestone."""
    path = course.path
    out = []
    for milestone in milestones_reached(path, before.states, after.states):
        due = milestone_due(
            milestone,
            path.milestone_items(milestone),
            after.evidence.enrolled_at,
            after.evidence.extensions,
        )
        out.append(
            statements.milestone(
                actor,
                milestone_id=milestone.id,
                course_id=key,
                on_time=None if due is None else at <= due,
                name=milestone.title or milestone.id,
                at=at,
            )
        )
    return out


def queue_grades(  # noqa: PLR0917
    s: Connection | Session,
    course: Course,
    person: Enrolment,
    pieces: Sequence[EvidencePiece],
    evidence: Evidence,
    now: datetime,
) -> tuple[int, ...]:
    if not course.ags or not (course.ags.get("lineitems") or course.ags.get("lineitem")):
        return ()
    ids = []
    for piece in pieces:
        if not isinstance(piece, ScoreRecorded):
            continue
        best = max(a.score for a in evidence.scores.get(piece.item, ()))
        title = course.path.item(piece.item).title or piece.item
        result = s.execute(
            insert(course_grades).values(
                course_id=course.id,
                sub=person.sub,
                item=piece.item,
                label=title,
                score_given=best,
                score_maximum=100.0,
                scored_at=piece.at,
                status="pending",
                attempts=0,
                next_attempt_at=now,
            )
        )
        ids.append(new_id(result))
    return tuple(ids)
