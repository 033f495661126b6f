"""The asynchronous twin of :class:`blendkit.http.RetryingSender`, for ``httpx.AsyncClient``.

ASGI adapters send the platform JWKS fetch and the LTI Advantage calls from the event loop. The
rules are the synchronous sender's, and so is the policy object: the wait before each retry comes
from the same :class:`~blendkit.http.RetryPolicy` (``retry.delay(tries, retry_after, waited=...,
draw=...)``: full jitter under a doubling ceiling, the call's wait budget), ``Retry-After``
is read by :func:`~blendkit.http.parse_retry_after`, every exchange goes through
:meth:`Fence.send_async <blendkit.http.Fence.send_async>`, and a request that may already have
been applied is never sent twice. Only the sleeping (``anyio.sleep``) and the sending differ.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Awaitable, Callable

import anyio
import httpx

from blendkit.http import BUSY_STATUSES, Failure, Fence, RetryPolicy, parse_retry_after

__all__ = ["AsyncRetryingSender"]

_log = logging.getLogger("blendkit.http")
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


class AsyncRetryingSender:
    """Sends requests through an ``httpx.AsyncClient`` and a :class:`Fence`, with retries.

    429 and ``retry_statuses`` are retried, other 5xx only for idempotent requests, transport
    failures only when asked to (and, once the request may have reached the server, only when it
    is idempotent). Without ``fence`` the production fence applies.
    """

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        retry: RetryPolicy,
        fence: Fence | None = None,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
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
        self._log = log

    async def send(
        self,
        build: Callable[[], httpx.Request],
        *,
        errors: Callable[[Failure], Exception],
        idempotent: bool = True,
        retry_statuses: frozenset[int] = frozenset({429, 503}),
        retry_transport: bool = False,
        what: str | None = None,
        max_bytes: int | None = None,
        follow_redirects: bool = False,
    ) -> httpx.Response:
        """Send ``build()`` (called again for every try) and return the first final answer.

        A final answer is any that is not retried, error statuses included: the caller maps them.
        ``errors`` turns a :class:`Failure` into the exception raised; the fence's own refusals
        (:class:`~blendkit.errors.OutboundError`) are raised as they are, never retried.
        """
        tries = 1
        waited = 0.0
        while True:
            request = build()
            label = what or f"{request.method} {request.url.copy_with(query=None)}"
            try:
                response = await self.fence.send_async(
                    self.client, request, follow_redirects=follow_redirects, max_bytes=max_bytes
                )
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
                retryable = status in retry_statuses or (idempotent and status in BUSY_STATUSES)
                if not retryable:
                    return response
                advised = parse_retry_after(response.headers.get("retry-after"), self.clock())
                failure = Failure(tries=tries, response=response, retry_after=advised)
                problem = f"answered HTTP {status}"
            wait = self.retry.delay(tries, failure.retry_after, waited=waited, draw=self.jitter)
            self._log.info("%s %s (try %d)", label, problem, tries)
            if wait is None:
                raise errors(failure) from failure.error
            if wait > 0:
                await self.sleep(wait)
                waited += wait
            tries += 1
