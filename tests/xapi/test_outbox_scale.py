"""The outbox at scale: every query the deliverer and status() run uses an index, a batch costs
few round trips, and delivered rows are pruned in bounded batches (pending and dead rows never)."""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, func, select, text

from blendkit.cli import cli
from blendkit.config import load_settings
from blendkit.store import Store
from blendkit.store._tables_xapi import xapi_dead_letters, xapi_outbox
from blendkit.xapi import Outbox
from tests.query_plans import full_scans, plans, table_queries

from .test_outbox import FakeClock, mock_lrs, statements


def outbox_queries(engine: Engine) -> AbstractContextManager[list[tuple[str, Any]]]:
    """Every SELECT / UPDATE / DELETE sent to the database that names the outbox table."""
    return table_queries(engine, "xapi_outbox")


def _fill_postgres(store: Store, delivered: int) -> None:
    """``delivered`` old delivered rows written straight in SQL, then ANALYZE (and VACUUM, as
    autovacuum would), so the planner knows the table is large."""
    with store.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO xapi_outbox (statement_id, payload, status, attempts, "
                "next_attempt_at, created_at, delivered_at) "
                "SELECT md5(g::text)::uuid::text, repeat('x', 400), 'delivered', 1, "
                "now() - interval '20 days', now() - interval '20 days', "
                "now() - interval '20 days' FROM generate_series(1, :n) g"
            ),
            {"n": delivered},
        )
    autocommit = store.engine.execution_options(isolation_level="AUTOCOMMIT")
    with autocommit.connect() as conn:
        conn.execute(text("VACUUM ANALYZE xapi_outbox"))


def _exercise_every_path(store: Store, clock: FakeClock) -> None:
    """Deliver, retry (503), dead-letter (400 split), report status and prune."""
    ok = Outbox(store, mock_lrs(lambda r: httpx.Response(204)), clock=clock, sleep=clock.sleep)
    ok.emit(statements(20))
    assert ok.deliver_once().delivered == 20
    down = Outbox(
        store,
        mock_lrs(lambda r: httpx.Response(503)),
        clock=clock,
        sleep=clock.sleep,
    )
    down.emit(statements(5))
    assert down.deliver_once().retried == 5
    clock.now += 3600

    def refuse_bad(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400) if b"BAD-" in request.content else httpx.Response(204)

    picky = Outbox(store, mock_lrs(refuse_bad), clock=clock, sleep=clock.sleep)
    picky.emit(statements(4, bad={1}))
    picky.deliver_once()
    picky.status()
    picky.prune_delivered(timedelta(days=30))


def test_every_deliverer_and_status_query_avoids_a_full_scan_of_the_outbox(store: Store) -> None:
    """Failed before: the re-read ``WHERE claimed_by = :token`` and the counts in status() were
    sequential scans over 100k delivered rows on PostgreSQL."""
    if store.is_postgres:
        _fill_postgres(store, 100_000)
    clock = FakeClock()
    clock.now = datetime.now(UTC).timestamp()
    with outbox_queries(store.engine) as queries:
        _exercise_every_path(store, clock)
    assert len(queries) >= 6
    bad = full_scans(store, "xapi_outbox", plans(store, queries))
    assert not bad, "full scans of xapi_outbox:\n\n" + "\n\n".join(bad)


def test_a_delivered_batch_costs_two_statements(store: Store) -> None:
    """Claim and read back in one statement, mark delivered in one more (PostgreSQL); failed
    before: five statements (select, update, re-read by claim token, renew, mark)."""
    clock = FakeClock()
    outbox = Outbox(store, mock_lrs(lambda r: httpx.Response(204)), clock=clock)
    outbox.emit(statements(10))
    with outbox_queries(store.engine) as queries:
        assert outbox.deliver_once().delivered == 10
    assert len(queries) <= (2 if store.is_postgres else 3), [q for q, _ in queries]


