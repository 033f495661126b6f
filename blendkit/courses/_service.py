"""CourseService: quizzes graded and recorded, and instructor overrides, over the evidence
flow of its base (``_evidence_flow``)."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Literal

from sqlalchemy import func, insert, select

from blendkit.courses._consequences import event_statements, milestone_statements
from blendkit.courses._evidence_flow import EvidenceFlow
from blendkit.courses._models import Course, OverrideRecord, RecordOutcome, aware
from blendkit.courses._quiz import QuizResult
from blendkit.courses._records import StatementsFor, check_item, invalid, new_id, override_piece
from blendkit.courses._reminder_hooks import announce_extension
from blendkit.courses._requests import LearnerRequest, remember, replayed
from blendkit.courses._timeline import Timeline, item_locked, serialise_learner
from blendkit.errors import CoursesError, NotFound
from blendkit.progression import ScoreRecorded, TimedPiece, state_changes
from blendkit.store._tables_courses import course_evidence, course_overrides
from blendkit.xapi import Agent, Statement, lti_actor

__all__ = ["CourseService", "StatementsFor"]


class CourseService(EvidenceFlow):
    """Courses, enrolments, evidence, quizzes and overrides of one store, in one transaction
    per piece of evidence.

    evidence arrives → the learner's stored evidence is replayed in time order through the
    gates → the change events and the evidence itself become xAPI statements in the outbox
    (same transaction as the evidence row) → scores of graded items are queued for AGS
    passback (delivered by :class:`GradePassback`).

    The gate invariant: an item is never completed while it is locked for the learner, except
    through an instructor override. Work a learner sends for a locked item is refused
    (``courses.item_locked``); evidence that arrives from elsewhere for a locked item (a
    meeting provider's attendance) is stored and *held*: it never counts (see
    :meth:`held_evidence`).
    """

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
        idempotency_key: str | None = None,
    ) -> tuple[QuizResult, RecordOutcome]:
        """Grade an attempt on quiz ``item`` and record it (refused when locked or used up).

        With ``idempotency_key`` (rendered with the quiz form) the attempt is recorded once: a
        second call with the key returns the first result and outcome without spending an
        attempt or queueing a statement, even after the attempts ran out; the same key with
        other answers is refused (``courses.idempotency_key_reused``, 409).
        """
        request = None
        if idempotency_key is not None:
            request = LearnerRequest.of(idempotency_key, "quiz", [item, answers])
        quiz = self.quiz(course, item)
        if quiz is None:
            raise NotFound(f"item {item!r} has no quiz questions attached")
        person = self.enrolment(course, sub)
        with self.store.transaction() as s:
            # One learner's attempts run one after the other: the check and the insert of
            # concurrent submissions cannot interleave (the attempt limit holds), and a keyed
            # submission sent twice at once is recorded by the first and replayed by the second.
            serialise_learner(s, course.id, sub)
            if request is not None and (earlier := replayed(s, course.id, sub, request)):
                stored = json.loads(earlier)
                return (
                    QuizResult.model_validate(stored["result"]),
                    RecordOutcome.model_validate(stored["outcome"]),
                )
            now = self.clock()
            timeline = Timeline.load(s, course.id, person)
            if self._replay(course, timeline, now).state(item) == "locked":
                raise item_locked(item)
            used = s.execute(
                select(func.count())
                .select_from(course_evidence)
                .where(
                    course_evidence.c.course_id == course.id,
                    course_evidence.c.sub == sub,
                    course_evidence.c.item == item,
                    course_evidence.c.kind == "score",
                )
            ).scalar_one()
            if quiz.max_attempts is not None and used >= quiz.max_attempts:
                raise CoursesError(
                    f"you have used all {quiz.max_attempts} attempts on this quiz; ask your "
                    "instructor for an extra attempt (an unlock override)",
                    code="courses.no_attempts_left",
                )
            # The path's pass mark (what unlocks the next items) wins over the quiz's own.
            pass_mark = course.path.item(item).pass_mark or quiz.pass_mark
            result = quiz.model_copy(update={"pass_mark": pass_mark}).grade(answers)
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

            outcome = self._record(
                s,
                course,
                person,
                [ScoreRecorded(item=item, score=result.score, at=now)],
                {"attempt": attempt_id, "answers": result.answers, "wrong": result.wrong},
                describe,
            )
            if request is not None:
                both = {
                    "result": result.model_dump(mode="json"),
                    "outcome": outcome.model_dump(mode="json"),
                }
                remember(s, course.id, sub, request, json.dumps(both), now)
        self.announce_unlocked(course, person, outcome)
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
            timeline = Timeline.load(s, course.id, person)
            before = self._replay(course, timeline, now)
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
            granted = TimedPiece(at=aware(record.at), piece=override_piece(record))
            after = self._replay(course, timeline.with_pieces([granted]), now)
            events = state_changes(before, after, learner=sub, at=now)
            actor = lti_actor(course.issuer, person.sub, name=person.name or None)
            key = self.course_key(course)
            queued = event_statements(self.statements, course, actor, key, events)
            queued.extend(
                milestone_statements(self.statements, course, actor, key, before, after, now)
            )
            ids = self.outbox.emit(queued, session=s) if queued else []
        outcome = RecordOutcome(events=events, statement_ids=tuple(ids))
        self.announce_unlocked(course, person, outcome)
        if action == "extend" and self.notifications is not None:
            announce_extension(self.notifications, self, course, person, item=item, now=now)
        return record, outcome

    def overrides(self, course: Course, *, sub: str | None = None) -> list[OverrideRecord]:
        """Every override of the course (or of one learner), newest first."""
        query = select(course_overrides).where(course_overrides.c.course_id == course.id)
        if sub is not None:
            query = query.where(course_overrides.c.sub == sub)
        with self.store.transaction() as s:
            rows = s.execute(query.order_by(course_overrides.c.id.desc())).all()
        return [self._override(r) for r in rows]
