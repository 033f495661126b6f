"""``blendkit grades``: status, delivery attempts with reasons, retry of failed scores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from click.testing import CliRunner

from blendkit import Store, load_settings
from blendkit.cli import cli
from blendkit.courses import CourseService, Enrolment
from blendkit.lti import Tenant
from blendkit.progression import ScoreRecorded, VideoWatched, flipped_classroom
from blendkit.xapi import Outbox, StatementFactory


def test_grades_commands_report_and_keep_failures() -> None:
    store = Store.from_settings(load_settings())  # the isolated per-test SQLite database
    store.migrate()
    courses = CourseService(store, outbox=Outbox(store), statements=StatementFactory("https://t"))
    nobody = Tenant(issuer="https://lms.example.edu", client_id="nobody", deployment_id="d1")
    course = courses.ensure_course(
        nobody, "c1", title="C", path=flipped_classroom(datetime.now(UTC) + timedelta(days=2)),
        ags={"lineitems": "https://lms.example.edu/li", "scope": []},
    )  # fmt: skip
    courses.enrol(course, Enrolment(sub="ana"))
    now = datetime.now(UTC)
    courses.record(
        course,
        "ana",
        [
            VideoWatched(item="prework-video", percent=100, at=now - timedelta(minutes=5)),
            ScoreRecorded(item="readiness-quiz", score=70, at=now),
        ],
    )
    runner = CliRunner()
    assert "pending: 1" in runner.invoke(cli, ["grades", "status"]).output
    delivered = runner.invoke(cli, ["grades", "deliver"])
    assert delivered.exit_code == 0
    assert "retry later: 1" in delivered.output
    assert "nobody" in delivered.output, "the reason names the unknown registration"
    assert "pending: 1" in runner.invoke(cli, ["grades", "status"]).output
    assert "queued again: 0" in runner.invoke(cli, ["grades", "retry-failed"]).output
    assert runner.invoke(cli, ["grades", "deliver", "--help"]).exit_code == 0
    store.dispose()
