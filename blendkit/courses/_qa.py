"""The Q&A board of a live session: learners ask and upvote (one vote per learner and
question), the instructor moderates (hide, answer, pin).

Anonymity is towards peers only: an anonymous question shows no name to other learners, but it
is still the asker's evidence (``asked_question``), their xAPI statement, and the instructor
sees who asked. Pages say so next to the checkbox.
"""

from __future__ import annotations

import uuid
from typing import Any, Literal

from sqlalchemy import func, select, update

from blendkit.courses._models import Course, RecordOutcome
from blendkit.courses._poll_models import BoardQuestion
from blendkit.courses._polls import LivePolls
from blendkit.errors import CourseInputInvalid, CoursesError, NotFound
from blendkit.progression import QuestionRaised
from blendkit.store._tables_courses import course_enrolments
from blendkit.store._tables_polls import poll_boards, poll_questions, poll_votes
from blendkit.xapi import Agent, Statement, question_posted

__all__ = ["QUESTIONS_PER_LEARNER", "ModerationAction", "QuestionBoard"]

ModerationAction = Literal["hide", "show", "pin", "unpin", "answer"]
QUESTION_CAP = 500
QUESTIONS_PER_LEARNER = 30
"""The most questions one learner keeps on one session's board: every learner's page shows the
whole board, so one learner must not be able to make it (and each poll of its state) unbounded."""


