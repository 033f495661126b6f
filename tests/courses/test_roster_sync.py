"""The whole roster against the independent platform (lti1p3platform) over real HTTP.

An instructor's launch queues a sync and reads nothing; the sync reads every NRPS page; members
who never launched appear on the dashboard as "not started" and are matched in attendance by
their roster e-mail; a member the platform drops becomes inactive with their records kept.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from blendkit.courses import Course, RosterSync, risks
from blendkit.lti import AccessTokens, KeySet, StorePlatformRegistry, Tenant
from blendkit.sessions import ParticipantRecord
from blendkit_examples.flask_app.app import Services, services
from tests.e2e.conftest import Deployment, deployment  # noqa: F401  # the fixture
from tests.e2e.form_browser import FormBrowser
from tests.encryption import ENCRYPTION
from tests.fence import loopback_fence

pytestmark = pytest.mark.e2e


@pytest.fixture
def browser() -> Iterator[FormBrowser]:
    b = FormBrowser()
    yield b
    b.close()


def _launch(browser: FormBrowser, deployment: Deployment, user: str, role: str) -> str:  # noqa: F811
    page = browser.auto_submit(browser.get(deployment.platform.launch_url(user=user, role=role)))
    assert page.status_code == 200, page.text
    return str(page.url)


def _services(deployment: Deployment) -> tuple[Services, Course]:  # noqa: F811
    platform = deployment.platform
    with deployment.app.app_context():
        svc = services()
    tenant = Tenant(
        issuer=platform.issuer, client_id=platform.client_id, deployment_id=platform.deployment_id
    )
    return svc, svc.courses.course(tenant, platform.context.id)


def _syncer(deployment: Deployment, http: httpx.Client) -> RosterSync:  # noqa: F811
    store = deployment.store
    tokens = AccessTokens(KeySet(store, encryption=ENCRYPTION), http=http, fence=loopback_fence())
    return RosterSync(store, StorePlatformRegistry(store), tokens)


def test_the_whole_roster_reaches_dashboard_attendance_and_leaves_evidence(
    deployment: Deployment,  # noqa: F811
    browser: FormBrowser,
) -> None:
    platform = deployment.platform
    platform.nrps_page_size = 3  # eight members: three pages, as a real platform pages them
    dashboard = _launch(browser, deployment, "teacher-1", "instructor")
    svc, course = _services(deployment)
    state = svc.roster.state(course)
    assert state is not None
    assert state.requested_at is not None
    assert state.synced_at is None
    assert platform.records.nrps_pages_served == 0, "the launch queued the sync, read nothing"
    assert [p.sub for p in svc.courses.enrolments(course)] == ["teacher-1"]

    with httpx.Client(timeout=10) as http:
        syncer = _syncer(deployment, http)
        assert syncer.due() == [course.id]
        (report,) = syncer.sync_due()
        assert report.error is None
        assert (report.mode, report.read, report.pages) == ("full", 8, 3)
        assert report.added == 7  # the teacher was already there from the launch
        assert platform.records.nrps_pages_served == 3
        assert syncer.due() == [], "synced: not due again before `every`"

        learners = svc.courses.enrolments(course, learners_only=True)
        assert sorted(p.sub for p in learners) == [f"student-{i}" for i in range(1, 8)]
        assert all(not p.launched and p.source == "roster" for p in learners)
        assert {p.email for p in learners} == {f"student{i}@example.edu" for i in range(1, 8)}
        teacher = svc.courses.enrolment(course, "teacher-1")
        assert teacher.launched
        assert teacher.roles == ("instructor",)

        # Everyone who never launched carries the "not started" signal, on the dashboard too.
        flagged = {r.learner.sub: [s.kind for s in r.signals] for r in risks(
            svc.courses, course, datetime.now(UTC)
        )}  # fmt: skip
        assert all(kinds[0] == "not_started" for kinds in flagged.values())
        assert set(flagged) == {f"student-{i}" for i in range(1, 8)}
        page = browser.get(dashboard)
        assert page.status_code == 200
        assert page.text.count("not started") == 7
        roster_page = browser.get(dashboard.replace("/teach?", "/teach/roster?"))
        assert roster_page.status_code == 200
        assert "Student 3" in roster_page.text

        # Student 1 launches: no longer "not started".
        _launch(browser, deployment, "student-1", "learner")
        assert svc.courses.enrolment(course, "student-1").launched
        flagged = {r.learner.sub for r in risks(svc.courses, course, datetime.now(UTC))
                   if r.signals[0].kind == "not_started"}  # fmt: skip
        assert "student-1" not in flagged
        assert "student-3" in flagged

        # Student 3 joins a live session before ever launching: matched by roster e-mail.
        start = datetime.now(UTC) - timedelta(hours=2)
        session = svc.live.schedule(
            course, title="Week 1 seminar", start_utc=start, time_zone="UTC", duration_minutes=60
        )
        report_ = svc.live.import_attendance(
            course,
            session.id,
            [
                ParticipantRecord(
                    join_time=start, leave_time=start + timedelta(minutes=45),
                    email="Student3@Example.edu ", display_name="S. Three",
                ),
                ParticipantRecord(
                    join_time=start, leave_time=start + timedelta(minutes=30),
                    email="guest@elsewhere.org", display_name="A guest",
                ),
            ],
        )  # fmt: skip
        present = {a.learner_id: a.minutes_present for a in report_.attendance if a.attended}
        assert present == {"student-3": 45.0}
        assert [u.email for u in svc.live.unmatched(course)] == ["guest@elsewhere.org"]

        # The platform drops student 7: a full read makes them inactive, their records stay.
        platform.records.members = [
            m for m in platform.records.members if m["user_id"] != "student-7"
        ]
        after = syncer.sync(course.id, full=True)
        assert (after.mode, after.deactivated, after.added) == ("full", 1, 0)
    kept = svc.courses.enrolments(course, include_inactive=True)
    gone = next(p for p in kept if p.sub == "student-7")
    assert (gone.active, gone.roster_status) == (False, "absent")
    assert "student-7" not in {p.sub for p in svc.courses.enrolments(course)}
    rows = [r for r in svc.live.attendance(course) if r.sub == "student-7"]
    assert [r.minutes for r in rows] == [0], "their attendance row is kept"
    assert svc.roster.state(course).members == 7  # type: ignore[union-attr]
