"""Which reminders fall due, sans-IO: dated events indexed by due time, fanned out to learners
only for the events that are due.

A :class:`PlannedEvent` is one dated thing of a course (a sitting starts, an item is due, a
recording is ready) with the reminders it wants (:class:`Offset`: "24 h before", "at the
moment") and its audience. :class:`ReminderPlan` sorts every (event, offset) by the moment its
reminder is due; :meth:`ReminderPlan.due` finds the due ones by bisection and builds a
:class:`~blendkit.notify.ReminderIntent` per recipient of those alone, so a scheduler tick costs
time in proportion to what is due, not to the number of learners or events.
:func:`due_per_learner` is the same answer computed the obvious way (every learner, every
event), kept as the reference the plan is tested and measured against.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from blendkit._collector import collector_paused
from blendkit.errors import NotificationInvalid
from blendkit.notify._contexts import MessageContext
from blendkit.notify._copies import NAME_LIMIT, EventMessages
from blendkit.notify._intent import ReminderIntent

__all__ = [
    "Addressee",
    "Offset",
    "PlannedEvent",
    "ReminderPlan",
    "due_per_learner",
    "offset_label",
    "parse_offsets",
]


@dataclass(frozen=True, slots=True)
class Offset:
    """One reminder of an event: sent ``before`` its moment (zero: at the moment); ``label``
    is its part of the idempotency key (``48h``, ``15m``, ``0``)."""

    label: str
    before: timedelta


def offset_label(before: timedelta) -> str:
    """``48h``, ``15m``, ``90s`` or ``0``: a lead time in whole hours, minutes or seconds."""
    seconds = int(before.total_seconds())
    if seconds == 0:
        return "0"
    for unit, size in (("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def parse_offsets(text: str) -> tuple[Offset, ...]:
    """``"48h,2h"`` → two offsets, longest lead first; units ``d``, ``h``, ``m``.

    Raises :class:`~blendkit.NotificationInvalid` (a ``ValueError``) naming the part that is not
    a lead time.
    """
    units = {"d": 86400, "h": 3600, "m": 60}
    found: dict[int, Offset] = {}
    for raw in text.split(","):
        part = raw.strip().lower()
        if not part:
            continue
        number, unit = part[:-1], part[-1:]
        if unit not in units or not number.isdigit() or not 0 < int(number) <= 10_000:
            raise NotificationInvalid(
                f"{raw.strip()!r} is not a lead time: write a whole number and d, h or m "
                "(e.g. 48h, 2h, 15m)",
                code="notify.offsets_invalid",
            )
        seconds = int(number) * units[unit]
        if seconds > 90 * 86400:
            raise NotificationInvalid(
                f"{raw.strip()!r} is more than 90 days ahead: choose a lead time of 90d or less",
                code="notify.offsets_invalid",
            )
        before = timedelta(seconds=seconds)
        found[seconds] = Offset(offset_label(before), before)
    return tuple(found[s] for s in sorted(found, reverse=True))


@dataclass(frozen=True, slots=True)
class Addressee:
    """A recipient as the planner needs them: who, the name to greet, their own time zone."""

    sub: str
    name: str
    time_zone: str = "UTC"


@dataclass(frozen=True, slots=True)
class PlannedEvent:
    """A dated event of a course and the reminders it wants.

    ``event`` and ``version`` go into the reminder's key (the version is the event's moment,
    so a moved sitting or an extended deadline gets new keys). ``context`` is the message with
    a placeholder greeting: each recipient gets a copy with their name, their time zone (when
    the message shows times) and their ``personal`` fields (e.g. their own join link).
    ``recipients`` None means every learner of the plan. A reminder stays worth sending until
    ``moment + expires`` (a reminder before a sitting is pointless once it started).
    ``per_recipient`` names the event per recipient (``deadline:<item>:<sub>``), for events
    that move for one learner alone (an extension), so cancelling one learner's old reminders
    leaves the others' alone.
    """

    event: str
    version: str
    moment: datetime
    offsets: tuple[Offset, ...]
    context: MessageContext
    recipients: tuple[str, ...] | None = None
    personal: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    expires: timedelta = timedelta(0)
    per_recipient: bool = False

    def name_for(self, sub: str) -> str:
        """The event's name in the reminders of ``sub``."""
        return f"{self.event}:{sub}" if self.per_recipient else self.event

    @property
    def stale_at(self) -> datetime:
        """From this moment on, none of its reminders is sent any more."""
        return self.moment + self.expires


Skip = Callable[[PlannedEvent], Collection[str]]
"""Asked once per due event: the recipients not to remind (e.g. those who completed the item)."""

Personal = Callable[[PlannedEvent, Sequence[str]], Mapping[str, Mapping[str, Any]] | None]
"""Asked once per due event with the recipients it reminds (after ``skip``): their own values,
which replace the event's ``personal`` (e.g. each one's join link, worked out only for the events
that are due). A recipient the answer leaves out gets no reminder of the event (e.g. the sitting's
item is locked for them); None leaves the event and its recipients as they are."""


