"""Authenticated JSON calls to Google APIs over blendkit.http.

Every call goes through blendkit's outbound fence and a :class:`~blendkit.http.RetryingSender`:
429 is retried with the server's ``Retry-After`` (or a growing wait), 500/502/503/504 only for
reads, updates and deletes (a create that timed out may have happened), and the first 401 drops
the token and sends once more with a fresh one. Tokens go only to ``*.googleapis.com``. Google
reports some throttling as 403 with the reason ``rateLimitExceeded`` or ``userRateLimitExceeded``
(Calendar): that becomes :class:`~blendkit.errors.ProviderRateLimited` too.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import httpx

from blendkit.errors import (
    BlendkitError,
    NotFound,
    OutboundError,
    ProviderAuthError,
    ProviderError,
    ProviderRateLimited,
)
from blendkit.http import Failure, Fence, RetryingSender, RetryPolicy, TokenSource

__all__ = [
    "CALENDAR_API",
    "DIRECTORY_API",
    "DRIVE_API",
    "EVENTS_API",
    "GOOGLE_RETRY",
    "MEET_API",
    "PEOPLE_API",
    "GoogleApi",
    "json_object",
]

MEET_API = "https://meet.googleapis.com/v2"
CALENDAR_API = "https://www.googleapis.com/calendar/v3"
EVENTS_API = "https://workspaceevents.googleapis.com/v1"
DIRECTORY_API = "https://admin.googleapis.com/admin/directory/v1"
PEOPLE_API = "https://people.googleapis.com/v1"
DRIVE_API = "https://www.googleapis.com/drive/v3"

GOOGLE_RETRY = RetryPolicy(backoff_seconds=1.0)
"""Truncated exponential backoff from one second, as Google's API guides ask."""

_THROTTLED = frozenset({429})
_BUSY = frozenset({500, 502, 503, 504})
_IDEMPOTENT = frozenset({"GET", "PATCH", "PUT", "DELETE"})
_RATE_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded"})
_MAX_PAGES = 10_000


class GoogleApi:
    """Authenticated JSON calls to Google APIs over blendkit.http (fence, RetryingSender with
    429/503 backoff honouring Retry-After, one token refresh on 401, only googleapis.com hosts)."""

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
        self._tokens = credentials
        self._client = client
        self._sender = RetryingSender(client, retry=retry or GOOGLE_RETRY, fence=fence, sleep=sleep)
        self._timeout = timeout

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Any = None,
    ) -> httpx.Response:
        """Send one call to an absolute ``url``; errors mapped to blendkit's error tree."""
        host = httpx.URL(url).host
        if httpx.URL(url).scheme != "https" or not host.endswith(".googleapis.com"):
            raise ProviderError(
                f"refusing to send a Google token to {host or url!r}: only https "
                "*.googleapis.com hosts receive it",
                code="sessions.provider_unexpected",
            )

        def build(token: str) -> httpx.Request:
            return self._client.build_request(
                method,
                url,
                params=dict(params) if params else None,
                json=json,
                headers={"authorization": f"Bearer {token}", "accept": "application/json"},
                timeout=self._timeout,
            )

        try:
            response = self._sender.send_authorized(
                self._tokens,
                build,
                errors=lambda failure: _failure_error(failure, method, url),
                idempotent=method in _IDEMPOTENT,
                retry_statuses=_THROTTLED,
                retry_statuses_if_idempotent=_BUSY,
                what=f"Google {method} {_short(url)}",
            )
        except OutboundError as exc:
            raise ProviderError(exc.message, code=exc.code) from exc
        if response.status_code >= 400:
            raise _error_for(response, method, url)
        return response

    def get(self, url: str, params: Mapping[str, str] | None = None) -> dict[str, Any]:
        """GET and return the JSON object answered."""
        return json_object(self.request("GET", url, params=params))

    def post(self, url: str, json: Any, params: Mapping[str, str] | None = None) -> dict[str, Any]:
        """POST ``json`` and return the JSON object answered (``{}`` for an empty answer)."""
        return json_object(self.request("POST", url, params=params, json=json))

    def patch(self, url: str, json: Any, params: Mapping[str, str] | None = None) -> dict[str, Any]:
        """PATCH ``json`` and return the JSON object answered (``{}`` for an empty answer)."""
        return json_object(self.request("PATCH", url, params=params, json=json))

    def delete(self, url: str, params: Mapping[str, str] | None = None) -> None:
        """DELETE the resource at ``url``."""
        self.request("DELETE", url, params=params)

    def pages(
        self, url: str, params: Mapping[str, str] | None, items_key: str
    ) -> Iterator[dict[str, Any]]:
        """Every item of a list across pages (nextPageToken → pageToken)."""
        query = dict(params or {})
        seen: set[str] = set()
        for _ in range(_MAX_PAGES):
            body = self.get(url, query)
            items = body.get(items_key) or []
            if not isinstance(items, list):
                raise ProviderError(
                    f"Google answered {_short(url)} with a {items_key!r} that is not a list",
                    code="sessions.provider_unexpected",
                )
            yield from (item for item in items if isinstance(item, dict))
            token = body.get("nextPageToken")
            if not isinstance(token, str) or not token or token in seen:
                return
            seen.add(token)
            query["pageToken"] = token
        raise ProviderError(
            f"Google kept answering {_short(url)} with more pages after {_MAX_PAGES}; stopped",
            code="sessions.provider_unexpected",
        )


