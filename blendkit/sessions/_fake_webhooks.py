"""The fake provider's webhooks, signed like Zoom's (HMAC-SHA256 over ``v0:<timestamp>:<body>``):
signing, checking and reading them (FakeMeetingProvider's webhook calls, as a base class)."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from pydantic import TypeAdapter, ValidationError

from blendkit.errors import WebhookRejected
from blendkit.sessions._events import (
    SessionEvent,
    WebhookRequest,
    WebhookResponse,
    WebhookResult,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = ["FakeWebhooks", "SIGNATURE_HEADER", "TIMESTAMP_HEADER"]

_EVENTS: TypeAdapter[SessionEvent] = TypeAdapter(SessionEvent)
SIGNATURE_HEADER = "x-fake-signature"
TIMESTAMP_HEADER = "x-fake-request-timestamp"


def _sign(secret: bytes, message: str) -> str:
    return hmac.new(secret, message.encode("utf-8"), hashlib.sha256).hexdigest()


class FakeWebhooks:
    """Signing the webhook requests the fake queues and checking and reading those it receives.

    A base of :class:`~blendkit.sessions.FakeMeetingProvider`, whose ``__init__`` sets the
    attributes declared here.
    """

    name: str
    _secret: bytes
    _max_age: timedelta

    def handle_webhook(self, request: WebhookRequest) -> WebhookResult:
        token = request.query.get("validationToken")
        if request.method == "POST" and token is not None and not request.body:
            return WebhookResult(response=WebhookResponse.text(token))
        self._verify(request)
        try:
            document = request.parsed_json()
            if not isinstance(document, dict):
                raise TypeError("the body is not a JSON object")
            kind = document.get("event")
            if kind == "endpoint.url_validation":
                plain = str(document["payload"]["plainToken"])
                answer = {"plainToken": plain, "encryptedToken": _sign(self._secret, plain)}
                return WebhookResult(response=WebhookResponse.from_json(answer))
            event = _EVENTS.validate_python(document["payload"])
        except (ValueError, TypeError, KeyError, ValidationError) as exc:
            raise WebhookRejected(
                f"fake webhook body is malformed ({type(exc).__name__}); the sender must post "
                "the JSON documents FakeMeetingProvider produces",
                code="sessions.webhook_malformed",
            ) from exc
        if event.type != kind or event.provider != self.name:
            raise WebhookRejected(
                "fake webhook names a different event or provider than its payload",
                code="sessions.webhook_malformed",
            )
        return WebhookResult(response=WebhookResponse.empty(), events=(event,))

    def signed_request(self, document: Mapping[str, object], *, at: datetime) -> WebhookRequest:
        """A POST carrying ``document`` signed with the webhook secret at ``at``."""
        body = json.dumps(document, separators=(",", ":"))
        stamp = str(int(at.timestamp()))
        signature = "v0=" + _sign(self._secret, f"v0:{stamp}:{body}")
        return WebhookRequest(
            method="POST",
            path="/webhooks/fake",
            headers={
                "content-type": "application/json",
                TIMESTAMP_HEADER: stamp,
                SIGNATURE_HEADER: signature,
            },
            body=body.encode("utf-8"),
            received_at=at,
        )

    def _verify(self, request: WebhookRequest) -> None:
        stamp = request.header(TIMESTAMP_HEADER)
        signature = request.header(SIGNATURE_HEADER)
        if not stamp or not signature:
            raise WebhookRejected(
                f"fake webhook lacks {TIMESTAMP_HEADER} or {SIGNATURE_HEADER}; only signed "
                "deliveries are accepted",
                code="sessions.webhook_unsigned",
            )
        try:
            sent = datetime.fromtimestamp(int(stamp), UTC)
        except (ValueError, OverflowError, OSError) as exc:
            raise WebhookRejected(
                f"fake webhook {TIMESTAMP_HEADER} is not a Unix time in seconds",
                code="sessions.webhook_malformed",
            ) from exc
        message = b"v0:" + stamp.encode("ascii", "replace") + b":" + request.body
        expected = "v0=" + hmac.new(self._secret, message, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
            raise WebhookRejected(
                "fake webhook signature does not match; check that sender and receiver share "
                "the same webhook secret and that the body is passed on unchanged",
                code="sessions.webhook_bad_signature",
            )
        if abs(request.received_at - sent) > self._max_age:
            raise WebhookRejected(
                f"fake webhook timestamp is more than {self._max_age} away from its arrival; "
                "check the server clock (a replayed delivery also looks like this)",
                code="sessions.webhook_stale",
            )
