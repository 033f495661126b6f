"""Endpoint-level backoff: a circuit breaker shared by every caller of one endpoint in a process.

While an endpoint (an LRS, an SMTP server, one platform's AGS service, the database a loop
depends on) keeps failing, its callers should not each retry on their own schedule: the breaker
opens, lets exactly one probe through when the wait is over (exponential, jittered, or the
server's ``Retry-After``), and closes again when a probe succeeds. Every state change is logged
once — a warning when the endpoint goes down and when it is back, an info line for each probe —
instead of one line per failed call. Re-exported from :mod:`blendkit.http`.

State lives in the process. :class:`blendkit.store.StoredCircuitBreaker` shares it through the
database, so every process on one database sends one probe at a time between them (the outbox
deliverers use it); it falls back to this in-process behaviour while the database is down.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from typing import Literal

__all__ = ["BreakerState", "CircuitBreaker"]

BreakerState = Literal["closed", "open", "half-open"]

_log = logging.getLogger("blendkit.http.breaker")


class CircuitBreaker:
    """Closed (calls go through), open (none until ``wait_seconds()`` is 0), half-open (one
    probe in flight). Thread-safe; ``clock`` and ``jitter`` are injectable for tests.

    Call :meth:`allow` before a call, then exactly one of :meth:`success` (the endpoint answered
    — even with an error about the request itself), :meth:`failure` (it is down, busy, or
    refused the credentials) or :meth:`release` (nothing was sent after all).
    """

    def __init__(
        self,
        name: str,
        *,
        initial_seconds: float = 1.0,
        max_seconds: float = 300.0,
        failure_threshold: int = 1,
        clock: Callable[[], float] = time.monotonic,
        jitter: Callable[[], float] = random.random,
        log: logging.Logger = _log,
    ) -> None:
        if initial_seconds <= 0 or max_seconds < initial_seconds or failure_threshold < 1:
            raise ValueError("need 0 < initial_seconds <= max_seconds and failure_threshold >= 1")
        self.name = name
        self.initial = initial_seconds
        self.max = max_seconds
        self.threshold = failure_threshold
        self.clock = clock
        self.jitter = jitter
        self._log = log
        self._lock = threading.Lock()
        self._state: BreakerState = "closed"
        self._failures = 0  # consecutive failures while closed
        self._opens = 0  # consecutive openings since the last close: the backoff exponent
        self._open_until = 0.0
        self._opened_at = 0.0
        self.trips = 0
        """Times the breaker opened from closed (monotonic; ready for a metrics counter)."""

    @property
    def state(self) -> BreakerState:
        with self._lock:
            return self._state

    def wait_seconds(self) -> float:
        """Seconds until a probe may go; 0 when closed or when a probe may go now."""
        with self._lock:
            if self._state != "open":
                return 0.0
            return max(0.0, self._open_until - self.clock())

    def allow(self) -> bool:
        """True when a call may go now; when open and the wait is over, this caller is the probe."""
        with self._lock:
            if self._state == "closed":
                return True
            if self._state == "half-open" or self.clock() < self._open_until:
                return False
            self._state = "half-open"
        self._log.info("%s: circuit half-open, sending one probe", self.name)
        return True

    def release(self) -> None:
        """The allowed call sent nothing (no work): let the next caller probe instead."""
        with self._lock:
            if self._state == "half-open":
                self._state = "open"
                self._open_until = self.clock()

    def success(self) -> None:
        """The endpoint answered: close (logged when it was open or half-open)."""
        with self._lock:
            was = self._state
            self._state = "closed"
            self._failures = 0
            self._opens = 0
            down_for = self.clock() - self._opened_at
        if was != "closed":
            self._log.warning(
                "%s: circuit closed, answering again after %.0f s", self.name, down_for
            )

    def _wait(self, opens: int, retry_after: float | None) -> float:
        """Seconds to stay open after the ``opens``-th consecutive opening: the server's
        ``Retry-After`` (capped), else doubling from ``initial`` to ``max``, jittered."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max)
        ceiling = min(self.max, self.initial * 2.0 ** (opens - 1))
        return ceiling * (0.5 + self.jitter() / 2)

    def failure(self, reason: str, *, retry_after: float | None = None) -> None:
        """The endpoint is down or busy; ``retry_after`` (the server's advice, capped at
        ``max_seconds``) replaces the computed wait. Logged only when the state changes."""
        with self._lock:
            was = self._state
            now = self.clock()
            if was == "closed":
                self._failures += 1
                if self._failures < self.threshold and retry_after is None:
                    return
                self._opened_at = now
                self.trips += 1
            self._opens += 1
            wait = self._wait(self._opens, retry_after)
            self._state = "open"
            self._open_until = now + wait
            failures = self._failures
        if was == "closed":
            self._log.warning(
                "%s: circuit open after %d failure(s) (%s); next probe in %.1f s",
                self.name,
                failures,
                reason,
                wait,
            )
        elif was == "half-open":
            self._log.info(
                "%s: circuit open, probe failed (%s); next probe in %.1f s", self.name, reason, wait
            )