def test_status_counts_stay_exact_through_delivery_prune_and_dead_letters(store: Store) -> None:
    clock = FakeClock()
    _exercise_every_path(store, clock)
    outbox = Outbox(store, clock=clock)
    with store.engine.connect() as conn:
        by_status = dict(
            conn.execute(
                select(xapi_outbox.c.status, func.count()).group_by(xapi_outbox.c.status)
            ).all()
        )
        dead = conn.execute(select(func.count()).select_from(xapi_dead_letters)).scalar_one()
    status = outbox.status()
    assert (status.pending, status.delivered, status.dead) == (
        by_status.get("pending", 0),
        by_status.get("delivered", 0),
        dead,
    )
    assert (status.delivered, status.dead) == (28, 1)
    clock.now += 40 * 86400
    assert outbox.prune_delivered(timedelta(days=30)) == 28
    assert outbox.status().delivered == 0


def test_prune_deletes_old_delivered_rows_in_bounded_batches_and_never_pending_or_dead(
    store: Store,
) -> None:
    clock = FakeClock()
    ok = Outbox(store, mock_lrs(lambda r: httpx.Response(204)), clock=clock)
    ok.emit(statements(25))
    assert ok.flush().delivered == 25
    clock.now += 10 * 86400
    ok.emit(statements(3))
    assert ok.flush().delivered == 3  # recent: kept
    pending = Outbox(store, clock=clock)  # no LRS: these stay pending
    pending.emit(statements(4))
    clock.now += 40 * 86400
    with store.engine.begin() as conn:  # pending rows this old are kept too
        conn.execute(xapi_outbox.update().where(xapi_outbox.c.status == "pending").values(
            created_at=datetime.fromtimestamp(0, UTC)))  # fmt: skip

    def refuse_bad_else_down(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400 if b"BAD-" in request.content else 503)

    refusing = Outbox(store, mock_lrs(refuse_bad_else_down), clock=clock)
    refusing.emit(statements(1, bad={0}))
    refusing.deliver_once()
    with outbox_queries(store.engine) as queries:
        assert ok.prune_delivered(timedelta(days=45), batch_size=10) == 25
    deletes = [q for q, _ in queries if q.lstrip().upper().startswith("DELETE")]
    assert len(deletes) >= 3  # 10 + 10 + 5: never one unbounded DELETE
    status = ok.status()
    assert (status.pending, status.delivered, status.dead) == (4, 3, 1)


def test_run_prunes_delivered_rows_while_it_delivers(sqlite_store: Store) -> None:
    clock = FakeClock()
    outbox = Outbox(
        sqlite_store,
        mock_lrs(lambda r: httpx.Response(204)),
        clock=clock,
        sleep=clock.sleep,
        keep_delivered=timedelta(days=1),
    )
    outbox.emit(statements(30))
    outbox.flush()
    clock.now += 2 * 86400
    outbox.emit(statements(5))
    steps = iter(range(50))
    outbox.run(lambda: next(steps, None) is None, poll_seconds=1.0)
    status = outbox.status()
    assert (status.pending, status.delivered) == (0, 5)


def test_cli_prune_uses_keep_delivered_days(monkeypatch: pytest.MonkeyPatch) -> None:
    store = Store.from_settings(load_settings())
    store.migrate()
    clock = FakeClock()
    clock.now = datetime.now(UTC).timestamp() - 5 * 86400
    outbox = Outbox(store, mock_lrs(lambda r: httpx.Response(204)), clock=clock)
    outbox.emit(statements(6))
    outbox.flush()
    runner = CliRunner()
    monkeypatch.setenv("BLENDKIT_XAPI_KEEP_DELIVERED_DAYS", "7")
    kept = runner.invoke(cli, ["outbox", "prune"])
    assert kept.exit_code == 0, kept.output
    assert "pruned 0 delivered statement(s)" in kept.output
    monkeypatch.setenv("BLENDKIT_XAPI_KEEP_DELIVERED_DAYS", "3")
    pruned = runner.invoke(cli, ["outbox", "prune"])
    assert pruned.exit_code == 0, pruned.output
    assert "pruned 6 delivered statement(s)" in pruned.output
    again = runner.invoke(cli, ["outbox", "prune", "--older-than-days", "0"])
    assert again.exit_code == 0
    assert outbox.status().delivered == 0
