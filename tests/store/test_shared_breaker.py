"""A circuit breaker whose state every process on one database shares: when an endpoint is
down, one probe at a time across all deliverers (not one per process), one log line per state
change across them, and no database round trip per call while the endpoint is healthy."""

from __future__ import annotations

import logging
import multiprocessing
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, event, update

from blendkit.config import Settings
from blendkit.store import Store, StoredCircuitBreaker
from blendkit.store._tables_core import http_breakers
from blendkit.xapi import Outbox
from tests.xapi.test_outbox import mock_lrs
from tests.xapi.test_outbox import statements as xapi_statements

NAME = "LRS https://lrs.example.edu/xapi/"


class Clock:
    def __init__(self) -> None:
        self.now = 1_900_000_000.0

    def __call__(self) -> float:
        return self.now


def _breaker(store: Store, clock: Clock, **options: Any) -> StoredCircuitBreaker:
    options.setdefault("initial_seconds", 10.0)
    options.setdefault("max_seconds", 100.0)
    return StoredCircuitBreaker(store, NAME, clock=clock, jitter=lambda: 1.0, **options)


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_c: Any, _cur: Any, statement: str, *_rest: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_a_healthy_endpoint_costs_no_database_round_trip_per_call(store: Store) -> None:
    clock = Clock()
    breaker = _breaker(store, clock, refresh_seconds=5.0)
    assert breaker.allow()  # first call: reads the shared state once
    with statements(store.engine) as seen:
        for _ in range(100):
            assert breaker.allow()
            breaker.success()
            clock.now += 0.01
    assert seen == []
    clock.now += 5
    with statements(store.engine) as seen:
        assert breaker.allow()
    assert len(seen) == 1, "one read per refresh interval"


def test_one_process_opening_the_breaker_holds_back_the_others(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    clock = Clock()
    first, second = _breaker(store, clock), _breaker(store, clock, refresh_seconds=2.0)
    assert first.allow()
    assert second.allow()
    with caplog.at_level(logging.INFO, logger="blendkit.http.breaker"):
        first.failure("503 Service Unavailable")
        second.failure("503 Service Unavailable")  # the same outage, seen by a call in flight
        assert first.state == "open"
        clock.now += 2.5  # second's cached view expires
        assert not second.allow()
        assert second.state == "open"
        assert second.wait_seconds() == pytest.approx(7.5)
        clock.now += 8  # the wait is over: exactly one of them probes
        assert second.allow()
        assert not first.allow()
        second.success()
        clock.now += 2.5
        assert first.allow()
        assert first.state == "closed"
    changes = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert [r.getMessage().split(": circuit ", 1)[1].split(" ")[0] for r in changes] == [
        "open",
        "closed,",
    ], "one warning per state change across both"
    assert first.trips == 1, "trips are counted once, shared"


def test_a_failed_probe_backs_off_longer_and_a_dead_probe_is_replaced(store: Store) -> None:
    clock = Clock()
    first, second = _breaker(store, clock), _breaker(store, clock)
    first.allow()
    first.failure("down")
    clock.now += 10
    assert first.allow()  # the probe
    first.failure("still down")
    assert first.wait_seconds() == pytest.approx(20.0), "exponential: 10 s, then 20 s"
    clock.now += 20
    assert second.allow()  # second probes, then its process dies without an answer
    clock.now += 30
    assert not first.allow(), "the probe's lease (60 s) still holds"
    clock.now += 31
    assert first.allow(), "the lease expired: another process may probe"


def test_release_lets_another_process_probe_at_once(store: Store) -> None:
    clock = Clock()
    first, second = _breaker(store, clock), _breaker(store, clock)
    first.allow()
    first.failure("down")
    clock.now += 10
    assert first.allow()
    assert not second.allow()
    first.release()  # nothing to send after all
    assert second.allow()


def _contend(url: str, rounds: int, barrier: Any, results: Any) -> None:
    store = Store(url)
    clock = Clock()
    breaker = StoredCircuitBreaker(store, NAME, initial_seconds=1.0, max_seconds=1.0, clock=clock)
    try:
        for round_ in range(rounds):
            barrier.wait()  # the parent opened the breaker with its wait already over
            results.put((round_, breaker.allow()))
            barrier.wait()  # everyone answered; the parent resets for the next round
    finally:
        store.dispose()


@pytest.mark.timeout(120)
def test_two_processes_racing_for_the_probe_get_exactly_one(store: Store) -> None:
    """Failed before: each deliverer process had its own breaker, so N processes sent N probes
    to a down endpoint."""
    rounds = 15
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(3)
    results = context.Queue()
    url = store.url.render_as_string(hide_password=False)
    workers = [
        context.Process(target=_contend, args=(url, rounds, barrier, results)) for _ in range(2)
    ]
    for worker in workers:
        worker.start()
    clock = Clock()
    clock.now -= 3600
    opener = _breaker(store, clock, initial_seconds=1.0, max_seconds=1.0)
    opener.allow()
    opener.failure("down")  # the row exists and is open, its wait long over for the workers
    try:
        for _ in range(rounds):
            with store.transaction() as s:  # open again, due, nobody probing
                s.execute(
                    update(http_breakers)
                    .where(http_breakers.c.name == NAME)
                    .values(state="open", probe_by=None, probe_until=None)
                )
            barrier.wait(timeout=60)
            barrier.wait(timeout=60)
    finally:
        for worker in workers:
            worker.join(60)
    answers: dict[int, list[bool]] = {}
    while not results.empty():
        round_, allowed = results.get()
        answers.setdefault(round_, []).append(allowed)
    assert [w.exitcode for w in workers] == [0, 0]
    assert len(answers) == rounds
    for round_, allowed in answers.items():
        assert sorted(allowed) == [False, True], f"round {round_}: {allowed}"


def test_deliverers_built_from_settings_share_the_lrs_breaker(store: Store) -> None:
    """Two deliverers on one database, the LRS down: after the first opens the breaker, the
    second sends nothing until the wait is over (before: each probed on its own)."""
    calls: list[int] = []

    def down(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(503)

    settings = Settings(xapi={"backoff_initial_seconds": 60, "backoff_max_seconds": 600})
    first = Outbox.from_settings(settings, store=store, client=mock_lrs(down))
    second = Outbox.from_settings(settings, store=store, client=mock_lrs(down))
    first.emit(xapi_statements(3))
    assert first.deliver_once().retried == 3
    assert isinstance(second.breaker, StoredCircuitBreaker)
    assert second.deliver_once(ignore_schedule=True).requests == 0
    assert len(calls) == 1
    assert second.breaker.state == "open"
