"""Graph change-notification subscriptions for a meeting's recordings and transcripts.

Subscriptions on online-meeting artifacts expire after at most three days; blendkit asks for
``lifetime`` (two days by default) and renews each subscription once less than ``renew_before``
is left, so a daily job is enough. Subscriptions longer than an hour need a lifecycle URL, which
is the same notification URL (lifecycle events arrive as ``graph.lifecycle.*`` events).
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from urllib.parse import urlencode

from pydantic import BaseModel, ConfigDict

from blendkit.errors import NotFound, ProviderError
from blendkit_teams._api import GraphApi
from blendkit_teams._convert import parse_time

__all__ = ["MEETING_PARAMETER", "Subscription", "SubscriptionManager"]

MEETING_PARAMETER = "meeting"
"""Query parameter of the notification URL that names the session's calendar event."""

Artifact = Literal["recordings", "transcripts"]


class Subscription(BaseModel):
    """A live Graph subscription blendkit created.

    ``notification_url`` carries ``?meeting=<event id>`` when the subscription was made for a
    session: Graph repeats the query string in every notification, which lets events name the
    session instead of only the online meeting.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    resource: str
    online_meeting_id: str
    expires_at: datetime
    notification_url: str
    meeting_id: str | None = None


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.0000000Z")


class SubscriptionManager:
    """Creates, tracks and renews subscriptions (thread-safe; state is in memory).

    Persist :attr:`subscriptions` if the process restarts; :meth:`track` puts them back.
    """

    def __init__(
        self,
        api: GraphApi,
        *,
        client_state: str,
        lifetime: timedelta = timedelta(days=2),
        renew_before: timedelta = timedelta(hours=24),
    ) -> None:
        self._api = api
        self._client_state = client_state
        self._lifetime = lifetime
        self._renew_before = renew_before
        self._lock = threading.Lock()
        self._live: dict[str, Subscription] = {}

    @property
    def subscriptions(self) -> list[Subscription]:
        with self._lock:
            return sorted(self._live.values(), key=lambda s: s.expires_at)

    def expiry(self, subscription_id: str) -> datetime | None:
        """When a managed subscription expires (None when it is not managed here)."""
        with self._lock:
            known = self._live.get(subscription_id)
        return known.expires_at if known is not None else None

    def track(self, subscription: Subscription) -> None:
        """Manage a subscription created earlier (e.g. read back from storage)."""
        with self._lock:
            self._live[subscription.id] = subscription

    def subscribe(
        self,
        online_meeting_id: str,
        notification_url: str,
        *,
        artifact: Artifact = "recordings",
        meeting_id: str | None = None,
        now: datetime | None = None,
    ) -> Subscription:
        """Ask Graph to notify ``notification_url`` when a recording/transcript is created.

        Graph validates the URL synchronously, so the endpoint must already answer the
        ``validationToken`` handshake (``TeamsProvider.handle_webhook`` does). ``meeting_id``
        (the session's event id) is added to the URL's query so notifications can name it.
        """
        if meeting_id is not None:
            joiner = "&" if "?" in notification_url else "?"
            notification_url += joiner + urlencode({MEETING_PARAMETER: meeting_id})
        resource = f"communications/onlineMeetings/{online_meeting_id}/{artifact}"
        expires = (now or datetime.now(UTC)) + self._lifetime
        body: dict[str, Any] = {
            "changeType": "created",
            "notificationUrl": notification_url,
            "lifecycleNotificationUrl": notification_url,
            "resource": resource,
            "expirationDateTime": _stamp(expires),
            "clientState": self._client_state,
            "latestSupportedTlsVersion": "v1_2",
        }
        created = self._api.post("/subscriptions", body)
        subscription = Subscription(
            id=_required(created, "id"),
            resource=str(created.get("resource") or resource),
            online_meeting_id=online_meeting_id,
            expires_at=parse_time(created.get("expirationDateTime")) or expires,
            notification_url=notification_url,
            meeting_id=meeting_id,
        )
        self.track(subscription)
        return subscription

    def renew(self, subscription_id: str, *, now: datetime | None = None) -> Subscription:
        """Push the expiry of one subscription ``lifetime`` into the future."""
        with self._lock:
            known = self._live.get(subscription_id)
        if known is None:
            raise ProviderError(
                f"subscription {subscription_id!r} is not managed here; track() it first",
                code="sessions.provider_rejected",
            )
        expires = (now or datetime.now(UTC)) + self._lifetime
        self._api.request(
            "PATCH",
            f"/subscriptions/{subscription_id}",
            json={"expirationDateTime": _stamp(expires)},
        )
        renewed = known.model_copy(update={"expires_at": expires})
        self.track(renewed)
        return renewed

    def renew_due(self, *, now: datetime | None = None) -> list[Subscription]:
        """Renew every subscription with less than ``renew_before`` left; return the renewed."""
        moment = now or datetime.now(UTC)
        due = [s for s in self.subscriptions if s.expires_at - moment < self._renew_before]
        renewed: list[Subscription] = []
        for subscription in due:
            try:
                renewed.append(self.renew(subscription.id, now=moment))
            except NotFound:
                # Graph already removed it (expired or deleted): subscribe afresh.
                with self._lock:
                    self._live.pop(subscription.id, None)
                artifact: Artifact = (
                    "transcripts" if subscription.resource.endswith("transcripts") else "recordings"
                )
                renewed.append(
                    self.subscribe(
                        subscription.online_meeting_id,
                        subscription.notification_url,
                        artifact=artifact,
                        now=moment,
                    )
                )
        return renewed

    def unsubscribe(self, subscription_id: str) -> None:
        """Delete a subscription at Graph and stop managing it."""
        self._api.request("DELETE", f"/subscriptions/{subscription_id}")
        with self._lock:
            self._live.pop(subscription_id, None)


def _required(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value:
        raise ProviderError(
            f"Graph created a subscription but answered without {key!r}",
            code="sessions.provider_unexpected",
        )
    return value
