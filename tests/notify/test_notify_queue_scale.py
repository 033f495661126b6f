"""The notification queue at scale: every query the deliverer, the scheduler and ``status()``
run reads through an index (EXPLAIN on PostgreSQL with 100k finished rows, EXPLAIN QUERY PLAN on
SQLite), a sent reminder costs a claim and one mark, and the CLI drives it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from click.testing import CliRunner
from sqlalchemy import text

from blendkit.cli import cli
from blendkit.config import load_settings
from blendkit.notify import (
    Delivered,
    Message,
    NotificationQueue,
    PermanentFailure,
    RecipientResolver,
    RetryableFailure,
    SendOutcome,
)
from blendkit.store import Store
from tests.query_plans import full_scans, plans, table_queries

from .queue_kit import FakeClock, RecordingNotifier, enrol, make_course, session_intent


def _fill_postgres(store: Store, course: int, finished: int) -> None:
    with store.engine.begin() as conn:
        conn.execute(
            text(
                'INSERT INTO notify_queue (course_id, recipient, event, version, "offset", key, '
                "template, context, status, attempts, due_at, next_attempt_at, created_at, "
                "finished_at) SELECT :course, 'old-' || g, 'session:old', 'v1', '24h', "
                "'old|' || g, 'session_starting', '{}', 'sent', 1, now() - interval '20 days', "
                "now() - interval '20 days', now() - interval '20 days', "
                "now() - interval '20 days' FROM generate_series(1, :n) g"
            ),
            {"n": finished, "course": course},
        )
    autocommit = store.engine.execution_options(isolation_level="AUTOCOMMIT")
    with autocommit.connect() as conn:
        conn.execute(text("VACUUM ANALYZE notify_queue"))


def test_every_queue_query_avoids_a_full_scan(store: Store) -> None:
    course = make_course(store)
    if store.is_postgres:
        _fill_postgres(store, course, 100_000)
    clock = FakeClock(datetime.now(UTC))
    now = datetime.fromtimestamp(clock.now, UTC)
    for sub in ("ada", "bob", "cyd"):
        enrol(store, course, sub, email=f"{sub}@example.org")
    answers: list[SendOutcome] = [
        RetryableFailure(reason="421 busy"),
        PermanentFailure(reason="550 no such user"),
    ]

    def answer(message: Message) -> SendOutcome:
        return answers.pop(0) if answers else Delivered()

    notifier = RecordingNotifier(answer)
    box = NotificationQueue(
        store, RecipientResolver(store), {"email": notifier}, clock=clock, sleep=clock.sleep
    )
    with table_queries(store.engine, "notify_queue") as queries:
        box.schedule([session_intent(course, s, due_at=now) for s in ("ada", "bob", "cyd")])
        box.deliver_once()  # retryable: the breaker opens, the others wait for it
        clock.now += 3600
        box.deliver_once()
        box.cancel_event(course, "session:s1", keep_version="v2")
        box.status()
        box.dead_letters()
        box.retry_dead()
        box.prune_sent(timedelta(days=30))
        box.flush(max_seconds=0)
    assert len(queries) >= 8
    bad = full_scans(store, "notify_queue", plans(store, queries))
    assert not bad, "full scans of notify_queue:\n\n" + "\n\n".join(bad)
    # The metrics' per-notifier outcomes: one lookup of the totals by name, never the queue
    # (SQLite shows the primary key's use; PostgreSQL may scan a table of a few rows by choice).
    with table_queries(store.engine, "notify_totals") as totals:
        assert box.outcomes(["email", "webhook"])[("email", "dead")] == 1
    assert len(totals) == 1
    assert "notify_queue" not in totals[0][0]
    if not store.is_postgres:
        assert not full_scans(store, "notify_totals", plans(store, totals))


def test_a_sent_reminder_costs_one_mark_after_the_claim(sqlite_store: Store) -> None:
    store = sqlite_store
    course = make_course(store)
    clock = FakeClock(datetime.now(UTC))
    now = datetime.fromtimestamp(clock.now, UTC)
    enrol(store, course, "ada")
    box = NotificationQueue(
        store, RecipientResolver(store), {"email": RecordingNotifier()}, clock=clock
    )
    box.schedule([session_intent(course, "ada", due_at=now)])
    with table_queries(store.engine, "notify_queue") as queries:
        assert box.deliver_once().delivered == 1
    assert len(queries) == 2, [q for q, _ in queries]  # claim, mark


def test_cli_status_retry_dead_and_prune() -> None:
    store = Store.from_settings(load_settings())
    store.migrate()
    course = make_course(store)
    enrol(store, course, "ada")
    clock = FakeClock(datetime.now(UTC))
    refuse = RecordingNotifier(lambda m: PermanentFailure(reason="550 5.1.1 mailbox unknown"))
    box = NotificationQueue(store, RecipientResolver(store), {"email": refuse}, clock=clock)
    box.schedule([session_intent(course, "ada", due_at=datetime.fromtimestamp(clock.now, UTC))])
    assert box.deliver_once().dead == 1
    runner = CliRunner()
    shown = runner.invoke(cli, ["notify", "status"])
    assert shown.exit_code == 0, shown.output
    assert "dead: 1" in shown.output
    assert "550 5.1.1 mailbox unknown" in shown.output
    again = runner.invoke(cli, ["notify", "retry-dead"])
    assert "queued 1 dead reminder(s) again" in again.output
    assert "pending: 1" in runner.invoke(cli, ["notify", "status"]).output
    pruned = runner.invoke(cli, ["notify", "prune", "--older-than-days", "0"])
    assert pruned.exit_code == 0
    assert "pruned 0 finished reminder(s)" in pruned.output
    store.dispose()
