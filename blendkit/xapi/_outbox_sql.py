"""The outbox's SQL: each deliverer step is one statement (or one short transaction on SQLite),
and every query reads through one of the partial indexes in ``_tables_xapi``.

* claim: ``UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED LIMIT n) RETURNING …`` — the
  rows come back with the claim, no re-read by claim token;
* mark delivered: on PostgreSQL one statement that also adds to the delivered total (a
  data-modifying CTE); on SQLite the same two writes in one transaction;
* status: one SELECT of scalar subqueries (pending count over the pending index, the delivered
  total, the dead-letter count, the next retry time, the latest error).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Delete,
    Select,
    Update,
    delete,
    func,
    literal,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from blendkit.store._tables_xapi import (
    IS_DELIVERED,
    IS_PENDING,
    xapi_dead_letters,
    xapi_outbox,
    xapi_outbox_totals,
)

__all__ = [
    "DELIVERED_TOTAL",
    "claim",
    "mark_delivered",
    "next_due",
    "prune_batch",
    "renew",
    "status_query",
]

DELIVERED_TOTAL = "delivered"
_t = xapi_outbox
_pending = text(IS_PENDING)
_delivered = text(IS_DELIVERED)


def _unclaimed(now: datetime) -> Any:
    return or_(_t.c.claimed_until.is_(None), _t.c.claimed_until < now)


def claim(
    *, token: str, now: datetime, until: datetime, limit: int, due_only: bool, postgres: bool
) -> Update:
    """Claim up to ``limit`` rows and return ``(id, statement_id, payload, attempts)``; two
    claimers never share a row (PostgreSQL: row locks, SKIP LOCKED; SQLite: one writer)."""
    due: Select[Any] = (
        select(_t.c.id).where(_pending, _unclaimed(now)).order_by(_t.c.id).limit(limit)
    )
    if due_only:
        due = due.where(_t.c.next_attempt_at <= now)
    if postgres:
        # A materialized CTE runs once (an IN (subquery … SKIP LOCKED) may be re-run by the
        # planner and then claim more than ``limit`` rows), and its rows stay locked until the
        # update: the outer statement finds them by primary key, with nothing to re-check.
        batch = due.with_for_update(skip_locked=True).cte("batch").prefix_with("MATERIALIZED")
        chosen: Any = [_t.c.id == batch.c.id]
    else:  # one statement under SQLite's write lock: nothing runs in between
        chosen = [_t.c.id.in_(due.scalar_subquery()), _pending, _unclaimed(now)]
    return (
        update(_t)
        .where(*chosen)
        .values(claimed_by=token, claimed_until=until)
        .returning(_t.c.id, _t.c.statement_id, _t.c.payload, _t.c.attempts)
    )


def renew(token: str, until: datetime) -> Update:
    """Extend the lease of every row ``token`` still holds (the halves of a split batch still
    waiting for their turn included); returns their ids."""
    return update(_t).where(_t.c.claimed_by == token).values(claimed_until=until).returning(_t.c.id)


def _bump_total(conn: Connection, by: int) -> None:
    insert = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(
        xapi_outbox_totals
    )
    conn.execute(
        insert.values(name=DELIVERED_TOTAL, value=by).on_conflict_do_update(
            index_elements=["name"],
            set_={"value": xapi_outbox_totals.c.value + insert.excluded.value},
        )
    )


def _marking(token: str, ids: list[int], now: datetime) -> Update:
    return (
        update(_t)
        .where(_t.c.id.in_(ids), _t.c.claimed_by == token)
        .values(
            status="delivered",
            delivered_at=now,
            claimed_by=None,
            claimed_until=None,
            last_error=None,
        )
    )


def mark_delivered(conn: Connection, token: str, ids: list[int], now: datetime) -> int:
    """Mark the rows ``token`` still owns as delivered and add them to the delivered total;
    returns how many were marked. ``conn`` may be in autocommit on PostgreSQL (one statement)."""
    if conn.dialect.name != "postgresql":
        marked = int(conn.execute(_marking(token, ids, now)).rowcount)
        if marked:
            _bump_total(conn, marked)
        return marked
    rows = _marking(token, ids, now).returning(_t.c.id).cte("marked")
    counted = select(literal(DELIVERED_TOTAL), func.count()).select_from(rows)
    insert = postgresql.insert(xapi_outbox_totals).from_select(["name", "value"], counted)
    bump = insert.on_conflict_do_update(
        index_elements=["name"],
        set_={"value": xapi_outbox_totals.c.value + insert.excluded.value},
    ).cte("bumped")
    return int(conn.execute(select(func.count()).select_from(rows).add_cte(bump)).scalar_one())


def prune_batch(conn: Connection, cutoff: datetime, limit: int) -> int:
    """Delete up to ``limit`` delivered rows older than ``cutoff`` (oldest first) and subtract
    them from the delivered total; pending rows and dead letters are never touched."""
    oldest = (
        select(_t.c.id)
        .where(_delivered, _t.c.delivered_at < cutoff)
        .order_by(_t.c.delivered_at)
        .limit(limit)
    )
    gone: Delete = delete(_t).where(_t.c.id.in_(oldest.scalar_subquery()), _delivered)
    deleted = int(conn.execute(gone).rowcount)
    if deleted:
        _bump_total(conn, -deleted)
    return deleted


def next_due() -> Select[Any]:
    """When the earliest pending row is due (None: nothing pending)."""
    return select(func.min(_t.c.next_attempt_at)).where(_pending)


def status_query() -> Select[Any]:
    """pending, delivered, dead, next attempt, latest error, oldest pending row's creation:
    one round trip, no full scan (the oldest pending row is the first of the pending index)."""
    d = xapi_dead_letters
    pending = select(func.count()).select_from(_t).where(_pending).scalar_subquery()
    delivered = (
        select(xapi_outbox_totals.c.value)
        .where(xapi_outbox_totals.c.name == DELIVERED_TOTAL)
        .scalar_subquery()
    )
    dead = select(func.count()).select_from(d).scalar_subquery()
    nxt = next_due().scalar_subquery()
    last = (
        select(_t.c.last_error)
        .where(_pending, _t.c.last_error.is_not(None))
        .order_by(_t.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    oldest = select(_t.c.created_at).where(_pending).order_by(_t.c.id).limit(1).scalar_subquery()
    return select(pending, delivered, dead, nxt, last, oldest)