class ReminderPlan:
    """The dated events of one course, indexed by the moment each reminder falls due."""

    def __init__(
        self,
        course_id: int,
        learners: Iterable[Addressee],
        events: Iterable[PlannedEvent],
    ) -> None:
        self.course_id = course_id
        self.learners = {a.sub: a for a in learners}
        events_list = list(events)
        entries = [
            (event.moment - offset.before, n, offset)
            for n, event in enumerate(events_list)
            for offset in event.offsets
        ]
        entries.sort(key=lambda e: (e[0], e[1]))
        self.events = events_list
        self._due_at = [e[0] for e in entries]
        self._entries = entries
        # The longest time a reminder stays worth sending after it fell due: entries due before
        # now - span are all stale, so a query never scans them.
        self._span = max(
            (events_list[n].stale_at - due for due, n, _ in entries), default=timedelta(0)
        )

    def due(
        self,
        now: datetime,
        horizon: timedelta,
        *,
        skip: Skip | None = None,
        personal: Personal | None = None,
    ) -> list[ReminderIntent]:
        """Every reminder due before ``now + horizon`` whose event is not stale at ``now``;
        ``skip`` and ``personal`` are asked about the due events alone."""
        lo = bisect.bisect_left(self._due_at, now - self._span)
        hi = bisect.bisect_left(self._due_at, now + horizon)
        due: dict[int, list[tuple[datetime, Offset]]] = {}
        for due_at, n, offset in self._entries[lo:hi]:
            if self.events[n].stale_at > now:
                due.setdefault(n, []).append((due_at, offset))
        intents: list[ReminderIntent] = []
        with collector_paused():
            for n, offsets in due.items():
                event = self.events[n]
                skipped = skip(event) if skip is not None else ()
                intents.extend(self._fan_out(event, offsets, skipped, personal))
        return intents

    def _fan_out(
        self,
        event: PlannedEvent,
        offsets: list[tuple[datetime, Offset]],
        skipped: Collection[str],
        personal: Personal | None,
    ) -> list[ReminderIntent]:
        """The event's due reminders for each recipient (one message shared by the offsets)."""
        people: Iterable[Addressee]
        if event.recipients is None:
            people = self.learners.values()
        else:
            people = (p for sub in event.recipients if (p := self.learners.get(sub)) is not None)
        course_id, name, version = self.course_id, event.event, event.version
        chosen = [p for p in people if p.sub not in skipped] if skipped else list(people)
        own = personal(event, [p.sub for p in chosen]) if personal is not None else None
        if own is not None:
            chosen = [p for p in chosen if p.sub in own]
            event = replace(event, personal=own)
        subs = [p.sub for p in chosen]
        names = [f"{name}:{sub}" for sub in subs] if event.per_recipient else [name] * len(subs)
        # Each recipient's message is built when it is read (see ReminderIntent): the intent
        # ends with the event's message maker and the person.
        make, copier = tuple.__new__, EventMessages(event)
        out: list[ReminderIntent] = []
        for due_at, offset in offsets:
            label = offset.label
            out += [
                make(ReminderIntent, (course_id, sub, named, version, label, due_at, copier, p))
                for sub, named, p in zip(subs, names, chosen, strict=True)
            ]
        return out


def personalised(event: PlannedEvent, person: Addressee) -> MessageContext:
    """The event's message for one recipient, as ``model_copy`` makes it."""
    update: dict[str, Any] = {"recipient_name": person.name[:NAME_LIMIT] or person.sub[:NAME_LIMIT]}
    if "time_zone" in type(event.context).model_fields:
        update["time_zone"] = person.time_zone
    extra = event.personal.get(person.sub)
    if extra:
        return type(event.context).model_validate({**dict(event.context), **update, **extra})
    return event.context.model_copy(update=update)


def due_per_learner(
    plan_course: int,
    learners: Sequence[Addressee],
    events: Sequence[PlannedEvent],
    now: datetime,
    horizon: timedelta,
    *,
    skip: Skip | None = None,
) -> list[ReminderIntent]:
    """The reference answer: for every learner, every event, every offset, is it due?"""
    until = now + horizon
    skipped = {id(e): skip(e) if skip is not None else () for e in events}
    intents: list[ReminderIntent] = []
    for person in learners:
        for event in events:
            if event.recipients is not None and person.sub not in event.recipients:
                continue
            if person.sub in skipped[id(event)] or event.stale_at <= now:
                continue
            for offset in event.offsets:
                due_at = event.moment - offset.before
                if due_at < until:
                    intents.append(
                        ReminderIntent(
                            plan_course,
                            person.sub,
                            event.name_for(person.sub),
                            event.version,
                            offset.label,
                            due_at,
                            personalised(event, person),
                        )
                    )
    return intents
