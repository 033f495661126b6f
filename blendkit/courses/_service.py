"""CourseService: the data flow of a blended course, in one transaction per piece of evidence.

evidence arrives → the learner's path is re-evaluated incrementally → the change events and the
evidence itself become xAPI statements in the outbox (same transaction as the evidence row) →
scores of graded items are queued for AGS passback (delivered by :class:`GradePassback`).
Quizzes and instructor overrides are built on :class:`CourseRecords`.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, TypeAdapter
from sqlalchemy import Connection, bindparam, insert, select
from sqlalchemy.orm import Session

from blendkit.courses._models import (
    Course,
    Enrolment,
    EvidenceRecord,
    OverrideRecord,
    RecordOutcome,
    aware,
)
from blendkit.courses._quiz import QuizResult
from blendkit.courses._records import (
    CourseRecords,
    StatementsFor,
    check_item,
    invalid,
    new_id,
    override_piece,
)
from blendkit.errors import NotFound
from blendkit.progression import (
    ChangeEvent,
    Enrolled,
    Evidence,
    EvidencePiece,
    GroupJoined,
    IncrementalEvaluator,
    PathResult,
    RoleGranted,
    ScoreRecorded,
    evaluate,
)
from blendkit.store._tables_courses import (
    course_evidence,
    course_grades,
    course_overrides,
)
from blendkit.xapi import Agent, Statement, lti_actor

_PIECE: TypeAdapter[EvidencePiece] = TypeAdapter(EvidencePiece)
# Built once: they run on every page a learner opens.
_EVIDENCE = (
    select(course_evidence.c.piece)
    .where(
        course_evidence.c.course_id == bindparam("course_id"),
        course_evidence.c.sub == bindparam("sub"),
    )
    .order_by(course_evidence.c.id)
)
_OVERRIDES = (
    select(course_overrides)
    .where(
        course_overrides.c.course_id == bindparam("course_id"),
        course_overrides.c.sub == bindparam("sub"),
    )
    .order_by(course_overrides.c.id)
)

__all__ = ["CourseService", "StatementsFor"]


class CourseService(CourseRecords):
    """Courses, enrolments, evidence, quizzes and overrides of one store (see the module doc)."""

    # --- evidence --------------------------------------------------------------------------

    def _evidence(self, s: Connection | Session, course: Course, person: Enrolment) -> Evidence:
        pieces: list[EvidencePiece] = []
        if person.enrolled_at is not None:
            pieces.append(Enrolled(at=person.enrolled_at))
        pieces.extend(GroupJoined(group=g) for g in person.groups)
        pieces.extend(RoleGranted(role=r) for r in person.roles)
        key = {"course_id": course.id, "sub": person.sub}
        rows = s.execute(_EVIDENCE, key).all()
        pieces.extend(_PIECE.validate_json(r.piece) for r in rows)
        overrides = s.execute(_OVERRIDES, key).all()
        pieces.extend(override_piece(self._override(o)) for o in overrides)
        return Evidence(learner=person.sub).apply_all(pieces)

    def evidence(self, course: Course, sub: str, *, person: Enrolment | None = None) -> Evidence:
        """Everything the engine knows about one learner, rebuilt from the stored records
        (pass ``person`` when the caller already loaded the enrolment)."""
        person = person if person is not None else self.enrolment(course, sub)
        with self.store.transaction() as s:
            return self._evidence(s, course, person)

    def learner_path(
        self,
        course: Course,
        sub: str,
        now: datetime | None = None,
        *,
        evidence: Evidence | None = None,
    ) -> PathResult:
        """Each item's state for the learner, with the reasons locked items are locked."""
        known = evidence if evidence is not None else self.evidence(course, sub)
        return evaluate(self.compiled(course), known, now or self.clock())

    def records(
        self, course: Course, *, sub: str | None = None, item: str | None = None, kind: str = ""
    ) -> list[EvidenceRecord]:
        """Stored evidence, oldest first, filtered by learner, item and kind."""
        query = select(course_evidence).where(course_evidence.c.course_id == course.id)
        if sub is not None:
            query = query.where(course_evidence.c.sub == sub)
        if item is not None:
            query = query.where(course_evidence.c.item == item)
        if kind:
            query = query.where(course_evidence.c.kind == kind)
        with self.store.transaction() as s:
            rows = s.execute(query.order_by(course_evidence.c.id)).all()
        return [
            EvidenceRecord(
                id=r.id,
                sub=r.sub,
                kind=r.kind,
                item=r.item,
                piece=json.loads(r.piece),
                details=json.loads(r.details) if r.details else None,
                recorded_at=r.recorded_at,
            )
            for r in rows
        ]

    def record(
        self,
        course: Course,
        sub: str,
        pieces: EvidencePiece | Iterable[EvidencePiece],
        *,
        details: dict[str, Any] | None = None,
        statements: StatementsFor | None = None,
        session: Session | Connection | None = None,
    ) -> RecordOutcome:
        """Store evidence for ``sub`` and queue what follows from it, in one transaction."""
        batch = [pieces] if isinstance(pieces, BaseModel) else list(pieces)
        person = self.enrolment(course, sub)
        if session is not None:
            return self._record(session, course, person, batch, details, statements)
        with self.store.transaction() as s:
            return self._record(s, course, person, batch, details, statements)

    def _record(  # noqa: PLR0917
        self,
        s: Connection | Session,
        course: Course,
        person: Enrolment,
        pieces: list[EvidencePiece],
        details: dict[str, Any] | None,
        statements: StatementsFor | None,
    ) -> RecordOutcome:
        for piece in pieces:
            check_item(course, getattr(piece, "item", None))
        now = self.clock()
        evaluator = IncrementalEvaluator(
            self.compiled(course), self._evidence(s, course, person), now
        )
        events: list[ChangeEvent] = []
        for piece in pieces:
            events.extend(evaluator.apply(piece))
        for piece in pieces:
            s.execute(
                insert(course_evidence).values(
                    course_id=course.id,
                    sub=person.sub,
                    kind=piece.kind,
                    item=getattr(piece, "item", None),
                    piece=piece.model_dump_json(),
                    details=json.dumps(details) if details else None,
                    recorded_at=now,
                )
            )
        actor = lti_actor(course.issuer, person.sub, name=person.name or None)
        key = self.course_key(course)
        queued: list[Statement] = list(statements(actor, key)) if statements else []
        queued.extend(self._event_statements(course, actor, key, events))
        ids = self.outbox.emit(queued, session=s) if queued else []
        grades = self._queue_grades(s, course, person, pieces, evaluator.evidence, now)
        return RecordOutcome(events=tuple(events), statement_ids=tuple(ids), grade_ids=grades)

    def _event_statements(
        self, course: Course, actor: Agent, key: str, events: Sequence[ChangeEvent]
    ) -> list[Statement]:
        out = []
        for event in events:
            title = course.path.item(event.item).title or event.item
            if event.state == "completed":
                out.append(
                    self.statements.module(
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
                    self.statements.module(
                        "unlocked",
                        actor,
                        module_id=event.item,
                        course_id=key,
                        name=title,
                        at=event.at,
                    )
                )
        return out

    def _queue_grades(  # noqa: PLR0917
        self,
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

    # --- the usual evidence ----------------------------------------------------------------

    def attempts_left(self, course: Course, sub: str, item: str) -> int | None:
        """How many more attempts the learner has on quiz ``item`` (None: unlimited)."""
        quiz = self.quiz(course, item)
        if quiz is None or quiz.max_attempts is None:
            return None
        used = len(self.records(course, sub=sub, item=item, kind="score"))
        return max(0, quiz.max_attempts - used)

    def submit_quiz(
        self,
        course: Course,
        sub: str,
        item: str,
        answers: dict[str, str],
        *,
        started_at: datetime | None = None,
    ) -> tuple[QuizResult, RecordOutcome]:
        """Grade an attempt on quiz ``item`` and record it (refused when locked or used up)."""
        quiz = self.quiz(course, item)
        if quiz is None:
            raise NotFound(f"item {item!r} has no quiz questions attached")
        state = self.learner_path(course, sub).state(item)
        if state == "locked":
            raise invalid(
                f"{item!r} is still locked for you; complete what its lock reasons name first",
                "courses.item_locked",
            )
        left = self.attempts_left(course, sub, item)
        if left == 0:
            raise invalid(
                f"you have used all {quiz.max_attempts} attempts on this quiz; ask your "
                "instructor for an extra attempt (an unlock override)",
                "courses.no_attempts_left",
            )
        # The path's pass mark (what unlocks the next items) wins over the quiz's own.
        pass_mark = course.path.item(item).pass_mark or quiz.pass_mark
        result = quiz.model_copy(update={"pass_mark": pass_mark}).grade(answers)
        now = self.clock()
        attempt_id = uuid.uuid4().hex
        duration = (now - aware(started_at)).total_seconds() if started_at else 0.0

        def describe(actor: Agent, key: str) -> list[Statement]:
            return [
                self.statements.quiz_attempt(
                    actor, quiz_id=item, attempt_id=attempt_id, score=result.correct,
                    max_score=result.total, mastery_score=pass_mark / 100,
                    session_id=attempt_id, duration=max(duration, 0.0),
                    name=quiz.title or item, course_id=key, at=now,
                )
            ]  # fmt: skip

        outcome = self.record(
            course,
            sub,
            ScoreRecorded(item=item, score=result.score, at=now),
            details={"attempt": attempt_id, "answers": result.answers, "wrong": result.wrong},
            statements=describe,
        )
        return result, outcome

    def add_override(
        self,
        course: Course,
        sub: str,
        item: str,
        action: Literal["unlock", "extend", "waive"],
        *,
        by: str,
        reason: str,
        until: datetime | None = None,
        condition_id: str | None = None,
    ) -> tuple[OverrideRecord, RecordOutcome]:
        """Unlock an item, extend its deadline or waive one condition, for one learner."""
        check_item(course, item)
        if not reason.strip():
            raise invalid("an override needs a reason (it is shown to other instructors)")
        if action == "extend" and until is None:
            raise invalid("an extension needs the new deadline (until)")
        if action == "waive" and not condition_id:
            raise invalid("a waiver needs the id of the condition it waives")
        if action not in ("unlock", "extend", "waive"):
            raise invalid(f"unknown override action {action!r}: use unlock, extend or waive")
        person = self.enrolment(course, sub)
        now = self.clock()
        with self.store.transaction() as s:
            # Evaluate before the new row exists, so its effect shows up as change events.
            evaluator = IncrementalEvaluator(
                self.compiled(course), self._evidence(s, course, person), now
            )
            result = s.execute(
                insert(course_overrides).values(
                    course_id=course.id, sub=sub, item=item, action=action,
                    condition_id=condition_id if action == "waive" else None,
                    until=until if action == "extend" else None,
                    by=by, reason=reason.strip(), at=now,
                )
            )  # fmt: skip
            row = s.execute(
                select(course_overrides).where(course_overrides.c.id == new_id(result))
            ).one()
            record = self._override(row)
            events = evaluator.apply(override_piece(record))
            actor = lti_actor(course.issuer, person.sub, name=person.name or None)
            queued = self._event_statements(course, actor, self.course_key(course), events)
            ids = self.outbox.emit(queued, session=s) if queued else []
        return record, RecordOutcome(events=events, statement_ids=tuple(ids))

    def overrides(self, course: Course, *, sub: str | None = None) -> list[OverrideRecord]:
        """Every override of the course (or of one learner), newest first."""
        query = select(course_overrides).where(course_overrides.c.course_id == course.id)
        if sub is not None:
            query = query.where(course_overrides.c.sub == sub)
        with self.store.transaction() as s:
            rows = s.execute(query.order_by(course_overrides.c.id.desc())).all()
        return [self._override(r) for r in rows]