class QuestionBoard:
    """Questions and upvotes of live sessions, with moderation."""

    def __init__(self, polls: LivePolls) -> None:
        self.polls = polls
        self.courses = polls.courses
        self.store = polls.store

    def ask(
        self, course: Course, session_id: str, sub: str, text: str, *, anonymous: bool = False
    ) -> tuple[str, RecordOutcome | None]:
        """Post a question; it is evidence about the session's item (refused while locked)."""
        text = " ".join(text.split())
        if not text:
            raise _input("write your question before sending it")
        if len(text) > QUESTION_CAP:
            raise _input(f"a question is at most {QUESTION_CAP} characters")
        actor = self.polls.actor(course, sub)
        now = self.courses.clock()
        question_id = uuid.uuid4().hex[:16]
        with self.store.transaction() as s:
            session = self.polls.session_row(s, course, session_id)
            self._check_open(s, session_id)
            self._check_room(s, course, session_id, sub)
            s.execute(
                poll_questions.insert().values(
                    id=question_id, course_id=course.id, session_id=session_id, sub=sub,
                    text=text, anonymous=anonymous, hidden=False, pinned=False, answer=None,
                    upvotes=0, asked_at=now,
                )
            )  # fmt: skip
            statement = self._statement(course, session, actor, "asked", question_id, text, now)
            outcome = self._evidence(course, sub, session, question_id, "asked", statement, s, now)
            self.polls.bump(s, course, session_id)
        return question_id, outcome

    def upvote(self, course: Course, question_id: str, sub: str) -> bool:
        """Add ``sub``'s vote (True), or do nothing when they voted already (False). Learners
        cannot upvote their own or a hidden question."""
        actor = self.polls.actor(course, sub)
        now = self.courses.clock()
        with self.store.transaction() as s:
            row = self._question(s, course, question_id)
            if row.hidden:
                raise NotFound(f"question {question_id!r} is not on the board")
            if row.sub == sub:
                raise _input("you cannot upvote your own question", code="polls.own_question")
            self._check_open(s, row.session_id)
            added = s.execute(
                self.store.insert_ignoring_conflicts(poll_votes, "question_id", "sub")
                .values(question_id=row.id, course_id=course.id, sub=sub, voted_at=now)
                .returning(poll_votes.c.sub)
            ).first()
            if added is None:
                return False
            s.execute(
                update(poll_questions)
                .where(poll_questions.c.id == row.id)
                .values(upvotes=poll_questions.c.upvotes + 1)
            )
            session = self.polls.session_row(s, course, row.session_id)
            statement = self._statement(course, session, actor, "upvoted", row.id, None, now)
            self._evidence(course, sub, session, row.id, "upvoted", statement, s, now)
            self.polls.bump(s, course, row.session_id)
        return True

    def moderate(self, course: Course, question_id: str, action: str, answer: str = "") -> None:
        """Hide or show, pin or unpin, or answer a question (staff only: the app checks)."""
        changes: dict[str, Any] = {
            "hide": {"hidden": True},
            "show": {"hidden": False},
            "pin": {"pinned": True},
            "unpin": {"pinned": False},
        }.get(action, {})
        if action == "answer":
            text = answer.strip()
            if not text or len(text) > 2000:
                raise _input("an answer is 1 to 2000 characters")
            changes = {"answer": text}
        if not changes:
            raise _input(f"moderation is hide, show, pin, unpin or answer, not {action!r}")
        with self.store.transaction() as s:
            row = self._question(s, course, question_id)
            s.execute(update(poll_questions).where(poll_questions.c.id == row.id).values(**changes))
            self.polls.bump(s, course, row.session_id)

    def set_open(self, course: Course, session_id: str, is_open: bool) -> None:
        """Open or close the board for new questions and votes."""
        with self.store.transaction() as s:
            self.polls.session_row(s, course, session_id)
            self.polls.bump(s, course, session_id)
            s.execute(
                update(poll_boards)
                .where(poll_boards.c.session_id == session_id)
                .values(qa_open=is_open)
            )

    def is_open(self, course: Course, session_id: str) -> bool:
        """Whether the board takes questions (a board never used is open)."""
        with self.store.transaction() as s:
            found = s.execute(
                select(poll_boards.c.qa_open).where(
                    poll_boards.c.session_id == session_id, poll_boards.c.course_id == course.id
                )
            ).scalar()
        return found is None or bool(found)

    def questions(
        self, course: Course, session_id: str, *, viewer: str, staff: bool = False
    ) -> list[BoardQuestion]:
        """The board as ``viewer`` sees it: pinned first, then by votes; hidden questions only
        for staff (and their own asker); names of anonymous questions only for staff."""
        with self.store.transaction() as s:
            rows = s.execute(
                select(poll_questions).where(
                    poll_questions.c.session_id == session_id,
                    poll_questions.c.course_id == course.id,
                )
            ).all()
            voted = set(
                s.execute(
                    select(poll_votes.c.question_id)
                    .join(poll_questions, poll_questions.c.id == poll_votes.c.question_id)
                    .where(poll_questions.c.session_id == session_id, poll_votes.c.sub == viewer)
                ).scalars()
            )
            shown = [r for r in rows if staff or not r.hidden or r.sub == viewer]
            askers = {r.sub for r in shown if staff or not r.anonymous or r.sub == viewer}
            names = dict(
                s.execute(
                    select(course_enrolments.c.sub, course_enrolments.c.name).where(
                        course_enrolments.c.course_id == course.id,
                        course_enrolments.c.sub.in_(sorted(askers)),
                    )
                ).all()
                if askers
                else []
            )
        shown.sort(key=lambda r: (not r.pinned, -r.upvotes, r.asked_at, r.id))
        return [
            BoardQuestion(
                id=r.id, text=r.text,
                author=(names.get(r.sub) or r.sub) if staff or not r.anonymous or r.sub == viewer
                else None,
                anonymous=r.anonymous, mine=r.sub == viewer, upvotes=r.upvotes,
                upvoted=r.id in voted, hidden=r.hidden, pinned=r.pinned, answer=r.answer,
                asked_at=r.asked_at,
            )
            for r in shown
        ]  # fmt: skip

    # --- parts ----------------------------------------------------------------------------------

    def _question(self, s: Any, course: Course, question_id: str) -> Any:
        row = s.execute(
            select(poll_questions).where(
                poll_questions.c.id == question_id, poll_questions.c.course_id == course.id
            )
        ).first()
        if row is None:
            raise NotFound(f"question {question_id!r} is not part of {course.title!r}")
        return row

    def _check_room(self, s: Any, course: Course, session_id: str, sub: str) -> None:
        asked = s.execute(
            select(func.count())
            .select_from(poll_questions)
            .where(
                poll_questions.c.session_id == session_id,
                poll_questions.c.course_id == course.id,
                poll_questions.c.sub == sub,
            )
        ).scalar_one()
        if asked >= QUESTIONS_PER_LEARNER:
            raise CoursesError(
                f"you have asked {asked} questions in this session, the most one person may; "
                "wait for answers, or ask the instructor directly",
                code="polls.too_many_questions",
                http_status=429,
            )

    def _check_open(self, s: Any, session_id: str) -> None:
        found = s.execute(
            select(poll_boards.c.qa_open).where(poll_boards.c.session_id == session_id)
        ).scalar()
        if found is not None and not found:
            raise CoursesError(
                "the instructor closed this session's questions board",
                code="polls.board_closed",
                http_status=409,
            )

    def _statement(  # noqa: PLR0917
        self,
        course: Course,
        session: Any,
        actor: Agent,
        action: Literal["asked", "upvoted"],
        question_id: str,
        text: str | None,
        at: Any,
    ) -> Statement:
        return question_posted(
            self.courses.statements, actor, action=action,
            course_id=self.courses.course_key(course), session_id=session.id,
            session_name=session.title, question_id=question_id, text=text, at=at,
        )  # fmt: skip

    def _evidence(  # noqa: PLR0917
        self,
        course: Course,
        sub: str,
        session: Any,
        question_id: str,
        action: Literal["asked", "upvoted"],
        statement: Statement,
        s: Any,
        at: Any,
    ) -> RecordOutcome | None:
        if session.item is None:
            self.courses.outbox.emit([statement], session=s)
            return None
        return self.courses.record(
            course,
            sub,
            QuestionRaised(item=session.item, question=question_id, action=action, at=at),
            statements=lambda _actor, _key: [statement],
            session=s,
        )


def _input(message: str, code: str = "polls.invalid") -> CourseInputInvalid:
    return CourseInputInvalid(message, code=code, http_status=400)
