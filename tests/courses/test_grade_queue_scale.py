"""The grade passback queue at scale: claiming due scores, counting them, retrying failed ones
and listing a course's scores all go through indexes, however many sent scores pile up (the
same check as the outbox's, ``tests/xapi/test_outbox_scale.py``)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import text, update

from blendkit.courses import Course, CourseService, Enrolment, GradePassback
from blendkit.lti import AccessTokens, KeySet, StorePlatformRegistry, Tenant
from blendkit.progression import ScoreRecorded, VideoWatched, flipped_classroom
from blendkit.store import Store
from blendkit.store._tables_courses import course_grades
from blendkit.xapi import Outbox, StatementFactory
from tests.encryption import ENCRYPTION
from tests.fence import loopback_fence
from tests.query_plans import full_scans, plans, table_queries

NOW = datetime.now(UTC)


def _course(store: Store) -> tuple[CourseService, Course]:
    courses = CourseService(
        store, outbox=Outbox(store), statements=StatementFactory("https://tool.example.edu"),
        clock=lambda: NOW,
    )  # fmt: skip
    tenant = Tenant(issuer="https://lms.example.edu", client_id="c1", deployment_id="d1")
    course = courses.ensure_course(
        tenant, "bio-101", title="Biology", path=flipped_classroom(NOW + timedelta(days=3)),
        ags={"lineitems": "https://lms.example.edu/ags/lineitems"},
    )  # fmt: skip
    return courses, course


def _fill_postgres(store: Store, course_id: int, sent: int) -> None:
    """``sent`` scores delivered long ago, written in SQL, then VACUUM ANALYZE (as autovacuum
    would) so the planner knows the table is large."""
    with store.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO course_grades (course_id, sub, item, label, score_given, "
                "score_maximum, scored_at, status, attempts, next_attempt_at, sent_at) "
                "SELECT :course, 'learner-' || g, 'readiness-quiz', 'Quiz', 80, 100, "
                "now() - interval '30 days', 'sent', 1, now() - interval '30 days', "
                "now() - interval '30 days' FROM generate_series(1, :n) g"
            ),
            {"course": course_id, "n": sent},
        )
    autocommit = store.engine.execution_options(isolation_level="AUTOCOMMIT")
    with autocommit.connect() as conn:
        conn.execute(text("VACUUM ANALYZE course_grades"))


def _whole_table_walks(found: list[tuple[str, str]]) -> list[str]:
    """PostgreSQL plans that walk an index over most of the 100k rows (an index-only scan of
    every entry costs as much as the table grows, like a sequential scan)."""
    walks = []
    for statement, plan in found:
        for line in plan.splitlines():
            rows = re.search(r"on course_grades .*rows=(\d+)", line)
            if rows and int(rows.group(1)) >= 10_000:
                walks.append(f"{statement}\n{plan}")
    return walks


def test_every_grade_queue_query_avoids_a_full_scan(store: Store) -> None:
    """Failed before (PostgreSQL, 100k sent scores): counts() walked every entry of the status
    index, and listing a course's scores read the whole table."""
    courses, course = _course(store)
    if store.is_postgres:  # another course's history
        elsewhere = courses.ensure_course(
            course.tenant, "chem-201", title="Chemistry", path=flipped_classroom(NOW)
        )
        _fill_postgres(store, elsewhere.id, 100_000)
    courses.enrol(course, Enrolment(sub="ana", name="Ana"))
    courses.record(course, "ana", VideoWatched(item="prework-video", percent=100, at=NOW))
    for score in (40, 80):
        courses.record(course, "ana", ScoreRecorded(item="readiness-quiz", score=score, at=NOW))
    with httpx.Client(timeout=5) as http:
        passback = GradePassback(
            store,
            StorePlatformRegistry(store),  # no platform registered: every send fails
            AccessTokens(KeySet(store, encryption=ENCRYPTION), http=http, fence=loopback_fence()),
            clock=lambda: NOW,
        )
        with table_queries(store.engine, "course_grades") as queries:
            report = passback.deliver_due()
            with store.transaction() as s:  # the last try: the next failure gives up
                s.execute(update(course_grades).where(course_grades.c.status == "pending")
                          .values(attempts=11, next_attempt_at=NOW))  # fmt: skip
            passback.deliver_due()
            counts = passback.counts()
            requeued = passback.retry_failed(course.id)
            passback.grades(course.id, status="pending")
            passback.grades(course.id)
    assert report.retried == 2
    assert counts["failed"] == 2
    assert requeued == 2
    assert len(queries) >= 6
    found = plans(store, queries)
    bad = full_scans(store, "course_grades", found) + _whole_table_walks(found)
    assert not bad, "full scans of course_grades:\n\n" + "\n\n".join(bad)


def test_counts_are_exact_by_state(store: Store) -> None:
    courses, course = _course(store)
    passback = GradePassback(store, StorePlatformRegistry(store), None, clock=lambda: NOW)  # type: ignore[arg-type]
    assert passback.counts() == {"pending": 0, "sent": 0, "failed": 0}
    courses.enrol(course, Enrolment(sub="ana", name="Ana"))
    courses.record(course, "ana", VideoWatched(item="prework-video", percent=100, at=NOW))
    for score in (40, 80, 90):
        courses.record(course, "ana", ScoreRecorded(item="readiness-quiz", score=score, at=NOW))
    with store.transaction() as s:
        first = s.execute(course_grades.select().order_by(course_grades.c.id)).first()
        assert first is not None
        s.execute(update(course_grades).where(course_grades.c.id == first.id)
                  .values(status="failed"))  # fmt: skip
    assert passback.counts() == {"pending": 2, "sent": 0, "failed": 1}


def test_a_claim_is_one_statement(store: Store) -> None:
    """Failed before: one SELECT, then one UPDATE per due score (N + 1 round trips)."""
    courses, course = _course(store)
    courses.enrol(course, Enrolment(sub="ana", name="Ana"))
    courses.record(course, "ana", VideoWatched(item="prework-video", percent=100, at=NOW))
    for score in (40, 60, 80):
        courses.record(course, "ana", ScoreRecorded(item="readiness-quiz", score=score, at=NOW))
    passback = GradePassback(store, StorePlatformRegistry(store), None, clock=lambda: NOW)  # type: ignore[arg-type]
    with table_queries(store.engine, "course_grades") as queries:
        claimed = passback._claim(10)
    assert len(claimed) == 3
    assert claimed == sorted(claimed)
    assert len(queries) == 1, [q for q, _ in queries]
    assert passback._claim(10) == [], "claimed rows wait for their lease"
