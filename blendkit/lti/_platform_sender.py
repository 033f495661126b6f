"""Sending to a platform through the outbound fence, with bounded retries on 5xx/429 (honouring
``Retry-After``); every failure is worded as a :class:`ServiceError` that quotes no answer body."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Final

import httpx

from blendkit import http as shared_http
from blendkit.errors import OutboundError, ServiceError
from blendkit.http import Failure, Fence, RetryPolicy

__all__ = ["PLATFORM_RETRY", "PlatformSender", "failure_error"]

log = logging.getLogger("blendkit.lti.services")

PLATFORM_RETRY: Final = RetryPolicy(
    max_retries=2, backoff_seconds=0.5, max_backoff_seconds=8.0, max_retry_after_seconds=30.0
)
"""The services' default: a grade post waits at most a few seconds before reporting the outage."""


class PlatformSender:
    """:class:`blendkit.http.RetryingSender` for calls to a platform: owns its client when none is
    given, and words every failure as a :class:`ServiceError` with the caller's code."""

    def __init__(
        self,
        http: httpx.Client | None,
        *,
        timeout: float,
        retry: RetryPolicy,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
        fence: Fence | None = None,
    ) -> None:
        self._owns_http = http is None
        self.http = http if http is not None else httpx.Client(timeout=timeout)
        self.timeout = timeout
        self.retry = retry
        self.clock = clock
        self.sleep = sleep
        self.fence = fence or Fence()
        self._sender = shared_http.RetryingSender(
            self.http, retry=retry, fence=self.fence, sleep=sleep, clock=clock, log=log
        )

    def close(self) -> None:
        if self._owns_http:
            self.http.close()

    def send(
        self,
        build: Callable[[], httpx.Request],
        *,
        idempotent: bool,
        what: str,
        unavailable_code: str,
        max_bytes: int | None = None,
    ) -> httpx.Response:
        """Send ``build()``, retrying 429, 5xx (idempotent only) and transport failures.

        The fence's refusals come back as :class:`ServiceError` with the fence's code.
        """

        def failed(failure: Failure) -> ServiceError:
            return self._failure_error(failure, what, unavailable_code)

        try:
            return self._sender.send(
                build,
                errors=failed,
                idempotent=idempotent,
                retry_transport=True,
                what=what,
                max_bytes=max_bytes,
            )
        except OutboundError as exc:
            raise ServiceError(f"{what}: {exc.message}", code=exc.code) from exc

    def _failure_error(self, failure: Failure, what: str, code: str) -> ServiceError:
        return failure_error(self.retry, failure, what, code)


def failure_error(retry: RetryPolicy, failure: Failure, what: str, code: str) -> ServiceError:
    """A :class:`ServiceError` naming why a retried service exchange gave up (sync or async)."""
    # One wording for refused, closed, silent and trickling servers: no port scanner.
    if failure.response is None and not failure.exhausted:
        return ServiceError(
            f"{what} failed after the request was sent (no answer in time); it was not "
            "repeated because it may have been applied. Check the platform and retry later.",
            code=code,
        )
    if failure.response is not None:
        problem = f"answered HTTP {failure.response.status_code}"
    else:
        problem = "could not be reached or did not answer in time"
    retry_after = failure.retry_after
    hint = (
        f" The platform asked to wait {retry_after:.0f} s, more than the allowed "
        f"{retry.max_retry_after_seconds:.0f} s."
        if retry_after is not None and retry_after > retry.max_retry_after_seconds
        else ""
    )
    return ServiceError(
        f"{what} {problem} after {failure.tries} tries.{hint} The platform is down or "
        "overloaded; retry later.",
        code=code,
    )
