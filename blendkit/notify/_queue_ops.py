"""The notification queue's tables as a durable queue, its values (status, report, dead letters)
and the operations that need no notifier: scheduling, cancelling, inspection, retrying dead
letters and retention."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Row, and_, insert, select, text

from blendkit.errors import NotificationInvalid
from blendkit.notify._contexts import MessageContext
from blendkit.notify._intent import QueuedReminder, ReminderIntent
from blendkit.notify._queue_rows import reminder_rows
from blendkit.store._queue import DeliveryReport, aware, utc
from blendkit.store._queue_loop import QueueLoops
from blendkit.store._queue_sql import IS_PENDING, PENDING, QueueSpec
from blendkit.store._tables_notify import (
    IS_FINISHED,
    notify_dead_letters,
    notify_queue,
    notify_totals,
)

__all__ = [
    "NOTIFY",
    "NotificationDeadLetter",
    "NotificationOperations",
    "NotificationReport",
    "NotificationStatus",
    "context_class",
    "outcome_total",
]

SENT, CANCELLED, DROPPED, DEAD = "sent", "cancelled", "dropped", "dead"
OUTCOMES = (SENT, DEAD)
"""What each notifier's totals count (``outcome_total``)."""
_t = notify_queue.c

NOTIFY = QueueSpec(
    table=notify_queue,
    totals=notify_totals,
    done=SENT,
    done_at="finished_at",
    finished=IS_FINISHED,
    claim_columns=(
        "id",
        "course_id",
        "recipient",
        "event",
        "version",
        "offset",
        "template",
        "context",
        "due_at",
        "attempts",
    ),
    claim_order="next_attempt_at",
)


@dataclass(frozen=True)
class NotificationStatus:
    """Counts per state, when the next reminder is due and the latest error."""

    pending: int
    sent: int
    cancelled: int
    dropped: int
    dead: int
    next_attempt_at: datetime | None
    last_error: str | None
    oldest_pending_at: datetime | None = None
    """When the oldest reminder still waiting was scheduled (None: nothing pending)."""


@dataclass
class NotificationReport(DeliveryReport):
    """What one delivery pass did; ``delivered`` counts reminders (a digest covers several)."""

    claimed: int = 0
    postponed: int = 0
    dropped: int = 0

    def add(self, other: DeliveryReport) -> None:
        super().add(other)
        if isinstance(other, NotificationReport):
            self.claimed += other.claimed
            self.postponed += other.postponed
            self.dropped += other.dropped


@dataclass(frozen=True)
class NotificationDeadLetter:
    """A reminder its notifier refused for good, with the server's reason."""

    id: int
    course_id: int
    recipient: str
    event: str
    notifier: str
    reason: str
    attempts: int
    failed_at: datetime


def context_class(template: str) -> type[MessageContext]:
    """The :class:`MessageContext` subclass whose ``template`` is ``template`` (the built-in
    ones and any defined by a plugin); :class:`~blendkit.NotificationInvalid` when none is."""
    stack: list[type[MessageContext]] = [MessageContext]
    while stack:
        for sub in stack.pop().__subclasses__():
            if getattr(sub, "template", None) == template:
                return sub
            stack.append(sub)
    raise NotificationInvalid(
        f"no message context has the template {template!r}: install again the plugin that "
        "defines it, then blendkit notify retry-dead",
        code="notify.template_unknown",
    )


def outcome_total(outcome: str, notifier: str) -> str:
    """The name of the total counting ``outcome`` (sent, dead) of ``notifier``."""
    return f"{outcome}@{notifier}"[:32]


