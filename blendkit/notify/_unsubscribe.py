"""Signed one-click unsubscribe links: no login, bound to one course of one tenant.

A token names a course row, a learner (``sub``) and a channel (``*``: every channel) and when it
was issued; it is signed with an HMAC-SHA256 under a key derived from the tool's secret key
(``[tool] secret_key`` or the key kept in the database, as for CSRF tokens). The signature also
covers the course's tenant (issuer, client, deployment, context), so a token cannot be moved to
another course, and a course row reused by another tenant refuses old tokens. Signatures are
compared in constant time; tokens older than ``max_age`` are refused with their own reason.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from blendkit.errors import AccessDenied, NotifierConfigError

__all__ = ["UnsubscribeRequest", "UnsubscribeTokens"]

_PURPOSE = b"blendkit.notify.unsubscribe.v1"


@dataclass(frozen=True, slots=True)
class UnsubscribeRequest:
    """What a valid token asks: unsubscribe ``sub`` of course ``course_id`` from ``channel``."""

    course_id: int
    sub: str
    channel: str
    issued_at: datetime


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _invalid() -> AccessDenied:
    return AccessDenied(
        "this unsubscribe link is not valid (it was changed, cut short, or belongs to another "
        "course); use the link of a recent message, or change your notification settings from "
        "the course",
        code="notify.unsubscribe_invalid",
        http_status=403,
    )


class UnsubscribeTokens:
    """Issues and verifies unsubscribe tokens under one secret key."""

    def __init__(
        self,
        secret_key: str,
        *,
        max_age: timedelta = timedelta(days=365),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        if not secret_key:
            raise NotifierConfigError(
                "the key that signs unsubscribe links is empty: set [tool] secret_key (or let "
                "the tool generate and keep one in the database)",
                code="notify.unsubscribe_key",
            )
        self._key = hmac.new(secret_key.encode(), _PURPOSE, hashlib.sha256).digest()
        self.max_age = max_age
        self.clock = clock

    def __repr__(self) -> str:
        return "UnsubscribeTokens(<key hidden>)"

    def _mac(self, tenant: str, payload: bytes) -> bytes:
        return hmac.new(self._key, tenant.encode() + b"\0" + payload, hashlib.sha256).digest()

    def issue(self, course_id: int, tenant: str, sub: str, channel: str = "*") -> str:
        """The token for ``sub`` in course ``course_id`` whose tenant key is ``tenant``."""
        issued = int(self.clock().timestamp())
        payload = json.dumps([course_id, sub, channel, issued], separators=(",", ":")).encode()
        return f"{_b64(payload)}.{_b64(self._mac(tenant, payload))}"

    def verify(self, token: str, tenant_of: Callable[[int], str | None]) -> UnsubscribeRequest:
        """The request a token carries, after checking its signature against the tenant of the
        course it names (``tenant_of(course_id)``, None when no such course); refused with
        ``notify.unsubscribe_invalid`` or ``notify.unsubscribe_expired`` (403)."""
        try:
            encoded, signature = token.split(".")
            payload = _unb64(encoded)
            presented = _unb64(signature)
            course_id, sub, channel, issued = json.loads(payload)
        except (ValueError, TypeError, UnicodeDecodeError):
            raise _invalid() from None
        if not (
            isinstance(course_id, int)
            and isinstance(sub, str)
            and isinstance(channel, str)
            and isinstance(issued, int)
        ):
            raise _invalid()
        tenant = tenant_of(course_id)
        expected = self._mac(tenant if tenant is not None else "\0unknown", payload)
        if not hmac.compare_digest(presented, expected) or tenant is None:
            raise _invalid()
        issued_at = datetime.fromtimestamp(issued, UTC)
        if self.clock() - issued_at > self.max_age:
            raise AccessDenied(
                f"this unsubscribe link expired (it is older than {self.max_age.days} days); use "
                "the link of a recent message, or change your notification settings from the "
                "course",
                code="notify.unsubscribe_expired",
                http_status=403,
            )
        return UnsubscribeRequest(course_id, sub, channel, issued_at)
