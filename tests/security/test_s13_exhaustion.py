"""Suspicion 13: one learner growing what every later request reads.

- Played segments: each report was capped at a thousand ranges, but the stored union was not.
  Tiny disjoint ranges (a few milliseconds each, so the played time stays plausible) sent
  report after report grew the learner's stored ranges, and the ``played-segments`` of every
  statement queued after, without a bound: each further report parsed, merged and wrote it all.
- The Q&A board: every question a learner posts is shown to every learner of the session (the
  page and its state polled every two seconds); one learner posting thousands of questions made
  each of those answers huge.

Both tests failed on the code before their fix.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from blendkit import BlendkitError
from blendkit.courses._qa import QUESTIONS_PER_LEARNER
from blendkit.courses._segments import MAX_SEGMENTS
from blendkit.store._tables_polls import poll_questions
from tests.courses.test_course_service import Clock, clock, service  # noqa: F401
from tests.courses.test_live_polls import world as board_world  # noqa: F401
from tests.courses.test_recordings import world  # noqa: F401


def _tiny_ranges(offset: float) -> list[list[float]]:
    """A thousand disjoint ranges of 2 ms across the first 50 s of the recording."""
    return [[offset + n * 0.05, offset + n * 0.05 + 0.002] for n in range(MAX_SEGMENTS)]


def test_the_stored_played_ranges_of_a_learner_stay_bounded(world, clock: Clock) -> None:  # noqa: F811
    course, recordings, rid, _ = world
    recordings.open_player(course, rid, "ana")
    clock.now += timedelta(seconds=30)
    first = recordings.report(course, rid, "ana", _tiny_ranges(0.0))
    assert len(first.segments) == MAX_SEGMENTS
    for offset in (0.01, 0.02, 0.03):
        with pytest.raises(BlendkitError) as refused:
            recordings.report(course, rid, "ana", _tiny_ranges(offset))
        assert refused.value.code == "recordings.segments_invalid"
    kept = recordings.view(course, rid, "ana")
    assert len(kept.segments) <= MAX_SEGMENTS
    # An ordinary report that joins ranges is still taken.
    joined = recordings.report(course, rid, "ana", [[0, 50]])
    assert joined.segments == ((0.0, 50.0),)


def test_one_learner_cannot_flood_a_sessions_board(board_world) -> None:  # noqa: F811
    courses, course, _live, session, _polls, board = board_world
    for n in range(QUESTIONS_PER_LEARNER):
        board.ask(course, session.id, "ben", f"Question {n}?")
    with pytest.raises(BlendkitError) as refused:
        board.ask(course, session.id, "ben", "One more?")
    assert refused.value.code == "polls.too_many_questions"
    assert refused.value.http_status == 429
    # Another learner still asks; the flood stopped at the cap.
    board.ask(course, session.id, "cy", "Mine?")
    with courses.store.transaction() as s:
        asked = s.execute(
            select(func.count()).select_from(poll_questions).where(poll_questions.c.sub == "ben")
        ).scalar_one()
    assert asked == QUESTIONS_PER_LEARNER
