"""The one retry policy for outbound calls: bounded tries, capped exponential backoff with full
jitter, the server's ``Retry-After`` honoured, and an optional budget for all waits of one call.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["RetryPolicy"]

_MAX_EXPONENT = 1023
"""The largest power of two a float holds: past it ``2.0 ** n`` raises instead of growing."""


class RetryPolicy(BaseModel):
    """How long and how often to wait when a server is busy or failing.

    Without ``Retry-After`` the wait after try *n* is drawn uniformly between 0 and
    ``min(max_backoff_seconds, backoff_seconds * 2 ** (n - 1))`` ("full jitter"), so clients
    that failed together do not come back together. A ``Retry-After`` is waited exactly, unless it
    is longer than ``max_retry_after_seconds``: then the caller gets its error at once.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_retries: int = Field(default=3, ge=0, le=10)
    """Tries after the first one."""
    backoff_seconds: float = Field(default=1.0, ge=0, le=300)
    """Ceiling of the first computed wait; it doubles on every further retry."""
    max_backoff_seconds: float = Field(default=30.0, ge=0, le=3600)
    """The cap: no computed wait is longer."""
    max_retry_after_seconds: float = Field(default=60.0, ge=0, le=86400)
    """A server asking for a longer wait is not waited for."""
    max_total_wait_seconds: float | None = Field(default=None, ge=0)
    """All waits of one call together stay under this (``None``: only the other bounds)."""

    def ceiling(self, tries: int) -> float:
        """The longest computed wait after ``tries`` failed tries: doubling, then capped."""
        exponent = min(max(tries - 1, 0), _MAX_EXPONENT)
        return min(self.max_backoff_seconds, self.backoff_seconds * 2.0**exponent)

    def delay(
        self,
        tries: int,
        retry_after: float | None,
        *,
        waited: float = 0.0,
        draw: Callable[[], float] = random.random,
    ) -> float | None:
        """Seconds to wait after ``tries`` failed tries, or ``None`` to give up.

        ``waited`` is the time already spent waiting in this call; ``draw`` returns a number in
        [0, 1] that places the computed wait under its ceiling.
        """
        if tries > self.max_retries:
            return None
        if retry_after is not None:
            if retry_after > self.max_retry_after_seconds:
                return None
            wait = retry_after
        else:
            wait = self.ceiling(tries) * min(max(draw(), 0.0), 1.0)
        budget = self.max_total_wait_seconds
        if budget is not None and waited + wait > budget:
            return None
        return wait
