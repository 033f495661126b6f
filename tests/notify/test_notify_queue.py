"""The durable notification queue: idempotent scheduling, cancelling a moved event's reminders,
and every resolver decision and notifier outcome settled as the contract says."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from blendkit.notify import (
    Delivered,
    DeliveryDecision,
    Dispatch,
    Drop,
    Message,
    NotificationQueue,
    PermanentFailure,
    Postpone,
    QueuedReminder,
    Recipient,
    RecipientResolver,
    RetryableFailure,
    SessionStarting,
    message_key,
)
from blendkit.store import Store
from blendkit.store._tables_notify import notify_queue

from .queue_kit import T0, FakeClock, RecordingNotifier, deadline_intent, enrol, make_course
from .queue_kit import session_intent as intent


def queue(
    store: Store, notifier: RecordingNotifier, clock: FakeClock, **kw: object
) -> NotificationQueue:
    return NotificationQueue(
        store, RecipientResolver(store), {"email": notifier}, clock=clock, sleep=clock.sleep,
        **kw,  # type: ignore[arg-type]
    )  # fmt: skip


def rows(store: Store) -> dict[str, tuple[str, int, str | None]]:
    t = notify_queue.c
    with store.engine.connect() as conn:
        found = conn.execute(select(t.key, t.status, t.attempts, t.last_error)).all()
    return {r.key: (r.status, r.attempts, r.last_error) for r in found}


def test_scheduling_is_idempotent_and_a_moved_event_gets_new_reminders(store: Store) -> None:
    clock = FakeClock()
    course = make_course(store)
    box = queue(store, RecordingNotifier(), clock)
    first = [intent(course, "ada", offset="24h"), intent(course, "ada", offset="15m")]
    assert box.schedule(first) == 2
    assert box.schedule(first) == 0  # the same keys again: stored once
    moved = T0 + timedelta(days=2)
    assert box.cancel_event(course, "session:s1", keep_version=moved.isoformat()) == 2
    again = [intent(course, "ada", start=moved, offset=o) for o in ("24h", "15m")]
    assert box.schedule(again + first) == 2  # the new version is new; the old stays cancelled
    status = box.status()
    assert (status.pending, status.cancelled) == (2, 2)
    assert box.cancel_event(course, "session:s1", keep_version=moved.isoformat()) == 0


def test_a_due_reminder_is_rendered_for_the_enrolment_and_sent_once(store: Store) -> None:
    clock = FakeClock(T0)
    course = make_course(store)
    enrol(store, course, "ada", name="Ada Byron", time_zone="Asia/Tokyo")
    notifier = RecordingNotifier()
    box = queue(store, notifier, clock)
    reminder = intent(course, "ada")
    box.schedule([reminder, intent(course, "ada", session="later", start=T0 + timedelta(days=9))])
    report = box.deliver_once()
    assert (report.delivered, report.claimed) == (1, 1)  # the later one is not due yet
    [message] = notifier.sent
    assert message.key == message_key(reminder.key)
    assert message.recipient.address == "ada@example.org"
    assert "Ada Byron" in message.text  # the enrolment's current name, not the planned one
    assert "6:00\u202fPM (Asia/Tokyo)" in message.text  # 09:00 UTC in the enrolment's zone
    assert box.deliver_once().delivered == 0
    status = box.status()
    assert (status.pending, status.sent) == (1, 1)


def test_retryable_failures_back_off_the_rows_and_the_endpoint(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="blendkit")
    clock = FakeClock(T0)
    course = make_course(store)
    for sub in ("ada", "bob", "cyd"):
        enrol(store, course, sub, email=f"{sub}@example.org")
    down = True
    notifier = RecordingNotifier(
        lambda m: RetryableFailure(reason="421 4.3.2 busy", retry_after=60) if down else
        Delivered()
    )  # fmt: skip
    box = queue(store, notifier, clock)
    box.schedule([intent(course, s) for s in ("ada", "bob", "cyd")])
    report = box.deliver_once()
    assert (report.requests, report.retried, report.postponed) == (1, 1, 2)  # one probe only
    assert box.breaker("email").state == "open"
    attempts = sorted(a for _, a, _ in rows(store).values())
    assert attempts == [0, 0, 1]  # waiting for the endpoint costs no attempt
    clock.now += 30
    assert box.deliver_once().claimed == 0  # backed off: not a claim per due row
    clock.now += 31
    down = False
    assert box.deliver_once().delivered == 3
    assert box.breaker("email").state == "closed"
    assert box.status().sent == 3
    changes = [r.getMessage() for r in caplog.records if "notifier email" in r.getMessage()]
    assert sum("circuit open" in line for line in changes) == 1
    assert sum("circuit closed" in line for line in changes) == 1


def test_a_permanent_failure_is_a_dead_letter_with_the_reason_and_can_be_retried(
    store: Store,
) -> None:
    clock = FakeClock(T0)
    course = make_course(store)
    enrol(store, course, "ada")
    refuse = True
    notifier = RecordingNotifier(
        lambda m: PermanentFailure(reason="550 5.1.1 no such user") if refuse else
        Delivered()
    )  # fmt: skip
    box = queue(store, notifier, clock)
    box.schedule([intent(course, "ada")])
    assert box.deliver_once().dead == 1
    [letter] = box.dead_letters()
    assert (letter.reason, letter.recipient, letter.notifier) == (
        "550 5.1.1 no such user",
        "ada",
        "email",
    )
    assert box.status().dead == 1
    assert box.schedule([intent(course, "ada")]) == 0  # a dead key is not scheduled again
    refuse = False
    assert box.retry_dead() == 1
    assert box.deliver_once().delivered == 1
    assert (box.status().dead, box.status().sent) == (0, 1)


class Deciding:
    """A resolver that postpones the first row, drops the second and sends the rest."""

    def __init__(self, until: datetime) -> None:
        self.until = until
        self.seen: list[Sequence[QueuedReminder]] = []

    def resolve(self, due: Sequence[QueuedReminder]) -> Sequence[DeliveryDecision]:
        self.seen.append(due)
        decisions: list[DeliveryDecision] = []
        for index, row in enumerate(due):
            if index == 0:
                decisions.append(Postpone((row.id,), self.until, "quiet hours"))
            elif index == 1:
                decisions.append(Drop((row.id,), "unsubscribed"))
        rest = tuple(r.id for r in due[2:])
        if rest:
            message = Message(recipient=Recipient(address="ada@example.org"), subject="Digest",
                              text="Two things", key="digest-1")  # fmt: skip
            decisions.append(Dispatch(rest, "email", message))
        return decisions


def test_postpone_drop_and_a_digest_dispatch(store: Store) -> None:
    clock = FakeClock(T0 + timedelta(days=3))
    course = make_course(store)
    notifier = RecordingNotifier()
    resolver = Deciding(until=T0 + timedelta(days=3, hours=8))
    box = NotificationQueue(store, resolver, {"email": notifier}, clock=clock, sleep=clock.sleep)
    due = T0 + timedelta(days=5)
    box.schedule([deadline_intent(course, "ada", due, item=f"i{n}") for n in range(4)])
    report = box.deliver_once()
    assert (report.postponed, report.dropped, report.delivered) == (1, 1, 2)
    assert len(notifier.sent) == 1  # one digest for two rows
    [group] = resolver.seen
    assert all(isinstance(q.intent.context, type(group[0].intent.context)) for q in group)
    by_status = sorted((s, a) for s, a, _ in rows(store).values())
    assert by_status == [("dropped", 0), ("pending", 0), ("sent", 0), ("sent", 0)]
    t = notify_queue.c
    with store.engine.connect() as conn:
        nxt = conn.execute(select(t.next_attempt_at).where(t.status == "pending")).scalar_one()
    assert nxt.replace(tzinfo=None) == resolver.until.replace(tzinfo=None)  # no attempt spent


def test_the_context_comes_back_as_its_own_class(store: Store) -> None:
    clock = FakeClock(T0)
    course = make_course(store)
    seen: list[QueuedReminder] = []

    class Keep:
        def resolve(self, due: Sequence[QueuedReminder]) -> Sequence[DeliveryDecision]:
            seen.extend(due)
            return [Drop(tuple(q.id for q in due), "inspected")]

    box = NotificationQueue(store, Keep(), {}, clock=clock)
    original = intent(course, "ada")
    box.schedule([original])
    box.deliver_once()
    [queued] = seen
    assert isinstance(queued.intent.context, SessionStarting)
    assert queued.intent == original
    assert queued.intent.key == original.key


def test_the_default_resolver_drops_with_a_reason_when_it_cannot_address_the_recipient(
    store: Store,
) -> None:
    clock = FakeClock(T0)
    course = make_course(store)
    enrol(store, course, "no-mail", email=None)
    notifier = RecordingNotifier()
    box = queue(store, notifier, clock)
    box.schedule([intent(course, "no-mail"), intent(course, "gone")])
    assert box.deliver_once().dropped == 2
    reasons = sorted(r for _, _, r in rows(store).values())
    assert reasons == [
        "the recipient is no longer enrolled in the course",
        "the recipient's enrolment has no e-mail address",
    ]
    assert notifier.sent == []


def test_retention_prunes_finished_rows_and_never_reschedules_a_pruned_key(store: Store) -> None:
    clock = FakeClock(T0)
    course = make_course(store)
    enrol(store, course, "ada")
    box = queue(store, RecordingNotifier(), clock, keep_sent=timedelta(days=30))
    old = intent(course, "ada")
    box.schedule([old, intent(course, "ada", session="s9", start=T0 + timedelta(days=90))])
    assert box.deliver_once().delivered == 1
    clock.now += 40 * 86400
    assert box.prune_sent(timedelta(days=30), batch_size=1) == 1
    status = box.status()
    assert (status.pending, status.sent) == (1, 0)
    assert box.schedule([old]) == 0  # due before the retention window: skipped, not re-sent
