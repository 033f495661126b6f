"""Workspace Events subscriptions that deliver a Meet space's events to a Pub/Sub topic.

A subscription targets ``//meet.googleapis.com/spaces/{space}`` for the event types in
:data:`~blendkit_meet._events.MEET_EVENT_TYPES` and publishes to ``[meet] pubsub_topic``; Pub/Sub
then pushes to ``/webhooks/meet``. ``create``, ``patch`` and ``delete`` answer with a long-running
``Operation``: blendkit reads its ``response`` when it is done and polls ``operations.get``
(a few times, with a short sleep) when it is not.

Subscriptions expire (Meet events without resource data: at most seven days). Google is the
record of which exist: :meth:`SubscriptionManager.renew_due` lists them (``subscriptions.list``
filtered by event type) and renews, with ``updateMask=ttl``, each with less than ``renew_before``
left, so a daily ``blendkit sessions import-ended`` keeps them alive from any process.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict

from blendkit.errors import ConfigError, ProviderError
from blendkit_meet._api import EVENTS_API
from blendkit_meet._events import MEET_EVENT_TYPES, MEET_RESOURCE

if TYPE_CHECKING:
    from blendkit_meet._api import GoogleApi

__all__ = ["MeetSubscription", "SubscriptionManager", "space_target"]

ACTIVE = "ACTIVE"


def space_target(space: str) -> str:
    """The full resource name of a Meet space: ``//meet.googleapis.com/spaces/{space}``."""
    name = space.removeprefix(MEET_RESOURCE)
    if not name.startswith("spaces/"):
        name = "spaces/" + name
    if len(name) <= len("spaces/") or "/" in name.removeprefix("spaces/"):
        raise ProviderError(
            f"{space!r} is not a Meet space name (spaces/… or the space id)",
            code="sessions.provider_rejected",
        )
    return MEET_RESOURCE + name


