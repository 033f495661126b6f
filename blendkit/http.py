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
(one probe at a time) while it is down.
"""

from __future__ import annotations

import email.utils
import logging
import random
import re
import threading
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Protocol

import httpx
from pydantic import BaseModel, ConfigDict

from blendkit._breaker import BreakerState, CircuitBreaker
from blendkit._fence import Fence, FetchDeadlineExceeded, Resolver, system_resolver
from blendkit._fence_rules import (
    METADATA_ADDRESSES,
    Destination,
    OutboundPolicy,
    is_public_address,
)
from blendkit._retry import RetryPolicy
from blendkit.errors import ProviderAuthError, ProviderError, ProviderRateLimited

__all__ = [
    "BUSY_STATUSES",
    "BreakerState",
    "CircuitBreaker",
    "Destination",
    "Failure",
    "Fence",
    "FetchDeadlineExceeded",
    "METADATA_ADDRESSES",
    "OutboundPolicy",
    "Resolver",
    "RetryPolicy",
    "RetryingSender",
    "TokenCache",
    "TokenSource",
    "is_public_address",
    "parse_retry_after",
    "system_resolver",
    "token_endpoint_error",
    "token_endpoint_reason",
    "token_endpoint_unreachable",
]

_log = logging.getLogger("blendkit.http")
_DELAY_SECONDS = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
"""Transport failures that happen before any byte of the request reached the server."""

BUSY_STATUSES: frozenset[int] = frozenset(range(500, 600))
"""Every 5xx answer: retried by default only when the request is idempotent."""


def parse_retry_after(value: str | None, now: datetime | float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value; ``None`` when absent or unusable.

    Accepts delta seconds (``"120"``, ``"1.5"``), an HTTP date and an ISO 8601 timestamp; a
    moment in the past means "now" (0.0). ``now`` is an aware datetime or a POSIX timestamp
    (naive datetimes count as UTC); by default the current time.
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    if _DELAY_SECONDS.fullmatch(text):
        return float(text)
    moment: datetime | None
    try:
        moment = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        moment = None
    if moment is None:
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if now is None:
        reference = datetime.now(UTC)
    elif isinstance(now, datetime):
        reference = now if now.tzinfo is not None else now.replace(tzinfo=UTC)
    else:
        reference = datetime.fromtimestamp(now, UTC)
    return max(0.0, (moment - reference).total_seconds())


class TokenSource(Protocol):
    """Hands out a bearer token and forgets one the server refused; :class:`TokenCache` is one."""

    def token(self) -> str: ...

    def invalidate(self, token: str) -> None: ...


class Failure(BaseModel):
    """Why an exchange ended without a usable answer; the caller maps it to its own error."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    tries: int
    """Tries made, the first included (a retry after a token refresh does not count)."""
    response: httpx.Response | None = None
    """The last busy answer, when the server answered."""
    error: httpx.HTTPError | None = None
    """The transport failure, when it did not answer."""
    sent: bool = True
    """False when the request certainly never reached the server (connection failed)."""
    exhausted: bool = True
    """True when retries ran out (or the wait was too long); False when retrying was not allowed."""
    retry_after: float | None = None
    """The server's advised wait in seconds, from ``Retry-After``."""


