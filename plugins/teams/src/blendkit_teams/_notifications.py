"""Graph change notifications: the validationToken handshake, clientState check, typed events.

Graph proves a notification URL by POSTing ``?validationToken=…`` and expects the decoded token
back within 10 s as ``200 text/plain``. Every later notification carries the ``clientState``
blendkit set on the subscription; a delivery where any item lacks the right one is refused whole.
Graph sends no signature, so a repeated body is indistinguishable from a redelivery: events keep
a stable ``event_id`` and ``handle_webhook_once`` processes them once. Graph documents
``subscriptionExpirationDateTime`` as required: a change notification without a readable one is
refused, and one that arrives more than Graph's four-hour redelivery window after its
subscription expired is refused as stale. The expiry is the earlier of the notification's and
the one blendkit knows for that subscription (``known_expiry``, which the provider reads from
Graph for subscriptions this process has seen, since another process may have renewed them), so
editing it forward in a captured body does not make a replay fresh. Events name the session
(calendar event id) when the notification URL carries ``?meeting=…`` (``TeamsProvider.subscribe``
sets it), otherwise the online meeting id.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from pydantic import ValidationError

from blendkit.errors import WebhookRejected
from blendkit.sessions import (
    GenericEvent,
    Recording,
    RecordingCompleted,
    RecordingKind,
    SessionEvent,
    WebhookRequest,
    WebhookResponse,
    WebhookResult,
)
from blendkit_teams._convert import parse_time

__all__ = ["GraphNotificationHandler", "online_meeting_of"]

PROVIDER = "teams"
REDELIVERY_WINDOW = timedelta(hours=4, minutes=5)
"""Graph retries an unacknowledged notification for up to four hours."""
MAX_TOKEN_LENGTH = 4096
_MEETING = re.compile(r"onlineMeetings(?:\('([^']+)'\)|/([^/()']+))")
_ARTIFACT = re.compile(r"/(recordings|transcripts)(?:\('([^']+)'\)|/([^/()']+))?")


def online_meeting_of(resource: str) -> str | None:
    """The online meeting id named in a notification's ``resource`` path, if any."""
    found = _MEETING.search(resource)
    if not found or found.group(0).endswith(("getAllRecordings", "getAllTranscripts")):
        return None
    return found.group(1) or found.group(2)


class GraphNotificationHandler:
    """Verifies and parses deliveries to the Teams notification URL (thread-safe, no I/O)."""

    def __init__(
        self,
        client_state: str | None,
        tenant_id: str | None = None,
        *,
        known_expiry: Callable[[str], datetime | None] | None = None,
    ) -> None:
        self._client_state = client_state
        self._tenant_id = tenant_id
        self._known_expiry = known_expiry

    def handle(self, request: WebhookRequest) -> WebhookResult:
        """The response to send and the events carried; raises WebhookRejected."""
        token = request.query.get("validationToken")
        if token is not None:
            return self._validation(request, token)
        expected = self._require_client_state()
        items = _notifications(request)
        for item in items:
            sent = item.get("clientState")
            if not isinstance(sent, str) or not hmac.compare_digest(
                sent.encode("utf-8"), expected.encode("utf-8")
            ):
                raise WebhookRejected(
                    "a Graph notification carries no or a wrong clientState; it was not sent for "
                    "a subscription blendkit made (check [teams] client_state)",
                    code="sessions.webhook_client_state",
                )
            if "lifecycleEvent" not in item and self._stale(item, request.received_at):
                raise WebhookRejected(
                    "a Graph notification names a subscription that expired more than four hours "
                    "before it arrived (Graph stops redelivering by then): a replay, or a server "
                    "clock that is far off",
                    code="sessions.webhook_stale",
                )
            tenant = item.get("tenantId")
            if self._tenant_id and isinstance(tenant, str) and tenant != self._tenant_id:
                raise WebhookRejected(
                    "a Graph notification comes from another tenant than [teams] tenant_id",
                    code="sessions.webhook_client_state",
                )
        session = request.query.get("meeting") or None
        events = tuple(_event(item, session) for item in items)
        return WebhookResult(response=WebhookResponse.empty(202), events=events)

    @staticmethod
    def _validation(request: WebhookRequest, token: str) -> WebhookResult:
        if request.method != "POST" or not token or len(token) > MAX_TOKEN_LENGTH:
            raise WebhookRejected(
                "a Graph validation request must be a POST with a non-empty validationToken",
                code="sessions.webhook_malformed",
            )
        return WebhookResult(response=WebhookResponse.text(token))

    def _stale(self, item: dict[str, Any], received_at: datetime) -> bool:
        """True when the change notification's subscription expired beyond redelivery."""
        expiry = parse_time(item.get("subscriptionExpirationDateTime"))
        if expiry is None:
            raise WebhookRejected(
                "a Graph change notification has no readable subscriptionExpirationDateTime "
                "(Graph always sends one), so its age cannot be checked",
                code="sessions.webhook_malformed",
            )
        if received_at > expiry + REDELIVERY_WINDOW:
            return True
        # Only a claim that looks fresh needs the expiry blendkit knows (which may be asked of
        # Graph): the earlier of the two decides.
        known = self._known_expiry(item["subscriptionId"]) if self._known_expiry else None
        return known is not None and received_at > known + REDELIVERY_WINDOW

    def _require_client_state(self) -> str:
        if not self._client_state:
            raise WebhookRejected(
                "no Teams client state is configured, so notifications cannot be verified; set "
                "[teams] client_state (BLENDKIT_TEAMS_CLIENT_STATE) to a random secret",
                code="sessions.webhook_not_configured",
            )
        return self._client_state