class MeetSubscription(BaseModel):
    """A Workspace Events subscription on a Meet space, as Google reported it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    target: str
    event_types: tuple[str, ...]
    expires_at: datetime
    state: str = ACTIVE
    suspension_reason: str | None = None

    @property
    def space(self) -> str:
        """The space (``spaces/…``) the subscription watches."""
        return self.target.removeprefix(MEET_RESOURCE)

    @classmethod
    def from_api(cls, body: dict[str, Any]) -> MeetSubscription:
        """Read a ``Subscription`` resource; ProviderError when a needed field is missing."""
        name, target, expiry = body.get("name"), body.get("targetResource"), body.get("expireTime")
        if not isinstance(name, str) or not isinstance(target, str) or not isinstance(expiry, str):
            raise ProviderError(
                "the Workspace Events API answered a subscription without name, targetResource "
                "or expireTime",
                code="sessions.provider_unexpected",
            )
        types = body.get("eventTypes")
        reason = body.get("suspensionReason")
        return cls(
            name=name,
            target=target,
            event_types=tuple(t for t in types if isinstance(t, str))
            if isinstance(types, list)
            else (),
            expires_at=_time(expiry),
            state=str(body.get("state") or ACTIVE),
            suspension_reason=reason if isinstance(reason, str) else None,
        )


def _time(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ProviderError(
            f"the Workspace Events API answered an unreadable expireTime {value[:40]!r}",
            code="sessions.provider_unexpected",
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class SubscriptionManager:
    """Creates, lists, renews and deletes Meet subscriptions through ``api`` (thread-safe).

    ``ttl`` is what a subscription (and each renewal) asks for; ``None`` asks for the longest
    Google allows (``ttl=0s``). A subscription is renewed once less than ``renew_before`` is left.
    """

    def __init__(
        self,
        api: GoogleApi,
        *,
        pubsub_topic: str | None,
        event_types: tuple[str, ...] = MEET_EVENT_TYPES,
        ttl: timedelta | None = None,
        renew_before: timedelta = timedelta(days=2),
        poll_attempts: int = 5,
        poll_seconds: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._api = api
        self._topic = pubsub_topic or None
        self._event_types = event_types
        self._ttl = f"{int(ttl.total_seconds())}s" if ttl is not None else "0s"
        self.renew_before = renew_before
        self._poll_attempts = poll_attempts
        self._poll_seconds = poll_seconds
        self._sleep = sleep

    # --- lifecycle -------------------------------------------------------------------------------

    def subscribe(self, space: str, *, now: datetime | None = None) -> MeetSubscription:
        """Subscribe ``[meet] pubsub_topic`` to the space's events (reusing a live subscription).

        A subscription blendkit already holds for the space is renewed when due and returned,
        instead of asking Google for a duplicate (which it refuses).
        """
        topic = self._require_topic()
        target = space_target(space)
        for existing in self.list_subscriptions(target=target):
            if existing.state == ACTIVE and set(self._event_types) <= set(existing.event_types):
                if self.is_due(existing, now or datetime.now(UTC)):
                    return self.renew(existing.name)
                return existing
        body = {
            "targetResource": target,
            "eventTypes": list(self._event_types),
            "notificationEndpoint": {"pubsubTopic": topic},
            "payloadOptions": {"includeResource": False},
            "ttl": self._ttl,
        }
        operation = self._api.post(f"{EVENTS_API}/subscriptions", json=body)
        return MeetSubscription.from_api(self._finish(operation, "create"))

    def renew(self, name: str) -> MeetSubscription:
        """Extend one subscription (``subscriptions.patch`` with ``updateMask=ttl``)."""
        operation = self._api.patch(
            f"{EVENTS_API}/{_subscription_path(name)}",
            json={"ttl": self._ttl},
            params={"updateMask": "ttl"},
        )
        return MeetSubscription.from_api(self._finish(operation, "renew"))

    def unsubscribe(self, name: str) -> None:
        """Delete a subscription (already gone counts as deleted)."""
        self._api.delete(
            f"{EVENTS_API}/{_subscription_path(name)}", params={"allowMissing": "true"}
        )

    def unsubscribe_space(self, space: str) -> int:
        """Delete every subscription on ``space`` (when its session is cancelled); how many."""
        found = self.list_subscriptions(target=space_target(space))
        for subscription in found:
            self.unsubscribe(subscription.name)
        return len(found)

    def list_subscriptions(self, *, target: str | None = None) -> list[MeetSubscription]:
        """Subscriptions on Meet spaces for these event types (one space with ``target``)."""
        types = " OR ".join(f'event_types:"{t}"' for t in self._event_types)
        query = f"({types})" if len(self._event_types) > 1 else types
        if target is not None:
            query += f' AND target_resource="{target}"'
        found = [
            MeetSubscription.from_api(item)
            for item in self._api.pages(
                f"{EVENTS_API}/subscriptions", {"filter": query}, "subscriptions"
            )
        ]
        return [s for s in found if s.target.startswith(MEET_RESOURCE + "spaces/")]

    def is_due(self, subscription: MeetSubscription, now: datetime) -> bool:
        """True when ``subscription`` has less than ``renew_before`` left at ``now``."""
        return subscription.expires_at - now < self.renew_before

    def renew_due(
        self,
        now: datetime | None = None,
        *,
        keep: Callable[[MeetSubscription], bool] | None = None,
    ) -> list[MeetSubscription]:
        """Renew every active subscription that is due and ``keep`` wants; return the renewed.

        ``keep`` (default: all) lets the caller leave the subscriptions of sessions that are
        over to expire on their own, which still delivers a late recording or transcript.
        Suspended subscriptions are not renewed (Google delivers nothing until an admin fixes
        the reason shown by :meth:`list_subscriptions` and the subscription is reactivated).
        """
        moment = now or datetime.now(UTC)
        return [
            self.renew(s.name)
            for s in self.list_subscriptions()
            if s.state == ACTIVE and self.is_due(s, moment) and (keep is None or keep(s))
        ]

    # --- internals -------------------------------------------------------------------------------

    def _require_topic(self) -> str:
        if self._topic is None:
            raise ConfigError(
                "Meet event subscriptions need [meet] pubsub_topic "
                "(BLENDKIT_MEET_PUBSUB_TOPIC, projects/{project}/topics/{topic}); see "
                "docs/providers/meet-events.md"
            )
        return self._topic

    def _finish(self, operation: dict[str, Any], what: str) -> dict[str, Any]:
        """The response of a long-running operation, polling until done."""
        for attempt in range(self._poll_attempts + 1):
            error = operation.get("error")
            if isinstance(error, dict):
                raise ProviderError(
                    f"the Workspace Events API could not {what} the subscription: "
                    f"{error.get('message') or 'no reason given'} (code {error.get('code')})",
                    code="sessions.provider_rejected",
                )
            if operation.get("done"):
                response = operation.get("response")
                if not isinstance(response, dict):
                    raise ProviderError(
                        f"the Workspace Events {what} operation finished without a subscription",
                        code="sessions.provider_unexpected",
                    )
                return {k: v for k, v in response.items() if k != "@type"}
            name = operation.get("name")
            if attempt == self._poll_attempts or not isinstance(name, str) or not name:
                break
            self._sleep(self._poll_seconds * (attempt + 1))
            operation = self._api.get(f"{EVENTS_API}/{_operation_path(name)}")
        raise ProviderError(
            f"the Workspace Events {what} operation has not finished yet; the next "
            "`blendkit sessions import-ended` sees the subscription once Google has made it",
            code="sessions.provider_unavailable",
        )


def _subscription_path(name: str) -> str:
    ident = name.removeprefix("subscriptions/")
    return "subscriptions/" + quote(ident, safe="")


def _operation_path(name: str) -> str:
    ident = name.removeprefix("operations/")
    return "operations/" + quote(ident, safe="")
