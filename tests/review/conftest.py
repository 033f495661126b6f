"""A course on the peer-workshop template with three learners, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from blendkit import Store
from blendkit.courses import Course, CourseService, Enrolment
from blendkit.lti import Tenant
from blendkit.progression import CompletionRecorded, peer_workshop
from blendkit.review import LocalDirectoryStorage, PeerReviewService, starter_settings
from blendkit.xapi import Outbox, StatementFactory

T0 = datetime(2031, 3, 3, 9, 0, tzinfo=UTC)
TENANT = Tenant(issuer="https://lms.example.edu", client_id="tool", deployment_id="dep-1")
LEARNERS = ("ada", "ben", "cy")


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Workshop:
    store: Store
    clock: Clock
    courses: CourseService
    reviews: PeerReviewService
    course: Course
    files: Path
    new_course: Callable[[str], Course]

    def ready(self, course: Course, *subs: str) -> None:
        """Enrol learners and have them read the brief (the submission item opens)."""
        for sub in subs:
            self.courses.enrol(course, Enrolment(sub=sub, name=sub.title()))
            self.courses.record(
                course, sub, CompletionRecorded(item="brief", state="complete", at=self.clock.now)
            )


@pytest.fixture
def w(store: Store, tmp_path: Path) -> Workshop:
    clock = Clock(T0 + timedelta(days=1))
    courses = CourseService(
        store, outbox=Outbox(store), statements=StatementFactory("https://tool.test"), clock=clock
    )
    files = tmp_path / "files"
    reviews = PeerReviewService(courses, LocalDirectoryStorage(files))

    def new_course(context: str) -> Course:
        path = peer_workshop(T0, reviews=2)
        course = courses.ensure_course(
            TENANT, context, title=context, path=path,
            ags={"lineitems": "https://lms.example.edu/ags/lineitems"},
        )  # fmt: skip
        reviews.configure(course, "reviews", starter_settings(path, "reviews"))
        return course

    course = new_course("workshop-1")
    made = Workshop(store, clock, courses, reviews, course, files, new_course)
    made.ready(course, *LEARNERS)
    return made
