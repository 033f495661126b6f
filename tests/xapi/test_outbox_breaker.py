"""Endpoint-level backoff: while the LRS is down the deliverer sends one probe at a time instead of
claiming every due row, logs one line per state change, and delivers everything on recovery."""

from __future__ import annotations

import itertools
import logging
import re
from collections import Counter
from typing import Any

import httpx
import pytest

from blendkit.http import CircuitBreaker
from blendkit.store import Store
from blendkit.xapi import Outbox

from .test_outbox import FakeClock, mock_lrs, statements

_STATE = re.compile(r"circuit (open|half-open|closed)")


def test_an_lrs_outage_costs_one_probe_at_a_time_not_a_claim_per_due_row(
    sqlite_store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    """Failed before: ~100 claims and POSTs per simulated second while fresh statements kept
    arriving, and a warning line per failed batch."""
    caplog.set_level(logging.INFO, logger="blendkit")
    clock = FakeClock()
    start = clock.now
    recover_at, stop_emitting, end = start + 60, start + 100, start + 130
    requests: list[float] = []
    received: set[str] = set()
    ids = re.compile(r'"id":"([0-9a-f-]{36})"')

    def lrs(request: httpx.Request) -> httpx.Response:
        requests.append(clock.now)
        if clock.now < recover_at:
            if len(requests) % 2:
                raise httpx.ConnectError("connection refused", request=request)
            return httpx.Response(503)
        received.update(ids.findall(request.content.decode()))
        return httpx.Response(204)

    outbox = Outbox(
        sqlite_store,
        mock_lrs(lrs),
        clock=clock,
        sleep=clock.sleep,
        backoff_initial_seconds=1,
        backoff_max_seconds=16,
    )
    claims: list[float] = []
    real_claim = outbox._claim

    def counted_claim(**kwargs: Any) -> Any:
        claims.append(clock.now)
        return real_claim(**kwargs)

    outbox._claim = counted_claim  # type: ignore[method-assign]
    emitted: list[str] = []
    checks = iter(range(5000))  # a bound for the old behaviour, which never sleeps

    def should_stop() -> bool:
        clock.now += 0.01  # every pass of the loop takes a little time
        if clock.now < stop_emitting:
            emitted.extend(outbox.emit(statements(2)))
        return clock.now >= end or next(checks, None) is None

    outbox.run(should_stop, poll_seconds=0.5)

    during = [t for t in requests if t < recover_at]
    per_second = Counter(int(t - start) for t in during[1:])
    assert max(per_second.values()) <= 1, f"requests per second during the outage: {per_second}"
    claims_per_second = Counter(int(t - start) for t in claims if claims[0] < t < recover_at)
    assert max(claims_per_second.values(), default=0) <= 1
    assert len(during) <= 12  # 1, 2, 4, 8, 16, 16, ... seconds apart over 60 s
    assert outbox.status().pending == 0
    assert set(emitted) <= received  # recovery delivered every statement
    states = [m.group(1) for r in caplog.records if (m := _STATE.search(r.getMessage()))]
    assert states[0] == "open"
    assert states[-1] == "closed"
    assert all(a != b for a, b in itertools.pairwise(states)), states
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 2, [r.getMessage() for r in warnings]  # down, and back


def test_retry_after_holds_the_endpoint_for_the_advised_time(sqlite_store: Store) -> None:
    clock = FakeClock()
    requests: list[float] = []

    def busy(request: httpx.Request) -> httpx.Response:
        requests.append(clock.now)
        if len(requests) == 1:
            return httpx.Response(429, headers={"Retry-After": "40"})
        return httpx.Response(204)

    outbox = Outbox(sqlite_store, mock_lrs(busy), clock=clock, sleep=clock.sleep)
    outbox.emit(statements(3))
    outbox.deliver_once()
    for _ in range(30):
        clock.now += 1
        outbox.emit(statements(1))
        outbox.deliver_once()
    assert len(requests) == 1
    clock.now += 10
    assert outbox.deliver_once().delivered >= 1
    assert requests[1] - requests[0] >= 40


def test_breaker_opens_probes_once_backs_off_with_jitter_and_closes() -> None:
    clock = FakeClock()
    jitter = iter([0.0, 1.0, 0.5, 0.0] * 10)
    breaker = CircuitBreaker(
        "https://lrs.example.org/xapi",
        initial_seconds=2,
        max_seconds=10,
        clock=clock,
        jitter=lambda: next(jitter),
    )
    assert breaker.state == "closed"
    assert breaker.allow()
    breaker.failure("HTTP 503")
    assert breaker.state == "open"
    assert breaker.wait_seconds() == pytest.approx(1.0)  # 2 s x (0.5 + 0/2)
    assert not breaker.allow()
    clock.now += 1
    assert breaker.allow()  # the probe
    assert breaker.state == "half-open"
    assert not breaker.allow()  # one probe at a time
    breaker.failure("HTTP 503")
    assert breaker.wait_seconds() == pytest.approx(4.0)  # 4 s x (0.5 + 1/2)
    clock.now += 4
    assert breaker.allow()
    breaker.failure("HTTP 503")
    assert breaker.wait_seconds() == pytest.approx(6.0)  # 8 s x 0.75
    clock.now += 6
    assert breaker.allow()
    breaker.failure("HTTP 503", retry_after=7.5)  # the server's advice wins
    assert breaker.wait_seconds() == pytest.approx(7.5)
    clock.now += 7.5
    assert breaker.allow()
    breaker.release()  # the probe found nothing to send: another may probe
    assert breaker.allow()
    breaker.success()
    assert breaker.state == "closed"
    assert breaker.wait_seconds() == 0
    breaker.failure("down again")
    assert breaker.wait_seconds() == pytest.approx(1.0)  # starts over: 2 s x (0.5 + 0/2)


def test_breaker_threshold_tolerates_isolated_failures() -> None:
    clock = FakeClock()
    breaker = CircuitBreaker("smtp.example.org", failure_threshold=3, clock=clock)
    breaker.failure("timeout")
    breaker.failure("timeout")
    assert breaker.state == "closed"
    breaker.success()
    breaker.failure("timeout")
    breaker.failure("timeout")
    assert breaker.state == "closed"
    breaker.failure("timeout")
    assert breaker.state == "open"
