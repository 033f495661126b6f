"""Live polls of a course's sessions: the instructor creates, opens and closes them; learners
answer from the tool; results are aggregated per poll and kept per session.

One answer per learner and poll (a unique constraint): answering again while the poll is open
replaces the earlier answer, a closed poll refuses (``polls.closed``). The first answer of each
poll becomes progression evidence (:class:`~blendkit.progression.PollAnswered`) about the
session's path item, refused like any learner work while that item is locked; every answer
queues an xAPI ``answered`` statement in the same transaction. A per-session change counter
(``version``) lets pages poll cheaply: see :meth:`LivePolls.version`.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import JsonValue
from sqlalchemy import Connection, bindparam, func, select, update

from blendkit.courses._models import Course, Enrolment, RecordOutcome
from blendkit.courses._poll_models import (
    TEXT_CAP,
    TEXTS_SHOWN,
    ParticipationReport,
    Poll,
    PollKind,
    PollResults,
    as_poll,
    check_answer,
    tally,
)
from blendkit.courses._service import CourseService
from blendkit.errors import CourseInputInvalid, CoursesError, NotFound
from blendkit.progression import PollAnswered, QuestionRaised
from blendkit.sessions import (
    ParticipationSource,
    ProviderPollAnswer,
    ProviderQuestion,
    normalise_email,
)
from blendkit.sessions._answers import provider_answers
from blendkit.store._tables_courses import course_sessions
from blendkit.store._tables_polls import poll_answers, poll_boards, poll_polls
from blendkit.xapi import Agent, Statement, lti_actor, poll_answered

__all__ = ["AnswerOutcome", "LivePolls"]

# Built once: an answer runs each of them (no per-request statement compilation).
_SESSION = select(course_sessions.c.id, course_sessions.c.item, course_sessions.c.title).where(
    course_sessions.c.id == bindparam("session_id"),
    course_sessions.c.course_id == bindparam("course_id"),
)
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
_SESSION_VERSION = (
    select(course_sessions.c.item, poll_boards.c.version)
    .select_from(
        course_sessions.outerjoin(
            poll_boards,
            (poll_boards.c.session_id == course_sessions.c.id)
            & (poll_boards.c.course_id == course_sessions.c.course_id),
        )
    )
    .where(
        course_sessions.c.id == bindparam("session_id"),
        course_sessions.c.course_id == bindparam("course_id"),
    )
)
_BUMP = (
    update(poll_boards)
    .where(poll_boards.c.session_id == bindparam("board"))
    .values(version=poll_boards.c.version + 1)
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


class LivePolls:
    """Polls of live sessions (see the module docstring for the answer rules)."""

    def __init__(self, courses: CourseService) -> None:
        self.courses = courses
        self.store = courses.store
        self._insert_board = self.store.insert_ignoring_conflicts(poll_boards, "session_id")
        # Aggregated results per (course, session), valid while the session's counter stands:
        # every open page reads them, and one aggregation per change and process is enough.
        self._results: dict[tuple[int, str], tuple[int, list[Poll], list[PollResults]]] = {}
        self._insert_answer = self.store.insert_ignoring_conflicts(
            poll_answers, "poll_id", "sub"
        ).returning(poll_answers.c.id)

    # --- sessions and the change counter ------------------------------------------------------

    def session_row(self, s: Connection, course: Course, session_id: str) -> Any:
        """The session's row (``NotFound`` unless it belongs to ``course``)."""
        row = s.execute(_SESSION, {"session_id": session_id, "course_id": course.id}).first()
        if row is None:
            raise NotFound(f"live session {session_id!r} is not part of {course.title!r}")
        return row

    def bump(self, s: Connection, course: Course, session_id: str) -> None:
        """Count one change of the session's polls or board (run last: the row lock is held
        until commit, so concurrent answers queue only for this one short update)."""
        if s.execute(_BUMP, {"board": session_id}).rowcount:
            return
        s.execute(
            self._insert_board,
            {"session_id": session_id, "course_id": course.id, "version": 1, "qa_open": True},
        )
        s.execute(_BUMP, {"board": session_id})  # a board made meanwhile by another request

    def version(self, course: Course, session_id: str) -> int:
        """The session's change counter: equal numbers mean nothing changed (0: never used).
        One primary-key read, for ``ETag``/``If-None-Match`` polling."""
        with self.store.transaction() as s:
            found = s.execute(
                select(poll_boards.c.version).where(
                    poll_boards.c.session_id == session_id, poll_boards.c.course_id == course.id
                )
            ).scalar()
        return int(found or 0)

    def session_version(self, course: Course, session_id: str, *, item: str | None = None) -> int:
        """:meth:`version`, checking in the same read that the session belongs to ``course``
        (and, given ``item``, to that path item or to none): ``NotFound`` otherwise. The one
        read of a page's idle poll (``If-None-Match`` answered ``304``)."""
        with self.store.transaction() as s:
            found = s.execute(_SESSION_VERSION, {"session_id": session_id, "course_id": course.id})
            row = found.first()
        if row is None:
            raise NotFound(f"live session {session_id!r} is not part of {course.title!r}")
        if item is not None and row.item not in (None, item):
            raise NotFound(f"live session {session_id!r} does not belong to {item!r}")
        return int(row.version or 0)

    def actor(self, course: Course, sub: str) -> Agent:
        """The learner as an xAPI actor."""
        person = self.courses.enrolment(course, sub)
        return lti_actor(course.issuer, person.sub, name=person.name or None)

    # --- polls --------------------------------------------------------------------------------

    def create(
        self,
        course: Course,
        session_id: str,
        *,
        kind: PollKind,
        question: str,
        options: Sequence[str] = (),
        max_length: int = TEXT_CAP,
    ) -> Poll:
        """A new poll in draft (learners see it once it is opened)."""
        question = question.strip()
        labels = tuple(o.strip() for o in options if o.strip())
        if not question or len(question) > 500:
            raise _input("a poll needs a question of 1 to 500 characters")
        if kind in ("single", "multi") and not 2 <= len(labels) <= 10:
            raise _input("a choice poll needs 2 to 10 options, one per line")
        if kind in ("rating", "text"):
            labels = ()
        if kind == "text" and not 1 <= max_length <= 1000:
            raise _input("the length cap of a text poll is 1 to 1000 characters")
        if kind not in ("single", "multi", "rating", "text"):
            raise _input(f"poll kind {kind!r} is not single, multi, rating or text")
        poll_id = uuid.uuid4().hex[:16]
        with self.store.transaction() as s:
            self.session_row(s, course, session_id)
            s.execute(
                poll_polls.insert().values(
                    id=poll_id, course_id=course.id, session_id=session_id, kind=kind,
                    question=question, options=json.dumps(labels), max_length=max_length,
                    state="draft", created_at=self.courses.clock(),
                )
            )  # fmt: skip
            self.bump(s, course, session_id)
        return self.poll(course, poll_id)

    def set_state(self, course: Course, poll_id: str, state: str) -> Poll:
        """Open a draft (or reopen a closed poll), or close an open one."""
        if state not in ("open", "closed"):
            raise _input(f"a poll is opened or closed, not {state!r}")
        now = self.courses.clock()
        with self.store.transaction() as s:
            poll = self._poll(s, course, poll_id)
            stamp = {"opened_at": now} if state == "open" else {"closed_at": now}
            s.execute(
                update(poll_polls).where(poll_polls.c.id == poll.id).values(state=state, **stamp)
            )
            self.bump(s, course, poll.session_id)
        return self.poll(course, poll_id)

    def poll(self, course: Course, poll_id: str) -> Poll:
        """One poll of the course (``NotFound`` otherwise)."""
        with self.store.transaction() as s:
            return self._poll(s, course, poll_id)

    def polls(self, course: Course, session_id: str) -> list[Poll]:
        """The session's polls, oldest first."""
        with self.store.transaction() as s:
            return self._polls(s, course, session_id)

    def _polls(self, s: Connection, course: Course, session_id: str) -> list[Poll]:
        rows = s.execute(
            select(poll_polls)
            .where(poll_polls.c.session_id == session_id, poll_polls.c.course_id == course.id)
            .order_by(poll_polls.c.created_at, poll_polls.c.id)
        ).all()
        return [as_poll(r) for r in rows]

    def _poll(self, s: Connection, course: Course, poll_id: str) -> Poll:
        row = s.execute(
            select(poll_polls).where(
                poll_polls.c.id == poll_id, poll_polls.c.course_id == course.id
            )
        ).first()
        if row is None:
            raise NotFound(f"poll {poll_id!r} is not part of {course.title!r}")
        return as_poll(row)

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

    def my_answers(self, course: Course, session_id: str, sub: str) -> dict[str, JsonValue]:
        """``sub``'s current answer per poll of the session."""
        with self.store.transaction() as s:
            rows = s.execute(
                select(poll_answers.c.poll_id, poll_answers.c.answer)
                .join(poll_polls, poll_polls.c.id == poll_answers.c.poll_id)
                .where(
                    poll_polls.c.session_id == session_id,
                    poll_polls.c.course_id == course.id,
                    poll_answers.c.sub == sub,
                )
            ).all()
        return {r.poll_id: json.loads(r.answer) for r in rows}

    def answer_count(self, course: Course, poll_id: str) -> int:
        """How many learners' answers the poll keeps."""
        return self.results(course, poll_id).respondents

    def results(self, course: Course, poll_id: str) -> PollResults:
        """The poll's answers aggregated."""
        with self.store.transaction() as s:
            poll = self._poll(s, course, poll_id)
            return self._tally(s, [poll])[0]

    def session_results(
        self, course: Course, session_id: str, *, version: int | None = None
    ) -> list[PollResults]:
        """Results of every poll of the session, in the order of :meth:`polls` (see
        :meth:`session_view`)."""
        return self.session_view(course, session_id, version=version)[1]

    def session_view(
        self, course: Course, session_id: str, *, version: int | None = None
    ) -> tuple[list[Poll], list[PollResults]]:
        """The session's polls (as :meth:`polls`) and their results, aggregated once per
        change of the session's counter in this process: every open page reads them, and one
        aggregation per change is enough. Pass ``version`` when the caller just read it (for
        an ``ETag``). Counts come from one ``GROUP BY`` over the answers of the session's polls
        (the unique index on poll and learner serves it), not from the answers themselves."""
        key = (course.id, session_id)
        if version is None:
            version = self.version(course, session_id)
        cached = self._results.get(key)
        if cached is not None and cached[0] == version:
            return cached[1], cached[2]
        with self.store.transaction() as s:
            polls = self._polls(s, course, session_id)
            results = self._tally(s, polls)
        if len(self._results) > 512:
            self._results.clear()
        self._results[key] = (version, polls, results)
        return polls, results

    def _tally(self, s: Connection, polls: list[Poll]) -> list[PollResults]:
        """Each poll's results: one grouped count for all of them, and the newest answers of
        each text poll."""
        if not polls:
            return []
        counted: dict[str, list[tuple[JsonValue, int]]] = {p.id: [] for p in polls}
        groups = s.execute(
            select(poll_answers.c.poll_id, poll_answers.c.answer, func.count())
            .where(poll_answers.c.poll_id.in_(list(counted)))
            .group_by(poll_answers.c.poll_id, poll_answers.c.answer)
        ).all()
        for poll_id, answer, n in groups:
            counted[poll_id].append((json.loads(answer), int(n)))
        results = []
        for poll in polls:
            latest: list[JsonValue] = []
            if poll.kind == "text" and counted[poll.id]:
                latest = [
                    json.loads(r.answer)
                    for r in s.execute(
                        select(poll_answers.c.answer)
                        .where(poll_answers.c.poll_id == poll.id)
                        .order_by(poll_answers.c.answered_at.desc(), poll_answers.c.id.desc())
                        .limit(TEXTS_SHOWN)
                    )
                ]
            results.append(tally(poll, counted[poll.id], latest))
        return results

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


def _input(message: str, code: str = "polls.invalid") -> CourseInputInvalid:
    return CourseInputInvalid(message, code=code, http_status=400)
