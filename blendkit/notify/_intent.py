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
from typing import Any, Protocol, cast

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


DEFERRED = 8
"""The length of an intent whose message is not built yet (maker and person last)."""


class ReminderIntent(tuple[Any, ...]):
    """One reminder to schedule.

    ``course_id`` is the course row's id (the tenant boundary: a course belongs to one
    issuer/client/deployment), ``recipient`` the LTI ``sub`` of the learner or instructor.
    ``event`` names the dated event (``session:<id>``, ``deadline:<item>``, ``unlock:<item>``,
    ``recording:<id>``, ``at_risk:<date>``, ``digest:<date>``), ``version`` what makes this
    occurrence of it distinct (the session's start, the deadline's moment), ``offset`` which
    reminder of it this is (``24h``, ``15m``, ``0``). ``due_at`` is an aware UTC datetime.

    An immutable value (a tuple of its seven fields, so the planner makes hundreds of thousands
    of them cheaply). The planner may leave the recipient's message unbuilt: the tuple then
    ends with the event's message maker and the person instead (``maker(person)`` builds the
    message, ``maker.json(person)`` its JSON, ``maker.writer()`` a function writing the JSON of
    each recipient of a run of such intents, ``maker.cls`` the message's class), and
    :attr:`context` builds it when it is read,
    so planning does no per-recipient message work for reminders that are counted, filtered
    or stored as rows (:meth:`context_json`).
    """

    __slots__ = ()

    def __new__(  # noqa: PLR0917 - the seven fields, in order
        cls,
        course_id: int,
        recipient: str,
        event: str,
        version: str,
        offset: str,
        due_at: datetime,
        context: MessageContext,
    ) -> ReminderIntent:
        return tuple.__new__(cls, (course_id, recipient, event, version, offset, due_at, context))

    @property
    def course_id(self) -> int:
        return int(self[0])

    @property
    def recipient(self) -> str:
        return cast(str, self[1])

    @property
    def event(self) -> str:
        return cast(str, self[2])

    @property
    def version(self) -> str:
        return cast(str, self[3])

    @property
    def offset(self) -> str:
        return cast(str, self[4])

    @property
    def due_at(self) -> datetime:
        return cast(datetime, self[5])

    @property
    def context(self) -> MessageContext:
        """The recipient's message (built now when the planner deferred it)."""
        if len(self) == DEFERRED:
            return self[6](self[7])  # type: ignore[no-any-return]
        return self[6]  # type: ignore[no-any-return]

    def context_json(self) -> str:
        """:attr:`context` as JSON (what the queue stores), without building the model when the
        planner deferred it."""
        if len(self) == DEFERRED:
            return str(self[6].json(self[7]))
        return str(self[6].model_dump_json())

    @property
    def template(self) -> str:
        """The name of the message's templates (without building a deferred message)."""
        return str((self[6].cls if len(self) == DEFERRED else self[6]).template)

    def with_context(self, context: MessageContext) -> ReminderIntent:
        """The same reminder with another message (e.g. the learner's own join link)."""
        return ReminderIntent(self[0], self[1], self[2], self[3], self[4], self[5], context)

    @property
    def key(self) -> str:
        """The idempotency key stored uniquely by the queue."""
        return "|".join((str(self[0]), self[1], self[2], self[3], self[4]))

    def __getnewargs__(self) -> tuple[Any, ...]:
        """The seven fields, the message built (what ``copy`` and ``pickle`` rebuild from)."""
        return (self[0], self[1], self[2], self[3], self[4], self[5], self.context)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ReminderIntent):
            return NotImplemented
        return self[:6] == other[:6] and self.context == other.context

    def __ne__(self, other: object) -> bool:
        equal = self.__eq__(other)
        return equal if equal is NotImplemented else not equal

    def __hash__(self) -> int:
        return hash(self[:6])

    def __repr__(self) -> str:
        return (
            f"ReminderIntent(course_id={self[0]!r}, recipient={self[1]!r}, event={self[2]!r}, "
            f"version={self[3]!r}, offset={self[4]!r}, due_at={self[5]!r}, "
            f"context={self.context!r})"
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
