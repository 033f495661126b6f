"""The base of :class:`~blendkit.courses.CourseService`: a learner's evidence, read (replayed
through the gates) and recorded with its statements and grades in one transaction."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel
from sqlalchemy import Connection, insert, select
from sqlalchemy.orm import Session

from blendkit.courses._consequences import event_statements, milestone_statements, queue_grades
from blendkit.courses._models import Course, Enrolment, EvidenceRecord, RecordOutcome
from blendkit.courses._records import CourseRecords, StatementsFor, check_item
from blendkit.courses._reminder_hooks import announce_unlocked
from blendkit.courses._requests import LearnerRequest, remember, replayed
from blendkit.courses._segments import check_video_report
from blendkit.courses._timeline import Timeline, item_locked, moment, serialise_learner
from blendkit.progression import (
    Evidence,
    EvidencePiece,
    PathResult,
    Replay,
    TimedPiece,
    VideoWatched,
    evaluate,
    gated_item,
    replay,
    state_changes,
)
from blendkit.store._tables_courses import course_evidence
from blendkit.xapi import Statement, lti_actor

WhenLocked = Literal["refuse", "hold"]

__all__ = ["EvidenceFlow"]


class EvidenceFlow(CourseRecords):
    """Evidence operations of :class:`~blendkit.courses.CourseService`: what counts for a
    learner, and recording new evidence with what follows from it."""

    # --- evidence --------------------------------------------------------------------------

    def _replay(self, course: Course, timeline: Timeline, now: datetime) -> Replay:
        return replay(self.compiled(course), timeline.base, timeline.pieces, now)

    def evidence(
        self,
        course: Course,
        sub: str,
        *,
        person: Enrolment | None = None,
        now: datetime | None = None,
        timeline: Timeline | None = None,
    ) -> Evidence:
        """What counts for one learner at ``now`` (default: the clock): the stored records
        replayed in time order, without the pieces held because their item was locked (pass
        ``person`` when the caller already loaded the enrolment, ``timeline`` when it read the
        learner's records with a query of its own)."""
        if timeline is None:
            person = person if person is not None else self.enrolment(course, sub)
            with self.store.transaction() as s:
                timeline = Timeline.load(s, course.id, person)
        return self._replay(course, timeline, now or self.clock()).evidence

    def held_evidence(self, course: Course, *, sub: str | None = None) -> list[EvidenceRecord]:
        """Stored evidence that does not count because its item was locked for the learner
        when it happened (e.g. attendance of someone who joined without passing the quiz),
        oldest first: shown to instructors, who may grant an override and ask for the work
        again."""
        people = [self.enrolment(course, sub)] if sub is not None else self.enrolments(course)
        held: set[int] = set()
        now = self.clock()
        with self.store.transaction() as s:
            for person in people:
                timeline = Timeline.load(s, course.id, person)
                result = self._replay(course, timeline, now)
                held.update(r for n in result.held if (r := timeline.rows[n]) is not None)
        records = self.records(course, sub=sub) if held else []
        return [r for r in records if r.id in held]

    def learner_path(
        self,
        course: Course,
        sub: str,
        now: datetime | None = None,
        *,
        evidence: Evidence | None = None,
    ) -> PathResult:
        """Each item's state for the learner, with the reasons locked items are locked."""
        at = now or self.clock()
        known = evidence if evidence is not None else self.evidence(course, sub, now=at)
        return evaluate(self.compiled(course), known, at)

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
        when_locked: WhenLocked = "refuse",
        idempotency_key: str | None = None,
        person: Enrolment | None = None,
    ) -> RecordOutcome:
        """Store evidence for ``sub`` and queue what follows from it, in one transaction.

        Evidence about an item that is locked for the learner at the moment it happened never
        counts. ``when_locked="refuse"`` (the learner's own work: video progress, quiz,
        recording, done button) raises ``courses.item_locked`` and stores nothing;
        ``"hold"`` (evidence from elsewhere, e.g. a provider's attendance) stores it as held.

        With ``idempotency_key`` (the learner's form carried one) the evidence is recorded once:
        a second call with the key returns the first outcome, storing and queueing nothing
        (``courses.idempotency_key_reused`` when the key came with other evidence).

        Pass ``person`` (``sub``'s enrolment) when the caller already read it.
        """
        batch = [pieces] if isinstance(pieces, BaseModel) else list(pieces)
        request = None
        if idempotency_key is not None:
            content = [p.model_dump(mode="json", exclude={"at"}) for p in batch]
            request = LearnerRequest.of(idempotency_key, "evidence", [content, details])
        if person is None or person.sub != sub:
            person = self.enrolment(course, sub)
        if session is not None:  # the caller announces unlocks once its transaction commits
            return self._keyed_record(
                session, course, person, batch, details, statements, when_locked, request
            )
        with self.store.transaction() as s:
            outcome = self._keyed_record(
                s, course, person, batch, details, statements, when_locked, request
            )
        self.announce_unlocked(course, person, outcome)
        return outcome

    def video_progress(
        self,
        course: Course,
        sub: str,
        watched: VideoWatched,
        *,
        details: dict[str, Any] | None = None,
        statements: StatementsFor | None = None,
        idempotency_key: str | None = None,
    ) -> RecordOutcome:
        """The learner's own report on a path video (their player's, or a "watched it" button),
        recorded like :meth:`record` once :func:`check_video_report` allows it: for a video of
        known length, no more than the time since their first view of the item allows at 2x
        speed, as the recording player's reports. A locked item is refused first."""
        try:
            found = course.path.item(watched.item)
        except KeyError:
            found = None
        if found is not None and found.duration_minutes is not None:
            person = self.enrolment(course, sub)
            if self.learner_path(course, sub).state(found.id) == "locked":
                raise item_locked(found.id)
            opened = self.evidence(course, sub, person=person).views.get(found.id)
            check_video_report(found, watched.percent, opened, self.clock())
        return self.record(
            course, sub, watched, details=details, statements=statements,
            idempotency_key=idempotency_key,
        )  # fmt: skip

    def announce_unlocked(self, course: Course, person: Enrolment, outcome: RecordOutcome) -> None:
        """Schedule the unlock notice of every item that opened (sent once per item), when the
        service has ``notifications``; :meth:`record` does it itself unless given a session."""
        opened = outcome.unlocked()
        if self.notifications is None or self.reminder_links is None or not opened:
            return
        announce_unlocked(
            self.notifications, self.reminder_links, course, person, opened, now=self.clock()
        )

    def _keyed_record(  # noqa: PLR0917
        self,
        s: Connection | Session,
        course: Course,
        person: Enrolment,
        pieces: list[EvidencePiece],
        details: dict[str, Any] | None,
        statements: StatementsFor | None,
        when_locked: WhenLocked,
        request: LearnerRequest | None,
    ) -> RecordOutcome:
        if request is None:
            return self._record(s, course, person, pieces, details, statements, when_locked)
        serialise_learner(s, course.id, person.sub)
        earlier = replayed(s, course.id, person.sub, request)
        if earlier is not None:
            return RecordOutcome.model_validate_json(earlier)
        outcome = self._record(s, course, person, pieces, details, statements, when_locked)
        remember(s, course.id, person.sub, request, outcome.model_dump_json(), self.clock())
        return outcome

    def _record(  # noqa: PLR0917
        self,
        s: Connection | Session,
        course: Course,
        person: Enrolment,
        pieces: list[EvidencePiece],
        details: dict[str, Any] | None,
        statements: StatementsFor | None,
        when_locked: WhenLocked = "refuse",
    ) -> RecordOutcome:
        for piece in pieces:
            check_item(course, getattr(piece, "item", None))
        now = self.clock()
        timeline = Timeline.load(s, course.id, person)
        before = self._replay(course, timeline, now)
        extra = [TimedPiece(at=moment(piece, now), piece=piece) for piece in pieces]
        after = self._replay(course, timeline.with_pieces(extra), now)
        known = len(timeline.pieces)
        held_at = {n - known for n in after.held if n >= known}
        held = [pieces[n] for n in sorted(held_at)]
        if held and when_locked == "refuse":
            raise item_locked(gated_item(held[0]))
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
        events = state_changes(before, after, learner=person.sub, at=now)
        actor = lti_actor(course.issuer, person.sub, name=person.name or None)
        key = self.course_key(course)
        queued: list[Statement] = list(statements(actor, key)) if statements else []
        queued.extend(event_statements(self.statements, course, actor, key, events))
        queued.extend(milestone_statements(self.statements, course, actor, key, before, after, now))
        ids = self.outbox.emit(queued, session=s) if queued else []
        counted = [piece for n, piece in enumerate(pieces) if n not in held_at]
        grades = queue_grades(s, course, person, counted, after.evidence, now)
        return RecordOutcome(
            events=events,
            statement_ids=tuple(ids),
            grade_ids=grades,
            held=tuple(dict.fromkeys(i for p in held if (i := gated_item(p)) is not None)),
        )
