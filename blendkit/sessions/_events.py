"""Webhook values: the raw request a provider verifies, the response to send, the typed events.

The webhook step is sans-IO: an adapter (Flask, any framework) builds a :class:`WebhookRequest`
from what it received, a provider's ``handle_webhook`` returns a :class:`WebhookResult`, and the
adapter sends ``result.response`` back as is. Handshakes (Zoom's ``endpoint.url_validation``,
Graph's ``validationToken``) are answered through the response and carry no events.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue, field_validator

from blendkit.errors import WebhookRejected
from blendkit.limits import load_json
from blendkit.sessions._models import ParticipantRecord, Recording, UtcDateTime

__all__ = [
    "GenericEvent",
    "MeetingEnded",
    "MeetingStarted",
    "ParticipantJoined",
    "ParticipantLeft",
    "RecordingCompleted",
    "SessionEvent",
    "WebhookRequest",
    "WebhookResponse",
    "WebhookResult",
]


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _now() -> datetime:
    return datetime.now(UTC)


class WebhookRequest(_Value):
    """What arrived over HTTP, untouched: header names are lower-cased, the body is raw bytes.

    Signatures are computed over the exact bytes received, so adapters must not re-serialise the
    body. ``received_at`` is the moment the request arrived; providers check timestamps against it.
    """

    method: str = "POST"
    path: str = "/"
    headers: dict[str, str] = Field(default_factory=dict)
    query: dict[str, str] = Field(default_factory=dict)
    body: bytes = b""
    received_at: UtcDateTime = Field(default_factory=_now)

    @field_validator("headers", mode="before")
    @classmethod
    def _lower_names(cls, value: object) -> object:
        if isinstance(value, Mapping):
            return {str(k).lower(): v for k, v in value.items()}
        return value

    @field_validator("method", mode="after")
    @classmethod
    def _upper_method(cls, value: str) -> str:
        return value.upper()

    def header(self, name: str) -> str | None:
        """The header ``name`` (any case), or None."""
        return self.headers.get(name.lower())

    def parsed_json(self) -> object:
        """The body parsed as JSON within :data:`blendkit.limits.DOCUMENT_LIMITS`.

        Raises :class:`WebhookRejected` (``sessions.webhook_malformed``, or a ``document.*`` code
        for a body too large, too deep or not UTF-8) for anything else: no other error escapes.
        """
        try:
            return load_json(self.body, what="webhook body", error=WebhookRejected)
        except WebhookRejected as exc:
            if exc.code != WebhookRejected.code:
                raise
            raise WebhookRejected(exc.message, code="sessions.webhook_malformed") from None


class WebhookResponse(_Value):
    """What the adapter must answer: status, headers and raw body."""

    status: int = Field(default=200, ge=100, le=599)
    headers: dict[str, str] = Field(default_factory=dict)
    body: bytes = b""

    @classmethod
    def empty(cls, status: int = 204) -> WebhookResponse:
        """An answer without a body (the usual acknowledgement)."""
        return cls(status=status)

    @classmethod
    def text(cls, body: str, status: int = 200) -> WebhookResponse:
        """A ``text/plain`` answer (Graph's validationToken echo)."""
        return cls(
            status=status,
            headers={"content-type": "text/plain; charset=utf-8"},
            body=body.encode("utf-8"),
        )

    @classmethod
    def from_json(cls, payload: object, status: int = 200) -> WebhookResponse:
        """An ``application/json`` answer (Zoom's url_validation reply)."""
        return cls(
            status=status,
            headers={"content-type": "application/json"},
            body=json.dumps(payload, separators=(",", ":")).encode("utf-8"),
        )


class _Event(_Value):
    """Common fields; ``event_id`` is stable across redeliveries so duplicates run once."""

    event_id: str = Field(min_length=1)
    provider: str
    meeting_id: str | None = None
    occurrence_id: str | None = None
    occurred_at: UtcDateTime | None = None


class MeetingStarted(_Event):
    """The host started the meeting (or an occurrence of it)."""

    type: Literal["meeting.started"] = "meeting.started"


class MeetingEnded(_Event):
    """The meeting ended; attendance can now be fetched."""

    type: Literal["meeting.ended"] = "meeting.ended"


class ParticipantJoined(_Event):
    """Someone joined; ``participant.leave_time`` is None."""

    type: Literal["participant.joined"] = "participant.joined"
    participant: ParticipantRecord


class ParticipantLeft(_Event):
    """Someone left; ``participant`` holds the join and leave times when the provider sends both."""

    type: Literal["participant.left"] = "participant.left"
    participant: ParticipantRecord


class RecordingCompleted(_Event):
    """Recordings (video, audio, transcript …) are ready to list or play."""

    type: Literal["recording.completed"] = "recording.completed"
    recordings: tuple[Recording, ...] = ()


class GenericEvent(_Event):
    """Any other verified notification, kept with the provider's event name and payload."""

    type: Literal["generic"] = "generic"
    name: str
    payload: dict[str, JsonValue] = Field(default_factory=dict)


SessionEvent = Annotated[
    MeetingStarted
    | MeetingEnded
    | ParticipantJoined
    | ParticipantLeft
    | RecordingCompleted
    | GenericEvent,
    Field(discriminator="type"),
]
"""Any typed webhook event; the ``type`` field tells them apart (also when stored as JSON)."""


class WebhookResult(_Value):
    """A verified webhook: the response to send and the events it carried (none for handshakes)."""

    response: WebhookResponse
    events: tuple[SessionEvent, ...] = ()
