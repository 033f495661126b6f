"""Attendance to the gradebook: the course's policy, the preview the instructor approves, and
the same grade queue and retries as quiz scores, delivered to the independent platform's AGS."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from blendkit.courses import (
    ATTENDANCE_ITEM,
    AttendanceGrades,
    AttendanceGrading,
    Course,
    CourseService,
    Enrolment,
    GradePassback,
    LiveSessionService,
)
from blendkit.errors import CoursesError
from blendkit.lti import AccessTokens, KeySet, Platform, StorePlatformRegistry, Tenant
from blendkit.progression import flipped_classroom
from blendkit.sessions import FakeMeetingProvider, GradingPolicy, ParticipantRecord
from blendkit.store import Store
from blendkit.xapi import Outbox, StatementFactory
from tests.e2e.conftest import Deployment, deployment  # noqa: F401  # the fixture
from tests.encryption import ENCRYPTION
from tests.fence import loopback_fence, public_fence

AGS = "https://purl.imsglobal.org/spec/lti-ags/scope/"
SCOPES = [AGS + "lineitem", AGS + "result.readonly", AGS + "score"]


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now


def _course(
    store: Store, clock: Clock, issuer: str, client_id: str, deployment_id: str, lineitems: str
) -> tuple[CourseService, LiveSessionService, AttendanceGrades, Course]:
    courses = CourseService(
        store,
        outbox=Outbox(store),
        statements=StatementFactory("https://tool.example"),
        clock=clock,
    )
    course = courses.ensure_course(
        Tenant(issuer=issuer, client_id=client_id, deployment_id=deployment_id), "course-101",
        title="Biology", path=flipped_classroom(clock.now + timedelta(days=3)),
        ags={"lineitems": lineitems, "scope": SCOPES},
    )  # fmt: skip
    for n in (1, 2, 3):
        courses.enrol(
            course, Enrolment(sub=f"student-{n}", name=f"Student {n}", email=f"s{n}@example.edu")
        )
    live = LiveSessionService(courses, FakeMeetingProvider())
    return courses, live, AttendanceGrades(courses, live, clock=clock), course


def _attend(
    live: LiveSessionService, course: Course, start: datetime, minutes: dict[int, int]
) -> str:
    session = live.schedule(
        course, title=f"Seminar {start:%d}", start_utc=start, time_zone="UTC", duration_minutes=60
    )
    live.import_attendance(
        course,
        session.id,
        [
            ParticipantRecord(
                join_time=start, leave_time=start + timedelta(minutes=m), email=f"s{n}@example.edu"
            )
            for n, m in minutes.items()
        ],
    )
    return session.id


def test_scores_wait_for_approval_then_reach_the_platform_gradebook(
    deployment: Deployment,  # noqa: F811
) -> None:
    store, platform = deployment.store, deployment.platform
    clock = Clock()
    lineitems = f"{platform.base_url}/ags/{platform.context.id}/lineitems"
    _courses, live, grades, course = _course(
        store, clock, platform.issuer, platform.client_id, platform.deployment_id, lineitems
    )
    assert grades.grading(course) == AttendanceGrading(), "off until an instructor turns it on"
    start = clock.now - timedelta(hours=3)
    _attend(live, course, start, {1: 60, 2: 30})
    assert grades.preview(course) != []
    assert grades.approve(course) == 0, "policy off: nothing goes"

    grades.set_grading(course, AttendanceGrading(enabled=True, full_credit_percent=80))
    _attend(live, course, start + timedelta(hours=1), {1: 60, 2: 60})  # import: reviewed first
    lines = {line.sub: line for line in grades.preview(course)}
    # Proportional over both sessions (120 minutes), full marks from 80 %.
    assert {s: line.score_given for s, line in lines.items()} == {
        "student-1": 100.0, "student-2": 93.75, "student-3": 0.0,
    }  # fmt: skip
    assert {line.state for line in lines.values()} == {"new"}
    with httpx.Client(timeout=10) as http:
        passback = GradePassback(
            store,
            StorePlatformRegistry(store),
            AccessTokens(KeySet(store, encryption=ENCRYPTION), http=http, fence=loopback_fence()),
            clock=clock,
        )
        assert passback.grades(course.id) == [], "shown before sending: nothing is queued yet"
        assert grades.approve(course, subs={"student-1", "student-2"}) == 2
        assert grades.preview(course)[0].state == "queued"
        report = passback.deliver_due()
        assert (report.sent, report.errors) == (2, [])
        (item,) = platform.records.lineitems.values()
        assert item["resourceId"] == ATTENDANCE_ITEM
        assert item["label"] == "Live session attendance"
        got = {s["userId"]: (s["scoreGiven"], s["scoreMaximum"]) for s in platform.records.scores}
        assert got == {"student-1": (100.0, 100.0), "student-2": (93.75, 100.0)}
        states = {line.sub: line.state for line in grades.preview(course)}
        assert states == {"student-1": "sent", "student-2": "sent", "student-3": "new"}
        assert grades.approve(course) == 1, "only what waits is queued"
        assert passback.deliver_due().sent == 1
    assert len(platform.records.scores) == 3


def test_without_review_each_import_queues_new_and_changed_scores_per_session(
    sqlite_store: Store,
) -> None:
    clock = Clock()
    _courses, live, grades, course = _course(
        sqlite_store, clock, "https://lms.example.edu", "c", "d", "https://lms.example.edu/li"
    )
    grades.set_grading(
        course,
        AttendanceGrading(
            enabled=True, scope="per_session", policy=GradingPolicy.FULL_CREDIT_ON_JOIN,
            review_first=False,
        ),
    )  # fmt: skip
    start = clock.now - timedelta(hours=3)
    first = _attend(live, course, start, {1: 5})
    lines = grades.preview(course)
    assert {(line.sub, line.item, line.score_given, line.state) for line in lines} == {
        ("student-1", f"{ATTENDANCE_ITEM}:{first}", 100.0, "queued"),
        ("student-2", f"{ATTENDANCE_ITEM}:{first}", 0.0, "queued"),
        ("student-3", f"{ATTENDANCE_ITEM}:{first}", 0.0, "queued"),
    }
    # Student 2's late join arrives in a second import of the same session: changed, queued.
    live.import_attendance(
        course,
        first,
        [
            ParticipantRecord(join_time=start, leave_time=start + timedelta(minutes=5),
                              email="s1@example.edu"),
            ParticipantRecord(join_time=start, leave_time=start + timedelta(minutes=9),
                              email="s2@example.edu"),
        ],
    )  # fmt: skip
    states = {line.sub: (line.score_given, line.state) for line in grades.preview(course)}
    assert states["student-2"] == (100.0, "queued")
    assert grades.approve(course) == 0, "nothing left waiting"


def test_a_course_without_line_items_is_told_why(sqlite_store: Store) -> None:
    clock = Clock()
    courses, live, grades, course = _course(
        sqlite_store, clock, "https://lms.example.edu", "c", "d", "https://lms.example.edu/li"
    )
    fixed = courses.ensure_course(
        Tenant(issuer="https://lms.example.edu", client_id="c", deployment_id="d"), "course-101",
        title="Biology", path=course.path, ags={"lineitem": "https://lms.example.edu/li/1"},
    )  # fmt: skip
    grades.set_grading(fixed, AttendanceGrading(enabled=True))
    _attend(live, fixed, clock.now - timedelta(hours=2), {1: 60})
    with pytest.raises(CoursesError) as caught:
        grades.approve(fixed)
    assert caught.value.code == "courses.no_gradebook"


def test_attendance_scores_are_retried_on_5xx_like_quiz_scores(sqlite_store: Store) -> None:
    clock = Clock()
    lms = "https://lms.example.edu"
    StorePlatformRegistry(sqlite_store).add(
        Platform(
            issuer=lms, client_id="c", deployment_ids=("d",), auth_login_url=f"{lms}/auth",
            auth_token_url=f"{lms}/token", jwks_url=f"{lms}/jwks",
        )
    )  # fmt: skip
    _courses, live, grades, course = _course(sqlite_store, clock, lms, "c", "d", f"{lms}/li")
    grades.set_grading(course, AttendanceGrading(enabled=True, review_first=False))
    failing = {"left": 1000}
    scores: list[dict[str, object]] = []

    def platform(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/token":
            return httpx.Response(200, json={"access_token": "t", "expires_in": 3600})
        if request.url.path == "/li" and request.method == "GET":
            return httpx.Response(200, json=[])
        if request.url.path == "/li":
            return httpx.Response(
                201, json={"id": f"{lms}/li/1", "label": "x", "scoreMaximum": 100}
            )
        if failing["left"] > 0:
            failing["left"] -= 1
            return httpx.Response(503)
        scores.append(dict(httpx.Response(200, content=request.content).json()))
        return httpx.Response(204)

    class NoSigner:
        def sign(self, claims: object, headers: object = None) -> str:
            return "assertion"

    _attend(live, course, clock.now - timedelta(hours=2), {1: 60})
    http = httpx.Client(transport=httpx.MockTransport(platform))
    passback = GradePassback(
        sqlite_store,
        StorePlatformRegistry(sqlite_store),
        AccessTokens(NoSigner(), http=http, fence=public_fence(), sleep=lambda _s: None),
        clock=clock,
    )
    first = passback.deliver_due()
    assert (first.sent, first.retried) == (0, 3), "every learner's score waits for a retry"
    assert all("503" in (g.last_error or "") for g in passback.grades(course.id))
    assert passback.deliver_due().retried == 0, "not due before the backoff"
    failing["left"] = 0
    clock.now += timedelta(minutes=5)
    assert passback.deliver_due().sent == 3
    assert sorted(s["scoreGiven"] for s in scores) == [0.0, 0.0, 100.0]  # type: ignore[type-var]
