"""The outbox's values (status, dead letters) and its operator actions (status, dead letters,
retry, export, retention) over the shared durable queue, for :class:`blendkit.xapi.Outbox`."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import IO, Any, Literal, NamedTuple

from sqlalchemy import ColumnElement, Connection, Insert, bindparam, delete, select
from sqlalchemy.orm import Session

from blendkit.store._pipeline import run_pipelined
from blendkit.store._queue import DeliveryReport, QueueCounters, aware, utc
from blendkit.store._queue_loop import QueueLoops
from blendkit.store._queue_sql import PENDING, insert_rows_sql
from blendkit.store._tables_xapi import xapi_dead_letters, xapi_outbox
from blendkit.xapi._outbox_sql import DELIVERED_TOTAL, OUTBOX

__all__ = [
    "PENDING",
    "ROW_PREFIX",
    "DeadLetter",
    "DeliveryReport",
    "ExportState",
    "OutboxCounters",
    "OutboxOperations",
    "OutboxStatus",
]

_INSERT_QMARK = (
    "INSERT INTO xapi_outbox (statement_id, payload, status, attempts, next_attempt_at, "
    "created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (statement_id) DO NOTHING"
)
_INSERT_FORMAT = _INSERT_QMARK.replace("?", "%s")
_ROW_COLUMNS = ("statement_id", "payload", "status", "attempts", "next_attempt_at", "created_at")
ROW_PREFIX = "outbox_"
"""Bind names of :meth:`OutboxOperations.row_insert`: the column names with this prefix."""

OutboxCounters = QueueCounters
"""What this process's deliverer did beyond plain deliveries (counts statements)."""
ExportState = Literal["pending", "delivered", "dead", "all"]


@dataclass(frozen=True)
class OutboxStatus:
    """Counts per state and when the next retry is due."""

    pending: int
    delivered: int
    dead: int
    next_attempt_at: datetime | None
    last_error: str | None
    oldest_pending_at: datetime | None = None
    """When the oldest statement still waiting was written (None: nothing pending)."""


@dataclass(frozen=True)
class DeadLetter:
    """A statement the LRS refused, with its reason."""

    statement_id: str
    payload: str
    reason: str
    status_code: int | None
    failed_at: datetime


class _Row(NamedTuple):
    """One claimed row (a tuple: a claim makes hundreds, a frozen dataclass cost 4 µs each)."""

    id: int
    statement_id: str
    payload: str
    attempts: int


