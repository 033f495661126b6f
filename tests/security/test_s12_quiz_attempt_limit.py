"""Suspicion 12: the quiz attempt limit was check-then-insert, so concurrent submissions of one
learner could all pass the check before any of them stored its attempt.

Every submission here waits at the service's clock until all the others got there too (or the
wait is given up because one submission holds the others back). Without serialisation all of
them pass the attempt check together and all of them are stored; with it the limit holds.
"""

from __future__ import annotations

import contextlib
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from blendkit import BlendkitError, Store
from blendkit.courses import CourseService, Enrolment, Question, Quiz
from blendkit.lti import Tenant
from blendkit.progression import VideoWatched, flipped_classroom
from blendkit.xapi import Outbox, StatementFactory

START = datetime(2030, 3, 4, 16, 0, tzinfo=UTC)
SUBMISSIONS = 6
QUIZ = Quiz(
    title="Readiness",
    pass_mark=60,
    max_attempts=2,
    questions=(Question(id="q1", prompt="2+2?", choices=("3", "4"), correct=1),),
)


class MeetingClock:
    """A clock at which concurrent callers meet: each call waits until every submission made a
    call too, so check-then-insert sequences interleave as badly as they can. A submission
    that holds the others back breaks the meeting (after a while) and then nobody waits."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        self.meeting: threading.Barrier | None = None

    def __call__(self) -> datetime:
        if self.meeting is not None:
            with contextlib.suppress(threading.BrokenBarrierError):
                self.meeting.wait()
        return self.now


def test_concurrent_submissions_never_exceed_the_attempt_limit(store: Store) -> None:
    clock = MeetingClock(START - timedelta(days=3))
    courses = CourseService(
        store, outbox=Outbox(store), statements=StatementFactory("https://tool.example.edu"),
        clock=clock,
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

    def submit(_: int) -> str:
        try:
            courses.submit_quiz(course, "ana", "readiness-quiz", {"q1": "0"})
        except BlendkitError as exc:
            return exc.code
        return "stored"

    clock.meeting = threading.Barrier(SUBMISSIONS, timeout=3)
    with ThreadPoolExecutor(SUBMISSIONS) as pool:
        outcomes = sorted(pool.map(submit, range(SUBMISSIONS)))
    clock.meeting = None

    assert len(courses.records(course, sub="ana", item="readiness-quiz", kind="score")) == 2
    assert outcomes == ["courses.no_attempts_left"] * (SUBMISSIONS - 2) + ["stored"] * 2
    assert courses.attempts_left(course, "ana", "readiness-quiz") == 0
