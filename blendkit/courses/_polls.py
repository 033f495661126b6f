"""Live polls of a course's sessions: the instructor creates, opens and closes them; learners
answer from the tool; results are aggregated per poll and kept per session. This module holds
the answers and the providers' reports; creating and opening polls and the session's change
counter are in ``_poll_sessions``, the aggregated results in ``_poll_results``.

One answer per learner and poll (a unique constraint): answering again while the poll is open
replaces the earlier answer, a closed poll refuses (``polls.closed``). The first answer of each
poll becomes progression evidence (:class:`~blendkit.progression.PollAnswered`) about the
session's path item, refused like any learner work while that item is locked; every answer
queues an xAPI ``answered`` statement in the same transaction. A per-session change counter
(``version``) lets pages poll cheaply: see :meth:`LivePolls.version`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import JsonValue
from sqlalchemy import bindparam, select, update

from blendkit.courses._models import Course, Enrolment, RecordOutcome
from blendkit.courses._poll_models import (
    ParticipationReport,
    Poll,
    as_poll,
    check_answer,
)
from blendkit.courses._poll_results import PollTallies
from blendkit.courses._poll_sessions import _input
from blendkit.errors import CoursesError, NotFound
from blendkit.progression import PollAnswered, QuestionRaised
from blendkit.sessions import (
    ParticipationSource,
    ProviderPollAnswer,
    ProviderQuestion,
    normalise_email,
)
from blendkit.sessions._answers import provider_answers
from blendkit.store._tables_courses import course_sessions
from blendkit.store._tables_polls import poll_answers, poll_polls
from blendkit.xapi import Agent, Statement, lti_actor, poll_answered

__all__ = ["AnswerOutcome", "LivePolls"]

# Built once: an answer runs each of them (no per-request statement compilation).
# An answer's one read: the poll with the item and title of its session.
_POLL_IN_SESSION = (
    select(
        poll_polls,
        course_sessions.c.item.label("session_item"),
        course_sessions.c.title.label("session_title"),
    )
    .join(
        course_sessions,
        (course_sessions.c.id == poll_polls.c.session_id)
        & (course_sessions.c.course_id == poll_polls.c.course_id),
    )
    .where(
        poll_polls.c.id == bindparam("poll_id"), poll_polls.c.course_id == bindparam("course_id")
    )
)
_REANSWER = (
    update(poll_answers)
    .where(
        poll_answers.c.poll_id == bindparam("answered_poll"), poll_answers.c.sub == bindparam("by")
    )
    .values(answer=bindparam("new_answer"), answered_at=bindparam("new_at"))
)


@dataclass(frozen=True)
class _SessionRef:
    """What an answer's statement names of the poll's session."""

    id: str
    item: str | None
    title: str


@dataclass(frozen=True)
class AnswerOutcome:
    """What answering did: whether an earlier answer was replaced, and the evidence outcome of
    a first answer (None when the answer was a replacement or the session has no path item)."""

    replaced: bool
    outcome: RecordOutcome | None


class LivePolls(PollTallies):
    """Polls of live sessions (see the module docstring for the answer rules)."""

    # --- answers ------------------------------------------------------------------------------

    def answer(
        self,
        course: Course,
        poll_id: str,
        sub: str,
        raw: JsonValue,
        *,
        session_id: str | None = None,
        item: str | None = None,
        person: Enrolment | None = None,
    ) -> AnswerOutcome:
        """Keep ``sub``'s answer (replacing theirs while the poll is open) and record the first
        one as evidence about the session's item, with its statement, in one transaction.

        ``session_id``: the session the learner's page shows the poll in; an answer to a poll of
        another session is refused (``polls.other_session``). ``item``: the path item the page
        is for; a session linked to another item is refused (``NotFound``). ``person``: the
        learner's enrolment when the caller already read it. One read (the poll with its
        session) checks all of it; the progression replay runs only for a learner's first
        answer to the poll.
        """
        now = self.courses.clock()
        with self.store.transaction() as s:
            key = {"poll_id": poll_id, "course_id": course.id}
            found = s.execute(_POLL_IN_SESSION, key).first()
            if found is None:
                raise NotFound(f"poll {poll_id!r} is not part of {course.title!r}")
            poll = as_poll(found)
            if session_id is not None and poll.session_id != session_id:
                raise _input("this poll belongs to another session", code="polls.other_session")
            if item is not None and found.session_item not in (None, item):
                raise NotFound(f"live session {poll.session_id!r} does not belong to {item!r}")
            if poll.state != "open":
                raise CoursesError(
                    "this poll is not open for answers (the instructor opens and closes it)",
                    code="polls.closed",
                    http_status=409,
                )
            value = check_answer(poll, raw)
            stored = json.dumps(value)
            first = s.execute(
                self._insert_answer,
                {"poll_id": poll.id, "course_id": course.id, "sub": sub, "answer": stored,
                 "answered_at": now},
            ).first()  # fmt: skip
            if first is None:
                s.execute(
                    _REANSWER,
                    {"answered_poll": poll.id, "by": sub, "new_answer": stored, "new_at": now},
                )
            session = _SessionRef(poll.session_id, found.session_item, found.session_title)
            outcome = None
            if first is not None and session.item is not None:
                outcome = self.courses.record(
                    course,
                    sub,
                    PollAnswered(item=session.item, poll=poll.id, at=now),
                    statements=lambda actor, _key: [
                        self._statement(course, poll, session, actor, value, now)
                    ],
                    session=s,
                    person=person,
                )
            else:
                who = person if person is not None else self.courses.enrolment(course, sub)
                actor = lti_actor(course.issuer, who.sub, name=who.name or None)
                statement = self._statement(course, poll, session, actor, value, now)
                self.courses.outbox.emit([statement], session=s)
            self.bump(s, course, poll.session_id)
        return AnswerOutcome(replaced=first is None, outcome=outcome)

    def _statement(  # noqa: PLR0917
        self, course: Course, poll: Poll, session: Any, actor: Agent, value: JsonValue, at: datetime
    ) -> Statement:
        listed = value if isinstance(value, list) else [value]
        response = "[,]".join(str(v) for v in listed)
        return poll_answered(
            self.courses.statements,
            actor,
            course_id=self.courses.course_key(course),
            session_id=session.id,
            session_name=session.title,
            poll_id=poll.id,
            question=poll.question,
            kind=poll.kind,
            options=poll.options,
            response=response,
            at=at,
        )

    # --- provider reports ---------------------------------------------------------------------

    def import_from(
        self, course: Course, session_id: str, provider: object
    ) -> ParticipationReport | None:
        """Fetch the session's poll and Q&A reports from ``provider`` and import them (None when
        the provider has no such reports, e.g. Teams: use the built-in polls there)."""
        if not isinstance(provider, ParticipationSource):
            return None
        with self.store.transaction() as s:
            row = s.execute(
                select(course_sessions).where(
                    course_sessions.c.id == session_id, course_sessions.c.course_id == course.id
                )
            ).first()
        if row is None:
            raise NotFound(f"live session {session_id!r} is not part of {course.title!r}")
        ref = row.occurrence_id
        if ref is None and row.series_id is not None:
            ref = row.start_utc.isoformat()
        with provider_answers(provider):
            answers, questions = provider.participation(row.provider_meeting_id, ref)
        return self.import_provider(course, session_id, answers, questions)

    def import_provider(
        self,
        course: Course,
        session_id: str,
        answers: Iterable[ProviderPollAnswer] = (),
        questions: Iterable[ProviderQuestion] = (),
    ) -> ParticipationReport:
        """Turn a provider's poll and Q&A reports into the same evidence as built-in polls:
        each enrolled learner matched by e-mail gets ``PollAnswered`` per provider poll and
        ``QuestionRaised`` per question; unmatched participants are reported, never guessed.
        Evidence from elsewhere is held (not refused) while the learner's item is locked."""
        with self.store.transaction() as s:
            session = self.session_row(s, course, session_id)
        if session.item is None:
            raise _input(
                "this session is not linked to a path item, so its poll and Q&A reports "
                "count for nothing; link it when scheduling",
                code="courses.session_without_item",
            )
        people = {
            email: p.sub
            for p in self.courses.enrolments(course)
            if (email := normalise_email(p.email)) is not None
        }
        pieces: dict[str, list[Any]] = {}
        unmatched: set[str] = set()
        matched = {"answers": 0, "questions": 0}
        for answer in answers:
            sub = people.get(normalise_email(answer.email) or "")
            if sub is None:
                unmatched.add(answer.email or "(no e-mail)")
                continue
            matched["answers"] += 1
            key = f"{session.id}:provider:{answer.poll_key}"
            pieces.setdefault(sub, []).append(
                PollAnswered(item=session.item, poll=key, at=answer.answered_at)
            )
        for question in questions:
            sub = people.get(normalise_email(question.email) or "")
            if sub is None:
                unmatched.add(question.email or "(no e-mail)")
                continue
            matched["questions"] += 1
            key = f"{session.id}:provider:{question.question[:200]}"
            pieces.setdefault(sub, []).append(
                QuestionRaised(item=session.item, question=key, action="asked")
            )
        for sub, batch in pieces.items():
            self.courses.record(course, sub, batch, when_locked="hold")
        return ParticipationReport(
            session_id=session.id,
            answers_matched=matched["answers"],
            questions_matched=matched["questions"],
            learners=tuple(sorted(pieces)),
            unmatched=tuple(sorted(unmatched)),
        )
