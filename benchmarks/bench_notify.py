"""Reminders scheduled + delivered per second: the durable notification queue versus a naive
store-and-send loop, in one run, on the same database and with the same in-process notifier.

* ``naive_loop``        one transaction per reminder to store it, then for each due row a read,
  the send and one UPDATE marking it sent (what a first implementation writes);
* ``notification_queue`` :meth:`NotificationQueue.schedule` (one multi-row insert) and
  :meth:`~NotificationQueue.flush` (claims of ``batch_size`` rows, one mark per message so a
  kill -9 re-sends at most the message in flight).

Both resolve with the same trivial resolver (no template rendering: that cost is the same for
both and would hide the queue's), and send through a notifier that only counts. Prints one JSON
line per figure (median of >= 5 repetitions) and the ratio.
Run: ``.venv/bin/python benchmarks/bench_notify.py [--count 2000] [--postgres URL]``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, text

from blendkit.notify import (
    Delivered,
    DeliveryDecision,
    Dispatch,
    Message,
    NotificationQueue,
    QueuedReminder,
    Recipient,
    ReminderIntent,
    SendOutcome,
    SessionStarting,
)
from blendkit.store import Store
from blendkit.store._tables_courses import course_courses
from blendkit.store._tables_notify import notify_queue

NOW = datetime.now(UTC)


class Counting:
    name = "count"

    def __init__(self) -> None:
        self.sent = 0

    def send(self, message: Message) -> SendOutcome:
        self.sent += 1
        return Delivered()


class Plain:
    """One message per reminder, without rendering."""

    def resolve(self, due: Sequence[QueuedReminder]) -> Sequence[DeliveryDecision]:
        return [Dispatch((q.id,), "count", message(q.intent.recipient, q.intent.key)) for q in due]


def message(recipient: str, key: str) -> Message:
    return Message(
        recipient=Recipient(address=f"{recipient}@example.org"),
        subject="Session soon",
        text="Your session starts soon.",
        key=f"bench-{abs(hash(key))}",
    )


def intents(course: int, count: int, run: int) -> list[ReminderIntent]:
    start = NOW + timedelta(days=1)
    context = SessionStarting(
        recipient_name="Ada", course_title="Biology", session_title="Live",
        starts=start, time_zone="UTC", join_url="https://meet.example.org/j/1",
    )  # fmt: skip
    return [
        ReminderIntent(
            course,
            f"learner-{n}",
            f"session:{run}",
            start.isoformat(),
            "24h",
            NOW - timedelta(minutes=1),
            context,
        )
        for n in range(count)
    ]


def make_course(store: Store, run: int) -> int:
    with store.transaction() as conn:
        return int(
            conn.execute(
                course_courses.insert()
                .values(
                    issuer="https://lms.example.edu", client_id="c", deployment_id="d",
                    context_id=f"bench-{run}-{time.time_ns()}", activity_key="https://t/a",
                    title="Biology", path="{}", created_at=NOW, updated_at=NOW,
                )
                .returning(course_courses.c.id)
            ).scalar_one()
        )  # fmt: skip


def queue_job(store: Store, count: int) -> Callable[[int], None]:
    def job(run: int) -> None:
        notifier = Counting()
        box = NotificationQueue(store, Plain(), {"count": notifier})
        box.schedule(intents(make_course(store, run), count, run))
        box.flush()
        assert notifier.sent == count, notifier.sent

    return job


def naive_job(store: Store, count: int) -> Callable[[int], None]:
    t = notify_queue.c

    def job(run: int) -> None:
        notifier = Counting()
        course = make_course(store, 100_000 + run)
        for intent in intents(course, count, run):
            with store.transaction() as conn:
                conn.execute(
                    notify_queue.insert().values(
                        course_id=course, recipient=intent.recipient, event=intent.event,
                        version=intent.version, offset=intent.offset, key=intent.key,
                        template=intent.context.template,
                        context=intent.context.model_dump_json(), status="pending", attempts=0,
                        due_at=intent.due_at, next_attempt_at=intent.due_at, created_at=NOW,
                    )
                )  # fmt: skip
        with store.transaction() as conn:
            due = conn.execute(
                select(t.id, t.recipient, t.key, t.context)
                .where(text("status = 'pending'"), t.course_id == course)
            ).all()  # fmt: skip
        for row in due:
            SessionStarting.model_validate_json(row.context)  # as the queue rebuilds it
            notifier.send(message(row.recipient, row.key))
            with store.transaction() as conn:
                conn.execute(notify_queue.update().where(t.id == row.id).values(status="sent"))
        assert notifier.sent == count

    return job


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--postgres", default=None, help="measure on this URL instead of SQLite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(args.postgres or f"sqlite:///{tmp}/bench.sqlite3")
        store.migrate()
        jobs = {
            "naive_loop": naive_job(store, args.count),
            "notification_queue": queue_job(store, args.count),
        }
        rates: dict[str, list[float]] = {name: [] for name in jobs}
        for run in range(max(5, args.repeat)):
            for name, job in jobs.items():
                started = time.perf_counter()
                job(run * 10 + len(rates[name]) + (1000 if name == "naive_loop" else 0))
                rates[name].append(args.count / (time.perf_counter() - started))
        database = "postgresql" if args.postgres else "sqlite"
        medians = {name: statistics.median(values) for name, values in rates.items()}
        for name, rate in medians.items():
            line = {"figure": name, "database": database, "reminders_per_s": round(rate)}
            print(json.dumps({**line, "runs": len(rates[name])}))
        ratio = medians["notification_queue"] / medians["naive_loop"]
        print(json.dumps({"ratio": "notification_queue_vs_naive_loop", "value": round(ratio, 2)}))
        store.dispose()


if __name__ == "__main__":
    main()
