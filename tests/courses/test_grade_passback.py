"""Grade passback over real HTTP to an independent platform (lti1p3platform): the token service,
line item found or created by resourceId, the score posted; failures kept and retried."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from blendkit.courses import CourseService, Enrolment, GradePassback
from blendkit.lti import AccessTokens, KeySet, StorePlatformRegistry, Tenant
from blendkit.operations import add_outcome_listener, remove_outcome_listener
from blendkit.progression import ScoreRecorded, VideoWatched, flipped_classroom
from blendkit.xapi import Outbox, StatementFactory
from tests.e2e.conftest import Deployment, deployment  # noqa: F401  # the fixture
from tests.encryption import ENCRYPTION
from tests.fence import loopback_fence

AGS = "https://purl.imsglobal.org/spec/lti-ags/scope/"
SCOPES = [AGS + "lineitem", AGS + "result.readonly", AGS + "score"]


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


def test_scores_reach_the_platform_gradebook_and_failures_are_retried(
    deployment: Deployment,  # noqa: F811
) -> None:
    store, platform = deployment.store, deployment.platform
    clock = Clock()
    courses = CourseService(
        store, outbox=Outbox(store), statements=StatementFactory(deployment.tool_url), clock=clock
    )
    lineitems = f"{platform.base_url}/ags/{platform.context.id}/lineitems"
    tenant = Tenant(
        issuer=platform.issuer, client_id=platform.client_id, deployment_id=platform.deployment_id
    )
    course = courses.ensure_course(
        tenant, platform.context.id, title="Biology",
        path=flipped_classroom(clock.now + timedelta(days=3)),
        ags={"lineitems": lineitems, "scope": SCOPES},
    )  # fmt: skip
    courses.enrol(course, Enrolment(sub="student-1", name="Student 1"))
    opened = clock.now - timedelta(minutes=5)  # the quiz opens after the pre-work video
    courses.record(course, "student-1", VideoWatched(item="prework-video", percent=100, at=opened))
    courses.record(
        course, "student-1", ScoreRecorded(item="readiness-quiz", score=40, at=clock.now)
    )
    courses.record(
        course, "student-1", ScoreRecorded(item="readiness-quiz", score=80, at=clock.now)
    )

    outcomes: list[tuple[str, str, str]] = []

    def listen(kind: str, provider: str, outcome: str) -> None:
        outcomes.append((kind, provider, outcome))

    add_outcome_listener(listen)
    with httpx.Client(timeout=10) as http:
        passback = GradePassback(
            store,
            StorePlatformRegistry(store),
            AccessTokens(KeySet(store, encryption=ENCRYPTION), http=http, fence=loopback_fence()),
            clock=clock,
        )
        report = passback.deliver_due()
        assert (report.sent, report.retried, report.errors) == (2, 0, [])
        assert outcomes == [("ags", platform.issuer, "sent")] * 2, "counted for /metrics"
        items = list(platform.records.lineitems.values())
        assert [i["resourceId"] for i in items] == ["readiness-quiz"], "created once, then found"
        assert [s["scoreGiven"] for s in platform.records.scores] == [40.0, 80.0]
        assert {s["userId"] for s in platform.records.scores} == {"student-1"}
        assert all(g.status == "sent" for g in passback.grades(course.id))
        assert passback.counts() == {"pending": 0, "sent": 2, "failed": 0}

        # The platform loses the registration's client id: the score waits with its reason.
        broken = courses.ensure_course(
            tenant.model_copy(update={"client_id": "unknown-client"}), "other-course",
            title="Other", path=flipped_classroom(clock.now),
            ags={"lineitems": lineitems, "scope": SCOPES},
        )  # fmt: skip
        courses.enrol(broken, Enrolment(sub="student-2"))
        courses.record(
            broken, "student-2", VideoWatched(item="prework-video", percent=100, at=opened)
        )
        courses.record(
            broken, "student-2", ScoreRecorded(item="readiness-quiz", score=90, at=clock.now)
        )
        failed = passback.deliver_due()
        assert (failed.sent, failed.retried) == (0, 1)
        assert outcomes[-1] == ("ags", platform.issuer, "retried")
        remove_outcome_listener(listen)
        (grade,) = passback.grades(broken.id)
        assert grade.status == "pending"
        assert grade.attempts == 1
        assert "unknown-client" in (grade.last_error or "")
        assert grade.next_attempt_at > clock.now
        assert passback.deliver_due().retried == 0, "not due again before its delay"
        clock.now += timedelta(minutes=5)
        assert passback.deliver_due().retried == 1, "retried once due"
        assert passback.grades(broken.id)[0].attempts == 2
