"""The SQL of a durable delivery queue (the xAPI outbox, the notification queue): each deliverer
step is one statement (or one short transaction on SQLite), and every query reads through one of
the queue table's partial indexes.

* claim: ``UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED LIMIT n) RETURNING …`` — the
  rows come back with the claim, no re-read by claim token;
* mark done: on PostgreSQL one statement that also adds to the done total (a data-modifying
  CTE); on SQLite the same two writes in one transaction;
* status: one SELECT of scalar subqueries (pending count over the pending index, the totals, the
  dead-letter count, the next retry time, the latest error, the oldest pending row).

A :class:`QueueSpec` names the table, its totals table and its statuses; the queue table has the
columns ``id``, ``status``, ``attempts``, ``next_attempt_at``, ``claimed_by``,
``claimed_until``, ``created_at``, ``last_error`` and the column its finished rows are pruned by.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Select,
    Table,
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

__all__ = ["IS_PENDING", "PENDING", "QueueSpec"]

PENDING = "pending"
IS_PENDING = "status = 'pending'"
"""The partial indexes' condition, written literally in queries too (SQLite uses a partial
index only when the query repeats its condition, not with a bound parameter)."""


@dataclass(frozen=True)
class QueueSpec:
    """Which tables and statuses one queue uses."""

    table: Table
    totals: Table
    done: str
    """The status of a delivered row (``delivered``, ``sent``)."""
    done_at: str
    """The column stamped when a row is done (and by which finished rows are pruned)."""
    finished: str
    """The literal condition of the finished rows' partial index (what retention deletes)."""
    claim_columns: tuple[str, ...]
    claim_order: str = "id"
    """The column claims take rows in (its pending partial index makes the claim cheap)."""

    def column(self, name: str) -> Any:
        return self.table.c[name]

    # --- claim --------------------------------------------------------------------------------

    def _unclaimed(self, now: datetime) -> Any:
        t = self.table.c
        return or_(t.claimed_until.is_(None), t.claimed_until < now)

    def claim(
        self, *, token: str, now: datetime, until: datetime, limit: int, due_only: bool,
        postgres: bool,
    ) -> Update:  # fmt: skip
        """Claim up to ``limit`` rows and return :attr:`claim_columns`; two claimers never share
        a row (PostgreSQL: row locks, SKIP LOCKED; SQLite: one writer)."""
        t, pending = self.table.c, text(IS_PENDING)
        due: Select[Any] = (
            select(t.id)
            .where(pending, self._unclaimed(now))
            .order_by(t[self.claim_order], t.id)
            .limit(limit)
        )
        if due_only:
            due = due.where(t.next_attempt_at <= now)
        if postgres:
            # A materialized CTE runs once (an IN (subquery … SKIP LOCKED) may be re-run by the
            # planner and then claim more than ``limit`` rows), and its rows stay locked until
            # the update: the outer statement finds them by primary key, with nothing to check.
            batch = due.with_for_update(skip_locked=True).cte("batch").prefix_with("MATERIALIZED")
            chosen: Any = [t.id == batch.c.id]
        else:  # one statement under SQLite's write lock: nothing runs in between
            chosen = [t.id.in_(due.scalar_subquery()), pending, self._unclaimed(now)]
        return (
            update(self.table)
            .where(*chosen)
            .values(claimed_by=token, claimed_until=until)
            .returning(*(t[c] for c in self.claim_columns))
        )

    def renew(self, token: str, until: datetime) -> Update:
        """Extend the lease of every row ``token`` still holds; returns their ids."""
        t = self.table.c
        return (
            update(self.table)
            .where(t.claimed_by == token)
            .values(claimed_until=until)
            .returning(t.id)
        )

    def owned(self, token: str, ids: list[int]) -> Update:
        """An UPDATE of the rows ``ids`` still claimed by ``token`` (add ``.values``)."""
        t = self.table.c
        return update(self.table).where(t.id.in_(ids), t.claimed_by == token)

    def retry(self, token: str, ids: list[int], due: datetime, error: str | None, *,
              count: bool = True) -> Update:  # fmt: skip
        """Give the rows back, due again at ``due`` (``count``: as one more failed attempt)."""
        t = self.table.c
        values: dict[str, Any] = {"next_attempt_at": due, "claimed_by": None, "claimed_until": None}
        if count:
            values["attempts"] = t.attempts + 1
        if error is not None:
            values["last_error"] = error[:1000]
        return self.owned(token, ids).values(values)

    # --- done and totals -----------------------------------------------------------------------

    def bump(self, conn: Connection, name: str, by: int) -> None:
        """Add ``by`` to the total ``name``."""
        totals = self.totals
        insert = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(totals)
        conn.execute(
            insert.values(name=name, value=by).on_conflict_do_update(
                index_elements=["name"], set_={"value": totals.c.value + insert.excluded.value}
            )
        )

    def _marking(self, token: str, ids: list[int], now: datetime) -> Update:
        return self.owned(token, ids).values(
            {
                "status": self.done,
                self.done_at: now,
                "claimed_by": None,
                "claimed_until": None,
                "last_error": None,
            }
        )

    def mark_done(self, conn: Connection, token: str, ids: list[int], now: datetime) -> int:
        """Mark the rows ``token`` still owns as done and add them to the done total; returns
        how many were marked. ``conn`` may be in autocommit on PostgreSQL (one statement)."""
        if conn.dialect.name != "postgresql":
            marked = int(conn.execute(self._marking(token, ids, now)).rowcount)
            if marked:
                self.bump(conn, self.done, marked)
            return marked
        t, totals = self.table.c, self.totals
        rows = self._marking(token, ids, now).returning(t.id).cte("marked")
        counted = select(literal(self.done), func.count()).select_from(rows)
        insert = postgresql.insert(totals).from_select(["name", "value"], counted)
        bump = insert.on_conflict_do_update(
            index_elements=["name"], set_={"value": totals.c.value + insert.excluded.value}
        ).cte("bumped")
        return int(conn.execute(select(func.count()).select_from(rows).add_cte(bump)).scalar_one())

    def prune_batch(self, conn: Connection, cutoff: datetime, limit: int) -> int:
        """Delete up to ``limit`` finished rows older than ``cutoff`` (oldest first) and take
        them off their totals; pending rows and dead letters are never touched."""
        t, finished, at = self.table.c, text(self.finished), self.table.c[self.done_at]
        oldest = select(t.id).where(finished, at < cutoff).order_by(at).limit(limit)
        gone = (
            delete(self.table)
            .where(t.id.in_(oldest.scalar_subquery()), finished)
            .returning(t.status)
        )
        statuses = Counter(status for (status,) in conn.execute(gone))
        for status, count in sorted(statuses.items()):
            self.bump(conn, status, -count)
        return sum(statuses.values())

    # --- inspection -------------------------------------------------------------------------

    def next_due(self) -> Select[Any]:
        """When the earliest pending row is due (None: nothing pending)."""
        return select(func.min(self.table.c.next_attempt_at)).where(text(IS_PENDING))

    def status_query(self, dead: Table, totals: tuple[str, ...]) -> Select[Any]:
        """pending, each of ``totals``, dead, next attempt, latest error, oldest pending row's
        creation: one round trip, no full scan of the queue."""
        t, pending = self.table.c, text(IS_PENDING)
        count = select(func.count()).select_from(self.table).where(pending).scalar_subquery()
        kept = [
            select(self.totals.c.value).where(self.totals.c.name == name).scalar_subquery()
            for name in totals
        ]
        dead_count = select(func.count()).select_from(dead).scalar_subquery()
        last = (
            select(t.last_error)
            .where(pending, t.last_error.is_not(None))
            .order_by(t.id.desc())
            .limit(1)
            .scalar_subquery()
        )
        oldest = select(t.created_at).where(pending).order_by(t.id).limit(1).scalar_subquery()
        nxt = self.next_due().scalar_subquery()
        return select(count, *kept, dead_count, nxt, last, oldest)
