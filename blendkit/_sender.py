"""Retrying exchanges through the outbound fence: ``Retry-After``, bounded retries, 401 refresh.

The implementation of :class:`RetryingSender` and what it hands its callers; public through
:mod:`blendkit.http`.
"""

from __future__ import annotations

import email.utils
import logging
import random
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

import httpx
from pydantic import BaseModel, ConfigDict

from blendkit._fence import Fence
from blendkit._retry import RetryPolicy

__all__ = [
    "BUSY_STATUSES",
    "Failure",
    "RetryingSender",
    "TokenSource",
    "parse_retry_after",
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
