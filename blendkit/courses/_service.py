"""CourseService: the data flow of a blended course, in one transaction per piece of evidence.

evidence arrives → the learner's path is re-evaluated incrementally → the change events and the
evidence itself become xAPI statements in the outbox (same transaction as the evidence row) →
scores of graded items are queued for AGS passback (delivered by :class:`GradePassback`).
"""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, Literal, cast
from urllib.parse import urlsplit

from pydantic import BaseModel, TypeAdapter
from sqlalchemy import CursorResult, insert, select, update
from sqlalchemy.orm import Session

from blendkit.courses._models import (
    Course,
    Enrolment,
    EvidenceRecord,
    OverrideRecord,
    RecordOutcome,
    aware,
    check_zone,
)
from blendkit.courses._quiz import Quiz, QuizResult
from blendkit.errors import BlendkitError, NotFound
from blendkit.progression import (
    ChangeEvent,
    CompiledPath,
    Enrolled,
    Evidence,
    EvidencePiece,
    ExtensionGranted,
    GroupJoined,
    IncrementalEvaluator,
    Override,
    OverrideAdded,
    Path,
    PathResult,
    RoleGranted,
    ScoreRecorded,
    compile_path,
    dump_path,
    parse_path,
)
from blendkit.store import Store
from blendkit.store._tables_courses import (
    course_courses,
    course_enrolments,
    course_evidence,
    course_grades,
    course_overrides,
    course_quizzes,
)
from blendkit.xapi import Agent, Outbox, Statement, StatementFactory, lti_actor

__all__ = ["CourseService", "StatementsFor"]

_PIECE: TypeAdapter[EvidencePiece] = TypeAdapter(EvidencePiece)
StatementsFor = Callable[[Agent, str], Sequence[Statement]]
"""Builds the statements describing a piece of evidence, given the actor and the course key."""


@functools.lru_cache(maxsize=64)
def _parsed(path_json: str) -> Path:
    """Each stored path document is parsed once per process (the same text, the same value)."""
    return parse_path(path_json, "json")


_COMPILED: dict[int, tuple[Path, CompiledPath]] = {}


def _compiled(path: Path) -> CompiledPath:
    # Keyed by identity: paths come from _parsed, so one document compiles once per process.
    found = _COMPILED.get(id(path))
    if found is None or found[0] is not path:
        if len(_COMPILED) > 256:
            _COMPILED.clear()
        found = (path, compile_path(path))
        _COMPILED[id(path)] = found
    return found[1]


def _invalid(message: str, code: str = "courses.invalid") -> BlendkitError:
    return BlendkitError(message, code=code, http_status=400)