class NotificationOperations(QueueLoops):
    """Scheduling, cancelling, inspection and operator actions (no notifier needed)."""

    spec = NOTIFY
    label = "notify"
    noun = "notification"
    resend_note = "with the same Message-ID, which the receiver can recognise"
    database_name = "notification queue database"

    # --- the NotificationSink side ------------------------------------------------------------

    def schedule(
        self, intents: Iterable[ReminderIntent], *, connection: Connection | None = None
    ) -> int:
        """Store the intents whose key is not stored yet (in any state); returns how many were
        new. Safe to call again with the same intents. Pass ``connection`` (or schedule inside
        :meth:`blendkit.Store.unit_of_work`) to store them with the caller's own change.

        An intent due before the retention window (``keep_done``) is skipped: its key may have
        been pruned already, and storing it again would send it twice."""
        now = utc(self.clock())
        oldest = now - self.keep_done if self.keep_done is not None else None
        rows = reminder_rows(intents, now, oldest)
        if not rows:
            return 0
        statement = self.store.insert_ignoring_conflicts(notify_queue, "key").returning(_t.id)
        if connection is not None:
            return len(connection.execute(statement, rows).all())
        with self.store.transaction() as conn:
            return len(conn.execute(statement, rows).all())

    def cancel_event(self, course_id: int, event: str, *, keep_version: str | None = None) -> int:
        """Cancel the pending reminders of ``event`` in the course, except those of
        ``keep_version``; returns how many were cancelled. A reminder being sent right now
        may still arrive; every other one is never sent."""
        now = utc(self.clock())
        which: list[Any] = [text(IS_PENDING), _t.course_id == course_id, _t.event == event]
        if keep_version is not None:
            which.append(_t.version != keep_version)
        reason = "cancelled: the event moved" if keep_version is not None else "cancelled"
        with self.store.transaction() as conn:
            cancelled = int(
                conn.execute(
                    notify_queue.update()
                    .where(*which)
                    .values(
                        status=CANCELLED, finished_at=now, claimed_by=None, claimed_until=None,
                        last_error=reason,
                    )
                ).rowcount
            )  # fmt: skip
            if cancelled:
                self.spec.bump(conn, CANCELLED, cancelled)
        return cancelled

    # --- rows to reminders --------------------------------------------------------------------

    @staticmethod
    def reminder(row: Row[Any]) -> QueuedReminder:
        """A claimed row as the resolver sees it (raises when its context no longer reads)."""
        context = context_class(row.template).model_validate(json.loads(row.context))
        intent = ReminderIntent(
            course_id=row.course_id, recipient=row.recipient, event=row.event,
            version=row.version, offset=row.offset, due_at=aware(row.due_at) or row.due_at,
            context=context,
        )  # fmt: skip
        return QueuedReminder(id=row.id, intent=intent, attempts=row.attempts)

    # --- finishing rows -------------------------------------------------------------------------

    def _finish(self, token: str, ids: list[int], status: str, reason: str) -> int:
        """Mark claimed rows dropped (or another final state) with ``reason``; returns how many."""
        if not ids:
            return 0
        now = utc(self.clock())
        with self.store.transaction() as conn:
            done = int(
                conn.execute(
                    self.spec.owned(token, ids).values(
                        status=status, finished_at=now, claimed_by=None, claimed_until=None,
                        last_error=reason[:1000],
                    )
                ).rowcount
            )  # fmt: skip
            if done:
                self.spec.bump(conn, status, done)
        return done

    def _dead(self, token: str, ids: list[int], notifier: str, reason: str) -> int:
        """Claimed rows become dead letters, with the reason; returns how many."""
        if not ids:
            return 0
        now = utc(self.clock())
        with self.store.transaction() as conn:
            gone = conn.execute(
                self.spec.owned(token, ids)
                .values(
                    status=DEAD, finished_at=now, claimed_by=None, claimed_until=None,
                    attempts=_t.attempts + 1, last_error=reason[:1000],
                )
                .returning(_t.id, _t.attempts)
            ).all()  # fmt: skip
            if gone:
                self.spec.bump(conn, outcome_total(DEAD, notifier), len(gone))
                conn.execute(
                    insert(notify_dead_letters),
                    [
                        {"queue_id": r.id, "notifier": notifier[:64], "reason": reason[:4000],
                         "attempts": r.attempts, "failed_at": now}
                        for r in gone
                    ],
                )  # fmt: skip
        return len(gone)

    # --- inspection and operator actions --------------------------------------------------------

    def status(self) -> NotificationStatus:
        """Counts per state, next due time, latest error (one indexed query)."""
        query = self.spec.status_query(notify_dead_letters, (SENT, CANCELLED, DROPPED))
        with self.store.autocommit() as conn:
            pending, sent, cancelled, dropped, dead, nxt, last, oldest = conn.execute(query).one()
        return NotificationStatus(
            pending=int(pending), sent=int(sent or 0), cancelled=int(cancelled or 0),
            dropped=int(dropped or 0), dead=int(dead), next_attempt_at=aware(nxt),
            last_error=last, oldest_pending_at=aware(oldest),
        )  # fmt: skip

    def outcomes(self, notifiers: Sequence[str]) -> dict[tuple[str, str], int]:
        """How many reminders each of ``notifiers`` sent and gave up on, ever: ``{(notifier,
        "sent" | "dead"): count}``, totals that retention and ``retry-dead`` never lower (one
        primary-key lookup per total, never a read of the queue)."""
        names = {outcome_total(o, n): (n, o) for n in notifiers for o in OUTCOMES}
        found = dict.fromkeys(names.values(), 0)
        if not names:
            return found
        t = notify_totals.c
        with self.store.autocommit() as conn:
            rows = conn.execute(select(t.name, t.value).where(t.name.in_(list(names)))).all()
        for name, value in rows:
            found[names[name]] = int(value)
        return found

    def dead_letters(self, limit: int = 100) -> list[NotificationDeadLetter]:
        """The most recent dead letters with their reasons."""
        d = notify_dead_letters.c
        query = (
            select(
                _t.id, _t.course_id, _t.recipient, _t.event, d.notifier, d.reason, d.attempts,
                d.failed_at,
            )
            .join_from(notify_dead_letters, notify_queue, and_(d.queue_id == _t.id))
            .order_by(d.id.desc())
            .limit(limit)
        )  # fmt: skip
        with self.store.autocommit() as conn:
            return [NotificationDeadLetter(*r) for r in conn.execute(query).all()]

    def retry_dead(self, ids: Sequence[int] | None = None) -> int:
        """Queue dead reminders again (all, or the given queue ids), due now with a fresh
        attempt count; returns how many."""
        d = notify_dead_letters.c
        now = utc(self.clock())
        with self.store.transaction() as conn:
            query = select(d.queue_id)
            if ids is not None:
                query = query.where(d.queue_id.in_(list(ids)))
            back = list(conn.execute(query).scalars())
            if not back:
                return 0
            conn.execute(
                notify_queue.update()
                .where(_t.id.in_(back), _t.status == DEAD)
                .values(status=PENDING, attempts=0, next_attempt_at=now, finished_at=None)
            )
            conn.execute(notify_dead_letters.delete().where(d.queue_id.in_(back)))
        return len(back)

    def prune_sent(self, older_than: timedelta, *, batch_size: int = 1000) -> int:
        """Delete sent, cancelled and dropped reminders older than ``older_than`` in bounded
        batches (never pending ones or dead letters); returns how many."""
        return self.prune_finished(older_than, batch_size=batch_size)
