"""The Microsoft Graph REST layer: bearer token, bounded retries, one refresh on 401, paging.

Graph throttles with 429 (and 503/504 under load), usually with ``Retry-After`` in seconds; when
it is absent the wait grows from ``GRAPH_RETRY.backoff_seconds`` (see
:class:`blendkit.http.RetryPolicy`). 503/504 are retried only for
reads, updates and deletes: a create that timed out may have happened. Lists are paged with an
absolute ``@odata.nextLink``, followed only on Graph's own host so the token never leaks.
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
from blendkit.http import Failure, Fence, RetryingSender, RetryPolicy
from blendkit_teams._auth import GraphTokenSource

__all__ = ["GRAPH_API_BASE", "GRAPH_RETRY", "GraphApi"]

GRAPH_API_BASE = "https://graph.microsoft.com/v1.0"
_THROTTLED = frozenset({429})
_BUSY = frozenset({503, 504})
"""Retried for reads, updates and deletes only: a create that timed out may have happened."""
_IDEMPOTENT = frozenset({"GET", "PATCH", "DELETE", "PUT"})

Sleep = Callable[[float], None]


GRAPH_RETRY = RetryPolicy(backoff_seconds=2.0)
"""Graph's default: longer first waits than other APIs, as Microsoft's throttling guide asks."""


class GraphApi:
    """Authenticated JSON requests to Graph v1.0 through an injected ``httpx.Client``."""

    def __init__(
        self,
        tokens: GraphTokenSource,
        client: httpx.Client,
        *,
        base_url: str = GRAPH_API_BASE,
        retry: RetryPolicy | None = None,
        sleep: Sleep = time.sleep,
        timeout: float = 10.0,
        fence: Fence | None = None,
    ) -> None:
        self._tokens = tokens
        self._client = client
        self._base = base_url.rstrip("/")
        self._sender = RetryingSender(client, retry=retry or GRAPH_RETRY, fence=fence, sleep=sleep)
        self._timeout = timeout

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        accept: str = "application/json",
        max_bytes: int | None = None,
    ) -> httpx.Response:
        """Send one call; ``path`` is relative to v1.0 or an absolute ``@odata.nextLink``.

        ``accept`` names the media type wanted (a transcript's content is ``text/vtt``);
        ``max_bytes`` lowers the fence's byte cap for this call.
        """
        url = path if path.startswith("https://") else self._base + path

        def build(token: str) -> httpx.Request:
            return self._client.build_request(
                method,
                url,
                params=dict(params) if params else None,
                json=json,
                headers={"authorization": f"Bearer {token}", "accept": accept},
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
                what=f"Microsoft Graph {method} {_short(url)}",
                max_bytes=max_bytes,
            )
        except OutboundError as exc:
            raise ProviderError(exc.message, code=exc.code) from exc
        if response.status_code >= 400:
            raise _error_for(response, method, url)
        return response

    def get_json(self, path: str, params: Mapping[str, str] | None = None) -> dict[str, Any]:
        """GET and return the JSON object Graph answered."""
        return json_object(self.request("GET", path, params=params))

    def pages(self, path: str, params: Mapping[str, str] | None = None) -> Iterator[dict[str, Any]]:
        """Every item of a collection, following ``@odata.nextLink`` until the last page."""
        body = self.get_json(path, params)
        seen: set[str] = set()
        while True:
            items = body.get("value") or []
            if not isinstance(items, list):
                raise ProviderError(
                    f"Graph answered {_short(path)} with a 'value' that is not a list",
                    code="sessions.provider_unexpected",
                )
            yield from (item for item in items if isinstance(item, dict))
            link = body.get("@odata.nextLink")
            if not isinstance(link, str) or not link or link in seen:
                return
            if not link.startswith(self._base + "/"):
                raise ProviderError(
                    "Graph returned a next-page link to another host; refusing to send the "
                    "token there",
                    code="sessions.provider_unexpected",
                )
            seen.add(link)
            body = self.get_json(link)


def _failure_error(failure: Failure, method: str, url: str) -> BlendkitError:
    if failure.response is None:
        return ProviderError(
            f"cannot reach Microsoft Graph for {method} {_short(url)} "
            "(no answer in time); check the network of this server and retry",
            code="sessions.provider_unreachable",
        )
    advised = failure.retry_after
    after = f" (Graph advises retrying in {advised:.0f} s)" if advised is not None else ""
    return ProviderRateLimited(
        f"Microsoft Graph kept throttling {method} {_short(url)} (HTTP "
        f"{failure.response.status_code}) after {failure.tries} attempt(s){after}; retry later",
        retry_after=advised,
    )


def json_object(response: httpx.Response) -> dict[str, Any]:
    """The JSON object of a Graph answer; ProviderError when it is something else."""
    try:
        body = response.json()
    except ValueError as exc:
        raise ProviderError(
            "Microsoft Graph answered with a body that is not JSON",
            code="sessions.provider_unexpected",
        ) from exc
    if not isinstance(body, dict):
        raise ProviderError(
            "Microsoft Graph answered with JSON that is not an object",
            code="sessions.provider_unexpected",
        )
    return body


def _short(url: str) -> str:
    return url.split("?", 1)[0].removeprefix(GRAPH_API_BASE)


def _error_for(response: httpx.Response, method: str, url: str) -> BlendkitError:
    status = response.status_code
    code = message = ""
    try:
        error = response.json().get("error", {})
        code = str(error.get("code", ""))[:80]
        message = str(error.get("message", ""))[:300]
    except (ValueError, AttributeError):
        pass
    detail = f": {code} {message}".rstrip() if code or message else ""
    where = f"{method} {_short(url)}"
    if status in (401, 403):
        return ProviderAuthError(
            f"Microsoft Graph refused {where} (HTTP {status}{detail}); check the application "
            "permissions, admin consent and, for onlineMeetings, the application access policy "
            "(docs/providers/teams.md)"
        )
    if status == 404:
        return NotFound(
            f"Microsoft Graph has no such resource for {where}{detail}; the meeting may have "
            "been deleted or belong to another organizer",
            code="sessions.meeting_not_found",
        )
    if status >= 500:
        return ProviderError(
            f"Microsoft Graph failed on {where} (HTTP {status}); retry later",
            code="sessions.provider_unavailable",
        )
    return ProviderError(
        f"Microsoft Graph rejected {where} (HTTP {status}{detail})",
        code="sessions.provider_rejected",
    )
