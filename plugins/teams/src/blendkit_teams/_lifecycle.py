"""Acting on Graph's lifecycle notifications, as Graph's guide to them asks.

``reauthorizationRequired`` → ``POST /subscriptions/{id}/reauthorize`` (the expiry is left to the
renewal job). ``subscriptionRemoved`` → the subscription is made again for its session (named by
the notification URL's ``?meeting=…&artifact=…``) while the session has a sitting left, unless
Graph already lists one for it, then the session is resynchronised. ``missed`` → resynchronised:
its recordings and transcripts are listed and returned as ``RecordingCompleted`` events (one per
file, at its start, so a series' sitting is found), which import what was missed.

The notification was verified before (clientState, tenant). A failure here is logged by its code
and the delivery still acknowledged: the renewal job and ``blendkit sessions import-ended`` are
the safety net, and an error answer would only make Graph resend the change notifications too.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from datetime import datetime

from blendkit.errors import BlendkitError
from blendkit.sessions import GenericEvent, Recording, RecordingCompleted, SessionEvent
from blendkit_teams._sittings import AFTER_LAST_SITTING, SessionState
from blendkit_teams._subscriptions import (
    ARTIFACT_PARAMETER,
    MEETING_PARAMETER,
    Artifact,
    Subscription,
    SubscriptionManager,
)

__all__ = ["LIFECYCLE_PREFIX", "LifecycleResponder"]

LIFECYCLE_PREFIX = "graph.lifecycle."
PROVIDER = "teams"
_log = logging.getLogger("blendkit_teams")


class LifecycleResponder:
    """Reauthorizes, recreates and resynchronises for lifecycle events (does Graph I/O)."""

    def __init__(
        self,
        manager: SubscriptionManager,
        *,
        state: Callable[[str, datetime], SessionState],
        subscribe: Callable[[str, Artifact], Subscription],
        recordings: Callable[[str], list[Recording]],
        clock: Callable[[], datetime],
    ) -> None:
        self._manager = manager
        self._state = state
        self._subscribe = subscribe
        self._recordings = recordings
        self._clock = clock

    def respond(
        self, events: tuple[SessionEvent, ...], query: dict[str, str]
    ) -> tuple[SessionEvent, ...]:
        """Act on the lifecycle events among ``events``; return the resynchronised files."""
        meeting = query.get(MEETING_PARAMETER) or None
        wanted = query.get(ARTIFACT_PARAMETER)
        artifact: Artifact = "transcripts" if wanted == "transcripts" else "recordings"
        found: dict[str, SessionEvent] = {}
        for event in events:
            if not isinstance(event, GenericEvent) or not event.name.startswith(LIFECYCLE_PREFIX):
                continue
            kind = event.name.removeprefix(LIFECYCLE_PREFIX)
            subscription_id = str(event.payload.get("subscriptionId") or "")
            try:
                if kind == "reauthorizationRequired":
                    self._reauthorize(subscription_id)
                elif kind == "subscriptionRemoved":
                    self._manager.forget(subscription_id)
                    if meeting is not None and self._recreate(meeting, artifact, subscription_id):
                        found.update(self._resync(meeting))
                elif kind == "missed" and meeting is not None:
                    found.update(self._resync(meeting))
            except BlendkitError as exc:
                _log.warning(
                    "Teams lifecycle notification %s for subscription %s not acted on (%s); "
                    "blendkit sessions import-ended is the safety net",
                    kind,
                    subscription_id,
                    exc.code,
                )
        return tuple(found.values())

    def _reauthorize(self, subscription_id: str) -> None:
        if not self._manager.reauthorize(subscription_id):
            _log.info("Teams subscription %s is gone; nothing to reauthorize", subscription_id)

    def _recreate(self, meeting: str, artifact: Artifact, removed: str) -> bool:
        """Subscribe the session again unless it is over or Graph lists another subscription
        for it (a redelivered notification, or another worker was first)."""
        if self._state(meeting, self._clock() - AFTER_LAST_SITTING) != "active":
            return False
        for existing in self._manager.list_subscriptions():
            if existing.id == removed:
                continue
            if existing.meeting_id == meeting and existing.artifact == artifact:
                return True
        self._subscribe(meeting, artifact)
        return True

    def _resync(self, meeting: str) -> dict[str, SessionEvent]:
        """One RecordingCompleted per file of the session, keyed by its stable event id."""
        events: dict[str, SessionEvent] = {}
        for recording in self._recordings(meeting):
            key = f"{meeting}\n{recording.kind.value}\n{recording.provider_id}"
            event_id = "teams-resync-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:40]
            events[event_id] = RecordingCompleted(
                event_id=event_id,
                provider=PROVIDER,
                meeting_id=meeting,
                occurred_at=recording.start_utc,
                recordings=(recording,),
            )
        return events
