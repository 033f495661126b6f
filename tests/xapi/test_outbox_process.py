"""Processes that survive their dependencies: the deliverer loop never ends on a database or
network error, a delivered-but-unmarked batch is marked again promptly (not re-sent after the
lease), and SIGTERM finishes the batch in flight and exits 0."""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, event, text
from sqlalchemy.exc import OperationalError

from blendkit.cli import cli
from blendkit.courses import GradePassback
from blendkit.store import Store
from blendkit.xapi import Outbox

from .conftest import Ralph
from .test_outbox import FakeClock, deliverer_env, mock_lrs, statements


class FlakyDatabase:
    """Makes the next ``count`` statements matching ``when`` fail as a lost connection would."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.count = 0
        self.when: str = ""
        self.failed: list[str] = []
        event.listen(engine, "before_cursor_execute", self._maybe_fail)

    def arm(self, count: int, when: str = "") -> None:
        self.count, self.when = count, when

    def _maybe_fail(self, _c: Any, _cur: Any, statement: str, *_rest: Any) -> None:
        if self.count > 0 and self.when in statement:
            self.count -= 1
            self.failed.append(statement)
            raise OperationalError(statement, {}, Exception("server closed the connection"))

    def close(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._maybe_fail)


def test_run_keeps_running_when_the_database_fails_after_an_idle_pass(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    """Failed before: the error raised in status() (outside the loop's error handling) ended
    run() — the process exited 1."""
    caplog.set_level(logging.INFO, logger="blendkit")
    clock = FakeClock()
    outbox = Outbox(store, mock_lrs(lambda r: httpx.Response(204)), clock=clock, sleep=clock.sleep)
    flaky = FlakyDatabase(store.engine)
    real = outbox.deliver_once
    passes = 0

    def deliver_then_lose_the_database(**kwargs: Any) -> Any:
        nonlocal passes
        passes += 1
        report = real(**kwargs)
        if passes in (2, 3, 4):
            flaky.arm(4)  # everything after this idle pass fails for a while
        if passes == 8:
            outbox.emit(statements(5))
        return report

    outbox.deliver_once = deliver_then_lose_the_database  # type: ignore[method-assign]
    try:
        report = outbox.run(lambda: passes >= 12, poll_seconds=1.0)
    finally:
        flaky.close()
    assert flaky.failed
    assert report.delivered == 5
    assert outbox.status().pending == 0
    lines = [r.getMessage() for r in caplog.records if "database" in r.getMessage()]
    assert 1 <= len(lines) <= 2 * 3, lines  # once per state change, not once per failure


def test_run_survives_terminated_postgres_connections(postgres_url: str) -> None:
    store = Store(postgres_url, ping_after_idle_seconds=3600)  # no ping: the query meets the cut
    store.migrate()
    clock = FakeClock()
    outbox = Outbox(store, mock_lrs(lambda r: httpx.Response(204)), clock=clock, sleep=clock.sleep)
    admin = Store(postgres_url)
    passes = 0
    real = outbox.deliver_once

    def deliver_then_cut(**kwargs: Any) -> Any:
        nonlocal passes
        passes += 1
        report = real(**kwargs)
        if passes % 3 == 0:
            with admin.engine.connect() as conn:
                conn.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                )
        if passes == 5:
            outbox.emit(statements(7))
        return report

    outbox.deliver_once = deliver_then_cut  # type: ignore[method-assign]
    try:
        report = outbox.run(lambda: passes >= 15, poll_seconds=1.0)
        assert report.delivered == 7
        assert outbox.status().pending == 0
    finally:
        admin.dispose()
        store.dispose()


def test_a_failed_delivered_mark_is_retried_promptly_and_counted(
    sqlite_store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    """Failed before: the database error escaped deliver_once and the batch stayed claimed until
    its 120 s lease expired, then it was POSTed a second time."""
    clock = FakeClock()
    posts: list[int] = []
    lrs = mock_lrs(lambda r: posts.append(1) or httpx.Response(204))
    outbox = Outbox(sqlite_store, lrs, clock=clock, sleep=clock.sleep)
    outbox.emit(statements(4))
    flaky = FlakyDatabase(sqlite_store.engine)
    flaky.arm(1, when="delivered_at")  # the first mark fails, the prompt retry works
    try:
        report = outbox.deliver_once()
    finally:
        flaky.close()
    assert report.delivered == 4
    assert outbox.status().delivered == 4
    assert outbox.counters.mark_retries == 1
    assert sum(clock.slept) < 10  # a short retry, not the lease
    assert len(posts) == 1


def test_a_mark_that_keeps_failing_is_kept_and_applied_before_the_next_claim(
    sqlite_store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="blendkit")
    clock = FakeClock()
    posts: list[int] = []
    lrs = mock_lrs(lambda r: posts.append(1) or httpx.Response(204))
    outbox = Outbox(sqlite_store, lrs, clock=clock, sleep=clock.sleep)
    outbox.emit(statements(4))
    flaky = FlakyDatabase(sqlite_store.engine)
    flaky.arm(100, when="delivered_at")  # the database stays down for the marks
    try:
        with pytest.raises(OperationalError):
            outbox.deliver_once()
    finally:
        flaky.close()
    assert outbox.counters.unmarked == 4
    assert any("4 statement(s)" in r.getMessage() for r in caplog.records)
    clock.now += 30  # well inside the lease: nothing is sent again
    report = outbox.deliver_once()
    assert report.delivered == 4
    assert outbox.status().delivered == 4
    assert outbox.counters.unmarked == 0
    assert len(posts) == 1


def test_sigterm_finishes_the_batch_in_flight_and_exits_zero(
    tmp_path: Path, fresh_ralph: Ralph
) -> None:
    url = f"sqlite:///{tmp_path / 'deliver.sqlite3'}"
    store = Store(url)
    store.migrate()
    outbox = Outbox(store)
    outbox.emit(statements(300))
    fresh_ralph.faults([{"delay": 3}])  # the first POST is held inside the LRS
    env = deliverer_env(url, fresh_ralph, BLENDKIT_XAPI_BATCH_SIZE="300")
    deliver = [sys.executable, "-c", "from blendkit.cli import main; main()", "outbox", "run"]
    worker = subprocess.Popen(deliver, env=env, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while fresh_ralph.stats()["posts"] == 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    worker.send_signal(signal.SIGTERM)  # while the batch is in flight
    _, err = worker.communicate(timeout=60)
    assert worker.returncode == 0, err.decode()
    assert outbox.status().delivered == 300
    assert b"stopped: delivered 300" in err
    store.dispose()


def test_grades_deliver_loop_survives_a_database_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """Failed before: the OperationalError escaped `grades deliver --loop` (exit 1, traceback)."""
    calls = 0

    def flaky_deliver(self: GradePassback, limit: int = 50) -> Any:
        nonlocal calls
        calls += 1
        if calls <= 2:
            raise OperationalError("SELECT", {}, Exception("server closed the connection"))
        signal.raise_signal(signal.SIGTERM)  # the service manager stops it
        return type("Report", (), {"sent": 0, "retried": 0, "failed": 0, "errors": []})()

    monkeypatch.setattr(GradePassback, "deliver_due", flaky_deliver)
    previous = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    try:
        result = CliRunner().invoke(cli, ["grades", "deliver", "--loop", "--poll-seconds", "0.1"])
    finally:
        signal.signal(signal.SIGTERM, previous[0])
        signal.signal(signal.SIGINT, previous[1])
    assert result.exit_code == 0, result.output
    assert calls == 3


def test_a_resend_after_the_lease_is_counted_and_logged(
    sqlite_store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    """Failed before: the re-send after the lease was invisible (no count, no log line)."""
    caplog.set_level(logging.WARNING, logger="blendkit")
    clock = FakeClock()
    posts: list[int] = []
    lrs = mock_lrs(lambda r: posts.append(1) or httpx.Response(204))
    first = Outbox(sqlite_store, lrs, clock=clock, sleep=clock.sleep)
    first.emit(statements(4))
    flaky = FlakyDatabase(sqlite_store.engine)
    flaky.arm(100, when="delivered_at")
    try:
        with pytest.raises(OperationalError):
            first.deliver_once()
    finally:
        flaky.close()
    clock.now += first.lease + 1  # the database stayed away longer than the lease
    second = Outbox(sqlite_store, lrs, clock=clock, sleep=clock.sleep)
    assert second.deliver_once().delivered == 4  # the other deliverer sends them again
    assert first.deliver_once().delivered == 0
    assert first.counters.resent_after_lease == 4
    assert first.counters.unmarked == 0
    assert len(posts) == 2
    assert any(
        "4 delivered statement(s) were claimed again" in r.getMessage() for r in caplog.records
    )
    assert second.status().delivered == 4
