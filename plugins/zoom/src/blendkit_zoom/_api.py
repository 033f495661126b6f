"""The Zoom REST layer: blendkit's :class:`~blendkit.http.JsonApi` with Zoom's rules.

Zoom answers 429 with ``Retry-After`` (seconds, an HTTP date or an ISO timestamp) and
``X-RateLimit-Type`` (``QPS`` or ``Daily-limit``). Per-second limits are waited out a bounded
number of times; a daily limit, or a wait longer than the policy's ``max_retry_after_seconds``,
is reported at once as :class:`~blendkit.errors.ProviderRateLimited` with the advised delay.
Other busy answers are not retried. Lists are paged with ``next_page_token``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any, ClassVar

import httpx

from blendkit.errors import BlendkitError, ProviderError, ProviderRateLimited
from blendkit.http import Failure, Fence, JsonApi, RetryPolicy, TokenPaging, host_allowed
from blendkit_zoom._auth import ZoomTokenSource

__all__ = ["ZOOM_API_BASE", "ZoomApi", "is_zoom_host", "zoom_error_code"]

ZOOM_API_BASE = "https://api.zoom.us/v2"
MAX_PAGE_SIZE = 300
_SCOPE_CODES = frozenset({124, 4700, 4711})
"""Zoom codes for an invalid token or missing scopes (sent with HTTP 400 as well as 401)."""
ZOOM_HOSTS = ("zoom.us", "*.zoom.us", "zoomgov.com", "*.zoomgov.com")
"""The token goes to these hosts only: API calls, download URLs and their redirects."""
MAX_DOWNLOAD_REDIRECTS = 3

Sleep = Callable[[float], None]
QueryValue = str | int | bool


class ZoomApi(JsonApi):
    """Authenticated JSON requests to ``api.zoom.us/v2`` through an injected ``httpx.Client``."""

    vendor = "Zoom"
    auth_advice = (
        "check that the Server-to-Server OAuth app has the scopes listed in docs/providers/zoom.md"
    )
    not_found_advice = "the meeting may have been deleted or belong to another account"
    retry_statuses_if_idempotent: ClassVar[frozenset[int]] = frozenset()

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
        super().__init__(
            tokens,
            client,
            base_url=base_url,
            token_hosts=ZOOM_HOSTS,
            paging=TokenPaging("next_page_token", "next_page_token"),
            retry=retry,
            sleep=sleep,
            fence=fence,
            timeout=timeout,
        )
        self._zoom_tokens = tokens
        self._follow_api_url = base_url == ZOOM_API_BASE

    def base_url(self) -> str:
        """The account's own API origin when Zoom named one (data residency), else the default."""
        if self._follow_api_url and self._zoom_tokens.api_url:
            return self._zoom_tokens.api_url + "/v2"
        return super().base_url()

    def pages(
        self,
        path: str,
        params: Mapping[str, QueryValue] | None = None,
        items_key: str | None = None,
        *,
        page_size: int = MAX_PAGE_SIZE,
    ) -> Iterator[dict[str, Any]]:
        """Every item of a ``next_page_token``-paged list, fetching pages as they are consumed.

        Zoom's page tokens expire after 15 minutes, so pages are requested back to back rather
        than resumed later.
        """
        query = {**(params or {}), "page_size": max(1, min(page_size, MAX_PAGE_SIZE))}
        return super().pages(path, query, items_key)

    def download(self, url: str, *, max_bytes: int) -> httpx.Response:
        """GET a recording file's ``download_url`` with the account's bearer token (one
        refresh on 401, bounded waits on 429), following redirects by hand.

        The URL and every redirect must be https on a Zoom host (``zoom.us``, ``zoomgov.com``
        and their subdomains): anything else is refused before the token is sent.
        """
        for _ in range(MAX_DOWNLOAD_REDIRECTS + 1):
            response = self.request(
                "GET", url, accept=None, max_bytes=max_bytes, where="GET the recording download"
            )
            if response.status_code in (301, 302, 303, 307, 308) and response.has_redirect_location:
                url = str(response.url.join(response.headers["location"]))
                continue
            return response
        raise ProviderError(
            f"the recording download redirected more than {MAX_DOWNLOAD_REDIRECTS} times",
            code="sessions.provider_unexpected",
        )

    # --- Zoom's rules ----------------------------------------------------------------------------

    def foreign_host_error(self, host: str) -> BlendkitError:
        """Download URLs (and their redirects) are followed on Zoom hosts only."""
        return ProviderError(
            f"the URL {host!r} is not an https URL on a Zoom host, so it is not followed (the "
            "account's token would go with it)",
            code="sessions.provider_unexpected",
        )

    def give_up_on(self, response: httpx.Response) -> bool:
        """A ``Daily-limit`` 429 lasts until tomorrow: reported at once instead of waited out."""
        return _daily_limit(response)

    def error_detail(self, response: httpx.Response) -> str:
        """Zoom's ``message``, as ``": message"``."""
        try:
            body = response.json()
        except ValueError:
            return ""
        if isinstance(body, dict) and isinstance(body.get("message"), str):
            return f": {body['message'][:300]}"
        return ""

    def refuses_credentials(self, response: httpx.Response) -> bool:
        """401, 403, or a scope or token code (Zoom sends some with HTTP 400)."""
        return super().refuses_credentials(response) or zoom_error_code(response) in _SCOPE_CODES

    def failure_error(self, failure: Failure, where: str) -> BlendkitError:
        """Unreachable, or a per-second or daily rate limit that did not end."""
        if failure.response is None:
            return super().failure_error(failure, where)
        advised = failure.retry_after
        what = "daily request limit" if _daily_limit(failure.response) else "rate limit"
        after = f" (Zoom advises retrying in {advised:.0f} s)" if advised is not None else ""
        return ProviderRateLimited(
            f"Zoom's {what} was reached for {where} after {failure.tries} "
            f"attempt(s){after}; spread the calls out or retry later",
            retry_after=advised,
        )


def is_zoom_host(url: str) -> bool:
    """Whether ``url`` is https on ``zoom.us``/``zoomgov.com`` or a subdomain of them."""
    return host_allowed(url, ZOOM_HOSTS)


def _daily_limit(response: httpx.Response) -> bool:
    return "daily" in response.headers.get("x-ratelimit-type", "").lower()


def zoom_error_code(response: httpx.Response) -> int | None:
    """The numeric ``code`` of a Zoom error body (e.g. 3001 no such meeting, 3301 no recording)."""
    try:
        body = response.json()
    except ValueError:
        return None
    code = body.get("code") if isinstance(body, dict) else None
    return code if isinstance(code, int) and not isinstance(code, bool) else None


def _object(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError as exc:
        raise ProviderError(
            f"Zoom answered {response.request.method} {response.request.url.path} with a body "
            "that is not JSON",
            code="sessions.provider_unexpected",
        ) from exc
    if not isinstance(body, dict):
        raise ProviderError(
            "Zoom answered with JSON that is not an object", code="sessions.provider_unexpected"
        )
    return body
