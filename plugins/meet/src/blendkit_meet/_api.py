"""Authenticated JSON calls to Google APIs: blendkit's :class:`~blendkit.http.JsonApi` with
Google's rules.

Every call goes through blendkit's outbound fence and a :class:`~blendkit.http.RetryingSender`:
429 is retried with the server's ``Retry-After`` (or a growing wait), 500/502/503/504 only for
reads, updates and deletes (a create that timed out may have happened), and the first 401 drops
the token and sends once more with a fresh one. Tokens go only to ``*.googleapis.com``. Google
reports some throttling as 403 with the reason ``rateLimitExceeded`` or ``userRateLimitExceeded``
(Calendar): that becomes :class:`~blendkit.errors.ProviderRateLimited` too, for the caller to
retry later.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from blendkit.errors import BlendkitError, NotFound, ProviderRateLimited
from blendkit.http import Fence, JsonApi, RetryPolicy, TokenPaging, TokenSource

__all__ = [
    "CALENDAR_API",
    "DIRECTORY_API",
    "DRIVE_API",
    "EVENTS_API",
    "GOOGLE_RETRY",
    "MEET_API",
    "PEOPLE_API",
    "GoogleApi",
]

MEET_API = "https://meet.googleapis.com/v2"
CALENDAR_API = "https://www.googleapis.com/calendar/v3"
EVENTS_API = "https://workspaceevents.googleapis.com/v1"
DIRECTORY_API = "https://admin.googleapis.com/admin/directory/v1"
PEOPLE_API = "https://people.googleapis.com/v1"
DRIVE_API = "https://www.googleapis.com/drive/v3"

GOOGLE_RETRY = RetryPolicy(backoff_seconds=1.0)
"""Truncated exponential backoff from one second, as Google's API guides ask."""

_RATE_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded"})


class GoogleApi(JsonApi):
    """Authenticated JSON calls to Google APIs over blendkit.http (fence, RetryingSender with
    429/503 backoff honouring Retry-After, one token refresh on 401, only googleapis.com hosts)."""

    vendor = "Google"
    auth_advice = (
        "check that the APIs are enabled in the service account's project and that domain-wide "
        "delegation grants the scopes listed in docs/providers/meet.md"
    )
    not_found_advice = "the session may have been deleted or belong to another organiser"
    default_retry = GOOGLE_RETRY
    empty_answer_is_object = True

    def __init__(
        self,
        credentials: TokenSource,
        client: httpx.Client,
        *,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        fence: Fence | None = None,
        timeout: float = 10.0,
    ) -> None:
        super().__init__(
            credentials,
            client,
            token_hosts=("*.googleapis.com",),
            paging=TokenPaging("nextPageToken", "pageToken"),
            retry=retry,
            sleep=sleep,
            fence=fence,
            timeout=timeout,
        )

    def special_error(self, response: httpx.Response, where: str) -> BlendkitError | None:
        """Calendar's throttling in a 403 (``rateLimitExceeded`` …), and 410 Gone."""
        reasons = _reasons(response) & _RATE_REASONS
        if reasons:
            return ProviderRateLimited(
                f"Google limits {where} ({', '.join(sorted(reasons))}); retry later",
                retry_after=None,
            )
        if response.status_code == 410:
            return NotFound(
                f"Google reports {where} as deleted{self.error_detail(response)}",
                code="sessions.meeting_not_found",
            )
        return None


def _reasons(response: httpx.Response) -> set[str]:
    """The ``error.errors[].reason`` values of Google's error body."""
    try:
        error = response.json().get("error", {})
    except (ValueError, AttributeError):
        return set()
    if not isinstance(error, dict):
        return set()
    return {
        str(item.get("reason"))
        for item in error.get("errors") or []
        if isinstance(item, dict) and item.get("reason")
    }
