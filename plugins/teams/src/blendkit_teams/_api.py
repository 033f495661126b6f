"""The Microsoft Graph REST layer: bearer token, bounded retries, one refresh on 401, paging.

Graph throttles with 429 (and 503/504 under load), usually with ``Retry-After`` in seconds; when
it is absent the wait doubles from ``RetryPolicy.backoff_seconds``. 503/504 are retried only for
reads, updates and deletes: a create that timed out may have happened. Lists are paged with an
absolute ``@odata.nextLink``, followed only on Graph's own host so the token never leaks.
"""

from __future__ import annotations

import email.utils
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

import httpx
from pydantic import BaseModel, ConfigDict, Field

from blendkit.errors import (
    BlendkitError,
    NotFound,
    ProviderAuthError,
    ProviderError,
    ProviderRateLimited,
)
from blendkit_teams._auth import GraphTokenSource

__all__ = ["GRAPH_API_BASE", "GraphApi", "RetryPolicy", "parse_retry_after"]

GRAPH_API_BASE = "https://graph.microsoft.com/v1.0"
_IDEMPOTENT = frozenset({"GET", "PATCH", "DELETE", "PUT"})

Sleep = Callable[[float], None]


class RetryPolicy(BaseModel):
    """How long and how often to wait when Graph is busy."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_retries: int = Field(default=3, ge=0, le=10)
    backoff_seconds: float = Field(default=2.0, ge=0)
    """First wait when Graph gave no Retry-After; doubled on every further attempt."""
    max_wait: float = Field(default=60.0, ge=0)
    """A longer advised wait is not slept through: the caller gets ProviderRateLimited."""


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delta seconds or HTTP date)."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - (now or datetime.now(UTC))).total_seconds())


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
    ) -> None:
        self._tokens = tokens
        self._client = client
        self._base = base_url.rstrip("/")
        self._retry = retry or RetryPolicy()
        self._sleep = sleep
        self._timeout = timeout

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Any = None,
    ) -> httpx.Response:
        """Send one call; ``path`` is relative to v1.0 or an absolute ``@odata.nextLink``."""
        url = path if path.startswith("https://") else self._base + path
        refreshed = False
        attempt = 0
        while True:
            token = self._tokens.token()
            try:
                response = self._client.request(
                    method,
                    url,
                    params=dict(params) if params else None,
                    json=json,
                    headers={"authorization": f"Bearer {token}", "accept": "application/json"},
                    timeout=self._timeout,
                )
            except httpx.HTTPError as exc:
                raise ProviderError(
                    f"cannot reach Microsoft Graph for {method} {_short(url)} "
                    f"({type(exc).__name__}); check the network of this server and retry",
                    code="sessions.provider_unreachable",
                ) from exc
            status = response.status_code
            if status == 401 and not refreshed:
                self._tokens.invalidate(token)
                refreshed = True
                continue
            if status == 429 or (status in (503, 504) and method in _IDEMPOTENT):
                self._sleep(self._wait(response, attempt, method, url))
                attempt += 1
                continue
            if status >= 400:
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

    def _wait(self, response: httpx.Response, attempt: int, method: str, url: str) -> float:
        advised = parse_retry_after(response.headers.get("retry-after"))
        wait = advised if advised is not None else self._retry.backoff_seconds * (2**attempt)
        if attempt >= self._retry.max_retries or wait > self._retry.max_wait:
            after = f" (Graph advises retrying in {advised:.0f} s)" if advised is not None else ""
            raise ProviderRateLimited(
                f"Microsoft Graph kept throttling {method} {_short(url)} (HTTP "
                f"{response.status_code}) after {attempt + 1} attempt(s){after}; retry later",
                retry_after=advised,
            )
        return wait


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