def _notifications(request: WebhookRequest) -> list[dict[str, Any]]:
    try:
        document = request.parsed_json()
    except (ValueError, RecursionError) as exc:
        raise WebhookRejected(
            "Graph notification body is not JSON", code="sessions.webhook_malformed"
        ) from exc
    items = document.get("value") if isinstance(document, dict) else None
    if not isinstance(items, list) or not items or not all(isinstance(i, dict) for i in items):
        raise WebhookRejected(
            "Graph notification body has no 'value' list of notifications",
            code="sessions.webhook_malformed",
        )
    for item in items:
        if "lifecycleEvent" in item and not isinstance(item["lifecycleEvent"], str):
            raise WebhookRejected(
                "a Graph lifecycle notification names no event", code="sessions.webhook_malformed"
            )
        if not isinstance(item.get("subscriptionId"), str) or not item["subscriptionId"]:
            raise WebhookRejected(
                "a Graph notification has no subscriptionId", code="sessions.webhook_malformed"
            )
        if "lifecycleEvent" not in item and not isinstance(item.get("resource"), str):
            raise WebhookRejected(
                "a Graph change notification has no resource", code="sessions.webhook_malformed"
            )
    return items


def _event_id(item: dict[str, Any]) -> str:
    data = item.get("resourceData")
    key = [
        item.get("subscriptionId"),
        item.get("changeType"),
        item.get("resource"),
        data.get("id") if isinstance(data, dict) else None,
        item.get("lifecycleEvent"),
        item.get("subscriptionExpirationDateTime") if "lifecycleEvent" in item else None,
    ]
    digest = hashlib.sha256(json.dumps(key, separators=(",", ":")).encode("utf-8"))
    return "teams-" + digest.hexdigest()[:40]


def _event(item: dict[str, Any], session: str | None) -> SessionEvent:
    """One notification as an event; ``session`` is the event id from the URL's query, if any."""
    public = {k: v for k, v in item.items() if k != "clientState"}
    event_id = _event_id(item)
    lifecycle = item.get("lifecycleEvent")
    if isinstance(lifecycle, str):
        return GenericEvent(
            event_id=event_id,
            provider=PROVIDER,
            name=f"graph.lifecycle.{lifecycle}",
            payload=public,
        )
    resource = str(item["resource"])
    online = online_meeting_of(resource)
    meeting = session or online
    artifact = _ARTIFACT.search(resource)
    data = item.get("resourceData")
    if artifact and online and meeting and item.get("changeType") == "created":
        kind = (
            RecordingKind.VIDEO if artifact.group(1) == "recordings" else RecordingKind.TRANSCRIPT
        )
        file_id = artifact.group(2) or artifact.group(3)
        if not file_id and isinstance(data, dict):
            file_id = data.get("id")
        try:
            recording = Recording(
                provider_id=str(file_id or event_id),
                meeting_id=meeting,
                kind=kind,
                extras={"resource": resource, "online_meeting_id": online},
            )
        except ValidationError as exc:
            raise WebhookRejected(
                "a Graph recording notification is unusable", code="sessions.webhook_malformed"
            ) from exc
        return RecordingCompleted(
            event_id=event_id,
            provider=PROVIDER,
            meeting_id=meeting,
            recordings=(recording,),
        )
    return GenericEvent(
        event_id=event_id,
        provider=PROVIDER,
        meeting_id=meeting,
        name=f"graph.{item.get('changeType', 'changed')}",
        payload=public,
    )
