"""Graph change-notification subscriptions for a meeting's recordings and transcripts.

Subscriptions on online-meeting artifacts expire after at most three days; blendkit asks for
``lifetime`` (two days by default) and renews each subscription once less than ``renew_before``
is left, so a daily job is enough. Subscriptions longer than an hour need a lifecycle URL, which
is the same notification URL (lifecycle events arrive as ``graph.lifecycle.*`` events).

Graph is the record of which subscriptions exist: :meth:`SubscriptionManager.renew_due` lists
them (``GET /subscriptions``, every page), keeps those whose ``notificationUrl`` is this tool's
Teams webhook and whose resource is an online meeting's recordings or transcripts, and renews
the due ones, so any process (the web workers, the ``blendkit sessions import-ended`` cron job)
renews what any other created. The in-memory table only remembers expiries for the webhook's
staleness check.
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from urllib.parse import parse_qs, quote, urlencode, urlsplit

from pydantic import BaseModel, ConfigDict

from blendkit.errors import BlendkitError, NotFound, ProviderError
from blendkit_teams._api import GraphApi, json_object
from blendkit_teams._convert import parse_time

__all__ = [
    "ARTIFACT_PARAMETER",
    "MEETING_PARAMETER",
    "ORGANIZER_PARAMETER",
    "Renewal",
    "RenewalFailure",
    "Subscription",
    "SubscriptionManager",
]

MEETING_PARAMETER = "meeting"
"""Query parameter of the notification URL that names the session's calendar event."""
ARTIFACT_PARAMETER = "artifact"
"""Query parameter of the notification URL that names what is watched (recordings/transcripts);
lifecycle notifications carry no resource, so a removed subscription is recreated from it."""
ORGANIZER_PARAMETER = "organizer"
"""Query parameter of the notification URL that names the organizer whose calendar holds the
session's event: the renewal asks that calendar whether the event still exists, so changing
``[teams] organizer`` does not make the old organizer's sessions look deleted."""

Artifact = Literal["recordings", "transcripts"]
Fate = Literal["renew", "expire", "delete"]
"""What the renewal does with a due subscription: renew it, let it expire, or delete it now."""

_RESOURCE = re.compile(
    r"/?communications/onlineMeetings(?:\('([^']+)'\)|/([^()']+))/(recordings|transcripts)"
)
_NAMED_FAILURES = 5
"""How many failed subscriptions the renewal error names (each is logged)."""
_log = logging.getLogger("blendkit_teams")


class Subscription(BaseModel):
    """A live Graph subscription blendkit created.

    ``notification_url`` carries ``?meeting=<event id>`` (and the artifact and organizer) when
    the subscription was made for a session: Graph repeats the query string in every
    notification, which lets events name the session instead of only the online meeting.
    ``organizer`` is None for subscriptions made before blendkit recorded it.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    resource: str
    online_meeting_id: str
    expires_at: datetime
    notification_url: str
    meeting_id: str | None = None
    organizer: str | None = None

    @property
    def artifact(self) -> Artifact:
        """What the subscription watches."""
        return "transcripts" if self.resource.rstrip("/").endswith("transcripts") else "recordings"

    @classmethod
    def from_graph(cls, body: dict[str, Any], webhook_url: str) -> Subscription | None:
        """A listed subscription when blendkit made it for ``webhook_url``, else None.

        Ours: the ``notificationUrl`` is the webhook URL (with or without a query) and the
        resource is one online meeting's recordings or transcripts.
        """
        sub_id, url, resource = body.get("id"), body.get("notificationUrl"), body.get("resource")
        expiry = parse_time(body.get("expirationDateTime"))
        if not (isinstance(sub_id, str) and sub_id and isinstance(url, str)):
            return None
        if not isinstance(resource, str) or expiry is None or not _same_endpoint(url, webhook_url):
            return None
        found = _RESOURCE.fullmatch(resource)
        if found is None:
            return None
        query = parse_qs(urlsplit(url).query)
        meeting = query.get(MEETING_PARAMETER, [""])[0]
        organizer = query.get(ORGANIZER_PARAMETER, [""])[0]
        return cls(
            id=sub_id,
            resource=resource,
            online_meeting_id=found.group(1) or found.group(2),
            expires_at=expiry,
            notification_url=url,
            meeting_id=meeting or None,
            organizer=organizer or None,
        )


class RenewalFailure(BaseModel):
    """A due subscription the renewal could not handle, with the error's code and message."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    subscription_id: str
    code: str
    message: str


