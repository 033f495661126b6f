"""The built-in ``webhook`` notifier: each message as one JSON POST (a chat channel's incoming
webhook, an automation service), through :class:`blendkit.http.RetryingSender` and the fence.

The body is ``{"text": …, "subject": …, "recipient": …, "recipient_name": …, "key": …}``:
``text`` alone (subject, blank line, text body) is what Slack, Mattermost, Rocket.Chat and
Discord-compatible hooks display; the other keys are there for receivers that route or
deduplicate. The key is also sent as the ``Idempotency-Key`` header. Attachments and the HTML
body are not sent. The URL (which often embeds the channel's secret) is a ``SecretStr`` and never
appears in a log line or an outcome.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import orjson
from pydantic import Field, SecretStr

from blendkit.config import Settings, SettingsSection
from blendkit.errors import NotifierConfigError, OutboundError
from blendkit.http import (
    Failure,
    Fence,
    Resolver,
    RetryingSender,
    RetryPolicy,
    parse_retry_after,
    system_resolver,
)
from blendkit.notify._message import (
    Delivered,
    Message,
    PermanentFailure,
    RetryableFailure,
    SendOutcome,
)

__all__ = ["WebhookNotifier", "WebhookSettings"]

_RETRYABLE = frozenset({408, 425, 429}) | frozenset(range(500, 600))


class WebhookSettings(SettingsSection):
    """``[webhook]``: where notifications are posted."""

    url: SecretStr | None = Field(
        default=None, description="The incoming-webhook URL (https; it is treated as a secret)."
    )
    timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    retry: RetryPolicy = Field(
        default_factory=lambda: RetryPolicy(max_retries=2, max_retry_after_seconds=30),
        description="Retries within one send (429/503 only: a POST is not repeated once a "
        "server may have applied it); the notification queue retries across sends.",
    )

    @classmethod
    def of(cls, settings: Settings) -> WebhookSettings:
        """The ``[webhook]`` section of ``settings``."""
        return settings.plugin("webhook", cls)


class _GaveUp(Exception):
    def __init__(self, failure: Failure) -> None:
        super().__init__("gave up")
        self.failure = failure


def _reason(response: httpx.Response) -> str:
    text = " ".join(response.text.split())[:200]
    return f"HTTP {response.status_code}" + (f": {text}" if text else "")


class WebhookNotifier:
    """Posts each message to ``[webhook] url``; ``client`` and ``resolver`` are injectable."""

    name = "webhook"

    def __init__(
        self,
        settings: Settings,
        *,
        client: httpx.Client | None = None,
        resolver: Resolver = system_resolver,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        hook = WebhookSettings.of(settings)
        if hook.url is None:
            raise NotifierConfigError(
                "[webhook] needs url (the channel's incoming-webhook address) to send notifications"
            )
        self._url = hook.url.get_secret_value()
        self._client = client or httpx.Client(timeout=httpx.Timeout(hook.timeout_seconds))
        fence = Fence.from_settings(settings, resolver=resolver)
        self._sender = RetryingSender(self._client, retry=hook.retry, fence=fence, sleep=sleep)

    def _redacted(self, text: str) -> str:
        """``text`` without the webhook URL (whose path is often the channel's secret)."""
        for shown in (self._url, str(httpx.URL(self._url))):
            text = text.replace(shown, "[webhook] url").replace(shown[:200], "[webhook] url")
        return text

    def _request(self, message: Message) -> httpx.Request:
        body = {
            "text": f"{message.subject}\n\n{message.text}",
            "subject": message.subject,
            "recipient": message.recipient.address,
            "recipient_name": message.recipient.name,
            "key": message.key,
        }
        headers = {"content-type": "application/json", "idempotency-key": message.key}
        return httpx.Request("POST", self._url, content=orjson.dumps(body), headers=headers)

    def send(self, message: Message) -> SendOutcome:
        """Post ``message``: 2xx is delivered, 408/429/5xx and network failures retryable, any
        other answer and a refused destination permanent."""
        try:
            response = self._sender.send(
                lambda: self._request(message),
                errors=_GaveUp,
                idempotent=False,
                retry_transport=True,
                what="POST to the notification webhook",
                max_bytes=64 * 1024,
            )
        except _GaveUp as exc:
            failure = exc.failure
            if failure.response is not None:
                return RetryableFailure(
                    reason=_reason(failure.response), retry_after=failure.retry_after
                )
            error = type(failure.error).__name__
            return RetryableFailure(reason=f"the webhook could not be reached ({error})")
        except OutboundError as exc:
            return PermanentFailure(reason=self._redacted(exc.message))
        if response.is_success:
            return Delivered(detail=f"HTTP {response.status_code}")
        if response.status_code in _RETRYABLE:
            retry_after = parse_retry_after(response.headers.get("retry-after"))
            return RetryableFailure(reason=_reason(response), retry_after=retry_after)
        return PermanentFailure(reason=_reason(response))
