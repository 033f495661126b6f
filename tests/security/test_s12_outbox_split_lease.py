"""Suspicion 12: the second half of a split outbox batch was not lease-renewed.

When the LRS refuses a batch (413 / 400 / 409 / 422) the deliverer splits it and sends the halves
one after the other; each POST renewed only the rows it carried. The rows waiting their turn kept
the claim of the whole batch, which ran out while the first halves were sent: another deliverer
re-claimed and delivered them, and the first one then sent them again. Before each sub-batch the
deliverer now renews its whole remaining claim, and sends only the rows it still owns.

Two deliverers share one store (SQLite and PostgreSQL), a fake clock and a fake LRS (an
``httpx.MockTransport``: the LRS's answers are the fault being tested). Every request of the
first deliverer takes part of the lease; the second deliverer runs while the first is waiting
for its LRS, which is the moment a real second process would strike.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import httpx
import orjson
import pytest

from blendkit.store import Store
from blendkit.xapi import LRSClient, Outbox, StatementFactory, lti_actor
from tests.fence import public_fence

FACTORY = StatementFactory("https://tool.example.edu")
ACTOR = lti_actor("https://canvas.instructure.com", "lease-tests")
LEASE = 60.0


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


class FakeLRS:
    """Refuses batches larger than ``limit`` with 413; counts every statement it accepted."""

    def __init__(self, limit: int = 2) -> None:
        self.limit = limit
        self.accepted: Counter[str] = Counter()

    def client(self, during: Callable[[list[str]], None] = lambda ids: None) -> LRSClient:
        def handler(request: httpx.Request) -> httpx.Response:
            ids = [s["id"] for s in orjson.loads(request.content)]
            during(ids)  # time passes, and other deliverers run, while this request is open
            if len(ids) > self.limit:
                return httpx.Response(413, text="batch too large")
            self.accepted.update(ids)
            return httpx.Response(200, json=ids)

        return LRSClient(
            "https://lrs.example.org/xapi",
            transport=httpx.MockTransport(handler),
            timeout=5,
            fence=public_fence(),
        )


def emit(outbox: Outbox, n: int) -> list[str]:
    return outbox.emit(
        [FACTORY.module("completed", ACTOR, module_id=f"m-{i}", course_id="c") for i in range(n)]
    )


def second_process(store: Store) -> Store:
    """The same database through its own engine, as another deliverer process would open it."""
    return Store(store.url.render_as_string(hide_password=False))


@pytest.mark.parametrize("size", [4, 8, 16])
def test_slow_split_never_delivers_a_statement_twice(store: Store, size: int) -> None:
    clock = Clock()
    lrs = FakeLRS()
    other_store = second_process(store)
    other = Outbox(other_store, lrs.client(), batch_size=size, lease_seconds=LEASE, clock=clock)

    def slow(_ids: list[str]) -> None:
        clock.now += 0.4 * LEASE  # each request stays well inside one lease
        other.deliver_once()

    first = Outbox(store, lrs.client(slow), batch_size=size, lease_seconds=LEASE, clock=clock)
    assert first.lease == other.lease == LEASE
    ids = emit(first, size)
    report = first.deliver_once()
    assert set(lrs.accepted) == set(ids), "a statement was lost"
    assert set(lrs.accepted.values()) == {1}, "a statement was delivered twice"
    status = first.status()
    assert (status.pending, status.delivered, status.dead) == (0, size, 0)
    assert report.delivered == size
    other_store.dispose()


def test_rows_lost_to_another_deliverer_are_not_sent_again(store: Store) -> None:
    """A request that outlives the lease (a stalled network) loses the claim; the old owner then
    sends none of the rows the new owner took. Only the request already in flight can arrive
    twice, and the LRS recognises those ids."""
    clock = Clock()
    lrs = FakeLRS()
    other_store = second_process(store)
    other = Outbox(other_store, lrs.client(), batch_size=8, lease_seconds=LEASE, clock=clock)
    in_flight: list[str] = []

    def stall_once(ids: list[str]) -> None:
        if len(ids) <= lrs.limit and not in_flight:
            in_flight.extend(ids)
            clock.now += 1.5 * LEASE
            other.deliver_once()

    first = Outbox(store, lrs.client(stall_once), batch_size=8, lease_seconds=LEASE, clock=clock)
    ids = emit(first, 8)
    report = first.deliver_once()
    assert set(lrs.accepted) == set(ids)
    assert {sid for sid, n in lrs.accepted.items() if n > 1} <= set(in_flight)
    assert report.delivered == 0  # the other deliverer marked every row, the in-flight ones too
    status = first.status()
    assert (status.pending, status.delivered, status.dead) == (0, 8, 0)
    other_store.dispose()
