"""Roster sync edge cases the independent platform cannot play: the ``differences`` link (kept per
course, used on the next sync, forgotten when it expires), 429 with Retry-After, and a page that
fails half-way (nothing applied). The platform is an ``httpx.MockTransport``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from blendkit.courses import Course, CourseService, Enrolment, RosterSync
from blendkit.lti import AccessTokens, Platform, StorePlatformRegistry, Tenant
from blendkit.progression import flipped_classroom
from blendkit.store import Store
from blendkit.xapi import Outbox, StatementFactory
from tests.fence import public_fence

LMS = "https://lms.example.edu"
MEMBERSHIPS = f"{LMS}/api/lti/courses/7/names_and_roles"
LEARNER = "http://purl.imsglobal.org/vocab/lis/v2/membership#Learner"
INSTRUCTOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor"
MEDIA = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"


class NoSigner:
    def sign(self, claims: object, headers: object = None) -> str:
        return "assertion"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2031, 3, 3, 9, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def member(sub: str, status: str = "Active", role: str = LEARNER, **extra: Any) -> dict[str, Any]:
    return {"user_id": sub, "roles": [role], "status": status, "name": sub.title(), **extra}


class FakeNRPS:
    """Pages, differences and faults, as scripted by the test."""

    def __init__(self) -> None:
        self.pages: list[list[dict[str, Any]]] = []
        self.differences: list[dict[str, Any]] | None = None
        self.offer_differences = True
        self.fault: Callable[[httpx.Request], httpx.Response | None] = lambda _r: None
        self.requests: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/token":
            return httpx.Response(200, json={"access_token": "t", "expires_in": 3600})
        self.requests.append(str(request.url))
        faulty = self.fault(request)
        if faulty is not None:
            return faulty
        headers = {"content-type": MEDIA}
        if request.url.params.get("since"):
            if self.differences is None:
                return httpx.Response(410, headers=headers)
            links = [f'<{MEMBERSHIPS}?since=2>; rel="differences"']
            body = {"id": "x", "context": {"id": "c7"}, "members": self.differences}
            return httpx.Response(200, json=body, headers={**headers, "link": ", ".join(links)})
        page = int(request.url.params.get("page", "1"))
        links = []
        if page < len(self.pages):
            links.append(f'<{MEMBERSHIPS}?page={page + 1}>; rel="next"')
        if self.offer_differences and page == len(self.pages):
            links.append(f'<{MEMBERSHIPS}?since=1>; rel="differences"')
        body = {"id": "x", "context": {"id": "c7"}, "members": self.pages[page - 1]}
        return httpx.Response(200, json=body, headers={**headers, "link": ", ".join(links)})


@pytest.fixture
def fake() -> FakeNRPS:
    nrps = FakeNRPS()
    nrps.pages = [
        [member("t1", role=INSTRUCTOR), member("s1", email="s1@example.edu")],
        [member("s2", given_name="Bo", family_name="Li", name=None), member("s3")],
    ]
    return nrps


def _setup(store: Store, fake: FakeNRPS, clock: Clock) -> tuple[RosterSync, CourseService, Course]:
    StorePlatformRegistry(store).add(
        Platform(
            issuer=LMS,
            client_id="c",
            deployment_ids=("d",),
            auth_login_url=f"{LMS}/auth",
            auth_token_url=f"{LMS}/token",
            jwks_url=f"{LMS}/jwks",
        )
    )
    courses = CourseService(
        store,
        outbox=Outbox(store),
        statements=StatementFactory("https://tool.example"),
        clock=clock,
    )
    course = courses.ensure_course(
        Tenant(issuer=LMS, client_id="c", deployment_id="d"), "c7", title="C7",
        path=flipped_classroom(clock.now + timedelta(days=7)),
    )  # fmt: skip
    http = httpx.Client(transport=httpx.MockTransport(fake))
    tokens = AccessTokens(NoSigner(), http=http, fence=public_fence(), sleep=lambda _s: None)
    sync = RosterSync(store, StorePlatformRegistry(store), tokens, clock=clock)
    sync.request(course, MEMBERSHIPS)
    return sync, courses, course


def test_differences_link_is_kept_and_used_on_the_next_sync(store: Store, fake: FakeNRPS) -> None:
    clock = Clock()
    sync, courses, course = _setup(store, fake, clock)
    first = sync.sync(course.id)
    assert (first.mode, first.read, first.added, first.pages) == ("full", 4, 4, 2)
    assert first.offers_differences
    assert sync.state(course).offers_differences  # type: ignore[union-attr]
    assert courses.enrolment(course, "s2").name == "Bo Li"
    assert courses.enrolment(course, "t1").roles == ("instructor",)

    fake.differences = [member("s3", status="Deleted"), member("s4", email="s4@example.edu")]
    fake.requests.clear()
    clock.now += timedelta(hours=1)
    second = sync.sync(course.id)
    assert second.mode == "differences"
    assert fake.requests == [f"{MEMBERSHIPS}?since=1"], "only the changes were read"
    assert (second.added, second.deactivated) == (1, 1)
    s3 = next(p for p in courses.enrolments(course, include_inactive=True) if p.sub == "s3")
    assert (s3.active, s3.roster_status) == (False, "Deleted")
    assert courses.enrolment(course, "s4").email == "s4@example.edu"
    # s1 and s2 were not in the differences: a differences read never drops anyone.
    assert {p.sub for p in courses.enrolments(course)} == {"t1", "s1", "s2", "s4"}

    # The platform forgets the link (410): the sync fails once, then reads the whole roster.
    fake.differences = None
    clock.now += timedelta(hours=1)
    expired = sync.sync(course.id)
    assert expired.error is not None
    assert expired.mode == "differences"
    assert not sync.state(course).offers_differences  # type: ignore[union-attr]
    clock.now += timedelta(hours=1)
    again = sync.sync(course.id)
    assert again.mode == "full"
    assert again.error is None
    # The full read is what the platform lists now: s3 (active there again) is back, s4 (only
    # in the differences) is absent and becomes inactive.
    assert {p.sub for p in courses.enrolments(course)} == {"t1", "s1", "s2", "s3"}
    s4 = next(p for p in courses.enrolments(course, include_inactive=True) if p.sub == "s4")
    assert (s4.active, s4.roster_status) == (False, "absent")


def test_a_stale_full_read_is_forced_even_with_a_differences_link(
    sqlite_store: Store, fake: FakeNRPS
) -> None:
    clock = Clock()
    sync, _courses, course = _setup(sqlite_store, fake, clock)
    sync.sync(course.id)
    clock.now += sync.full_every + timedelta(minutes=1)
    fake.differences = []
    assert sync.sync(course.id).mode == "full"


def test_429_is_waited_out_through_the_fence_and_the_sync_succeeds(
    sqlite_store: Store, fake: FakeNRPS
) -> None:
    clock = Clock()
    sync, courses, course = _setup(sqlite_store, fake, clock)
    answered: list[int] = []

    def once_busy(request: httpx.Request) -> httpx.Response | None:
        if not answered:
            answered.append(429)
            return httpx.Response(429, headers={"retry-after": "1"})
        return None

    fake.fault = once_busy
    report = sync.sync(course.id)
    assert report.error is None
    assert report.read == 4
    assert answered == [429]
    assert fake.requests[0] == fake.requests[1], "the same page asked again after the 429"
    assert len(courses.enrolments(course)) == 4


def test_a_page_failing_half_way_applies_nothing_and_backs_off(
    store: Store, fake: FakeNRPS
) -> None:
    clock = Clock()
    sync, courses, course = _setup(store, fake, clock)

    def second_page_broken(request: httpx.Request) -> httpx.Response | None:
        if request.url.params.get("page") == "2":
            return httpx.Response(403)
        return None

    fake.fault = second_page_broken
    report = sync.sync(course.id)
    assert report.error is not None
    assert "403" in report.error
    assert courses.enrolments(course) == [], "the first page was read but nothing applied"
    state = sync.state(course)
    assert state is not None
    assert state.failures == 1
    assert state.last_error
    assert sync.due() == [], "waits for its backoff"
    clock.now += timedelta(minutes=2)
    assert sync.due() == [course.id]
    fake.fault = lambda _r: None
    assert sync.sync_due()[0].added == 4
    assert sync.state(course).failures == 0  # type: ignore[union-attr]


def test_a_roster_member_who_launches_becomes_launched_and_keeps_the_roster_email(
    sqlite_store: Store, fake: FakeNRPS
) -> None:
    clock = Clock()
    sync, courses, course = _setup(sqlite_store, fake, clock)
    sync.sync(course.id)
    before = courses.enrolment(course, "s1")
    assert (before.launched, before.source) == (False, "roster")
    clock.now += timedelta(days=1)
    after = courses.enrol(course, Enrolment(sub="s1", name="S One", roles=("learner",)))
    assert after.launched_at == clock.now
    assert (after.source, after.email, after.enrolled_at) == (
        "roster", "s1@example.edu", before.enrolled_at,
    )  # fmt: skip


def test_launches_queue_a_sync_once_and_not_right_after_one(store: Store, fake: FakeNRPS) -> None:
    clock = Clock()
    sync, _courses, course = _setup(store, fake, clock)  # the first launch queued it
    assert sync.request(course, MEMBERSHIPS) is False, "already queued"
    sync.sync(course.id)
    assert sync.state(course).offers_differences  # type: ignore[union-attr]
    clock.now += timedelta(minutes=5)
    assert sync.request(course, MEMBERSHIPS) is False, "synced five minutes ago"
    assert sync.due() == []
    assert sync.request(course, MEMBERSHIPS, force=True) is True, "the instructor asked"
    assert sync.due() == [course.id]
    fake.differences = []
    assert sync.sync(course.id).mode == "differences"
    clock.now += sync.quiet + timedelta(seconds=1)
    assert sync.request(course, MEMBERSHIPS) is True
    moved = f"{LMS}/api/lti/courses/7/names_and_roles_v2"
    assert sync.request(course, moved) is True
    state = sync.state(course)
    assert state is not None
    assert (state.memberships_url, state.offers_differences) == (moved, False)
