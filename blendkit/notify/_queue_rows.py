"""The rows the notification queue stores for reminders, built without a database: one dict per
reminder, the values :meth:`~blendkit.notify.NotificationQueue.schedule` inserts.

The planner fans an event's reminder out to its recipients as a run of intents sharing the
course, event version, offset, due time and message maker (see
:class:`~blendkit.notify.ReminderIntent`). Such a run is checked once and shares the parts of the
key that do not name the recipient; only the recipient, the event's name (when it is named per
recipient), the key and the message JSON are worked out per row. The rows are the same,
value for value, as those :func:`reminder_row` builds one intent at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from blendkit._collector import collector_paused
from blendkit.errors import NotificationInvalid
from blendkit.notify._intent import DEFERRED, ReminderIntent
from blendkit.store._queue_sql import PENDING

__all__ = ["check_intent", "reminder_row", "reminder_rows"]

_LIMIT = 255
_COLUMNS = (("recipient", _LIMIT), ("event", _LIMIT), ("version", _LIMIT), ("offset", 32))
"""The parts of a reminder's key and the longest each column holds."""


def check_intent(intent: ReminderIntent) -> None:
    """Refuse a reminder the queue cannot store: a naive due time, or a part of its key empty
    or longer than its column."""
    if intent.due_at.tzinfo is None:
        raise NotificationInvalid(
            f"reminder {intent.key!r}: due_at must be an aware datetime (e.g. in UTC)",
            code="notify.reminder_invalid",
        )
    for name, limit in _COLUMNS:
        if not 0 < len(getattr(intent, name)) <= limit:
            raise NotificationInvalid(
                f"reminder {intent.key!r}: {name} must be 1 to {limit} characters",
                code="notify.reminder_invalid",
            )


def reminder_row(intent: ReminderIntent, now: datetime) -> dict[str, Any]:
    """The row of one reminder, scheduled at ``now``, built field by field (the reminder was
    checked with :func:`check_intent`)."""
    return {
        "course_id": intent.course_id, "recipient": intent.recipient, "event": intent.event,
        "version": intent.version, "offset": intent.offset, "key": intent.key,
        "template": intent.template, "context": intent.context_json(), "status": PENDING,
        "attempts": 0, "due_at": intent.due_at, "next_attempt_at": intent.due_at,
        "created_at": now,
    }  # fmt: skip


def reminder_rows(
    intents: Iterable[ReminderIntent], now: datetime, oldest: datetime | None = None
) -> list[dict[str, Any]]:
    """The rows of ``intents`` scheduled at ``now``, leaving out those due before ``oldest``
    (the queue's retention window); raises :class:`~blendkit.NotificationInvalid` on the first
    reminder :func:`check_intent` refuses, as building them one by one would."""
    rows: list[dict[str, Any]] = []
    with collector_paused():
        _fill(rows, intents, now, oldest)
    return rows


def _fill(
    rows: list[dict[str, Any]],
    intents: Iterable[ReminderIntent],
    now: datetime,
    oldest: datetime | None,
) -> None:
    add = rows.append
    # The fields the current run of planned intents shares, and what follows from them.
    course = version = offset = due_at = maker = None
    number, head, tail, template = 0, "", "", ""
    write: Callable[[Any], str] = str
    stale = False
    for intent in intents:
        if len(intent) != DEFERRED:
            check_intent(intent)
            if oldest is None or intent.due_at >= oldest:
                add(reminder_row(intent, now))
            continue
        c, recipient, event, v, o, d, m, person = intent
        if m is not maker or d is not due_at or o is not offset or v is not version or c != course:
            check_intent(intent)  # the shared fields, once per run
            course, version, offset, due_at, maker = c, v, o, d, m
            number = int(c)
            head, tail = f"{number}|", f"|{v}|{o}"
            template, write = str(m.cls.template), m.writer()
            stale = oldest is not None and d < oldest
        elif not (0 < len(recipient) <= _LIMIT and 0 < len(event) <= _LIMIT):
            check_intent(intent)
        if stale:
            continue
        add(
            {
                "course_id": number, "recipient": recipient, "event": event, "version": version,
                "offset": offset, "key": f"{head}{recipient}|{event}{tail}", "template": template,
                "context": write(person), "status": PENDING, "attempts": 0, "due_at": due_at,
                "next_attempt_at": due_at, "created_at": now,
            }
        )  # fmt: skip
