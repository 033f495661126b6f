"""Reminders end to end: the planner, the preference-aware resolver and the queue, wired the way
``blendkit notify run`` runs them, plus the ``.ics`` each session e-mail carries.

:func:`reminder_delivery` builds, from the settings and one store, the
:class:`~blendkit.notify.NotificationQueue` whose resolver applies each learner's preferences
(channel, quiet hours, digest, unsubscribe link) around the
:class:`~blendkit.notify.RecipientResolver`, and the :class:`ReminderPlanner` its loop asks for
what falls due. The unsubscribe links are signed with :func:`tool_secret`, the key the tool's web
pages verify them with.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from blendkit.courses._live import LiveSessionService
from blendkit.courses._reminder_links import ReminderLinks
from blendkit.courses._reminder_store import ReminderSettings
from blendkit.courses._reminders import ReminderPlanner
from blendkit.courses._service import CourseService
from blendkit.errors import BlendkitError
from blendkit.notify._contexts import BookingStarting, SessionMoved, SessionStarting
from blendkit.notify._intent import QueuedReminder
from blendkit.notify._message import MessageAttachment

if TYPE_CHECKING:
    from blendkit.calendar._versions import EventVersion
    from blendkit.notify._queue import NotificationQueue
    from blendkit.sessions import MeetingProvider
    from blendkit.store import Store

__all__ = ["ReminderDelivery", "SessionInvitations", "reminder_delivery", "tool_secret"]

log = logging.getLogger("blendkit.notify")

SECRET_NAME = "secret_key"  # noqa: S105  # a row name, not a secret
"""The stored secret's row name: the tool's pages and its processes read the same one."""


def tool_secret(settings: Any, store: Store) -> str:
    """``[tool] secret_key``, or the key generated once per install and kept (encrypted as the
    tool's keys are) in the store, so every worker and process signs with the same one."""
    configured: str = settings.tool.secret_key.get_secret_value()
    if configured:
        return configured
    from blendkit.store import KeyEncryption, StoredSecrets

    return StoredSecrets(store, KeyEncryption.from_settings(settings)).value(
        SECRET_NAME,
        what="[tool] secret_key is empty, so one key is generated for every worker and kept "
        "in the database (or set [tool] secret_key yourself); that key",
    )


class SessionInvitations:
    """The ``.ics`` attached to a "session starting" or "sitting moved" message: the sitting as
    it is now, with the learner's join link, and a ``SEQUENCE`` that rises each time the sitting
    changes (kept per learner like a feed's, so a calendar replaces its copy). An office-hours
    reminder carries its booked slot the same way (``office-hours.ics``)."""

    def __init__(self, live: LiveSessionService, *, uid_domain: str = "blendkit") -> None:
        self.live = live
        self.uid_domain = uid_domain

    def __call__(self, queued: QueuedReminder) -> tuple[MessageAttachment, ...]:
        context = queued.intent.context
        if isinstance(context, BookingStarting):
            return self._booking(queued)
        if not isinstance(context, SessionStarting | SessionMoved):
            return ()
        from blendkit.calendar import session_invitation

        courses = self.live.courses
        session_id = queued.intent.event.removeprefix("session:")
        try:
            course = courses.course_by_id(queued.intent.course_id)
            record = self.live.session(course, session_id)
        except BlendkitError as error:  # the message still goes, without the calendar file
            log.warning("no calendar file for reminder %s: %s", queued.id, error.code)
            return ()
        join_url = str(context.join_url)
        now = datetime.now(UTC)
        significant = "|".join(
            (record.title, record.start_utc.isoformat(), str(record.duration_minutes),
             record.time_zone, str(record.cancelled), join_url)
        )  # fmt: skip
        version = self._version(queued, course.id, f"invitation:{session_id}", significant, now)
        return (
            session_invitation(
                course,
                record,
                join_url=join_url,
                changed_at=version.modified_at,
                sequence=version.sequence,
                uid_domain=self.uid_domain,
            ),
        )

    def _booking(self, queued: QueuedReminder) -> tuple[MessageAttachment, ...]:
        from blendkit.calendar import booking_invitation
        from blendkit.courses._booking import OfficeHoursService

        courses = self.live.courses
        slot_id = queued.intent.event.removeprefix("booking:").split(":", 1)[0]
        try:
            course = courses.course_by_id(queued.intent.course_id)
            slot = OfficeHoursService(courses).slot(course, slot_id)
        except BlendkitError as error:  # the message still goes, without the calendar file
            log.warning("no calendar file for reminder %s: %s", queued.id, error.code)
            return ()
        now = datetime.now(UTC)
        significant = "|".join(
            (slot.title, slot.start_utc.isoformat(), str(slot.duration_minutes), slot.time_zone,
             str(slot.cancelled), slot.join_url or "", slot.location, slot.host_name)
        )  # fmt: skip
        version = self._version(queued, course.id, f"booking:{slot_id}", significant, now)
        return (
            booking_invitation(
                course, slot, changed_at=version.modified_at, sequence=version.sequence,
                uid_domain=self.uid_domain,
            ),
        )  # fmt: skip

    def _version(
        self, queued: QueuedReminder, course_id: int, uid: str, significant: str, now: datetime
    ) -> EventVersion:
        """The event's SEQUENCE and change time as this learner's calendar copies know it."""
        from blendkit.calendar._versions import content_digest, reconcile_versions

        return reconcile_versions(
            self.live.courses.store, course_id, f"mail:{queued.intent.recipient}",
            {uid: content_digest(significant)}, now,
        )[uid]  # fmt: skip


@dataclass(frozen=True, slots=True)
class ReminderDelivery:
    """What ``blendkit notify run`` runs: the queue (with its resolver) and the planner."""

    queue: NotificationQueue
    planner: ReminderPlanner


def reminder_delivery(
    settings: Any,
    store: Store,
    *,
    provider: MeetingProvider | None = None,
    available: Sequence[str] | None = None,
) -> ReminderDelivery:
    """The notification queue and reminder planner for ``settings`` on ``store``.

    ``provider`` (the configured meeting provider by default) hands out personal join links;
    ``available`` (every installed notifier by default) limits the channels a learner may pick.
    """
    from blendkit.notify import (
        NotificationQueue,
        PreferenceResolver,
        RecipientResolver,
        UnsubscribeTokens,
        available_notifiers,
    )
    from blendkit.sessions import load_meeting_provider
    from blendkit.xapi import Outbox, StatementFactory

    base_url = settings.tool.base_url.rstrip("/")
    courses = CourseService(
        store,
        outbox=Outbox.from_settings(settings, store=store),
        statements=StatementFactory(settings.tool.base_url),
    )
    live = LiveSessionService(courses, provider or load_meeting_provider(settings))
    preferences = ReminderSettings(store)
    tokens = UnsubscribeTokens(tool_secret(settings, store))

    def unsubscribe_link(course_id: int, sub: str, channel: str) -> str:
        tenant = preferences.tenant_of(course_id) or ""
        return f"{base_url}/unsubscribe/{tokens.issue(course_id, tenant, sub, channel)}"

    inner = RecipientResolver(
        store,
        channel=settings.notify.channel,
        attachments=SessionInvitations(live, uid_domain=_host(base_url)),
    )
    resolver = PreferenceResolver(
        inner,
        preferences,
        available=list(available if available is not None else available_notifiers()),
        unsubscribe_link=unsubscribe_link,
    )
    queue = NotificationQueue.from_settings(settings, store=store, resolver=resolver)
    planner = ReminderPlanner(courses, live, ReminderLinks(base_url), settings=preferences)
    return ReminderDelivery(queue, planner)


def _host(base_url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(base_url).hostname or "blendkit"
