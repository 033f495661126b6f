"""``blendkit review allocate``: reviewers who missed the review deadline are replaced without
anyone opening a page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from click.testing import CliRunner

from blendkit import Store, load_settings
from blendkit.cli import cli
from blendkit.courses import CourseService, Enrolment
from blendkit.lti import Tenant
from blendkit.progression import CompletionRecorded, peer_workshop
from blendkit.review import PeerReviewService, starter_settings
from blendkit.xapi import Outbox, StatementFactory


def test_allocate_replaces_reviewers_past_the_review_deadline() -> None:
    store = Store.from_settings(load_settings())  # the isolated per-test SQLite database
    store.migrate()
    courses = CourseService(store, outbox=Outbox(store), statements=StatementFactory("https://t"))
    reviews = PeerReviewService(courses)
    path = peer_workshop(datetime.now(UTC) - timedelta(days=20), reviews=2)
    tenant = Tenant(issuer="https://lms.example.edu", client_id="c", deployment_id="d")
    course = courses.ensure_course(tenant, "ctx", title="Essays", path=path)
    reviews.configure(course, "reviews", starter_settings(path, "reviews").model_copy(
        update={"submit_by": None, "review_by": None}))  # fmt: skip
    for sub in ("a", "b", "c", "d"):
        courses.enrol(course, Enrolment(sub=sub, name=sub))
        courses.record(course, sub, CompletionRecorded(item="brief", state="complete"))
        reviews.submit(course, sub, "reviews", text=f"work of {sub}")
    assert reviews.assignments(course, "reviews")  # allocated as work arrived
    past = starter_settings(path, "reviews").model_copy(
        update={"submit_by": None, "review_by": datetime.now(UTC) - timedelta(hours=1)}
    )
    reviews.configure(course, "reviews", past)  # nobody reviewed before the deadline

    result = CliRunner().invoke(cli, ["review", "allocate"])

    assert result.exit_code == 0, result.output
    assert f"{course.id}\tEssays\treviews:" in result.output
    # everyone missed the deadline, so every unfinished review was taken back
    assert all(a.status == "dropped" for a in reviews.assignments(course, "reviews"))
    assert "taken back" in result.output
