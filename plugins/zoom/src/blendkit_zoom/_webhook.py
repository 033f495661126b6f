"""Zoom webhook verification: ``x-zm-signature`` over the raw body, 5-minute window, no replays.

Zoom signs ``"v0:" + x-zm-request-timestamp + ":" + raw body`` with HMAC-SHA256 keyed by the app's
secret token and sends ``v0=<hex>``. The exact bytes received are verified (never a re-serialised
body), the comparison is constant-time, and a signed request seen before is refused, so a captured
delivery cannot be replayed inside the window. Redeliveries by Zoom carry a new timestamp and
signature; their events keep the same ``event_id`` so ``handle_webhook_once`` drops them.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from typing import Any

from blendkit.errors import WebhookRejected
from blendkit.sessions import (
    EventLedger,
    MemoryEventLedger,
    WebhookRequest,
    WebhookResponse,
    WebhookResult,
)
from blendkit_zoom._events import parse_event

__all__ = ["SIGNATURE_HEADER", "TIMESTAMP_HEADER", "ZoomWebhookVerifier", "sign_zoom_webhook"]

SIGNATURE_HEADER = "x-zm-signature"
TIMESTAMP_HEADER = "x-zm-request-timestamp"
URL_VALIDATION = "endpoint.url_validation"


def sign_zoom_webhook(secret: str, timestamp: str, body: bytes) -> str:
    """The ``x-zm-signature`` value Zoom sends for ``body`` at ``timestamp`` (Unix seconds)."""
    message = b"v0:" + timestamp.encode("ascii") + b":" + body
    return "v0=" + hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


class ZoomWebhookVerifier:
    """Verifies Zoom deliveries and turns them into blendkit events (thread-safe)."""

    def __init__(
        self,
        secret: str | None,
        *,
        max_age: timedelta = timedelta(minutes=5),
        replay_ledger: EventLedger | None = None,
    ) -> None:
        self._secret = secret
        self._max_age = max_age
        self._seen = replay_ledger if replay_ledger is not None else MemoryEventLedger(50_000)

    def handle(self, request: WebhookRequest) -> WebhookResult:
        """Verify ``request``; answer url_validation; parse events. Raises WebhookRejected."""
        secret = self._require_secret()
        signature = self._verify(request, secret)
        document = _json_document(request)
        event_name = document["event"]
        if event_name == URL_VALIDATION:
            return WebhookResult(response=self._url_validation(document, secret))
        events = parse_event(document)
        if not self._seen.first_time("zoom-delivery", signature):
            raise WebhookRejected(
                "this exact Zoom delivery (same timestamp and signature) was already received; "
                "it is a replay and was ignored",
                code="sessions.webhook_replayed",
            )
        return WebhookResult(response=WebhookResponse.empty(200), events=events)

    def _require_secret(self) -> str:
        if not self._secret:
            raise WebhookRejected(
                "no Zoom webhook secret is configured, so deliveries cannot be verified; set "
                "[zoom] webhook_secret (BLENDKIT_ZOOM_WEBHOOK_SECRET) to the app's Secret Token",
                code="sessions.webhook_not_configured",
            )
        return self._secret

    def _verify(self, request: WebhookRequest, secret: str) -> str:
        stamp = request.header(TIMESTAMP_HEADER)
        signature = request.header(SIGNATURE_HEADER)
        if not stamp or not signature:
            raise WebhookRejected(
                f"Zoom webhook lacks {TIMESTAMP_HEADER} or {SIGNATURE_HEADER}; only signed "
                "deliveries from Zoom are accepted",
                code="sessions.webhook_unsigned",
            )
        if not stamp.isascii() or not stamp.isdigit() or len(stamp) > 12:
            raise WebhookRejected(
                f"Zoom webhook {TIMESTAMP_HEADER} is not a Unix time in seconds",
                code="sessions.webhook_malformed",
            )
        expected = sign_zoom_webhook(secret, stamp, request.body)
        if not hmac.compare_digest(expected.encode("ascii"), signature.encode("utf-8", "replace")):
            raise WebhookRejected(
                "Zoom webhook signature does not match; check that [zoom] webhook_secret equals "
                "the app's Secret Token and that the body reaches blendkit unchanged",
                code="sessions.webhook_bad_signature",
            )
        sent = datetime.fromtimestamp(int(stamp), UTC)
        if abs(request.received_at - sent) > self._max_age:
            raise WebhookRejected(
                f"Zoom webhook timestamp is more than {int(self._max_age.total_seconds())} s away "
                "from its arrival; check this server's clock (a replayed delivery looks like this)",
                code="sessions.webhook_stale",
            )
        return signature

    @staticmethod
    def _url_validation(document: dict[str, Any], secret: str) -> WebhookResponse:
        payload = document.get("payload")
        plain = payload.get("plainToken") if isinstance(payload, dict) else None
        if not isinstance(plain, str) or not plain:
            raise WebhookRejected(
                "Zoom endpoint.url_validation carries no payload.plainToken",
                code="sessions.webhook_malformed",
            )
        encrypted = hmac.new(secret.encode("utf-8"), plain.encode("utf-8"), hashlib.sha256)
        return WebhookResponse.from_json(
            {"plainToken": plain, "encryptedToken": encrypted.hexdigest()}
        )


def _json_document(request: WebhookRequest) -> dict[str, Any]:
    try:
        document = request.parsed_json()
    except (ValueError, RecursionError) as exc:
        raise WebhookRejected(
            "Zoom webhook body is not JSON", code="sessions.webhook_malformed"
        ) from exc
    if not isinstance(document, dict) or not isinstance(document.get("event"), str):
        raise WebhookRejected(
            "Zoom webhook body is not an object with an 'event' name",
            code="sessions.webhook_malformed",
        )
    return document
