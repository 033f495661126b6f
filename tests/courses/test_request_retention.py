"""Idempotency keys of learner forms are kept for ``[courses] keep_request_days`` and then
deleted in bounded batches through an index on ``recorded_at`` (the ledger would otherwise grow
by one row per keyed form forever)."""

from __future__ import annotations

import signal
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, text

from blendkit import Store
from blendkit.cli import cli
from blendkit.config import Settings
from blendkit.courses import (
    Course,
    CourseService,
    GradePassback,
    GradeReport,
    prune_learner_requests,
)
from blendkit.progression import VideoWatched
from blendkit.store._tables_courses import course_requests
from tests.query_plans import full_scans, plans, table_queries

from .test_idempotent_submissions import _course

START = datetime(2030, 3, 4, 16, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = START - timedelta(days=60)

    def __call__(self) -> datetime:
        return self.now


def _send(courses: CourseService, course: Course, key: str, percent: int) -> None:
    courses.record(
        course, "ana", VideoWatched(item="prework-video", percent=percent), idempotency_key=key
    )


def _keys(store: Store) -> set[str]:
    with store.transaction() as s:
        return set(s.execute(select(course_requests.c.key)).scalars())


def test_keys_older_than_the_window_are_deleted_in_batches_and_newer_ones_kept(
    store: Store,
) -> None:
    clock = Clock()
    courses, course = _course(store, clock)  # type: ignore[arg-type]
    old = [f"old-key-{n:02d}-0123456789" for n in range(25)]
    for n, key in enumerate(old):  # 60 days ago
        _send(courses, course, key, n + 1)
    clock.now = START - timedelta(days=2)
    recent = "recent-key-0123456789"
    _send(courses, course, recent, 50)

    deleted = prune_learner_requests(store, timedelta(days=7), now=START, batch_size=10)

    assert deleted == 25
    assert _keys(store) == {recent}
    assert prune_learner_requests(store, timedelta(days=7), now=START) == 0


def test_a_key_still_in_the_window_keeps_answering_with_its_first_outcome(store: Store) -> None:
    clock = Clock()
    courses, course = _course(store, clock)  # type: ignore[arg-type]
    key = "kept-key-0123456789ab"
    _send(courses, course, key, 40)
    recorded = len(courses.records(course, sub="ana"))
    prune_learner_requests(store, timedelta(days=90), now=START)
    clock.now = START
    _send(courses, course, key, 40)  # the same form again: replayed, not recorded again
    with store.transaction() as s:
        rows = s.execute(select(func.count()).select_from(course_requests)).scalar_one()
    assert rows == 1
    assert len(courses.records(course, sub="ana")) == recorded


def test_prune_requests_command_uses_keep_request_days(
    sqlite_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BLENDKIT_DATABASE_URL", str(sqlite_store.url))
    clock = Clock()
    clock.now = datetime.now(UTC) - timedelta(days=10)
    courses, course = _course(sqlite_store, clock)  # type: ignore[arg-type]
    _send(courses, course, "ten-days-old-0123456789", 10)
    clock.now = datetime.now(UTC) - timedelta(days=3)
    _send(courses, course, "three-days-old-0123456789", 20)
    runner = CliRunner()

    default = runner.invoke(cli, ["courses", "prune-requests"])  # 7 days by default
    assert default.exit_code == 0, default.output
    assert "pruned 1 " in default.output
    assert _keys(sqlite_store) == {"three-days-old-0123456789"}

    monkeypatch.setenv("BLENDKIT_COURSES_KEEP_REQUEST_DAYS", "0")
    kept = runner.invoke(cli, ["courses", "prune-requests"])
    assert kept.exit_code == 0
    assert "nothing pruned" in kept.output
    assert _keys(sqlite_store) == {"three-days-old-0123456789"}

    explicit = runner.invoke(cli, ["courses", "prune-requests", "--older-than-days", "1"])
    assert explicit.exit_code == 0
    assert _keys(sqlite_store) == set()


def test_the_window_must_outlast_a_launch_session() -> None:
    """A form can be sent as long as its launch session lives; a key deleted before that would
    let a resent form spend a second attempt."""
    with pytest.raises(ValueError, match="keep_request_days"):
        Settings(courses={"keep_request_days": 0.01}, lti={"launch_session_seconds": 7200})
    assert Settings().courses.keep_request_days == 7


def test_grades_deliver_loop_prunes_old_request_keys(
    sqlite_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BLENDKIT_DATABASE_URL", str(sqlite_store.url))
    clock = Clock()
    clock.now = datetime.now(UTC) - timedelta(days=30)
    courses, course = _course(sqlite_store, clock)  # type: ignore[arg-type]
    _send(courses, course, "a-month-old-0123456789", 10)
    clock.now = datetime.now(UTC) - timedelta(hours=1)
    _send(courses, course, "an-hour-old-0123456789", 20)

    def one_pass(self: GradePassback, limit: int = 50) -> GradeReport:
        signal.raise_signal(signal.SIGTERM)  # the service manager stops it after this pass
        return GradeReport()

    monkeypatch.setattr(GradePassback, "deliver_due", one_pass)
    previous = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    try:
        result = CliRunner().invoke(cli, ["grades", "deliver", "--loop", "--poll-seconds", "0.1"])
    finally:
        signal.signal(signal.SIGTERM, previous[0])
        signal.signal(signal.SIGINT, previous[1])
    assert result.exit_code == 0, result.output
    assert _keys(sqlite_store) == {"an-hour-old-0123456789"}


def test_pruning_reads_only_the_old_keys(store: Store) -> None:
    """The delete finds old keys through the ``recorded_at`` index, not by reading every key
    (PostgreSQL: 100k recent keys in the table; failed before the index: sequential scans)."""
    clock = Clock()
    clock.now = datetime.now(UTC) - timedelta(days=60)
    courses, course = _course(store, clock)  # type: ignore[arg-type]
    _send(courses, course, "an-old-key-0123456789", 10)
    if store.is_postgres:
        with store.engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO course_requests (course_id, sub, key, kind, fingerprint, "
                    "outcome, recorded_at) SELECT :course, 'learner-' || g, md5(g::text), "
                    "'evidence', md5(g::text), '{}', now() FROM generate_series(1, 100000) g"
                ),
                {"course": course.id},
            )
        autocommit = store.engine.execution_options(isolation_level="AUTOCOMMIT")
        with autocommit.connect() as conn:
            conn.execute(text("VACUUM ANALYZE course_requests"))
    with table_queries(store.engine, "course_requests") as queries:
        assert prune_learner_requests(store, timedelta(days=7)) == 1
    bad = full_scans(store, "course_requests", plans(store, queries))
    assert not bad, "full scans of course_requests:\n\n" + "\n\n".join(bad)
