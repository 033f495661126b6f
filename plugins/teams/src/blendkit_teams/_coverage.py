"""Making a session's Graph subscriptions: when it is scheduled, and again from the sweep.

A session is covered by two subscriptions, one per artifact (recordings, transcripts).
Scheduling subscribes both; a failure there is logged once (a WARNING saying what an admin can
do) and the session is still scheduled. ``blendkit sessions import-ended`` then passes the
sessions that have a sitting left to :meth:`Coverage.subscribe_missing`, which subscribes every
artifact Graph lists no live subscription for: the one that failed at scheduling, one that
expired, one removed while no lifecycle notification arrived.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from blendkit.errors import BlendkitError, ProviderError
from blendkit_teams._subscriptions import (
    Artifact,
    Subscription,
    SubscriptionManager,
    named_failures,
)

__all__ = ["ARTIFACTS", "Coverage", "CoverageFailure", "Subscribed"]

ARTIFACTS: tuple[Artifact, ...] = ("recordings", "transcripts")
"""What each session is subscribed to."""
_log = logging.getLogger("blendkit_teams")
_ADVICE = {
    "sessions.provider_auth": (
        "grant the app the application permissions OnlineMeetingRecording.Read.All and "
        "OnlineMeetingTranscript.Read.All with admin consent"
    ),
    "sessions.provider_rejected": (
        "Graph validates the notification URL when subscribing: check that [tool] base_url is "
        "this tool's public HTTPS address and /webhooks/teams answers"
    ),
}


class CoverageFailure(BaseModel):
    """An artifact of a session that could not be subscribed, with the error's code and text."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    meeting_id: str
    artifact: Artifact
    code: str
    message: str


class Subscribed(BaseModel):
    """What one subscribing run made and what failed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    created: tuple[Subscription, ...] = ()
    failed: tuple[CoverageFailure, ...] = ()

    def error(self) -> ProviderError:
        """The error naming the sessions whose subscriptions could not be made."""
        failures = named_failures(
            [f"{f.meeting_id} {f.artifact} ({f.code}: {f.message})" for f in self.failed]
        )
        return ProviderError(
            f"{len(self.failed)} Teams subscription(s) not created, {len(self.created)} "
            f"created: {failures}",
            code="sessions.subscriptions_not_created",
        )


class Coverage:
    """Subscribes sessions' artifacts through ``subscribe`` (the provider's, which finds the
    online meeting and names the session, artifact and organizer in the notification URL)."""

    def __init__(
        self,
        manager: SubscriptionManager,
        subscribe: Callable[[str, Artifact], Subscription],
    ) -> None:
        self._manager = manager
        self._subscribe = subscribe

    def subscribe_new(self, meeting_id: str) -> Subscribed:
        """Subscribe a session just scheduled; failures are logged in one WARNING, not raised."""
        done = self._cover(meeting_id, ARTIFACTS)
        if done.failed:
            first = done.failed[0]
            artifacts = " and ".join(f.artifact for f in done.failed)
            _log.warning(
                "Teams session %s: %s not subscribed (%s: %s)%s; blendkit sessions import-ended "
                "subscribes it on its next run",
                meeting_id,
                artifacts,
                first.code,
                first.message,
                _advice(first.code),
            )
        return done

    def subscribe_missing(self, meeting_ids: Iterable[str], now: datetime) -> Subscribed:
        """Subscribe each artifact of each session that Graph lists no live subscription for.

        Graph's list (``GET /subscriptions``) is read once; a subscription counts as live until
        its expiry. Each failure is logged and returned; the other sessions are still handled.
        """
        live = {
            (s.meeting_id, s.artifact)
            for s in self._manager.list_subscriptions()
            if s.meeting_id is not None and s.expires_at > now
        }
        created: list[Subscription] = []
        failed: list[CoverageFailure] = []
        for meeting in dict.fromkeys(meeting_ids):
            missing = tuple(a for a in ARTIFACTS if (meeting, a) not in live)
            if not missing:
                continue
            done = self._cover(meeting, missing)
            for failure in done.failed:
                _log.warning(
                    "Teams session %s: %s not subscribed (%s)%s",
                    meeting,
                    failure.artifact,
                    failure.code,
                    _advice(failure.code),
                )
            created.extend(done.created)
            failed.extend(done.failed)
        return Subscribed(created=tuple(created), failed=tuple(failed))

    def _cover(self, meeting_id: str, artifacts: tuple[Artifact, ...]) -> Subscribed:
        created: list[Subscription] = []
        failed: list[CoverageFailure] = []
        for artifact in artifacts:
            try:
                created.append(self._subscribe(meeting_id, artifact))
            except BlendkitError as exc:
                failed.append(
                    CoverageFailure(
                        meeting_id=meeting_id, artifact=artifact, code=exc.code, message=exc.message
                    )
                )
        return Subscribed(created=tuple(created), failed=tuple(failed))


def _advice(code: str) -> str:
    advice = _ADVICE.get(code)
    return f"; {advice}" if advice else ""
