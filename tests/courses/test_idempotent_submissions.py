"""Issue 18, finding 4: a quiz POST whose answer was lost after commit spent an attempt, and the
resubmitted form spent the next one. A submission that carries an idempotency key (rendered with
the form) is recorded once: a second call with the same key answers with the first result,
records nothing and queues no statement; the same key with other answers is refused."""

from __future__ import annotations

import contextlib
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from blendkit import BlendkitError, Store
from blendkit.courses import Course, CourseService, Enrolment, Question, Quiz
from blendkit.lti import Tenant
from blendkit.progression import VideoWatched, flipped_classroom
from blendkit.store._tables_xapi import xapi_outbox
from blendkit.xapi import Outbox, StatementFactory

START = datetime(2030, 3, 4, 16, 0, tzinfo=UTC)
QUIZ = Quiz(
    title="Readiness",
    pass_mark=60,
    max_attempts=2,
    questions=(
        Question(id="q1", prompt="2+2?", choices=("3", "4"), correct=1),
        Question(id="q2", prompt="3+3?", choices=("6", "7"), correct=0),
    ),
)
KEY = "k" * 8 + "0123456789abcdef0123"


class MeetingClock:
    """Concurrent callers meet at the clock, so their transactions interleave as badly as they
    can (a caller held back by a lock breaks the meeting after a while)."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.meeting: threading.Barrier | None = None

    def __call__(self) -> datetime:
        if self.meeting is not None:
            with contextlib.suppress(threading.BrokenBarrierError):
                self.meeting.wait()
        return self.now


def _course(store: Store, clock: MeetingClock | None = None) -> tuple[CourseService, Course]:
    courses = CourseService(
        store, outbox=Outbox(store), statements=StatementFactory("https://tool.example.edu"),
        clock=clock or (lambda: START - timedelta(days=3)),
    )  # fmt: skip
    course = courses.ensure_course(
        Tenant(issuer="https://lms.example.edu", client_id="c1", deployment_id="d1"),
        "bio-101",
        title="Biology",
        path=flipped_classroom(START),
    )
    courses.set_quiz(course, "readiness-quiz", QUIZ)
    courses.enrol(course, Enrolment(sub="ana", name="Ana"))
    courses.record(course, "ana", VideoWatched(item="prework-video", percent=100))
    return courses, course


def _statements(store: Store) -> int:
    with store.transaction() as s:
        return int(s.execute(select(func.count()).select_from(xapi_outbox)).scalar_one())


def test_a_replayed_submission_returns_the_first_result_and_spends_no_attempt(
    store: Store,
) -> None:
    courses, course = _course(store)
    first, outcome = courses.submit_quiz(
        course, "ana", "readiness-quiz", {"q1": "1", "q2": "0"}, idempotency_key=KEY
    )
    queued = _statements(store)
    again, replayed = courses.submit_quiz(
        course, "ana", "readiness-quiz", {"q1": "1", "q2": "0"}, idempotency_key=KEY
    )
    assert again == first
    assert replayed == outcome
    assert _statements(store) == queued
    assert len(courses.records(course, sub="ana", item="readiness-quiz", kind="score")) == 1
    assert courses.attempts_left(course, "ana", "readiness-quiz") == 1


def test_the_replay_counts_as_the_same_attempt_at_the_limit(store: Store) -> None:
    courses, course = _course(store)
    courses.submit_quiz(course, "ana", "readiness-quiz", {"q1": "0", "q2": "1"})
    last, _ = courses.submit_quiz(
        course, "ana", "readiness-quiz", {"q1": "0", "q2": "0"}, idempotency_key=KEY
    )
    assert courses.attempts_left(course, "ana", "readiness-quiz") == 0
    # the answer to the last attempt was lost: the resubmitted form still gets its result
    again, _ = courses.submit_quiz(
        course, "ana", "readiness-quiz", {"q1": "0", "q2": "0"}, idempotency_key=KEY
    )
    assert again == last
    with pytest.raises(BlendkitError) as refused:
        courses.submit_quiz(course, "ana", "readiness-quiz", {"q1": "1", "q2": "0"})
    assert refused.value.code == "courses.no_attempts_left"


def test_the_same_key_with_other_answers_is_refused(store: Store) -> None:
    courses, course = _course(store)
    courses.submit_quiz(
        course, "ana", "readiness-quiz", {"q1": "0", "q2": "1"}, idempotency_key=KEY
    )
    with pytest.raises(BlendkitError) as reused:
        courses.submit_quiz(
            course, "ana", "readiness-quiz", {"q1": "1", "q2": "0"}, idempotency_key=KEY
        )
    assert reused.value.code == "courses.idempotency_key_reused"
    assert reused.value.http_status == 409
    assert courses.attempts_left(course, "ana", "readiness-quiz") == 1


def test_keys_belong_to_one_learner_and_are_not_shared(store: Store) -> None:
    courses, course = _course(store)
    courses.enrol(course, Enrolment(sub="ben", name="Ben"))
    courses.record(course, "ben", VideoWatched(item="prework-video", percent=100))
    ana, _ = courses.submit_quiz(
        course, "ana", "readiness-quiz", {"q1": "1", "q2": "0"}, idempotency_key=KEY
    )
    ben, _ = courses.submit_quiz(
        course, "ben", "readiness-quiz", {"q1": "0", "q2": "1"}, idempotency_key=KEY
    )
    assert (ana.score, ben.score) == (100, 0)
    assert courses.attempts_left(course, "ben", "readiness-quiz") == 1


@pytest.mark.parametrize("bad", ["", "short", "x" * 200, "spaces are not allowed here!", "é" * 20])
def test_malformed_keys_are_refused(store: Store, bad: str) -> None:
    courses, course = _course(store)
    with pytest.raises(BlendkitError) as refused:
        courses.submit_quiz(
            course, "ana", "readiness-quiz", {"q1": "1", "q2": "0"}, idempotency_key=bad
        )
    assert refused.value.code == "courses.bad_idempotency_key"
    assert courses.attempts_left(course, "ana", "readiness-quiz") == 2


def test_concurrent_submissions_with_one_key_record_one_attempt(store: Store) -> None:
    clock = MeetingClock(START - timedelta(days=3))
    courses, course = _course(store, clock)
    runs = 4

    def submit(_: int) -> float:
        result, _outcome = courses.submit_quiz(
            course, "ana", "readiness-quiz", {"q1": "1", "q2": "0"}, idempotency_key=KEY
        )
        return result.score

    clock.meeting = threading.Barrier(runs, timeout=3)
    with ThreadPoolExecutor(runs) as pool:
        scores = list(pool.map(submit, range(runs)))
    clock.meeting = None
    assert scores == [100.0] * runs
    assert len(courses.records(course, sub="ana", item="readiness-quiz", kind="score")) == 1
    assert courses.attempts_left(course, "ana", "readiness-quiz") == 1


def test_other_learner_forms_are_recorded_once_per_key(store: Store) -> None:
    courses, course = _course(store)
    first = courses.record(
        course, "ana", VideoWatched(item="prework-video", percent=40), idempotency_key=KEY
    )
    queued = _statements(store)
    rows = len(courses.records(course, sub="ana"))
    again = courses.record(
        course, "ana", VideoWatched(item="prework-video", percent=40), idempotency_key=KEY
    )
    assert again == first
    assert (_statements(store), len(courses.records(course, sub="ana"))) == (queued, rows)
    with pytest.raises(BlendkitError) as reused:
        courses.record(
            course, "ana", VideoWatched(item="prework-video", percent=50), idempotency_key=KEY
        )
    assert reused.value.code == "courses.idempotency_key_reused"
