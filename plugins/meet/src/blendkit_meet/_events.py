"""Meet events pushed by Pub/Sub to ``/webhooks/meet``: verified, parsed, mapped to blendkit's.

Google Workspace Events delivers each Meet event as a CloudEvent in a Pub/Sub message (the Pub/Sub
binding of CloudEvents): the attributes carry ``ce-id``, ``ce-type``, ``ce-source`` (the Workspace
Events subscription), ``ce-subject`` (the monitored space, ``//meet.googleapis.com/spaces/…``) and
``ce-time``; ``data`` is base64 JSON naming the resource (``{"conferenceRecord": {"name": …}}``,
``{"recording": {"name": …}}``, ``{"transcript": {"name": …}}``). A push body is
``{"message": {"data": …, "attributes": {…}, "messageId": …}, "subscription": …}``.

The push's OIDC token is verified first (:class:`~blendkit_meet._push.PushVerifier`); then

* ``conference.v2.ended`` → :class:`~blendkit.sessions.MeetingEnded` (the app imports attendance),
* ``recording.v2.fileGenerated`` / ``transcript.v2.fileGenerated`` →
  :class:`~blendkit.sessions.RecordingCompleted` with one video or transcript recording,
* subscription lifecycle events (``google.workspace.events.subscription.v1.*``) →
  :class:`~blendkit.sessions.GenericEvent`,
* any other type is acknowledged without events and logged once per type, so Pub/Sub stops
  redelivering it.

Event ids are derived from ``ce-source`` and ``ce-id`` (unique per event by the CloudEvents spec,
kept on redelivery), so ``handle_webhook_once`` processes each event once.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from blendkit_meet._auth import FencedRequest
from blendkit_meet._push import CertCache, PushVerifier

if TYPE_CHECKING:
    import httpx

    from blendkit.http import Fence
    from blendkit_meet._settings import MeetSettings
from pydantic import BaseModel, ConfigDict, JsonValue, ValidationError

from blendkit.errors import WebhookRejected
from blendkit.limits import load_json
from blendkit.sessions import (
    GenericEvent,
    MeetingEnded,
    Recording,
    RecordingCompleted,
    RecordingKind,
    SessionEvent,
    WebhookRequest,
    WebhookResponse,
    WebhookResult,
)

__all__ = [
    "CONFERENCE_ENDED",
    "LIFECYCLE_PREFIX",
    "MEET_EVENT_TYPES",
    "RECORDING_READY",
    "TRANSCRIPT_READY",
    "CloudEvent",
    "MeetEventHandler",
    "parse_push",
    "session_event",
]

PROVIDER = "meet"
CONFERENCE_ENDED = "google.workspace.meet.conference.v2.ended"
RECORDING_READY = "google.workspace.meet.recording.v2.fileGenerated"
TRANSCRIPT_READY = "google.workspace.meet.transcript.v2.fileGenerated"
MEET_EVENT_TYPES = (CONFERENCE_ENDED, RECORDING_READY, TRANSCRIPT_READY)
"""The Meet event types blendkit subscribes to and acts on."""
LIFECYCLE_PREFIX = "google.workspace.events.subscription.v1."
"""Events about the Workspace Events subscription itself (expiration reminder, suspended …)."""
MEET_RESOURCE = "//meet.googleapis.com/"

_log = logging.getLogger("blendkit_meet.events")
_ARTIFACTS = {RECORDING_READY: "recording", TRANSCRIPT_READY: "transcript"}


class CloudEvent(BaseModel):
    """One Workspace Events CloudEvent as Pub/Sub pushed it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    type: str
    source: str = ""
    subject: str = ""
    time: datetime | None = None
    data: dict[str, JsonValue]
    message_id: str = ""

    @property
    def event_id(self) -> str:
        """Stable across redeliveries: CloudEvents makes ``source`` + ``id`` unique per event."""
        digest = hashlib.sha256(f"{self.source}\n{self.id}".encode())
        return "meet-" + digest.hexdigest()[:40]

    @property
    def space(self) -> str | None:
        """The Meet space the event is about (``spaces/…``), from ``ce-subject``."""
        if not self.subject.startswith(MEET_RESOURCE):
            return None
        name = self.subject.removeprefix(MEET_RESOURCE)
        return name if name.startswith("spaces/") and len(name) > len("spaces/") else None


def _malformed(message: str) -> WebhookRejected:
    _log.warning("Meet push refused [sessions.webhook_malformed]: %s", message)
    return WebhookRejected(message, code="sessions.webhook_malformed")


def parse_push(request: WebhookRequest) -> CloudEvent:
    """The CloudEvent in a Pub/Sub push body; raises WebhookRejected naming what is missing."""
    document = request.parsed_json()
    message = document.get("message") if isinstance(document, dict) else None
    if not isinstance(message, dict):
        raise _malformed("the push body has no 'message' object (not a Pub/Sub push)")
    attributes = message.get("attributes")
    if not isinstance(attributes, dict) or not all(isinstance(v, str) for v in attributes.values()):
        raise _malformed("the Pub/Sub message has no 'attributes' map of strings")
    for key in ("ce-id", "ce-type"):
        if not attributes.get(key):
            raise _malformed(
                f"the Pub/Sub message has no {key!r} attribute (not a Workspace Events CloudEvent;"
                " check that the push subscription does not unwrap payloads)"
            )
    data = _data(message.get("data"))
    try:
        return CloudEvent(
            id=attributes["ce-id"],
            type=attributes["ce-type"],
            source=attributes.get("ce-source", ""),
            subject=attributes.get("ce-subject", ""),
            time=attributes.get("ce-time") or None,
            data=data,
            message_id=str(message.get("messageId") or ""),
        )
    except ValidationError:
        raise _malformed("the CloudEvent's 'ce-time' attribute is not a timestamp") from None


