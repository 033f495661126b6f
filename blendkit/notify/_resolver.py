"""The default :class:`~blendkit.notify.DeliveryResolver`: each due reminder goes, as one message,
to the address the recipient's enrolment holds, through the course's channel.

At delivery time (not when it was planned) it reads the enrolment — name, e-mail, time zone —
in the reminder's own course, so a learner who changed their name or zone gets the message in
the current one, and a learner who left the course gets none (dropped, with the reason). Learner
preferences (quiet hours, digests, unsubscribing, another channel) wrap this resolver.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ValidationError
from sqlalchemy import select

from blendkit.notify._intent import DeliveryDecision, Dispatch, Drop, QueuedReminder
from blendkit.notify._message import MessageAttachment, Recipient
from blendkit.notify._render import render_message
from blendkit.store import Store
from blendkit.store._tables_courses import course_enrolments

__all__ = ["RecipientResolver", "message_key"]

_e = course_enrolments.c


def message_key(intent_key: str) -> str:
    """The ``Message.key`` of a reminder: stable across retries and header-safe whatever the
    LTI ``sub`` holds (e-mail derives the ``Message-ID`` from it)."""
    return "reminder-" + hashlib.sha256(intent_key.encode()).hexdigest()[:40]


def _valid_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


class RecipientResolver:
    """Dispatches every due reminder on its own through ``channel`` to the enrolment's e-mail
    address, rendered in ``locale``; drops it when the enrolment is gone, inactive (the learner
    left the course) or has no address.
    ``attachments(reminder)`` adds files to its message (e.g. a session's ``.ics``)."""

    def __init__(
        self,
        store: Store,
        *,
        channel: str = "email",
        locale: str = "en",
        attachments: Callable[[QueuedReminder], Sequence[MessageAttachment]] | None = None,
    ) -> None:
        self.store = store
        self.channel = channel
        self.locale = locale
        self.attachments = attachments

    def _enrolment(self, course_id: int, sub: str) -> Any | None:
        # A learner who left the course (inactive on the roster) is no recipient any more.
        query = select(_e.name, _e.email, _e.time_zone).where(
            _e.course_id == course_id, _e.sub == sub, _e.active.is_(True)
        )
        with self.store.autocommit() as conn:
            return conn.execute(query).first()

    def resolve(self, due: Sequence[QueuedReminder]) -> Sequence[DeliveryDecision]:
        if not due:
            return []
        first = due[0].intent
        enrolment = self._enrolment(first.course_id, first.recipient)
        ids = tuple(q.id for q in due)
        if enrolment is None:
            return [Drop(ids, "the recipient is no longer enrolled in the course")]
        if not enrolment.email:
            return [Drop(ids, "the recipient's enrolment has no e-mail address")]
        # A name comes from the LMS: on one line (no header can start in it), at most 200
        # characters, so an odd name never costs the learner their reminders.
        name = " ".join((enrolment.name or "").split())[:200]
        try:
            recipient = Recipient(address=enrolment.email, name=name or None)
        except ValidationError:
            return [Drop(ids, "the recipient's e-mail address cannot be used in a message")]
        return [self._one(q, recipient, enrolment) for q in due]

    def _one(self, queued: QueuedReminder, recipient: Recipient, enrolment: Any) -> Dispatch:
        context = queued.intent.context
        fields = type(context).model_fields
        update: dict[str, Any] = {}
        if recipient.name and "recipient_name" in fields:
            update["recipient_name"] = recipient.name
        if "time_zone" in fields and _valid_zone(enrolment.time_zone):
            update["time_zone"] = enrolment.time_zone
        if update:
            context = context.model_copy(update=update)
        rendered = render_message(context, locale=self.locale)
        message = rendered.to_message(recipient, message_key(queued.intent.key))
        extra = tuple(self.attachments(queued)) if self.attachments is not None else ()
        if extra:  # e.g. the session's .ics (see blendkit.courses.SessionInvitations)
            message = message.model_copy(update={"attachments": (*message.attachments, *extra)})
        return Dispatch((queued.id,), self.channel, message)
