"""A notifier plugin for Matrix rooms, written against :class:`blendkit.notify.Notifier`.

It shows what a channel needs: its own ``[matrix]`` settings section with the secret as a
``SecretStr``, every request through blendkit's fence and retry policy
(:class:`blendkit.http.RetryingSender`), the message's idempotency key used the way the channel
deduplicates (Matrix ignores a repeated transaction id), and each answer mapped to a typed
outcome. Register both in your distribution's pyproject.toml:

    [project.entry-points."blendkit.notifiers"]
    matrix = "matrix_notifier:MatrixNotifier"

    [project.entry-points."blendkit.settings"]
    matrix = "matrix_notifier:MatrixSettings"

then configure ``[matrix] homeserver = "https://matrix.example.org"`` and
``access_token`` (or ``BLENDKIT_MATRIX_ACCESS_TOKEN``). A message's recipient address is a room
id (``!abc:example.org``).
"""

from __future__ import annotations

import hashlib
from urllib.parse import quote

import httpx
from pydantic import Field, SecretStr

from blendkit.config import Settings, SettingsSection
from blendkit.errors import ConfigError, OutboundError
from blendkit.http import Failure, Fence, Resolver, RetryingSender, RetryPolicy, system_resolver
from blendkit.notify import (
    Delivered,
    Message,
    PermanentFailure,
    RetryableFailure,
    SendOutcome,
)


class MatrixSettings(SettingsSection):
    """``[matrix]``: the homeserver and the access token of the bot account."""

    homeserver: str | None = None
    access_token: SecretStr | None = None
    timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    retry: RetryPolicy = Field(default_factory=lambda: RetryPolicy(max_retries=2))


class _GaveUp(Exception):
    def __init__(self, failure: Failure) -> None:
        super().__init__("gave up")
        self.failure = failure


class MatrixNotifier:
    """Posts each message as an ``m.room.message`` event to the room named by its recipient."""

    name = "matrix"

    def __init__(
        self,
        settings: Settings,
        *,
        client: httpx.Client | None = None,
        resolver: Resolver = system_resolver,
    ) -> None:
        matrix = settings.plugin("matrix", MatrixSettings)
        if not matrix.homeserver or matrix.access_token is None:
            raise ConfigError("[matrix] needs homeserver and access_token")
        self._base = matrix.homeserver.rstrip("/")
        self._token = matrix.access_token
        http = client or httpx.Client(timeout=httpx.Timeout(matrix.timeout_seconds))
        fence = Fence.from_settings(settings, resolver=resolver)
        self._sender = RetryingSender(http, retry=matrix.retry, fence=fence)

    def _request(self, message: Message) -> httpx.Request:
        # The same key gives the same transaction id: a retry is never posted twice.
        txn = hashlib.sha256(message.key.encode()).hexdigest()
        room = quote(message.recipient.address, safe="")
        content = {"msgtype": "m.text", "body": f"{message.subject}\n\n{message.text}"}
        if message.html is not None:
            content |= {"format": "org.matrix.custom.html", "formatted_body": message.html}
        return httpx.Request(
            "PUT",
            f"{self._base}/_matrix/client/v3/rooms/{room}/send/m.room.message/{txn}",
            json=content,
            headers={"authorization": f"Bearer {self._token.get_secret_value()}"},
        )

    def send(self, message: Message) -> SendOutcome:
        """Send ``message``; the PUT is idempotent, so transport failures are retried too."""
        try:
            response = self._sender.send(
                lambda: self._request(message),
                errors=_GaveUp,
                idempotent=True,
                retry_transport=True,
                what="Matrix room message",
            )
        except _GaveUp as exc:
            answer = exc.failure.response
            reason = f"HTTP {answer.status_code}" if answer is not None else "unreachable"
            return RetryableFailure(reason=reason, retry_after=exc.failure.retry_after)
        except OutboundError as exc:
            return PermanentFailure(reason=exc.message)
        body = _json(response)
        if response.is_success:
            return Delivered(detail=f"event {body.get('event_id', '?')}")
        reason = f"HTTP {response.status_code} {body.get('errcode', '')}".strip()
        return PermanentFailure(reason=reason)


def _json(response: httpx.Response) -> dict[str, object]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
