"""The durable outbox: statements are written to the store first, then delivered in batches.

* ``emit()`` validates, gives each statement an id and a timestamp if it lacks them, and inserts
  it (once: the statement id is unique) in the caller's transaction or its own.
* A deliverer claims a batch (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, a claim token and lease
  everywhere), POSTs it, and marks it delivered. 5xx / 429 / timeouts back off exponentially with
  jitter (``Retry-After`` wins); 400 / 409 / 413 / 422 split the batch in halves until the bad
  statements are alone, and those go to the dead-letter table with the LRS's reason.
* A crash between claim and mark leaves a lease that expires; the batch is sent again and the LRS
  recognises the ids (204 / 409), so nothing is lost and nothing is stored twice.
* Before every request, the first and each half of a split, the deliverer renews its whole claim
  (the halves still waiting included) and sends only the rows it still owns: rows another
  deliverer re-claimed after a stall are left to it, never sent twice by the old owner.
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import IO, Any, Literal

import orjson
from sqlalchemy import Connection, Insert, delete, func, insert, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from blendkit.errors import LRSConflict, LRSError, LRSRejected, LRSUnavailable, OutboxError
from blendkit.http import Fence
from blendkit.store import Store, describe_database_error
from blendkit.store._tables_xapi import xapi_dead_letters, xapi_outbox
from blendkit.xapi._client import LRSClient
from blendkit.xapi._models import Statement
from blendkit.xapi._wire import as_statement

__all__ = ["DeadLetter", "DeliveryReport", "Outbox", "OutboxStatus"]

log = logging.getLogger("blendkit.xapi.outbox")

PENDING = "pending"
DELIVERED = "delivered"
# Answers that mean "this batch holds a statement the LRS will never accept": split to find it.
_SPLIT_STATUSES = frozenset({400, 409, 413, 422})
ExportState = Literal["pending", "delivered", "dead", "all"]


@dataclass(frozen=True)
class OutboxStatus:
    """Counts per state and when the next retry is due."""

    pending: int
    delivered: int
    dead: int
    next_attempt_at: datetime | None
    last_error: str | None


@dataclass
class DeliveryReport:
    """What one delivery pass did."""

    delivered: int = 0
    dead: int = 0
    retried: int = 0
    requests: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, other: DeliveryReport) -> None:
        self.delivered += other.delivered
        self.dead += other.dead
        self.retried += other.retried
        self.requests += other.requests
        self.errors.extend(other.errors)


@dataclass(frozen=True)
class DeadLetter:
    """A statement the LRS refused, with its reason."""

    statement_id: str
    payload: str
    reason: str
    status_code: int | None
    failed_at: datetime


@dataclass(frozen=True)
class _Row:
    id: int
    statement_id: str
    payload: str
    attempts: int


def _utc(value: float) -> datetime:
    return datetime.fromtimestamp(value, UTC)


class Outbox:
    """Store-first statement delivery; see the module docstring for the guarantees."""

    def __init__(
        self,
        store: Store,
        client: LRSClient | None = None,
        *,
        batch_size: int = 100,
        version: str = "1.0.3",
        backoff_initial_seconds: float = 1.0,
        backoff_max_seconds: float = 300.0,
        lease_seconds: float = 120.0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.store = store
        self.client = client
        self.batch_size = batch_size
        self.version = version
        self.backoff_initial = backoff_initial_seconds
        self.backoff_max = backoff_max_seconds
        # A claim must outlive the longest request, or a live deliverer could lose its batch.
        timeout = client.timeout.read if client is not None and client.timeout.read else 0.0
        self.lease = max(lease_seconds, 3 * timeout + 5)
        self.clock = clock
        self.sleep = sleep
        self.jitter = jitter
        self._insert_statement: Insert | None = None

    @classmethod
    def from_settings(
        cls, settings: Any, *, store: Store | None = None, client: LRSClient | None = None
    ) -> Outbox:
        """The outbox for :class:`blendkit.config.Settings` (local-only when no endpoint)."""
        xapi = settings.xapi
        if client is None and xapi.endpoint:
            client = LRSClient.from_settings(xapi, fence=Fence.from_settings(settings))
        return cls(
            store or Store.from_settings(settings),
            client,
            batch_size=xapi.batch_size,
            version=xapi.version,
            backoff_initial_seconds=xapi.backoff_initial_seconds,
            backoff_max_seconds=xapi.backoff_max_seconds,
            lease_seconds=xapi.lease_seconds,
        )

    # --- emit -------------------------------------------------------------------------------

    def prepare(self, statement: Any) -> tuple[str, bytes]:
        """Validate one statement and return ``(id, JSON)``; adds id and timestamp if missing."""
        statement = as_statement(statement, self.version)
        if statement.id is None or statement.timestamp is None:
            statement = statement.model_copy(
                update={
                    "id": statement.id or uuid.uuid4(),
                    "timestamp": statement.timestamp or _utc(self.clock()),
                }
            )
        return str(statement.id), statement.to_json()

    def emit(
        self, statements: Any | Iterable[Any], *, session: Session | Connection | None = None
    ) -> list[str]:
        """Queue statements durably; returns their ids. A statement already queued is ignored.

        Pass the app's ``session`` (or connection) to make the statements part of its
        transaction: they are stored if and only if the app's change commits. Inside
        :meth:`blendkit.Store.unit_of_work` they join that unit without being passed anything.
        """
        items = [statements] if _is_single(statements) else list(statements)
        prepared = [self.prepare(s) for s in items]
        if not prepared:
            return []
        now = _utc(self.clock())
        rows = [
            {
                "statement_id": sid,
                "payload": body.decode(),
                "status": PENDING,
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
            for sid, body in prepared
        ]
        if session is not None:
            self._insert(session, rows)
        else:  # its own transaction, or the store's unit of work when one is open
            with self.store.transaction() as joined:
                self._insert(joined, rows)
        return [sid for sid, _ in prepared]

    def _insert(self, target: Session | Connection, rows: list[dict[str, Any]]) -> None:
        if self._insert_statement is None:  # built once: emit runs on every recorded event
            self._insert_statement = self.store.insert_ignoring_conflicts(
                xapi_outbox, "statement_id"
            )
        target.execute(self._insert_statement, rows)

    # --- claim and deliver ------------------------------------------------------------------

    def _claim(self, *, ignore_schedule: bool = False) -> tuple[str, list[_Row]]:
        token = str(uuid.uuid4())
        now = _utc(self.clock())
        until = now + timedelta(seconds=self.lease)
        t = xapi_outbox
        with self.store.engine.begin() as conn:
            query = (
                select(t.c.id)
                .where(
                    t.c.status == PENDING,
                    or_(t.c.claimed_until.is_(None), t.c.claimed_until < now),
                )
                .order_by(t.c.id)
                .limit(self.batch_size)
            )
            if not ignore_schedule:
                query = query.where(t.c.next_attempt_at <= now)
            if conn.dialect.name == "postgresql":
                query = query.with_for_update(skip_locked=True)
            ids = list(conn.execute(query).scalars())
            if not ids:
                return token, []
            # The WHERE is re-checked under the write lock: two claimers never share a row.
            conn.execute(
                update(t)
                .where(
                    t.c.id.in_(ids),
                    t.c.status == PENDING,
                    or_(t.c.claimed_until.is_(None), t.c.claimed_until < now),
                )
                .values(claimed_by=token, claimed_until=until)
            )
            rows = conn.execute(
                select(t.c.id, t.c.statement_id, t.c.payload, t.c.attempts)
                .where(t.c.claimed_by == token)
                .order_by(t.c.id)
            ).all()
        return token, [_Row(*r) for r in rows]

    def deliver_once(self, *, ignore_schedule: bool = False) -> DeliveryReport:
        """Claim one batch and deliver it; an empty report means nothing was due."""
        if self.client is None:
            raise OutboxError(
                "no LRS is configured ([xapi] endpoint): statements stay in the local store; "
                "export them with `blendkit statements export`"
            )
        token, rows = self._claim(ignore_schedule=ignore_schedule)
        report = DeliveryReport()
        if rows:
            self._send(token, rows, report)
        return report

    def _send(self, token: str, rows: Sequence[_Row], report: DeliveryReport) -> None:
        assert self.client is not None
        rows = self._renew(token, rows)
        if not rows:
            return  # the lease ran out and another deliverer owns these rows now
        report.requests += 1
        try:
            self.client.send_serialized([r.payload.encode() for r in rows])
        except LRSUnavailable as exc:
            self._retry(token, rows, exc, report)
            return
        except (LRSConflict, LRSRejected) as exc:
            if exc.status in _SPLIT_STATUSES:
                if len(rows) == 1:
                    self._dead(token, rows[0], exc, report)
                    return
                half = len(rows) // 2
                self._send(token, rows[:half], report)
                self._send(token, rows[half:], report)
                return
            self._retry(token, rows, exc, report)  # credentials, endpoint: not the statements
            return
        except LRSError as exc:
            self._retry(token, rows, exc, report)
            return
        self._delivered(token, rows, report)

    def _renew(self, token: str, rows: Sequence[_Row]) -> list[_Row]:
        """Extend the lease of every row this claim still holds; return those of ``rows``.

        The whole claim, not only ``rows``: while one half of a split batch is sent, the rows
        waiting for their turn must not expire and be re-claimed by another deliverer.
        """
        until = _utc(self.clock()) + timedelta(seconds=self.lease)
        with self.store.engine.begin() as conn:
            held = set(
                conn.execute(
                    update(xapi_outbox)
                    .where(xapi_outbox.c.claimed_by == token)
                    .values(claimed_until=until)
                    .returning(xapi_outbox.c.id)
                ).scalars()
            )
        return [r for r in rows if r.id in held]

    def _delivered(self, token: str, rows: Sequence[_Row], report: DeliveryReport) -> None:
        now = _utc(self.clock())
        with self.store.engine.begin() as conn:
            marked = conn.execute(
                update(xapi_outbox)
                .where(xapi_outbox.c.id.in_([r.id for r in rows]))
                .where(xapi_outbox.c.claimed_by == token)
                .values(
                    status=DELIVERED,
                    delivered_at=now,
                    claimed_by=None,
                    claimed_until=None,
                    last_error=None,
                )
            ).rowcount
        report.delivered += int(marked)

    def backoff(self, attempts: int) -> float:
        """Delay before retry number ``attempts`` (1-based): exponential, capped, jittered."""
        ceiling = min(self.backoff_max, self.backoff_initial * 2.0 ** max(0, attempts - 1))
        return float(ceiling * (0.5 + self.jitter() / 2))

    def _retry(
        self, token: str, rows: Sequence[_Row], exc: LRSError, report: DeliveryReport
    ) -> None:
        attempts = max(r.attempts for r in rows) + 1
        delay = exc.retry_after if exc.retry_after is not None else self.backoff(attempts)
        due = _utc(self.clock() + delay)
        with self.store.engine.begin() as conn:
            conn.execute(
                update(xapi_outbox)
                .where(xapi_outbox.c.id.in_([r.id for r in rows]))
                .where(xapi_outbox.c.claimed_by == token)
                .values(
                    attempts=xapi_outbox.c.attempts + 1,
                    next_attempt_at=due,
                    claimed_by=None,
                    claimed_until=None,
                    last_error=exc.message[:1000],
                )
            )
        report.retried += len(rows)
        report.errors.append(exc.message)
        log.warning("outbox: %d statement(s) retry in %.1f s: %s", len(rows), delay, exc.message)

    def _dead(self, token: str, row: _Row, exc: LRSError, report: DeliveryReport) -> None:
        now = _utc(self.clock())
        with self.store.engine.begin() as conn:
            gone = conn.execute(
                delete(xapi_outbox)
                .where(xapi_outbox.c.id == row.id)
                .where(xapi_outbox.c.claimed_by == token)
            ).rowcount
            if gone:
                conn.execute(
                    insert(xapi_dead_letters).values(
                        statement_id=row.statement_id,
                        payload=row.payload,
                        reason=exc.message[:4000],
                        status_code=exc.status,
                        attempts=row.attempts + 1,
                        failed_at=now,
                    )
                )
        report.dead += 1
        report.errors.append(exc.message)
        log.error("outbox: statement %s refused by the LRS: %s", row.statement_id, exc.message)

    # --- loops ------------------------------------------------------------------------------

    def flush(self, *, max_seconds: float = 60.0) -> DeliveryReport:
        """Deliver everything pending now, retrying transient failures until ``max_seconds``."""
        total = DeliveryReport()
        deadline = self.clock() + max_seconds
        ignore_schedule = True
        while True:
            report = self.deliver_once(ignore_schedule=ignore_schedule)
            total.add(report)
            if report.requests == 0:
                status = self.status()
                if status.pending == 0 or self.clock() >= deadline:
                    return total
                due = status.next_attempt_at
                wait = due.timestamp() - self.clock() if due is not None else 0.0
                self.sleep(min(max(wait, 0.05), max(0.0, deadline - self.clock())))
            ignore_schedule = False

    def run(self, should_stop: Callable[[], bool], *, poll_seconds: float = 2.0) -> DeliveryReport:
        """Deliver until ``should_stop()`` is true: the long-running deliverer process.

        A database hiccup (locked SQLite file, PostgreSQL failover) is logged and retried after
        ``poll_seconds``; it never ends the process.
        """
        total = DeliveryReport()
        while not should_stop():
            try:
                report = self.deliver_once()
            except SQLAlchemyError as exc:
                # The class and code only: the error's text may quote a statement's values.
                error = describe_database_error(exc)
                log.warning("outbox: database error, retrying in %.1f s: %s", poll_seconds, error)
                total.errors.append(error)
                self.sleep(poll_seconds)
                continue
            total.add(report)
            if report.requests == 0:
                nxt = self.status().next_attempt_at
                wait = poll_seconds if nxt is None else nxt.timestamp() - self.clock()
                self.sleep(min(max(wait, 0.05), poll_seconds))
        return total

    # --- inspection and operations ----------------------------------------------------------

    def status(self) -> OutboxStatus:
        """Pending / delivered / dead counts and the next retry time."""
        t = xapi_outbox
        with self.store.engine.connect() as conn:
            grouped = conn.execute(select(t.c.status, func.count()).group_by(t.c.status)).all()
            counts: dict[str, int] = {str(k): int(v) for k, v in grouped}
            dead = conn.execute(select(func.count()).select_from(xapi_dead_letters)).scalar_one()
            nxt = conn.execute(
                select(func.min(t.c.next_attempt_at)).where(t.c.status == PENDING)
            ).scalar_one()
            last = conn.execute(
                select(t.c.last_error)
                .where(t.c.status == PENDING, t.c.last_error.is_not(None))
                .order_by(t.c.id.desc())
                .limit(1)
            ).scalar_one_or_none()
        if isinstance(nxt, datetime) and nxt.tzinfo is None:
            nxt = nxt.replace(tzinfo=UTC)
        return OutboxStatus(
            pending=int(counts.get(PENDING, 0)),
            delivered=int(counts.get(DELIVERED, 0)),
            dead=int(dead),
            next_attempt_at=nxt,
            last_error=last,
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
        now = _utc(self.clock())
        with self.store.engine.begin() as conn:
            query = select(d.c.id, d.c.statement_id, d.c.payload)
            if statement_ids is not None:
                query = query.where(d.c.statement_id.in_(list(statement_ids)))
            rows = conn.execute(query).all()
            if not rows:
                return 0
            self._insert(
                conn,
                [
                    {
                        "statement_id": r.statement_id,
                        "payload": r.payload,
                        "status": PENDING,
                        "attempts": 0,
                        "next_attempt_at": now,
                        "created_at": now,
                    }
                    for r in rows
                ],
            )
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

    def prune_delivered(self, older_than: timedelta) -> int:
        """Delete delivered rows older than ``older_than`` (the LRS holds them)."""
        cutoff = _utc(self.clock()) - older_than
        with self.store.engine.begin() as conn:
            return int(
                conn.execute(
                    delete(xapi_outbox).where(
                        xapi_outbox.c.status == DELIVERED, xapi_outbox.c.delivered_at < cutoff
                    )
                ).rowcount
            )


def _is_single(value: Any) -> bool:
    return isinstance(value, Statement | dict | bytes | str) or type(value).__module__.startswith(
        "tincan"
    )


def statement_lines(lines: Iterable[bytes]) -> Iterable[tuple[int, Any]]:
    """(line number, parsed JSON or the decode error) for each non-blank line of a JSONL file."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            yield number, orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            yield number, exc