class OutboxOperations(QueueLoops):
    """Inspection and operator actions over the outbox tables (no LRS needed)."""

    spec = OUTBOX
    label = "outbox"
    noun = "statement"
    resend_note = "the LRS recognises their ids and keeps one copy"
    database_name = "outbox database"
    _insert_statement: tuple[str, Any] | None

    def _insert(
        self, target: Session | Connection, statements: Sequence[tuple[str, str]], now: datetime
    ) -> None:
        """Queue ``(statement id, JSON)`` pairs, due ``now``; an id already queued is skipped.

        The rows go to the driver as plain values, past SQLAlchemy's per-row parameter
        processing (it cost more than the insert itself for a batch of statements): on SQLite
        one ``executemany`` (a loop inside the driver), on PostgreSQL one INSERT of the ids and
        the JSON as two arrays (one statement for the server to run, not one per row)."""
        conn = target.connection() if isinstance(target, Session) else target
        sql, stamp = self._insert_sql(conn)
        at = stamp(now) if stamp is not None else now
        if len(statements) > 1 and conn.dialect.driver == "psycopg":  # %b is psycopg 3's
            many = insert_rows_sql(xapi_outbox, "statement_id", _ROW_COLUMNS[:2], _ROW_COLUMNS[2:])
            ids, bodies = zip(*statements, strict=True)
            conn.exec_driver_sql(many, (PENDING, 0, at, at, list(ids), list(bodies)))
            return
        rows = [(sid, body, PENDING, 0, at, at) for sid, body in statements]
        # One row (most emits) as a plain execute: an executemany of one row costs the
        # driver's batch machinery for nothing.
        conn.exec_driver_sql(sql, rows[0] if len(rows) == 1 else rows)

    def _insert_pipelined(
        self, conn: Connection, parts: Iterable[Sequence[tuple[str, str]]], now: datetime
    ) -> None:
        """Queue ``(statement id, JSON)`` pairs, due ``now``, one INSERT per part of ``parts``,
        in pipeline mode (``conn`` is one :func:`~blendkit.store._pipeline.pipeline_ready`
        accepted): each part is made while the server inserts the one before. An id already
        queued is skipped, as in :meth:`_insert`."""
        _, stamp = self._insert_sql(conn)
        at = stamp(now) if stamp is not None else now
        many = insert_rows_sql(xapi_outbox, "statement_id", _ROW_COLUMNS[:2], _ROW_COLUMNS[2:])
        run_pipelined(
            conn,
            many,
            (
                (PENDING, 0, at, at, [sid for sid, _ in part], [body for _, body in part])
                for part in parts
            ),
        )

    def row_insert(self, when: ColumnElement[bool] | None = None) -> Insert:
        """INSERT of one queued statement whose values are bind parameters (the column names
        prefixed ``outbox_``; :meth:`blendkit.xapi.Outbox.row` gives them), for a caller that
        queues a statement within a statement of its own (a data-modifying CTE). It inserts
        only while ``when`` holds, and an id already queued is skipped, as in ``emit``."""
        values = select(
            *(bindparam(ROW_PREFIX + name, type_=xapi_outbox.c[name].type) for name in _ROW_COLUMNS)
        )
        return self.store.insert_ignoring_conflicts(xapi_outbox, "statement_id").from_select(
            list(_ROW_COLUMNS), values if when is None else values.where(when)
        )

    def _insert_sql(self, conn: Connection) -> tuple[str, Any]:
        """The INSERT … ON CONFLICT DO NOTHING text in the driver's placeholders and how the
        dialect stores a timestamp (its own bind processor, as SQLAlchemy would apply it)."""
        if self._insert_statement is None:  # built once: emit runs on every recorded event
            dialect = conn.dialect
            column = xapi_outbox.c.created_at
            self._insert_statement = (
                _INSERT_QMARK if dialect.paramstyle == "qmark" else _INSERT_FORMAT,
                column.type.dialect_impl(dialect).bind_processor(dialect),
            )
        return self._insert_statement

    def status(self) -> OutboxStatus:
        """Pending / delivered / dead counts and the next retry time (one indexed query)."""
        with self.store.autocommit() as conn:
            query = OUTBOX.status_query(xapi_dead_letters, (DELIVERED_TOTAL,))
            pending, delivered, dead, nxt, last, oldest = conn.execute(query).one()
        return OutboxStatus(
            pending=int(pending),
            delivered=int(delivered or 0),
            dead=int(dead),
            next_attempt_at=aware(nxt),
            last_error=last,
            oldest_pending_at=aware(oldest),
        )

    def dead_letters(self, limit: int = 100) -> list[DeadLetter]:
        """The most recent dead letters with the LRS's reasons."""
        d = xapi_dead_letters
        with self.store.engine.connect() as conn:
            rows = conn.execute(
                select(d.c.statement_id, d.c.payload, d.c.reason, d.c.status_code, d.c.failed_at)
                .order_by(d.c.id.desc())
                .limit(limit)
            ).all()
        return [DeadLetter(*r) for r in rows]

    def retry_dead(self, statement_ids: Sequence[str] | None = None) -> int:
        """Move dead letters (all, or the given ids) back to pending; returns how many."""
        d = xapi_dead_letters
        now = utc(self.clock())
        with self.store.engine.begin() as conn:
            query = select(d.c.id, d.c.statement_id, d.c.payload)
            if statement_ids is not None:
                query = query.where(d.c.statement_id.in_(list(statement_ids)))
            rows = conn.execute(query).all()
            if not rows:
                return 0
            self._insert(conn, [(r.statement_id, r.payload) for r in rows], now)
            conn.execute(delete(d).where(d.c.id.in_([r.id for r in rows])))
        return len(rows)

    def export(self, out: IO[bytes], *, state: ExportState = "all") -> int:
        """Write statements as JSON lines (one statement per line); returns the count."""
        count = 0
        with self.store.engine.connect() as conn:
            if state in ("pending", "delivered", "all"):
                query = select(xapi_outbox.c.payload).order_by(xapi_outbox.c.id)
                if state != "all":
                    query = query.where(xapi_outbox.c.status == state)
                for (payload,) in conn.execute(query.execution_options(yield_per=1000)):
                    out.write(payload.encode() + b"\n")
                    count += 1
            if state in ("dead", "all"):
                query = select(xapi_dead_letters.c.payload).order_by(xapi_dead_letters.c.id)
                for (payload,) in conn.execute(query):
                    out.write(payload.encode() + b"\n")
                    count += 1
        return count

    def prune_delivered(self, older_than: timedelta, *, batch_size: int = 1000) -> int:
        """Delete delivered rows older than ``older_than`` (the LRS holds them), in batches of
        ``batch_size`` rows, each its own short transaction; pending rows and dead letters are
        never touched. Returns how many were deleted."""
        return self.prune_finished(older_than, batch_size=batch_size)