def json_object(response: httpx.Response) -> dict[str, Any]:
    """The JSON object of an answer (``{}`` when empty); ProviderError for anything else."""
    if not response.content:
        return {}
    try:
        body = response.json()
    except ValueError as exc:
        raise ProviderError(
            "Google answered with a body that is not JSON", code="sessions.provider_unexpected"
        ) from exc
    if not isinstance(body, dict):
        raise ProviderError(
            "Google answered with JSON that is not an object",
            code="sessions.provider_unexpected",
        )
    return body


def _short(url: str) -> str:
    parsed = httpx.URL(url)
    return f"{parsed.host}{parsed.path}"


def _failure_error(failure: Failure, method: str, url: str) -> BlendkitError:
    if failure.response is None:
        return ProviderError(
            f"cannot reach Google for {method} {_short(url)} (no answer in time); check the "
            "network of this server and retry",
            code="sessions.provider_unreachable",
        )
    advised = failure.retry_after
    after = f" (Google advises retrying in {advised:.0f} s)" if advised is not None else ""
    status = failure.response.status_code
    if status in _THROTTLED:
        return ProviderRateLimited(
            f"Google kept throttling {method} {_short(url)} (HTTP {status}) after "
            f"{failure.tries} attempt(s){after}; retry later",
            retry_after=advised,
        )
    return ProviderError(
        f"Google kept failing on {method} {_short(url)} (HTTP {status}) after {failure.tries} "
        f"attempt(s){after}; retry later",
        code="sessions.provider_unavailable",
    )


def _google_error(response: httpx.Response) -> tuple[str, str, set[str]]:
    """``(status, message, reasons)`` of Google's error body (``error.status`` etc.)."""
    try:
        error = response.json().get("error", {})
    except (ValueError, AttributeError):
        return "", "", set()
    if not isinstance(error, dict):
        return "", str(error)[:200], set()
    reasons = {
        str(item.get("reason"))
        for item in error.get("errors") or []
        if isinstance(item, dict) and item.get("reason")
    }
    return str(error.get("status") or "")[:60], str(error.get("message") or "")[:300], reasons


def _error_for(response: httpx.Response, method: str, url: str) -> BlendkitError:
    status = response.status_code
    state, message, reasons = _google_error(response)
    detail = f": {state} {message}".rstrip() if state or message else ""
    where = f"{method} {_short(url)}"
    if reasons & _RATE_REASONS:
        return ProviderRateLimited(
            f"Google limits {where} ({', '.join(sorted(reasons & _RATE_REASONS))}); retry later",
            retry_after=None,
        )
    if status in (401, 403):
        return ProviderAuthError(
            f"Google refused {where} (HTTP {status}{detail}); check that the APIs are enabled "
            "in the service account's project and that domain-wide delegation grants the "
            "scopes listed in docs/providers/meet.md"
        )
    if status == 404:
        return NotFound(
            f"Google has no such resource for {where}{detail}; the session may have been "
            "deleted or belong to another organiser",
            code="sessions.meeting_not_found",
        )
    if status == 410:
        return NotFound(
            f"Google reports {where} as deleted{detail}", code="sessions.meeting_not_found"
        )
    if status >= 500:
        return ProviderError(
            f"Google failed on {where} (HTTP {status}); retry later",
            code="sessions.provider_unavailable",
        )
    return ProviderError(
        f"Google rejected {where} (HTTP {status}{detail})", code="sessions.provider_rejected"
    )
