"""Reads of a session's poll answers: a learner's own, and every poll's answers aggregated
(once per change of the session's counter in a process).
"""

from __future__ import annotations

import json

from pydantic import JsonValue
from sqlalchemy import Connection, func, select

from blendkit.courses._models import Course
from blendkit.courses._poll_models import TEXTS_SHOWN, Poll, PollResults, tally
from blendkit.courses._poll_sessions import SessionPolls
from blendkit.store._tables_polls import poll_answers, poll_polls

__all__ = ["PollTallies"]


class PollTallies(SessionPolls):
    """The answers of a session's polls as learners and instructors read them."""

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