class Renewal(BaseModel):
    """What one :meth:`SubscriptionManager.renew_due` run did with the due subscriptions."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    renewed: tuple[Subscription, ...] = ()
    expiring: tuple[str, ...] = ()
    """Left to expire on their own (their session is over)."""
    deleted: tuple[str, ...] = ()
    """Deleted because their session no longer exists."""
    gone: tuple[str, ...] = ()
    """Graph answered 404: already expired or deleted."""
    failed: tuple[RenewalFailure, ...] = ()

    def error(self) -> ProviderError:
        """The error naming every failed subscription and how many were renewed."""
        failures = named_failures(
            [f"{f.subscription_id} ({f.code}: {f.message})" for f in self.failed]
        )
        return ProviderError(
            f"{len(self.failed)} Teams subscription(s) not renewed, {len(self.renewed)} "
            f"renewed: {failures}",
            code="sessions.subscriptions_not_renewed",
        )


def named_failures(failures: list[str]) -> str:
    """The first few ``failures`` joined, and how many more the log names."""
    shown = failures[:_NAMED_FAILURES]
    text = "; ".join(shown)
    if len(failures) > len(shown):
        text += f"; and {len(failures) - len(shown)} more (see the log)"
    return text


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.0000000Z")


def _same_endpoint(url: str, webhook_url: str) -> bool:
    """True when ``url`` is ``webhook_url`` with any query (scheme and host case-insensitive)."""
    mine, other = urlsplit(webhook_url), urlsplit(url)
    return (
        other.scheme.lower() == mine.scheme.lower()
        and other.netloc.lower() == mine.netloc.lower()
        and other.path.rstrip("/") == mine.path.rstrip("/")
    )


def _path(subscription_id: str) -> str:
    return f"/subscriptions/{quote(subscription_id, safe='')}"


class SubscriptionManager:
    """Creates, lists, renews and deletes subscriptions through ``api`` (thread-safe).

    ``webhook_url`` is this tool's Teams webhook: only subscriptions notifying it are listed and
    renewed, so two tools sharing one app registration leave each other's alone.
    """

    def __init__(
        self,
        api: GraphApi,
        *,
        client_state: str,
        webhook_url: str,
        lifetime: timedelta = timedelta(days=2),
        renew_before: timedelta = timedelta(hours=24),
    ) -> None:
        self._api = api
        self._client_state = client_state
        self.webhook_url = webhook_url
        self._lifetime = lifetime
        self.renew_before = renew_before
        self._lock = threading.Lock()
        self._live: dict[str, Subscription] = {}

    @property
    def subscriptions(self) -> list[Subscription]:
        """The subscriptions this process created, renewed or listed (not Graph's record)."""
        with self._lock:
            return sorted(self._live.values(), key=lambda s: s.expires_at)

    def expiry(self, subscription_id: str) -> datetime | None:
        """When a subscription this process knows expires (None when it knows none)."""
        with self._lock:
            known = self._live.get(subscription_id)
        return known.expires_at if known is not None else None

    def track(self, subscription: Subscription) -> None:
        """Remember a subscription's expiry (for the webhook's staleness check)."""
        with self._lock:
            self._live[subscription.id] = subscription

    def forget(self, subscription_id: str) -> None:
        with self._lock:
            self._live.pop(subscription_id, None)

    def subscribe(
        self,
        online_meeting_id: str,
        notification_url: str,
        *,
        artifact: Artifact = "recordings",
        meeting_id: str | None = None,
        organizer: str | None = None,
        now: datetime | None = None,
    ) -> Subscription:
        """Ask Graph to notify ``notification_url`` when a recording/transcript is created.

        Graph validates the URL synchronously, so the endpoint must already answer the
        ``validationToken`` handshake (``TeamsProvider.handle_webhook`` does). ``meeting_id``
        (the session's event id), the artifact and ``organizer`` (whose calendar holds the
        event) are added to the URL's query so notifications can name the session, a removed
        subscription can be made again and the renewal asks the right calendar about it.
        """
        if meeting_id is not None:
            joiner = "&" if "?" in notification_url else "?"
            fields = {MEETING_PARAMETER: meeting_id, ARTIFACT_PARAMETER: artifact}
            if organizer is not None:
                fields[ORGANIZER_PARAMETER] = organizer
            notification_url += joiner + urlencode(fields)
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
            organizer=organizer if meeting_id is not None else None,
        )
        self.track(subscription)
        return subscription

    def list_subscriptions(self) -> list[Subscription]:
        """Graph's subscriptions of this tool's webhook (``GET /subscriptions``, every page)."""
        found = [
            subscription
            for item in self._api.pages("/subscriptions")
            if (subscription := Subscription.from_graph(item, self.webhook_url)) is not None
        ]
        return sorted(found, key=lambda s: s.expires_at)

    def current(self, subscription_id: str) -> Subscription | None:
        """A subscription as Graph has it now (None when Graph has none by that id)."""
        try:
            body = self._api.get(_path(subscription_id))
        except NotFound:
            self.forget(subscription_id)
            return None
        found = Subscription.from_graph(body, self.webhook_url)
        if found is not None:
            self.track(found)
        return found

    def renew(self, subscription: Subscription, *, now: datetime | None = None) -> Subscription:
        """Push one subscription's expiry ``lifetime`` past ``now`` (``PATCH``; NotFound if gone).

        Renewing also reauthorizes the subscription (Graph documents both in one call).
        """
        expires = (now or datetime.now(UTC)) + self._lifetime
        try:
            response = self._api.request(
                "PATCH", _path(subscription.id), json={"expirationDateTime": _stamp(expires)}
            )
        except NotFound:
            self.forget(subscription.id)
            raise
        # Graph answers the updated subscription (200) or nothing (204).
        answered = (
            parse_time(json_object(response).get("expirationDateTime"))
            if response.content
            else None
        )
        renewed = subscription.model_copy(update={"expires_at": answered or expires})
        self.track(renewed)
        return renewed

    def reauthorize(self, subscription_id: str) -> bool:
        """Answer a ``reauthorizationRequired`` challenge without extending the expiry.

        ``POST /subscriptions/{id}/reauthorize``; False when Graph has no such subscription.
        """
        try:
            self._api.request("POST", _path(subscription_id) + "/reauthorize")
        except NotFound:
            self.forget(subscription_id)
            return False
        return True

    def is_due(self, subscription: Subscription, now: datetime) -> bool:
        """True when ``subscription`` has less than ``renew_before`` left at ``now``."""
        return subscription.expires_at - now < self.renew_before

    def renew_due(
        self,
        now: datetime | None = None,
        *,
        fate: Callable[[Subscription], Fate] | None = None,
    ) -> Renewal:
        """Renew every listed subscription that is due and that ``fate`` (default: all) keeps.

        ``fate`` may instead leave a subscription to expire (its session is over: a late
        recording is still delivered) or delete it (its session is gone). One subscription's
        failure, ``fate``'s included, is recorded in :attr:`Renewal.failed` and the others are
        still handled; one Graph answers 404 for is dropped quietly (:attr:`Renewal.gone`).
        """
        moment = now or datetime.now(UTC)
        renewed: list[Subscription] = []
        expiring: list[str] = []
        deleted: list[str] = []
        gone: list[str] = []
        failed: list[RenewalFailure] = []
        for subscription in self.list_subscriptions():
            if not self.is_due(subscription, moment):
                self.track(subscription)
                continue
            try:
                decided = fate(subscription) if fate is not None else "renew"
                if decided == "renew":
                    renewed.append(self.renew(subscription, now=moment))
                elif decided == "delete":
                    self.unsubscribe(subscription.id)
                    deleted.append(subscription.id)
                else:
                    expiring.append(subscription.id)
            except NotFound:
                gone.append(subscription.id)
            except BlendkitError as exc:
                _log.warning("Teams subscription %s not renewed (%s)", subscription.id, exc.code)
                failed.append(
                    RenewalFailure(
                        subscription_id=subscription.id, code=exc.code, message=exc.message
                    )
                )
        return Renewal(
            renewed=tuple(renewed),
            expiring=tuple(expiring),
            deleted=tuple(deleted),
            gone=tuple(gone),
            failed=tuple(failed),
        )

    def unsubscribe(self, subscription_id: str) -> None:
        """Delete a subscription at Graph (already gone counts as deleted)."""
        with contextlib.suppress(NotFound):
            self._api.request("DELETE", _path(subscription_id))
        self.forget(subscription_id)


def _required(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value:
        raise ProviderError(
            f"Graph created a subscription but answered without {key!r}",
            code="sessions.provider_unexpected",
        )
    return value
