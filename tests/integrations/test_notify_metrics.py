"""``/metrics`` reports the notification queue as it reports the outbox: reminders by state and
the oldest pending age (one indexed status query per scrape), and what each notifier sent or gave
up on (totals kept in the database, so every process and every deliverer counts)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from blendkit import Store
from blendkit.integrations.flask import Blendkit
from blendkit.notify import (
    Message,
    NotificationQueue,
    PermanentFailure,
    RecipientResolver,
    RetryableFailure,
    SendOutcome,
)
from tests.integrations.conftest import AppFactory
from tests.integrations.test_metrics import AUTH, TOKEN, _samples
from tests.notify.queue_kit import FakeClock, RecordingNotifier, enrol, make_course, session_intent

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")


def _state(samples: dict, state: str) -> float:  # type: ignore[type-arg]
    return samples[("blendkit_notify_reminders", (("state", state),))]


def _outcome(samples: dict, notifier: str, outcome: str) -> float:  # type: ignore[type-arg]
    return samples[
        ("blendkit_notify_outcomes_total", (("notifier", notifier), ("outcome", outcome)))
    ]


def test_the_notification_queue_is_counted_by_state_and_by_notifier(
    make_app: AppFactory, store: Store
) -> None:
    app = make_app(store, metrics={"token": TOKEN})
    course = make_course(store)
    for sub in ("ada", "bob", "cyd", "dan"):
        enrol(store, course, sub, email=f"{sub}@example.org")
    answers = {
        "ada@example.org": None,
        "bob@example.org": PermanentFailure(reason="550 5.1.1 mailbox unknown"),
        "cyd@example.org": RetryableFailure(reason="421 busy"),
    }

    def answer(message: Message) -> SendOutcome:
        from blendkit.notify import Delivered

        return answers.get(message.recipient.address) or Delivered()

    clock = FakeClock()
    now = datetime.fromtimestamp(clock.now, UTC)
    queue = NotificationQueue(
        store, RecipientResolver(store), {"email": RecordingNotifier(answer)}, clock=clock
    )
    queue.schedule([session_intent(course, s, due_at=now) for s in ("ada", "bob", "cyd")])
    queue.schedule([session_intent(course, "dan", session="s2", due_at=now)])
    queue.cancel_event(course, "session:s2")
    while queue.deliver_once().claimed:
        pass
    watched = NotificationQueue(store, clock=clock)  # the web app's: no notifier of its own
    Blendkit.watch_notifications(watched, app, notifiers=["email", "webhook"])
    samples = _samples(app.test_client().get("/metrics", headers=AUTH).get_data(as_text=True))
    assert samples[("blendkit_notify_up", ())] == 1
    assert _state(samples, "pending") == 1  # cyd: retried later
    assert _state(samples, "sent") == 1
    assert _state(samples, "dead") == 1
    assert _state(samples, "cancelled") == 1
    assert _state(samples, "dropped") == 0
    assert samples[("blendkit_notify_oldest_pending_age_seconds", ())] >= 0
    assert _outcome(samples, "email", "sent") == 1
    assert _outcome(samples, "email", "dead") == 1
    assert _outcome(samples, "webhook", "sent") == 0
    # Retention prunes sent rows off the state gauge, never off the notifier's counter.
    clock.now += 40 * 86400
    assert watched.prune_sent(timedelta(days=30)) >= 1
    after = _samples(app.test_client().get("/metrics", headers=AUTH).get_data(as_text=True))
    assert _state(after, "sent") == 0
    assert _outcome(after, "email", "sent") == 1


def test_a_database_that_does_not_answer_reports_the_queue_down(
    make_app: AppFactory, sqlite_store: Store
) -> None:
    app = make_app(sqlite_store, metrics={"token": TOKEN})
    broken = Store("sqlite:////nonexistent-directory/none.sqlite3")
    Blendkit.watch_notifications(NotificationQueue(broken), app, notifiers=["email"])
    answer = app.test_client().get("/metrics", headers=AUTH)
    assert answer.status_code == 200
    assert _samples(answer.get_data(as_text=True))[("blendkit_notify_up", ())] == 0