def _data(encoded: Any) -> dict[str, Any]:
    if encoded is None or encoded == "":
        return {}
    if not isinstance(encoded, str):
        raise _malformed("the Pub/Sub message's 'data' is not a base64 string")
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise _malformed("the Pub/Sub message's 'data' is not valid base64") from None
    try:
        decoded = load_json(raw, what="Meet event data", error=WebhookRejected)
    except WebhookRejected as exc:
        raise _malformed(exc.message) from None
    if not isinstance(decoded, dict):
        raise _malformed("the Meet event's data is not a JSON object")
    return decoded


def _resource_name(event: CloudEvent, key: str) -> str:
    holder = event.data.get(key)
    name = holder.get("name") if isinstance(holder, dict) else None
    if not isinstance(name, str) or not name:
        raise _malformed(f"the {event.type} event names no {key} ('{key}.name' in its data)")
    return name


def session_event(event: CloudEvent, meeting_id: str | None) -> SessionEvent | None:
    """The blendkit event for a Meet CloudEvent about ``meeting_id``; None for unknown types."""
    if event.type.startswith(LIFECYCLE_PREFIX):
        return GenericEvent(
            event_id=event.event_id,
            provider=PROVIDER,
            meeting_id=meeting_id,
            occurred_at=event.time,
            name=event.type,
            payload={"source": event.source, "subject": event.subject, "data": event.data},
        )
    if event.type not in MEET_EVENT_TYPES:
        return None
    if event.space is None:
        raise _malformed(
            f"the {event.type} event's 'ce-subject' is not a Meet space "
            "(//meet.googleapis.com/spaces/…)"
        )
    if event.type == CONFERENCE_ENDED:
        _resource_name(event, "conferenceRecord")
        return MeetingEnded(
            event_id=event.event_id,
            provider=PROVIDER,
            meeting_id=meeting_id,
            occurred_at=event.time,
        )
    key = _ARTIFACTS[event.type]
    name = _resource_name(event, key)
    conference = name.split(f"/{key}s/")[0] if f"/{key}s/" in name else None
    if meeting_id is None:
        return RecordingCompleted(
            event_id=event.event_id, provider=PROVIDER, occurred_at=event.time
        )
    recording = Recording(
        provider_id=name,
        meeting_id=meeting_id,
        kind=RecordingKind.VIDEO if key == "recording" else RecordingKind.TRANSCRIPT,
        extras={"space": event.space, "conference_record": conference},
    )
    return RecordingCompleted(
        event_id=event.event_id,
        provider=PROVIDER,
        meeting_id=meeting_id,
        occurred_at=event.time,
        recordings=(recording,),
    )


class MeetEventHandler:
    """Verifies and maps pushes to ``/webhooks/meet`` (thread-safe; no I/O but the cert fetch).

    ``meeting_of`` turns the event's space (``spaces/…``) into the id ``create_session``
    returned for it (None when blendkit did not schedule it); without it, the space name is
    the meeting id.
    """

    def __init__(
        self,
        verifier: PushVerifier,
        *,
        meeting_of: Callable[[str], str | None] | None = None,
    ) -> None:
        self._verifier = verifier
        self._meeting_of = meeting_of
        self._lock = threading.Lock()
        self._unknown: set[str] = set()

    @classmethod
    def for_settings(
        cls,
        meet: MeetSettings,
        client: httpx.Client,
        *,
        fence: Fence | None = None,
        sleep: Callable[[float], None] = time.sleep,
        meeting_of: Callable[[str], str | None] | None = None,
    ) -> MeetEventHandler:
        """The handler for ``[meet] push_audience`` and ``push_service_account``, fetching
        Google's certificates through ``client`` behind ``fence`` (cached for their max-age)."""
        transport = FencedRequest(client, fence=fence, sleep=sleep, timeout=meet.timeout_seconds)
        verifier = PushVerifier(meet.push_audience, meet.push_service_account, CertCache(transport))
        return cls(verifier, meeting_of=meeting_of)

    def handle(self, request: WebhookRequest) -> WebhookResult:
        """The acknowledgement and the events carried; raises WebhookRejected."""
        if request.method != "POST":
            raise _malformed(f"Pub/Sub pushes are POST requests, not {request.method}")
        self._verifier.verify(request.header("authorization"))
        event = parse_push(request)
        # Only the Meet events blendkit acts on look up their session (a Calendar query).
        meeting = self._meeting(event.space) if event.type in MEET_EVENT_TYPES else None
        mapped = session_event(event, meeting)
        if mapped is None:
            self._log_unknown(event.type)
            return WebhookResult(response=WebhookResponse.empty(204))
        if isinstance(mapped, GenericEvent):
            _log.info("Meet subscription event %s from %s", event.type, event.source)
        return WebhookResult(response=WebhookResponse.empty(204), events=(mapped,))

    def _meeting(self, space: str | None) -> str | None:
        if space is None:
            return None
        return self._meeting_of(space) if self._meeting_of is not None else space

    def _log_unknown(self, event_type: str) -> None:
        with self._lock:
            if event_type in self._unknown or len(self._unknown) >= 1000:
                return
            self._unknown.add(event_type)
        _log.info(
            "Meet push of type %r acknowledged and ignored: blendkit does not act on it", event_type
        )