class RetryingSender:
    """Sends requests through an injected ``httpx.Client`` and a :class:`Fence`, with retries.

    Without ``fence`` the production fence applies (https, public addresses, default caps).

    429 and the ``retry_statuses`` are retried, other 5xx only for idempotent requests, transport
    failures only when asked to (and, once the request may have reached the server, only when it
    is idempotent), so a create or a grade post is never applied twice.
    """

    def __init__(
        self,
        client: httpx.Client,
        *,
        retry: RetryPolicy,
        fence: Fence | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        jitter: Callable[[], float] = random.random,
        log: logging.Logger = _log,
    ) -> None:
        self.client = client
        self.fence = fence or Fence()
        self.retry = retry
        self.sleep = sleep
        self.jitter = jitter
        """A number in [0, 1] for each computed wait (see :class:`RetryPolicy`)."""
        self.clock = clock
        """Wall-clock time (POSIX seconds), for ``Retry-After`` given as a date."""
        self._log = log

    def send(
        self,
        build: Callable[[], httpx.Request],
        *,
        errors: Callable[[Failure], Exception],
        idempotent: bool = True,
        retry_statuses: frozenset[int] = frozenset({429, 503}),
        retry_statuses_if_idempotent: frozenset[int] = BUSY_STATUSES,
        retry_transport: bool = False,
        give_up_on: Callable[[httpx.Response], bool] | None = None,
        on_unauthorized: Callable[[], None] | None = None,
        what: str | None = None,
        max_bytes: int | None = None,
    ) -> httpx.Response:
        """Send ``build()`` (called again for every try) and return the first final answer.

        A final answer is any that is not retried, error statuses included: the caller maps them.
        ``on_unauthorized`` is called after the first 401 (to drop the refused token) and the
        request is sent once more. ``give_up_on`` marks busy answers not worth waiting for (a
        daily quota). ``errors`` turns a :class:`Failure` into the exception raised. The fence's
        own refusals (:class:`~blendkit.errors.OutboundError`) are raised as they are, never
        retried; ``max_bytes`` lowers its byte cap for this call.
        """
        tries = 1
        waited = 0.0
        refreshed = False
        while True:
            request = build()
            label = what or f"{request.method} {request.url.copy_with(query=None)}"
            try:
                response = self.fence.send(self.client, request, max_bytes=max_bytes)
            except httpx.HTTPError as exc:
                sent = not isinstance(exc, _NOT_SENT)
                if not retry_transport or (sent and not idempotent):
                    raise errors(
                        Failure(tries=tries, error=exc, sent=sent, exhausted=False)
                    ) from exc
                failure = Failure(tries=tries, error=exc, sent=sent)
                problem = f"failed ({type(exc).__name__})"
            else:
                status = response.status_code
                if status == 401 and on_unauthorized is not None and not refreshed:
                    response.close()
                    on_unauthorized()
                    refreshed = True
                    continue
                retryable = status in retry_statuses or (
                    idempotent and status in retry_statuses_if_idempotent
                )
                if not retryable:
                    return response
                advised = parse_retry_after(response.headers.get("retry-after"), self.clock())
                failure = Failure(tries=tries, response=response, retry_after=advised)
                if give_up_on is not None and give_up_on(response):
                    raise errors(failure)
                problem = f"answered HTTP {status}"
            wait = self.retry.delay(tries, failure.retry_after, waited=waited, draw=self.jitter)
            self._log.info("%s %s (try %d)", label, problem, tries)
            if wait is None:
                raise errors(failure) from failure.error
            if wait > 0:
                self.sleep(wait)
                waited += wait
            tries += 1

    def send_authorized(
        self,
        tokens: TokenSource,
        build: Callable[[str], httpx.Request],
        *,
        errors: Callable[[Failure], Exception],
        idempotent: bool = True,
        retry_statuses: frozenset[int] = frozenset({429, 503}),
        retry_statuses_if_idempotent: frozenset[int] = BUSY_STATUSES,
        give_up_on: Callable[[httpx.Response], bool] | None = None,
        what: str | None = None,
        max_bytes: int | None = None,
    ) -> httpx.Response:
        """:meth:`send` with a fresh token from ``tokens`` for every try, passed to ``build``.

        After the first 401 the refused token is invalidated and the request sent once more.
        """
        used: list[str] = []

        def build_with_token() -> httpx.Request:
            used.append(tokens.token())
            return build(used[-1])

        return self.send(
            build_with_token,
            errors=errors,
            idempotent=idempotent,
            retry_statuses=retry_statuses,
            retry_statuses_if_idempotent=retry_statuses_if_idempotent,
            give_up_on=give_up_on,
            on_unauthorized=lambda: tokens.invalidate(used[-1]),
            what=what,
            max_bytes=max_bytes,
        )


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
