"""The base of :class:`~blendkit.courses.LivePolls`: a session's polls as the instructor creates,
opens and closes them, and the session's change counter that pages poll.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, bindparam, select, update

from blendkit.courses._models import Course
from blendkit.courses._poll_models import TEXT_CAP, Poll, PollKind, PollResults, as_poll
from blendkit.courses._service import CourseService
from blendkit.errors import CourseInputInvalid, NotFound
from blendkit.store._tables_courses import course_sessions
from blendkit.store._tables_polls import poll_answers, poll_boards, poll_polls
from blendkit.xapi import Agent, lti_actor

__all__ = ["SessionPolls"]

# Built once: answers and idle page polls run them (no per-request statement compilation).
_SESSION = select(course_sessions.c.id, course_sessions.c.item, course_sessions.c.title).where(
    course_sessions.c.id == bindparam("session_id"),
    course_sessions.c.course_id == bindparam("course_id"),
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


class SessionPolls:
    """Polls of live sessions and their change counter (the answers: :class:`LivePolls`)."""

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


def _input(message: str, code: str = "polls.invalid") -> CourseInputInvalid:
    return CourseInputInvalid(message, code=code, http_status=400)
