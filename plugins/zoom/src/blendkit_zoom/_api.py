"""The Zoom REST layer: bearer token, bounded retries on 429, one token refresh on 401, paging.

Zoom answers 429 with ``Retry-After`` (seconds, an HTTP date or an ISO timestamp) and
``X-RateLimit-Type`` (``QPS`` or ``Daily-limit``). Per-second limits are waited out a bounded
number of times; a daily limit, or a wait longer than the policy's ``max_retry_after_seconds``,
is reported at once as :class:`~blendkit.errors.ProviderRateLimited` with the advised delay.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx

from blendkit.errors import (
    BlendkitError,
    NotFound,
    OutboundError,
    ProviderAuthError,
    ProviderError,
    ProviderRateLimited,
)
from blendkit.http import Failure, Fence, RetryingSender, RetryPolicy
from blendkit_zoom._auth import ZoomTokenSource

__all__ = ["ZOOM_API_BASE", "ZoomApi", "is_zoom_host", "zoom_error_code"]

ZOOM_API_BASE = "https://api.zoom.us/v2"
MAX_PAGE_SIZE = 300
_SCOPE_CODES = frozenset({124, 4700, 4711})
"""Zoom codes for an invalid token or missing scopes (sent with HTTP 400 as well as 401)."""
_RATE_LIMITED = frozenset({429})
_ZOOM_DOMAINS = ("zoom.us", "zoomgov.com")
"""Download URLs (and their redirects) are followed on these domains only: they carry the token."""
MAX_DOWNLOAD_REDIRECTS = 3

Sleep = Callable[[float], None]
QueryValue = str | int | bool


class ZoomApi:
    """Authenticated JSON requests to ``api.zoom.us/v2`` through an injected ``httpx.Client``."""

    def __init__(
        self,
        tokens: ZoomTokenSource,
        client: httpx.Client,
        *,
        base_url: str = ZOOM_API_BASE,
        retry: RetryPolicy | None = None,
        sleep: Sleep = time.sleep,
        timeout: float = 10.0,
        fence: Fence | None = None,
    ) -> None:
        self._timeout = timeout
        self._tokens = tokens
        self._client = client
        self._base = base_url.rstrip("/")
        self._follow_api_url = base_url == ZOOM_API_BASE
        self._sender = RetryingSender(
            client, retry=retry or RetryPolicy(), fence=fence, sleep=sleep
        )

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, QueryValue] | None = None,
        json: Any = None,
        allow_404: bool = False,
    ) -> httpx.Response:
        """Send one API call; ``path`` is already encoded (see :mod:`blendkit_zoom._ids`).

        With ``allow_404`` a 404 answer is returned for the caller to interpret (Zoom says "no
        recordings" or "no such past meeting" that way) instead of raising NotFound.
        """
        query = {k: _query_text(v) for k, v in (params or {}).items()}

        def build(token: str) -> httpx.Request:
            return self._client.build_request(
                method,
                self._base_for_account() + path,
                params=query,
                json=json,
                headers={"authorization": f"Bearer {token}", "accept": "application/json"},
                timeout=self._timeout,
            )

        try:
            response = self._sender.send_authorized(
                self._tokens,
                build,
                errors=lambda failure: _failure_error(failure, method, path),
                retry_statuses=_RATE_LIMITED,
                retry_statuses_if_idempotent=frozenset(),
                give_up_on=_daily_limit,
                what=f"Zoom {method} {path}",
            )
        except OutboundError as exc:
            raise ProviderError(exc.message, code=exc.code) from exc
        if response.status_code == 404 and allow_404:
            return response
        if response.status_code >= 400:
            raise _error_for(response, method, path)
        return response

    def download(self, url: str, *, max_bytes: int) -> httpx.Response:
        """GET a recording file's ``download_url`` with the account's bearer token (one
        refresh on 401, bounded waits on 429), following redirects by hand.

        The URL and every redirect must be https on a Zoom host (``zoom.us``, ``zoomgov.com``
        and their subdomains): anything else is refused before the token is sent.
        """
        for _ in range(MAX_DOWNLOAD_REDIRECTS + 1):
            if not is_zoom_host(url):
                raise ProviderError(
                    f"the recording download URL {_host_of(url)!r} is not an https URL on a Zoom "
                    "host, so it is not followed (the account's token would go with it)",
                    code="sessions.provider_unexpected",
                )
            response = self._download_once(url, max_bytes)
            if response.status_code in (301, 302, 303, 307, 308) and response.has_redirect_location:
                url = str(response.url.join(response.headers["location"]))
                continue
            if response.status_code >= 400:
                raise _error_for(response, "GET", "the recording download")
            return response
        raise ProviderError(
            f"the recording download redirected more than {MAX_DOWNLOAD_REDIRECTS} times",
            code="sessions.provider_unexpected",
        )

    def _download_once(self, url: str, max_bytes: int) -> httpx.Response:
        def build(token: str) -> httpx.Request:
            return self._client.build_request(
                "GET", url, headers={"authorization": f"Bearer {token}"}, timeout=self._timeout
            )

        try:
            return self._sender.send_authorized(
                self._tokens,
                build,
                errors=lambda failure: _failure_error(failure, "GET", "the recording download"),
                retry_statuses=_RATE_LIMITED,
                retry_statuses_if_idempotent=frozenset(),
                give_up_on=_daily_limit,
                what="Zoom recording download",
                max_bytes=max_bytes,
            )
        except OutboundError as exc:
            raise ProviderError(exc.message, code=exc.code) from exc

    def _base_for_account(self) -> str:
        """The account's own API origin when Zoom named one (data residency), else the default."""
        if self._follow_api_url and self._tokens.api_url:
            return self._tokens.api_url + "/v2"
        return self._base

    def get_json(self, path: str, params: Mapping[str, QueryValue] | None = None) -> dict[str, Any]:
        """GET ``path`` and return the JSON object Zoom answered."""
        return _json_object(self.request("GET", path, params=params), path)

    def pages(
        self,
        path: str,
        items_key: str,
        params: Mapping[str, QueryValue] | None = None,
        *,
        page_size: int = MAX_PAGE_SIZE,
    ) -> Iterator[dict[str, Any]]:
        """Every item of a ``next_page_token``-paged list, fetching pages as they are consumed.

        Zoom's page tokens expire after 15 minutes, so pages are requested back to back rather
        than resumed later.
        """
        query: dict[str, QueryValue] = dict(params or {})
        query["page_size"] = max(1, min(page_size, MAX_PAGE_SIZE))
        seen_tokens: set[str] = set()
        while True:
            body = self.get_json(path, query)
            items = body.get(items_key) or []
            if not isinstance(items, list):
                raise ProviderError(
                    f"Zoom answered {path} with {items_key!r} that is not a list",
                    code="sessions.provider_unexpected",
                )
            for item in items:
                if isinstance(item, dict):
                    yield item
            next_token = body.get("next_page_token")
            if not isinstance(next_token, str) or not next_token or next_token in seen_tokens:
                return
            seen_tokens.add(next_token)
            query["next_page_token"] = next_token


def is_zoom_host(url: str) -> bool:
    """Whether ``url`` is https on ``zoom.us``/``zoomgov.com`` or a subdomain of them."""
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
    except ValueError:
        return False
    if parts.scheme != "https" or parts.username or parts.password:
        return False
    return any(host == domain or host.endswith("." + domain) for domain in _ZOOM_DOMAINS)


def _host_of(url: str) -> str:
    try:
        return urlsplit(url).hostname or url[:60]
    except ValueError:
        return url[:60]


def _daily_limit(response: httpx.Response) -> bool:
    """A ``Daily-limit`` 429 lasts until tomorrow: reported at once instead of waited out."""
    return "daily" in response.headers.get("x-ratelimit-type", "").lower()


def _failure_error(failure: Failure, method: str, path: str) -> BlendkitError:
    if failure.response is None:
        return ProviderError(
            f"cannot reach Zoom for {method} {path} (no answer in time); check the "
            "network of this server and try again",
            code="sessions.provider_unreachable",
        )
    advised = failure.retry_after
    what = "daily request limit" if _daily_limit(failure.response) else "rate limit"
    after = f" (Zoom advises retrying in {advised:.0f} s)" if advised is not None else ""
    return ProviderRateLimited(
        f"Zoom's {what} was reached for {method} {path} after {failure.tries} "
        f"attempt(s){after}; spread the calls out or retry later",
        retry_after=advised,
    )


def _query_text(value: QueryValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _json_object(response: httpx.Response, path: str) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError as exc:
        raise ProviderError(
            f"Zoom answered {path} with a body that is not JSON",
            code="sessions.provider_unexpected",
        ) from exc
    if not isinstance(body, dict):
        raise ProviderError(
            f"Zoom answered {path} with JSON that is not an object",
            code="sessions.provider_unexpected",
        )
    return body


def zoom_error_code(response: httpx.Response) -> int | None:
    """The numeric ``code`` of a Zoom error body (e.g. 3001 no such meeting, 3301 no recording)."""
    try:
        body = response.json()
    except ValueError:
        return None
    code = body.get("code") if isinstance(body, dict) else None
    return code if isinstance(code, int) and not isinstance(code, bool) else None


def _error_for(response: httpx.Response, method: str, path: str) -> BlendkitError:
    status = response.status_code
    detail = ""
    try:
        body = response.json()
        if isinstance(body, dict) and isinstance(body.get("message"), str):
            detail = f": {body['message'][:300]}"
    except ValueError:
        pass
    if status in (401, 403) or zoom_error_code(response) in _SCOPE_CODES:
        return ProviderAuthError(
            f"Zoom refused {method} {path} (HTTP {status}{detail}); check that the "
            "Server-to-Server OAuth app has the scopes listed in docs/providers/zoom.md"
        )
    if status == 404:
        return NotFound(
            f"Zoom has no such resource for {method} {path}{detail}; the meeting may have been "
            "deleted or belong to another account",
            code="sessions.meeting_not_found",
        )
    if status >= 500:
        return ProviderError(
            f"Zoom failed on {method} {path} (HTTP {status}); try again later",
            code="sessions.provider_unavailable",
        )
    return ProviderError(
        f"Zoom rejected {method} {path} (HTTP {status}{detail})",
        code="sessions.provider_rejected",
    )
