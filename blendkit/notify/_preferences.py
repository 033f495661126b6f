"""A learner's say over their notifications, applied when reminders fall due.

:class:`PreferenceResolver` wraps the queue's resolver (the one that renders and picks the
course channel) and applies, in order: unsubscribed → :class:`~blendkit.notify.Drop`; digest →
:class:`~blendkit.notify.Postpone` to the learner's digest hour, then one message for every row
due by then; quiet hours → postpone to their end; a chosen channel → that notifier. Preferences
are read at delivery time, so a change applies to reminders already queued.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from blendkit.notify._contexts import DigestEntry, LearnerDigest
from blendkit.notify._intent import (
    DeliveryDecision,
    DeliveryResolver,
    Dispatch,
    Drop,
    Postpone,
    QueuedReminder,
)
from blendkit.notify._local_time import QuietHours, instants_at, next_wall_time
from blendkit.notify._message import Message
from blendkit.notify._render import render_message

__all__ = ["LearnerPreferences", "PreferenceResolver", "PreferenceSource"]


@dataclass(frozen=True, slots=True)
class LearnerPreferences:
    """One recipient's choices in one course (the defaults: immediate, any hour, the course
    channel). ``unsubscribed`` maps a channel (``*``: all) to when they unsubscribed."""

    time_zone: str = "UTC"
    channel: str | None = None
    quiet: QuietHours | None = None
    digest: bool = False
    digest_hour: int = 8
    unsubscribed: dict[str, datetime] = field(default_factory=dict)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)


class PreferenceSource(Protocol):
    """Where preferences are read (the store, in an app)."""

    def preferences(self, course_id: int, sub: str) -> LearnerPreferences:
        """The recipient's preferences (defaults when they chose nothing)."""
        ...


UnsubscribeLink = Callable[[int, str, str], str]
"""``(course_id, sub, channel) -> URL`` of the one-click unsubscribe endpoint."""


class PreferenceResolver:
    """A :class:`~blendkit.notify.DeliveryResolver` that applies learners' preferences around
    ``inner`` (which renders each row and picks the course channel)."""

    def __init__(
        self,
        inner: DeliveryResolver,
        preferences: PreferenceSource,
        *,
        available: Sequence[str],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        unsubscribe_link: UnsubscribeLink | None = None,
        digest_window: timedelta = timedelta(hours=1),
    ) -> None:
        self.inner = inner
        self.source = preferences
        self.available = frozenset(available)
        self.clock = clock
        self.unsubscribe_link = unsubscribe_link
        self.digest_window = digest_window

    def resolve(self, due: Sequence[QueuedReminder]) -> Sequence[DeliveryDecision]:
        """One decision per row (see the module doc for the order the rules apply in)."""
        if not due:
            return []
        first = due[0].intent
        prefs = self.source.preferences(first.course_id, first.recipient)
        ids = tuple(row.id for row in due)
        now = self.clock()
        if "*" in prefs.unsubscribed:
            return [Drop(ids, f"unsubscribed by the learner on {_day(prefs.unsubscribed['*'])}")]
        if prefs.digest:
            held = self._digest_wait(now, prefs)
            if held is not None:
                return [Postpone(ids, held, "the learner reads a daily digest")]
        elif prefs.quiet is not None:
            until = prefs.quiet.ends_after(now, prefs.zone)
            if until is not None:
                return [Postpone(ids, until, "quiet hours of the learner")]
        decisions = [self._channel(d, prefs) for d in self.inner.resolve(due)]
        if prefs.digest:
            decisions = _merged(decisions, first.course_id, due)
        return [self._with_link(d, first.course_id, first.recipient) for d in decisions]

    def _digest_wait(self, now: datetime, prefs: LearnerPreferences) -> datetime | None:
        """None inside the window after the learner's digest hour, else when it comes next."""
        zone = prefs.zone
        wall = time(prefs.digest_hour)
        today = now.astimezone(zone).date()
        for day in (today, today - timedelta(days=1)):
            for moment in instants_at(day, wall, zone):
                if moment <= now < moment + self.digest_window:
                    return None
        return next_wall_time(now, wall, zone)

    def _channel(self, decision: DeliveryDecision, prefs: LearnerPreferences) -> DeliveryDecision:
        if not isinstance(decision, Dispatch):
            return decision
        notifier = decision.notifier
        if prefs.channel is not None and prefs.channel in self.available:
            notifier = prefs.channel
        if notifier in prefs.unsubscribed:
            when = _day(prefs.unsubscribed[notifier])
            return Drop(decision.ids, f"unsubscribed by the learner from {notifier} on {when}")
        return replace(decision, notifier=notifier)

    def _with_link(self, decision: DeliveryDecision, course_id: int, sub: str) -> DeliveryDecision:
        if self.unsubscribe_link is None or not isinstance(decision, Dispatch):
            return decision
        url = self.unsubscribe_link(course_id, sub, decision.notifier)
        return replace(decision, message=with_unsubscribe(decision.message, url))


def with_unsubscribe(message: Message, url: str) -> Message:
    """``message`` with a one-click unsubscribe link: RFC 8058 headers and a closing line."""
    text = f"{message.text.rstrip()}\n\nUnsubscribe: {url}\n"
    html = message.html
    if html is not None:
        line = f'<p style="font-size:14px"><a href="{_attr(url)}">Unsubscribe</a></p>'
        html = html.replace("</main>", f"{line}\n</main>", 1) if "</main>" in html else html + line
    headers = (
        *message.headers,
        ("List-Unsubscribe", f"<{url}>"),
        ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
    )
    return message.model_copy(update={"text": text, "html": html, "headers": headers})


def _attr(value: str) -> str:
    return value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def _day(moment: datetime) -> str:
    return moment.astimezone(UTC).date().isoformat()


def _merged(
    decisions: list[DeliveryDecision], course_id: int, due: Sequence[QueuedReminder]
) -> list[DeliveryDecision]:
    """The dispatches of one learner's rows folded into one digest message."""
    sends = [d for d in decisions if isinstance(d, Dispatch)]
    if len(sends) <= 1:
        return decisions
    others: list[DeliveryDecision] = [d for d in decisions if not isinstance(d, Dispatch)]
    head = sends[0]
    by_id = {row.id: row for row in due}
    entries = tuple(
        DigestEntry(subject=d.message.subject, text=_body(d.message.text)) for d in sends
    )
    context = by_id[head.ids[0]].intent.context
    digest = LearnerDigest(
        recipient_name=context.recipient_name, course_title=context.course_title, entries=entries
    )
    ids = tuple(sorted(i for d in sends for i in d.ids))
    digest_key = hashlib.sha256(",".join(map(str, ids)).encode()).hexdigest()[:32]
    message = render_message(digest).to_message(
        head.message.recipient, f"digest|{course_id}|{digest_key}"
    )
    return [*others, Dispatch(ids, head.notifier, message)]


def _body(text: str) -> str:
    """A message's text without its greeting (the digest greets once)."""
    parts = text.strip().split("\n\n", 1)
    return parts[1].strip() if len(parts) == 2 else text.strip()
