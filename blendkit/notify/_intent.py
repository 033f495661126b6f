"""What the reminder planner hands to the notification queue, and what the queue asks back when a
reminder falls due: the sans-IO contract between planning and delivery.

A :class:`ReminderIntent` is one reminder for one recipient about one dated event. Its
:attr:`~ReminderIntent.key` — (course, recipient, event, event version, offset) — is the queue's
idempotency key: scheduling the same intent twice stores it once, and a moved session or an
extended deadline (a new *version* of the event) gets new keys, hence new reminders, while the
old version's pending reminders are cancelled with :meth:`NotificationSink.cancel_event`.

When reminders fall due, the queue hands each recipient's due rows to a
:class:`DeliveryResolver`, which answers per row what to do now: send a message through a named
notifier (several rows may share one message, e.g. a digest), postpone (quiet hours, the next
digest time), or drop with a reason (unsubscribed, no address). The resolver reads preferences
at delivery time, so an unsubscribe or a changed channel applies to reminders already queued.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from blendkit.notify._contexts import MessageContext
from blendkit.notify._message import Message

__all__ = [
    "Dispatch",
    "DeliveryDecision",
    "DeliveryResolver",
    "Drop",
    "NotificationSink",
    "Postpone",
    "QueuedReminder",
    "ReminderIntent",
]


@dataclass(frozen=True, slots=True)
class ReminderIntent:
    """One reminder to schedule.

    ``course_id`` is the course row's id (the tenant boundary: a course belongs to one
    issuer/client/deployment), ``recipient`` the LTI ``sub`` of the learner or instructor.
    ``event`` names the dated event (``session:<id>``, ``deadline:<item>``, ``unlock:<item>``,
    ``recording:<id>``, ``at_risk:<date>``, ``digest:<date>``), ``version`` what makes this
    occurrence of it distinct (the session's start, the deadline's moment), ``offset`` which
    reminder of it this is (``24h``, ``15m``, ``0``). ``due_at`` is an aware UTC datetime.
    """

    course_id: int
    recipient: str
    event: str
    version: str
    offset: str
    due_at: datetime
    context: MessageContext

    @property
    def key(self) -> str:
        """The idempotency key stored uniquely by the queue."""
        return "|".join(
            (str(self.course_id), self.recipient, self.event, self.version, self.offset)
        )


@dataclass(frozen=True, slots=True)
class QueuedReminder:
    """A stored reminder as the queue hands it to the resolver when it falls due."""

    id: int
    intent: ReminderIntent
    attempts: int


@dataclass(frozen=True, slots=True)
class Dispatch:
    """Send ``message`` through the notifier named ``notifier``; it covers the rows ``ids``
    (one row, or several merged into a digest). Delivered once for all of them."""

    ids: tuple[int, ...]
    notifier: str
    message: Message


@dataclass(frozen=True, slots=True)
class Postpone:
    """Not now: try the rows ``ids`` again at ``until`` (quiet hours, the next digest)."""

    ids: tuple[int, ...]
    until: datetime
    reason: str


@dataclass(frozen=True, slots=True)
class Drop:
    """Never send the rows ``ids``; ``reason`` is kept on the rows for the admin."""

    ids: tuple[int, ...]
    reason: str


DeliveryDecision = Dispatch | Postpone | Drop


class DeliveryResolver(Protocol):
    """Decides, at delivery time, what becomes of one recipient's due reminders."""

    def resolve(self, due: Sequence[QueuedReminder]) -> Sequence[DeliveryDecision]:
        """``due`` holds rows of one ``(course_id, recipient)``; every row id must appear in
        exactly one decision."""
        ...


class NotificationSink(Protocol):
    """Where planned reminders go: the durable notification queue implements it."""

    def schedule(self, intents: Iterable[ReminderIntent]) -> int:
        """Store the intents whose key is not stored yet (in any state); return how many were
        new. Safe to call again with the same intents."""
        ...

    def cancel_event(self, course_id: int, event: str, *, keep_version: str | None = None) -> int:
        """Cancel the pending (not yet sent) reminders of ``event`` in the course, except those
        of ``keep_version``; return how many were cancelled."""
        ...
