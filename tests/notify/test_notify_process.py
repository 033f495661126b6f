"""``blendkit notify run`` as a real process against a real SMTP server (aiosmtpd): killed with
SIGKILL mid-batch and restarted, and with the SMTP server down for a while, every reminder
arrives — exactly once by Message-ID, with at most one raw duplicate per kill."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import Envelope

from blendkit.notify import NotificationQueue, RecipientResolver
from blendkit.store import Store

from .queue_kit import enrol, make_course, session_intent
from .smtp_kit import HOST, Recorder, _EphemeralController, free_port

# Delivery only: these tests queue their own reminders (planning is tested on its own).
RUN = [sys.executable, "-c", "from blendkit.cli import main; main()", "notify", "run", "--no-plan"]


class SlowRecorder(Recorder):
    """Accepts each message after ``delay`` seconds (so a batch is in flight for a while)."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay

    async def handle_DATA(self, server: Any, session: Any, envelope: Envelope) -> str:
        await asyncio.sleep(self.delay)
        return await super().handle_DATA(server, session, envelope)

    def message_ids(self) -> list[str]:
        return [
            str(message_from_bytes(bytes(e.content or b""))["Message-ID"]) for e in self.envelopes
        ]


class Server:
    """aiosmtpd on a fixed port that can be stopped and started again."""

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder
        self.port = free_port()
        self.controller: _EphemeralController | None = None

    def start(self) -> None:
        self.controller = _EphemeralController(self.recorder, hostname=HOST, port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp() -> Iterator[Server]:
    server = Server(SlowRecorder(delay=0.05))
    server.start()
    yield server
    server.stop()


def _database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'notify.sqlite3'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    return _database(request, tmp_path)


def _schedule(url: str, learners: int) -> Store:
    store = Store(url)
    store.migrate()
    course = make_course(store)
    now = datetime.now(UTC)
    for n in range(learners):
        enrol(store, course, f"learner-{n}", name=f"Learner {n}", email=f"l{n}@example.org")
    box = NotificationQueue(store, RecipientResolver(store))
    start = now + timedelta(hours=24)
    intents = [
        session_intent(course, f"learner-{n}", start=start, due_at=now) for n in range(learners)
    ]
    assert box.schedule(intents) == learners
    return store


def _env(url: str, port: int, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BLENDKIT_")}
    env.update(
        BLENDKIT_DATABASE_URL=url,
        BLENDKIT_TOOL_SECRET_KEY="a-long-random-tool-key-for-these-tests",
        BLENDKIT_HTTP_ALLOWED_HOSTS='["127.0.0.1"]',
        BLENDKIT_EMAIL_HOST=HOST,
        BLENDKIT_EMAIL_PORT=str(port),
        BLENDKIT_EMAIL_SECURITY="none",
        BLENDKIT_EMAIL_FROM_ADDRESS="courses@example.org",
        BLENDKIT_EMAIL_TIMEOUT_SECONDS="3",
        BLENDKIT_NOTIFY_LEASE_SECONDS="2",
        BLENDKIT_NOTIFY_POLL_SECONDS="0.2",
        BLENDKIT_NOTIFY_BACKOFF_INITIAL_SECONDS="0.3",
        BLENDKIT_NOTIFY_BACKOFF_MAX_SECONDS="1.5",
        BLENDKIT_NOTIFY_BATCH_SIZE="25",
        **extra,
    )
    return env


def _wait(condition: Any, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _stop(worker: subprocess.Popen[bytes]) -> bytes:
    worker.send_signal(signal.SIGTERM)
    _, err = worker.communicate(timeout=60)
    assert worker.returncode == 0, err.decode()
    return err


def test_kill_9_mid_batch_and_restart_deliver_every_reminder_once(
    database_url: str, smtp: Server
) -> None:
    learners = 90
    store = _schedule(database_url, learners)
    recorder = smtp.recorder
    assert isinstance(recorder, SlowRecorder)
    env = _env(database_url, smtp.port)
    kills = 0
    for threshold in (12, 40, 65):  # SIGKILL while a batch is being sent
        worker = subprocess.Popen(RUN, env=env, stderr=subprocess.DEVNULL)
        _wait(lambda t=threshold: len(recorder.envelopes) >= t)
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
        kills += 1
    worker = subprocess.Popen(RUN, env=env, stderr=subprocess.PIPE)
    box = NotificationQueue(store)
    _wait(lambda: box.status().pending == 0)
    _stop(worker)
    ids = recorder.message_ids()
    assert len(set(ids)) == learners  # every reminder arrived
    duplicates = len(ids) - learners
    assert 0 <= duplicates <= kills, Counter(ids).most_common(3)
    assert box.status().sent == learners
    store.dispose()


def test_an_smtp_outage_ends_with_everything_delivered_and_one_open_and_close(
    database_url: str, smtp: Server
) -> None:
    learners = 40
    store = _schedule(database_url, learners)
    recorder = smtp.recorder
    assert isinstance(recorder, SlowRecorder)
    smtp.stop()  # the SMTP server is down before the first send
    worker = subprocess.Popen(RUN, env=_env(database_url, smtp.port), stderr=subprocess.PIPE)
    box = NotificationQueue(store)
    _wait(lambda: box.status().last_error is not None)
    time.sleep(3)  # down for a while: probes fail, the endpoint backs off
    smtp.start()
    _wait(lambda: box.status().pending == 0)
    err = _stop(worker).decode()
    ids = recorder.message_ids()
    assert len(set(ids)) == len(ids) == learners  # nothing reached the server twice
    assert err.count("notifier email: circuit open after") == 1, err
    assert err.count("notifier email: circuit closed") == 1, err
    assert box.status().sent == learners
    store.dispose()
