"""``blendkit roster sync``: once (queued courses, reasons for failures), one course, and the loop
that outlives database and network errors, logs each state change once and stops on SIGTERM."""

from __future__ import annotations

import logging
import signal
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy.exc import OperationalError

from blendkit import Store, load_settings
from blendkit.cli import cli
from blendkit.courses import CourseService, RosterReport, RosterSync
from blendkit.lti import StorePlatformRegistry, Tenant
from blendkit.progression import flipped_classroom
from blendkit.xapi import Outbox, StatementFactory


def test_sync_once_names_the_reason_and_keeps_the_course_queued() -> None:
    store = Store.from_settings(load_settings())  # the isolated per-test SQLite database
    store.migrate()
    courses = CourseService(store, outbox=Outbox(store), statements=StatementFactory("https://t"))
    nobody = Tenant(issuer="https://lms.example.edu", client_id="nobody", deployment_id="d1")
    course = courses.ensure_course(
        nobody, "c1", title="C", path=flipped_classroom(datetime.now(UTC) + timedelta(days=2))
    )
    RosterSync(store, StorePlatformRegistry(store), None).request(
        course, "https://lms.example.edu/api/memberships"
    )
    runner = CliRunner()
    once = runner.invoke(cli, ["roster", "sync"])
    assert once.exit_code == 1, once.output
    assert f"course {course.id}: full read failed" in once.output
    assert "nobody" in once.output, "the reason names the unknown registration"
    missing = runner.invoke(cli, ["roster", "sync", "--course", "999"])
    assert missing.exit_code == 2
    assert "course 999 has no roster" in missing.output
    refused = runner.invoke(cli, ["roster", "sync", "--loop", "--course", "1"])
    assert refused.exit_code == 2
    store.dispose()


def test_the_loop_outlives_errors_logs_changes_once_and_stops_on_sigterm(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="blendkit")
    script: list[Any] = [
        OperationalError("SELECT", {}, Exception("server closed the connection")),
        OperationalError("SELECT", {}, Exception("server closed the connection")),
        httpx.ConnectError("platform unreachable"),
        [RosterReport(course_id=5, mode="full", error="HTTP 503")],
        [RosterReport(course_id=5, mode="differences", error="HTTP 503")],
        [RosterReport(course_id=5, mode="full", read=3, added=3)],
    ]
    calls = 0

    def scripted(self: RosterSync, limit: int = 50, **_: Any) -> list[RosterReport]:
        nonlocal calls
        calls += 1
        step = script.pop(0)
        if not script:
            signal.raise_signal(signal.SIGTERM)  # the service manager stops it
        if isinstance(step, BaseException):
            raise step
        return step  # type: ignore[no-any-return]

    monkeypatch.setattr(RosterSync, "sync_due", scripted)
    previous = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    try:
        result = CliRunner().invoke(cli, ["roster", "sync", "--loop", "--interval", "0.1"])
    finally:
        signal.signal(signal.SIGTERM, previous[0])
        signal.signal(signal.SIGINT, previous[1])
    assert result.exit_code == 0, result.output
    assert calls == 6
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert sum("course 5: " in line and "failed" in line for line in lines) == 1
    assert sum("course 5 syncs again" in line for line in lines) == 1
    outage = [line for line in lines if "roster sync (database)" in line]
    # Three failed passes in a row: one line when it broke, one when it was back.
    assert len(outage) == 2, outage
    assert "circuit open" in outage[0]
    assert "answering again" in outage[1]
