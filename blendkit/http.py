"""The outbound fence, retrying HTTP exchanges and cached bearer tokens, for every outbound call.

Every request blendkit sends to another server goes through a :class:`Fence` (https only,
public addresses only unless ``[http] allowed_hosts`` says otherwise, redirects and DNS answers
checked, a byte cap and a total deadline); :class:`RetryingSender` sends through one, so retries,
rate limits and tokens sit on top of the fence and no caller can skip it.

Every outbound API client needs the same three things: read ``Retry-After`` (delta seconds, an
HTTP date, or the ISO 8601 timestamp Zoom sends), retry a busy or failing server a bounded number
of times without repeating a request that may already have been applied, and share one
client-credentials token between threads until shortly before it expires. This module does them
once; each caller keeps its own error classes, codes and messages by turning a :class:`Failure`
into its own :mod:`blendkit.errors` exception. :class:`CircuitBreaker` backs off a whole endpoint
(one probe at a time) while it is down. :class:`JsonApi` puts them together for a vendor's JSON
API: tokens only to its hosts, paging, and error hooks a vendor subclass overrides.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping

import httpx

from blendkit._breaker import BreakerState, CircuitBreaker
from blendkit._fence import Fence, FetchDeadlineExceeded
from blendkit._fence_checks import Resolver, system_resolver
from blendkit._fence_rules import (
    METADATA_ADDRESSES,
    Destination,
    OutboundPolicy,
    is_public_address,
)
from blendkit._json_api import ClientOwner, JsonApi, host_allowed, json_object
from blendkit._paging import LinkPaging, Paging, TokenPaging
from blendkit._retry import RetryPolicy
from blendkit._sender import (
    BUSY_STATUSES,
    Failure,
    RetryingSender,
    TokenSource,
    parse_retry_after,
)
from blendkit.errors import ProviderAuthError, ProviderError, ProviderRateLimited

__all__ = [
    "BUSY_STATUSES",
    "BreakerState",
    "CircuitBreaker",
    "ClientOwner",
    "Destination",
    "Failure",
    "Fence",
    "FetchDeadlineExceeded",
    "JsonApi",
    "LinkPaging",
    "METADATA_ADDRESSES",
    "OutboundPolicy",
    "Paging",
    "Resolver",
    "RetryPolicy",
    "RetryingSender",
    "TokenCache",
    "TokenPaging",
    "TokenSource",
    "host_allowed",
    "is_public_address",
    "json_object",
    "parse_retry_after",
    "system_resolver",
    "token_endpoint_error",
    "token_endpoint_reason",
    "token_endpoint_unreachable",
]


class TokenCache:
    """One bearer token shared by every thread, fetched again near expiry or after a refusal.

    ``fetch`` returns ``(token, lifetime_seconds)``; ``refresh_margin`` seconds before the
    announced expiry the token counts as expired, so it never runs out on the way to the server.
    """

    def __init__(
        self,
        fetch: Callable[[], tuple[str, float]],
        *,
        refresh_margin: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._source = fetch
        self._margin = refresh_margin
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires_at = 0.0

    def token(self) -> str:
        """A valid token, from the cache when it is fresh enough (one fetch for all threads)."""
        with self._lock:
            if self._token is None or self._clock() >= self._expires_at - self._margin:
                self._token, lifetime = self._source()
                self._expires_at = self._clock() + lifetime
            return self._token

    def invalidate(self, token: str) -> None:
        """Forget ``token`` after the server refused it, unless another thread replaced it."""
        with self._lock:
            if self._token == token:
                self._token = None


_REASON_KEYS = ("error", "reason", "message")
_DETAIL_KEYS = ("error_description", "reason", "message")


def token_endpoint_reason(response: httpx.Response) -> tuple[str, str]:
    """The OAuth ``error`` code and the server's explanation of a token endpoint refusal.

    Reads ``error``/``error_description`` (RFC 6749 §5.2, Google and Microsoft) and Zoom's
    ``reason``/``message``; Microsoft's explanation is cut to its ``AADSTS…`` code. Both are
    bounded and never contain the request's secret (servers do not echo it). ``("", "no
    explanation given")`` when the body says nothing usable.
    """
    try:
        body = response.json()
    except ValueError:
        return "", "no explanation given"
    if not isinstance(body, dict):
        return "", "no explanation given"
    error = next((str(body[k])[:60] for k in _REASON_KEYS if isinstance(body.get(k), str)), "")
    codes = body.get("error_codes")
    if isinstance(codes, list) and codes:
        return error, f"AADSTS{codes[0]}"
    detail = next((str(body[k]) for k in _DETAIL_KEYS if isinstance(body.get(k), str)), "")
    if detail.startswith("AADSTS"):
        detail = detail.split(":", 1)[0]
    if detail == error:
        detail = ""
    return error, detail[:200] or ("" if error else "no explanation given")


def token_endpoint_error(
    response: httpx.Response,
    *,
    provider: str,
    hint: str,
    reasons: Mapping[str, str] | None = None,
) -> ProviderError:
    """The blendkit error for a token endpoint's refusal of a client-credentials or JWT grant.

    400, 401 and 403 become :class:`~blendkit.errors.ProviderAuthError` naming the HTTP status,
    the server's OAuth error and explanation, and what to check: ``reasons[error]`` when the
    server's ``error`` code is listed there (``invalid_grant``, ``unauthorized_client`` …), else
    ``hint``. 429 becomes :class:`~blendkit.errors.ProviderRateLimited` with the server's
    ``Retry-After``; 5xx and anything else a :class:`~blendkit.errors.ProviderError`
    (``sessions.provider_unavailable``). ``provider`` names the service (``Zoom``, ``Microsoft
    Entra``, ``Google``).
    """
    status = response.status_code
    if status == 429:
        return ProviderRateLimited(
            f"{provider}'s token endpoint is throttling token requests (HTTP 429); tokens are "
            "cached, so many processes are starting at once or the limit is shared: retry later",
            retry_after=parse_retry_after(response.headers.get("retry-after")),
        )
    if status in (400, 401, 403):
        error, detail = token_endpoint_reason(response)
        said = ": ".join(part for part in (error, detail) if part)
        advice = (reasons or {}).get(error, hint)
        return ProviderAuthError(
            f"{provider} refused the credentials (HTTP {status}, {said}); {advice}"
        )
    return ProviderError(
        f"{provider}'s token endpoint answered HTTP {status}; retry later",
        code="sessions.provider_unavailable",
    )


def token_endpoint_unreachable(provider: str, url: str) -> ProviderError:
    """The error for a token request that got no answer (``sessions.provider_unreachable``)."""
    where = httpx.URL(url).copy_with(query=None)
    return ProviderError(
        f"cannot reach {provider}'s token endpoint {where} (no answer in time); check the "
        "network and proxy settings of this server",
        code="sessions.provider_unreachable",
    )