class CourseService:
    """Courses, enrolments, evidence and overrides of one store, wired to the xAPI outbox."""

    def __init__(
        self,
        store: Store,
        *,
        outbox: Outbox,
        statements: StatementFactory,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.outbox = outbox
        self.statements = statements
        self.clock = clock

    # --- courses ---------------------------------------------------------------------------

    @staticmethod
    def _course(row: Any) -> Course:
        return Course(
            id=row.id,
            issuer=row.issuer,
            client_id=row.client_id,
            context_id=row.context_id,
            title=row.title,
            path=_parsed(row.path),
            ags=json.loads(row.ags) if row.ags else None,
        )

    def ensure_course(
        self,
        issuer: str,
        context_id: str,
        *,
        title: str,
        path: Callable[[], Path] | Path,
        client_id: str | None = None,
        ags: dict[str, Any] | None = None,
    ) -> Course:
        """The course of (issuer, context_id), created with ``path`` on first use.

        Title, client id and AGS endpoints are refreshed from each launch; the path is kept.
        """
        now = self.clock()
        with self.store.session() as s:
            row = s.execute(
                select(course_courses).where(
                    course_courses.c.issuer == issuer, course_courses.c.context_id == context_id
                )
            ).first()
            if row is None:
                chosen = path() if callable(path) else path
                s.execute(
                    insert(course_courses).values(
                        issuer=issuer,
                        client_id=client_id,
                        context_id=context_id,
                        title=title,
                        path=dump_path(chosen, "json"),
                        ags=json.dumps(ags) if ags else None,
                        created_at=now,
                        updated_at=now,
                    )
                )
            else:
                changes: dict[str, Any] = {}
                if title and title != row.title:
                    changes["title"] = title
                if client_id and client_id != row.client_id:
                    changes["client_id"] = client_id
                if ags and json.dumps(ags) != row.ags:
                    changes["ags"] = json.dumps(ags)
                if changes:
                    s.execute(
                        update(course_courses)
                        .where(course_courses.c.id == row.id)
                        .values(updated_at=now, **changes)
                    )
        return self.course(issuer, context_id)

    def course(self, issuer: str, context_id: str) -> Course:
        """The course of (issuer, context_id) (``NotFound`` before its first launch)."""
        with self.store.session() as s:
            row = s.execute(
                select(course_courses).where(
                    course_courses.c.issuer == issuer, course_courses.c.context_id == context_id
                )
            ).first()
        if row is None:
            raise NotFound(
                f"no course for context {context_id!r} of {issuer}; launch the tool from that "
                "course once to create it"
            )
        return self._course(row)

    def course_by_id(self, course_id: int) -> Course:
        """The course with this id (``NotFound`` when absent)."""
        with self.store.session() as s:
            row = s.execute(select(course_courses).where(course_courses.c.id == course_id)).first()
        if row is None:
            raise NotFound(f"course {course_id} does not exist")
        return self._course(row)

    def set_path(self, course: Course, path: Path) -> Course:
        """Replace the course path (evidence is kept: it is keyed by item id)."""
        with self.store.session() as s:
            s.execute(
                update(course_courses)
                .where(course_courses.c.id == course.id)
                .values(path=dump_path(path, "json"), updated_at=self.clock())
            )
        return course.model_copy(update={"path": path})

    def compiled(self, course: Course) -> CompiledPath:
        """The compiled path (cached per path document)."""
        return _compiled(course.path)

    @staticmethod
    def course_key(course: Course) -> str:
        """The course id used in xAPI statements: platform host and context id."""
        return f"{urlsplit(course.issuer).netloc or course.issuer}:{course.context_id}"

    # --- quizzes ---------------------------------------------------------------------------

    def set_quiz(self, course: Course, item: str, quiz: Quiz) -> None:
        """Attach the questions of quiz item ``item`` (replacing earlier ones)."""
        course.path.item(item)
        body = quiz.model_dump_json()
        with self.store.session() as s:
            found = s.execute(
                select(course_quizzes.c.id).where(
                    course_quizzes.c.course_id == course.id, course_quizzes.c.item == item
                )
            ).first()
            if found is None:
                s.execute(insert(course_quizzes).values(course_id=course.id, item=item, quiz=body))
            else:
                s.execute(
                    update(course_quizzes).where(course_quizzes.c.id == found.id).values(quiz=body)
                )

    def quiz(self, course: Course, item: str) -> Quiz | None:
        """The questions of quiz item ``item``, or None when none were attached."""
        with self.store.session() as s:
            body = s.execute(
                select(course_quizzes.c.quiz).where(
                    course_quizzes.c.course_id == course.id, course_quizzes.c.item == item
                )
            ).scalar_one_or_none()
        return Quiz.model_validate_json(body) if body else None

    # --- enrolments ------------------------------------------------------------------------

    @staticmethod
    def _enrolment(row: Any) -> Enrolment:
        return Enrolment(
            sub=row.sub,
            name=row.name,
            email=row.email,
            time_zone=row.time_zone,
            enrolled_at=aware(row.enrolled_at),
            groups=tuple(json.loads(row.groups)),
            roles=tuple(json.loads(row.roles)),
        )

    def enrol(self, course: Course, person: Enrolment, *, keep_zone: bool = True) -> Enrolment:
        """Add or refresh a person; ``enrolled_at`` and (with ``keep_zone``) the zone are kept."""
        now = self.clock()
        with self.store.session() as s:
            row = s.execute(
                select(course_enrolments).where(
                    course_enrolments.c.course_id == course.id,
                    course_enrolments.c.sub == person.sub,
                )
            ).first()
            values = {
                "name": person.name,
                "email": person.email,
                "groups": json.dumps(sorted(person.groups)),
                "roles": json.dumps(sorted(person.roles)),
            }
            if row is None:
                s.execute(
                    insert(course_enrolments).values(
                        course_id=course.id,
                        sub=person.sub,
                        time_zone=person.time_zone,
                        enrolled_at=person.enrolled_at or now,
                        **values,
                    )
                )
            else:
                if not keep_zone:
                    values["time_zone"] = person.time_zone
                current = {k: getattr(row, k) for k in values}
                if current != values:
                    s.execute(
                        update(course_enrolments)
                        .where(course_enrolments.c.id == row.id)
                        .values(**values)
                    )
        return self.enrolment(course, person.sub)

    def set_time_zone(self, course: Course, sub: str, zone: str) -> Enrolment:
        """Change the zone a person's times are shown in (ValueError-free: names the problem)."""
        try:
            key = check_zone(zone)
        except ValueError as exc:
            raise _invalid(str(exc), "courses.bad_time_zone") from None
        with self.store.session() as s:
            s.execute(
                update(course_enrolments)
                .where(course_enrolments.c.course_id == course.id, course_enrolments.c.sub == sub)
                .values(time_zone=key)
            )
        return self.enrolment(course, sub)

    def enrolment(self, course: Course, sub: str) -> Enrolment:
        """One person (``NotFound`` when they never launched into the course)."""
        with self.store.session() as s:
            row = s.execute(
                select(course_enrolments).where(
                    course_enrolments.c.course_id == course.id, course_enrolments.c.sub == sub
                )
            ).first()
        if row is None:
            raise NotFound(f"{sub!r} is not enrolled in {course.title!r}")
        return self._enrolment(row)

    def enrolments(self, course: Course, *, learners_only: bool = False) -> list[Enrolment]:
        """Everyone in the course (learners only: people without an instructor role)."""
        with self.store.session() as s:
            rows = s.execute(
                select(course_enrolments)
                .where(course_enrolments.c.course_id == course.id)
                .order_by(course_enrolments.c.name, course_enrolments.c.sub)
            ).all()
        people = [self._enrolment(r) for r in rows]
        if learners_only:
            people = [p for p in people if "instructor" not in p.roles]
        return people

    # --- evidence --------------------------------------------------------------------------

    def _evidence(self, s: Session, course: Course, person: Enrolment) -> Evidence:
        pieces: list[EvidencePiece] = []
        if person.enrolled_at is not None:
            pieces.append(Enrolled(at=person.enrolled_at))
        pieces.extend(GroupJoined(group=g) for g in person.groups)
        pieces.extend(RoleGranted(role=r) for r in person.roles)
        rows = s.execute(
            select(course_evidence.c.piece)
            .where(course_evidence.c.course_id == course.id, course_evidence.c.sub == person.sub)
            .order_by(course_evidence.c.id)
        ).all()
        pieces.extend(_PIECE.validate_json(r.piece) for r in rows)
        overrides = s.execute(
            select(course_overrides)
            .where(course_overrides.c.course_id == course.id, course_overrides.c.sub == person.sub)
            .order_by(course_overrides.c.id)
        ).all()
        pieces.extend(_override_piece(self._override(o)) for o in overrides)
        return Evidence(learner=person.sub).apply_all(pieces)

    def evidence(self, course: Course, sub: str) -> Evidence:
        """Everything the engine knows about one learner, rebuilt from the stored records."""
        person = self.enrolment(course, sub)
        with self.store.session() as s:
            return self._evidence(s, course, person)

    def learner_path(self, course: Course, sub: str, now: datetime | None = None) -> PathResult:
        """Each item's state for the learner, with the reasons locked items are locked."""
        evaluator = IncrementalEvaluator(
            self.compiled(course), self.evidence(course, sub), now or self.clock()
        )
        return evaluator.result()

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
        with self.store.session() as s:
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
        session: Session | None = None,
    ) -> RecordOutcome:
        """Store evidence for ``sub`` and queue what follows from it, in one transaction."""
        batch = [pieces] if isinstance(pieces, BaseModel) else list(pieces)
        person = self.enrolment(course, sub)
        if session is not None:
            return self._record(session, course, person, batch, details, statements)
        with self.store.session() as s:
            return self._record(s, course, person, batch, details, statements)

    def _record(  # noqa: PLR0917
        self,
        s: Session,
        course: Course,
        person: Enrolment,
        pieces: list[EvidencePiece],
        details: dict[str, Any] | None,
        statements: StatementsFor | None,
    ) -> RecordOutcome:
        for piece in pieces:
            _check_item(course, getattr(piece, "item", None))
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
        s: Session,
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
            ids.append(_new_id(result))
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
            raise _invalid(
                f"{item!r} is still locked for you; complete what its lock reasons name first",
                "courses.item_locked",
            )
        left = self.attempts_left(course, sub, item)
        if left == 0:
            raise _invalid(
                f"you have used all {quiz.max_attempts} attempts on this quiz; ask your "
                "instructor for an extra attempt (an unlock override)",
                "courses.no_attempts_left",
            )
        result = quiz.grade(answers)
        now = self.clock()
        attempt_id = uuid.uuid4().hex
        pass_mark = course.path.item(item).pass_mark or quiz.pass_mark
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

    # --- overrides -------------------------------------------------------------------------

    @staticmethod
    def _override(row: Any) -> OverrideRecord:
        return OverrideRecord(
            id=row.id,
            sub=row.sub,
            item=row.item,
            action=row.action,
            condition_id=row.condition_id,
            until=aware(row.until) if row.until else None,
            by=row.by,
            reason=row.reason,
            at=row.at,
        )

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
        _check_item(course, item)
        if not reason.strip():
            raise _invalid("an override needs a reason (it is shown to other instructors)")
        if action == "extend" and until is None:
            raise _invalid("an extension needs the new deadline (until)")
        if action == "waive" and not condition_id:
            raise _invalid("a waiver needs the id of the condition it waives")
        if action not in ("unlock", "extend", "waive"):
            raise _invalid(f"unknown override action {action!r}: use unlock, extend or waive")
        person = self.enrolment(course, sub)
        now = self.clock()
        with self.store.session() as s:
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
                select(course_overrides).where(course_overrides.c.id == _new_id(result))
            ).one()
            record = self._override(row)
            events = evaluator.apply(_override_piece(record))
            actor = lti_actor(course.issuer, person.sub, name=person.name or None)
            queued = self._event_statements(course, actor, self.course_key(course), events)
            ids = self.outbox.emit(queued, session=s) if queued else []
        return record, RecordOutcome(events=events, statement_ids=tuple(ids))

    def overrides(self, course: Course, *, sub: str | None = None) -> list[OverrideRecord]:
        """Every override of the course (or of one learner), newest first."""
        query = select(course_overrides).where(course_overrides.c.course_id == course.id)
        if sub is not None:
            query = query.where(course_overrides.c.sub == sub)
        with self.store.session() as s:
            rows = s.execute(query.order_by(course_overrides.c.id.desc())).all()
        return [self._override(r) for r in rows]


def _override_piece(record: OverrideRecord) -> EvidencePiece:
    if record.action == "extend":
        assert record.until is not None
        return ExtensionGranted(item=record.item, until=record.until)
    return OverrideAdded(
        override=Override(
            item=record.item,
            action=record.action,
            condition_id=record.condition_id,
            by=record.by,
            at=record.at,
            reason=record.reason,
        )
    )


def _new_id(result: Any) -> int:
    key = cast(CursorResult[Any], result).inserted_primary_key
    assert key is not None
    return int(key[0])


def _check_item(course: Course, item: str | None) -> None:
    if item is None:
        return
    try:
        course.path.item(item)
    except KeyError:
        raise _invalid(
            f"the course path has no item {item!r}; pick one of "
            f"{', '.join(i.id for i in course.path.items())}",
            "courses.unknown_item",
        ) from None
