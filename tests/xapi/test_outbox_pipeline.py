"""The batches of one claim go out while the batch before is marked: the guarantees of one batch
at a time stay (never a mark for a batch the LRS refused, a crash re-sends only what was on the
wire or being marked, a refused mark is owed and never costs a re-send), and on PostgreSQL the
claims and marks skip the WAL flush wait while emit keeps it."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import select, text, update
from sqlalchemy.exc import OperationalError

from blendkit.store import Store
from blendkit.store._tables_xapi import xapi_dead_letters, xapi_outbox, xapi_outbox_totals
from blendkit.xapi import Outbox

from .test_outbox import FakeClock, held_rows, mock_lrs, statements


class Crash(BaseException):
    """The deliverer process dies here (kill -9): nothing after it runs."""


class RecordingLRS:
    """Accepts every batch (except statements tagged BAD-) and records the ids of each POST."""

    def __init__(self) -> None:
        self.posts: list[list[str]] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        batch = orjson.loads(request.content)
        self.posts.append([s["id"] for s in batch])
        return httpx.Response(400 if b"BAD-" in request.content else 204)

    def deliveries(self) -> Counter[str]:
        return Counter(sid for post in self.posts for sid in post)


def _outbox(store: Store, lrs: RecordingLRS, clock: FakeClock) -> Outbox:
    return Outbox(store, mock_lrs(lrs), batch_size=4, clock=clock, sleep=clock.sleep)


def _fail_marks(outbox: Outbox, calls: set[int], error: Callable[[], BaseException]) -> None:
    """Make the marks numbered ``calls`` (1-based, tries included) raise ``error()``."""
    real_mark, marks = outbox._mark, 0

    def failing_mark(token: str, ids: list[int] | None, tally: str | None = None) -> int:
        nonlocal marks
        marks += 1
        if marks in calls:
            raise error()
        return real_mark(token, ids, tally)

    outbox._mark = failing_mark  # type: ignore[method-assign]


def test_a_crash_while_marking_resends_only_the_batches_in_flight(store: Store) -> None:
    lrs, clock = RecordingLRS(), FakeClock()
    first = _outbox(store, lrs, clock)
    ids = first.emit(statements(4 * first.claim_batches))
    # the process dies marking the second batch, while the third is on the wire
    _fail_marks(first, {2}, Crash)
    with pytest.raises(Crash):
        first.deliver_once()
    assert [len(post) for post in lrs.posts] == [4, 4, 4]

    clock.now += first.lease + 1  # the dead process's lease runs out
    after = _outbox(store, lrs, clock)
    assert after.flush().delivered == 16
    sent = lrs.deliveries()
    assert set(sent) == set(ids)
    twice = {sid for sid, n in sent.items() if n == 2}
    assert twice == set(ids[4:12])  # the batch being marked and the one on the wire
    assert max(sent.values()) == 2
    status = after.status()
    assert (status.pending, status.delivered) == (0, 20)


def test_a_refused_mark_owes_the_batch_on_the_wire_too_and_resends_nothing(store: Store) -> None:
    lrs, clock = RecordingLRS(), FakeClock()
    outbox = _outbox(store, lrs, clock)
    ids = outbox.emit(statements(4 * outbox.claim_batches))

    def database_away() -> BaseException:
        return OperationalError("UPDATE", {}, Exception("server closed the connection"))

    _fail_marks(outbox, {2, 3, 4}, database_away)  # every try of the second batch's mark
    with pytest.raises(OperationalError):
        outbox.deliver_once()
    assert [len(post) for post in lrs.posts] == [4, 4, 4]
    assert outbox.counters.unmarked == 8  # the refused batch and the one that was on the wire

    assert outbox.deliver_once().delivered == 8  # the owed marks, before any new claim
    assert (outbox.counters.unmarked, outbox.counters.late_marks) == (0, 8)
    clock.now += outbox.lease + 1  # the claim's last batches were never sent: free them
    assert outbox.flush().delivered == 8
    sent = lrs.deliveries()
    assert set(sent) == set(ids)
    assert set(sent.values()) == {1}  # nothing went out twice
    assert outbox.counters.resent_after_lease == 0
    assert outbox.status().delivered == 20


def test_a_refused_batch_mid_claim_splits_and_the_next_batches_still_go_out(store: Store) -> None:
    lrs, clock = RecordingLRS(), FakeClock()
    outbox = _outbox(store, lrs, clock)
    outbox.emit(statements(4 * outbox.claim_batches, bad={5}))
    report = outbox.deliver_once()
    # the second batch is split down to the bad statement; the batches after it follow
    assert [len(post) for post in lrs.posts] == [4, 4, 2, 1, 1, 2, 4, 4, 4]
    assert (report.delivered, report.dead, report.retried) == (19, 1, 0)
    with store.engine.connect() as conn:
        dead = conn.execute(select(xapi_dead_letters.c.payload)).scalars().all()
    assert len(dead) == 1
    assert "BAD-" in dead[0]
    status = outbox.status()
    assert (status.pending, status.delivered, status.dead) == (0, 19, 1)


def test_claims_and_marks_skip_the_wal_flush_wait_on_postgres_and_emit_does_not(
    store: Store,
) -> None:
    """``synchronous_commit`` is off inside the claim's and the mark's own transactions only:
    the pooled connection is back to durable commits for the next emit."""
    if not store.is_postgres:
        pytest.skip("synchronous_commit is PostgreSQL's")
    outbox = _outbox(store, RecordingLRS(), FakeClock())

    def setting(conn: object) -> str:
        return str(conn.execute(text("SHOW synchronous_commit")).scalar_one())  # type: ignore[attr-defined]

    with store.unit_of_work() as conn:
        outbox.emit(statements(3))
        assert setting(conn) == "on"
    with store.unit_of_work() as conn:
        token, rows = outbox._claim(ignore_schedule=True)
        assert len(rows) == 3
        assert setting(conn) == "off"
    with store.engine.begin() as conn:  # the mark is one statement: look inside its transaction
        assert setting(conn) == "on"  # SET LOCAL: gone with the claim's transaction
        assert outbox.spec.mark_done(conn, token, None, datetime.now(UTC)) == 3
        assert setting(conn) == "off"
    with store.transaction() as conn:
        assert setting(conn) == "on"
    assert outbox.status().delivered == 3


def test_the_next_claim_goes_out_in_the_same_pass_and_is_given_back_when_the_lrs_fails(
    store: Store,
) -> None:
    """The next claim is made while the last batch of the one before is on the wire; when the
    LRS then fails, its batches not sent yet are due again at once, no attempt counted."""
    answers = iter([204] * 6 + [503])
    sizes: list[int] = []

    def lrs(request: httpx.Request) -> httpx.Response:
        sizes.append(len(orjson.loads(request.content)))
        return httpx.Response(next(answers))

    clock = FakeClock()
    outbox = Outbox(store, mock_lrs(lrs), batch_size=2, clock=clock, sleep=clock.sleep)
    outbox.emit(statements(2 * outbox.claim_batches * 2 + 4))
    report = outbox.deliver_once()
    assert sizes == [2] * 7  # five batches of the first claim, two of the second
    assert (report.delivered, report.retried, report.requests) == (12, 2, 7)
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(xapi_outbox.c.attempts, xapi_outbox.c.claimed_by)
            .where(xapi_outbox.c.status == "pending")
            .order_by(xapi_outbox.c.id)
        ).all()
    assert [r.claimed_by for r in rows] == [None] * 12  # nothing stays held by a lease
    assert [r.attempts for r in rows] == [1] * 2 + [0] * 10  # only the failed batch counts one


def test_a_stop_gives_back_the_claim_made_ahead(store: Store) -> None:
    lrs, clock = RecordingLRS(), FakeClock()
    outbox = _outbox(store, lrs, clock)
    outbox.emit(statements(4 * outbox.claim_batches * 2))
    outbox.stopping = lambda: len(lrs.posts) >= 6  # SIGTERM while the sixth batch is out
    assert outbox.deliver_once().delivered == 24
    assert [len(post) for post in lrs.posts] == [4] * 6
    assert held_rows(store) == []  # the rest is free for the next deliverer at once
    assert outbox.status().pending == 16


def test_a_database_error_in_the_next_claim_loses_no_mark_and_resends_nothing(
    store: Store,
) -> None:
    """The next claim fails while the last batch of the claim before is on the wire: the error
    is raised from the pass, every batch the LRS took is marked or owed, and the next pass
    delivers the rest with no statement sent twice."""
    lrs, clock = RecordingLRS(), FakeClock()
    outbox = _outbox(store, lrs, clock)
    outbox.emit(statements(4 * outbox.claim_batches * 2))
    real_claim, claims = outbox._claim_batches, 0

    def second_claim_fails(ignore_schedule: bool, batches: int) -> Any:
        nonlocal claims
        claims += 1
        if claims == 2:
            raise OperationalError("claim", {}, Exception("the server closed the connection"))
        return real_claim(ignore_schedule, batches)

    outbox._claim_batches = second_claim_fails  # type: ignore[method-assign]
    with pytest.raises(OperationalError):
        outbox.deliver_once()
    assert [len(post) for post in lrs.posts] == [4] * outbox.claim_batches
    assert outbox.status().delivered + outbox.counters.unmarked == 4 * outbox.claim_batches
    assert len(held_rows(store)) == outbox.counters.unmarked  # an owed mark keeps its claim
    while outbox.status().pending:
        outbox.deliver_once()
    assert outbox.status().delivered == 4 * outbox.claim_batches * 2
    assert set(lrs.deliveries().values()) == {1}
    assert outbox.counters.unmarked == 0


def test_a_claim_or_a_mark_the_database_forgot_costs_a_resend_never_a_statement(
    store: Store,
) -> None:
    """What a PostgreSQL crash can take back from a claim or a mark committed without the WAL
    flush: the claim (its rows are unclaimed again) or the mark (its rows, and the delivered
    total, are as before it). Either way every statement reaches the LRS, the forgotten ones
    once more."""
    lrs, clock = RecordingLRS(), FakeClock()
    outbox = _outbox(store, lrs, clock)
    ids = outbox.emit(statements(8))
    real_claim = outbox._claim

    def forgotten_claim(**kwargs: Any) -> tuple[str, list[Any]]:
        token, rows = real_claim(**kwargs)
        with store.transaction() as conn:  # the claim's commit never reached the disk
            conn.execute(
                update(xapi_outbox)
                .where(xapi_outbox.c.claimed_by == token)
                .values(claimed_by=None, claimed_until=None)
            )
        return token, rows

    outbox._claim = forgotten_claim  # type: ignore[method-assign]
    assert outbox.deliver_once().delivered == 0  # sent, but nothing of it was still claimed
    assert outbox.counters.resent_after_lease == 8
    outbox._claim = real_claim  # type: ignore[method-assign]
    assert outbox.flush().delivered == 8

    with store.transaction() as conn:  # the last mark's commit (and its total) never reached disk
        conn.execute(
            update(xapi_outbox)
            .where(xapi_outbox.c.statement_id.in_(ids[4:]))
            .values(status="pending", delivered_at=None)
        )
        conn.execute(
            update(xapi_outbox_totals)
            .where(xapi_outbox_totals.c.name == "delivered")
            .values(value=xapi_outbox_totals.c.value - 4)
        )
    assert outbox.flush().delivered == 4
    sent = lrs.deliveries()
    assert set(sent) == set(ids)
    assert [sent[sid] for sid in ids] == [2] * 4 + [3] * 4  # nothing lost, the forgotten re-sent
    status = outbox.status()
    assert (status.pending, status.delivered) == (0, 8)
