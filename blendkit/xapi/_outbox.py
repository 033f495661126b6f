"""The durable outbox: statements are written to the store first, then delivered in batches.

* ``emit()`` validates, gives each statement an id and a timestamp if it lacks them, and inserts
  it (once: the statement id is unique) in the caller's transaction or its own.
* A deliverer claims a batch (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, a claim token and lease
  everywhere), POSTs it, and marks it delivered. 5xx / 429 / timeouts back off exponentially with
  jitter (``Retry-After`` wins); 400 / 409 / 413 / 422 split the batch in halves until the bad
  statements are alone, and those go to the dead-letter table with the LRS's reason.
* While the LRS is down or busy the whole endpoint backs off (a :class:`~blendkit.http.
  CircuitBreaker`): one probe batch at a time, not a claim per due row; one log line per state
  change.
* A crash between claim and mark leaves a lease that expires; the batch is sent again and the LRS
  recognises the ids (204 / 409), so nothing is lost and nothing is stored twice. A mark that the
  database refuses is retried at once, then kept and applied before the next claim, so a short
  database outage does not cost a re-send; :attr:`Outbox.counters` counts both.
* Before each later half of a split batch, the deliverer renews its whole claim (the halves still
  waiting included) and sends only the rows it still owns: rows another deliverer re-claimed
  after a stall are left to it, never sent twice by the old owner.
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import timedelta
from typing import Any

import orjson
from sqlalchemy import Connection, Insert, delete, insert, update
from sqlalchemy.orm import Session

from blendkit.errors import LRSConflict, LRSError, LRSRejected, LRSUnavailable, OutboxError
from blendkit.http import CircuitBreaker, Fence
from blendkit.store import Store, StoredCircuitBreaker
from blendkit.store._tables_xapi import xapi_dead_letters, xapi_outbox
from blendkit.xapi import _outbox_sql as sql
from blendkit.xapi._client import LRSClient
from blendkit.xapi._models import Statement
from blendkit.xapi._outbox_loop import DATABASE_ERRORS, OutboxLoops
from blendkit.xapi._outbox_ops import (
    PENDING,
    DeadLetter,
    DeliveryReport,
    ExportState,
    OutboxCounters,
    OutboxStatus,
    _Row,
    _utc,
)
from blendkit.xapi._wire import as_statement

__all__ = [
    "DeadLetter",
    "DeliveryReport",
    "ExportState",
    "Outbox",
    "OutboxCounters",
    "OutboxStatus",
]

log = logging.getLogger("blendkit.xapi.outbox")

# Answers that mean "this batch holds a statement the LRS will never accept": split to find it.
_SPLIT_STATUSES = frozenset({400, 409, 413, 422})
_MARK_TRIES = 3  # a refused "delivered" write is tried again after 0.5 s and 1 s


class Outbox(OutboxLoops):
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
        keep_delivered: timedelta | None = None,
        breaker: CircuitBreaker | None = None,
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
        self.keep_delivered = keep_delivered
        self.breaker = breaker or CircuitBreaker(
            _endpoint_name(client),
            initial_seconds=backoff_initial_seconds,
            max_seconds=max(backoff_max_seconds, backoff_initial_seconds),
            clock=clock,
            jitter=jitter,
            log=log,
        )
        self.counters = OutboxCounters()
        self._insert_statement: Insert | None = None
        self._unmarked: dict[str, list[int]] = {}  # claim token -> delivered row ids to mark
        self._next_prune = 0.0

    @classmethod
    def from_settings(
        cls, settings: Any, *, store: Store | None = None, client: LRSClient | None = None
    ) -> Outbox:
        """The outbox for :class:`blendkit.config.Settings` (local-only when no endpoint), with
        the LRS breaker shared by every process on the database
        (:class:`~blendkit.store.StoredCircuitBreaker`)."""
        xapi = settings.xapi
        if client is None and xapi.endpoint:
            client = LRSClient.from_settings(xapi, fence=Fence.from_settings(settings))
        store = store or Store.from_settings(settings)
        return cls(
            store,
            client,
            # Every deliverer on this database shares the LRS's breaker: one probe between them.
            breaker=StoredCircuitBreaker(
                store,
                _endpoint_name(client),
                initial_seconds=xapi.backoff_initial_seconds,
                max_seconds=max(xapi.backoff_max_seconds, xapi.backoff_initial_seconds),
                probe_lease_seconds=max(xapi.lease_seconds, 3 * xapi.timeout_seconds + 5),
                log=log,
            ),
            batch_size=xapi.batch_size,
            version=xapi.version,
            backoff_initial_seconds=xapi.backoff_initial_seconds,
            backoff_max_seconds=xapi.backoff_max_seconds,
            lease_seconds=xapi.lease_seconds,
            keep_delivered=(
                timedelta(days=xapi.keep_delivered_days) if xapi.keep_delivered_days else None
            ),
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

    # --- claim and deliver ------------------------------------------------------------------

    def _claim(self, *, ignore_schedule: bool = False) -> tuple[str, list[_Row]]:
        """Claim a batch and read it back in one statement (``UPDATE … RETURNING``)."""
        token = str(uuid.uuid4())
        now = _utc(self.clock())
        claim = sql.claim(
            token=token,
            now=now,
            until=now + timedelta(seconds=self.lease),
            limit=self.batch_size,
            due_only=not ignore_schedule,
            postgres=self.store.is_postgres,
        )
        with self.store.autocommit() as conn:
            rows = sorted((_Row(*r) for r in conn.execute(claim)), key=lambda r: r.id)
        return token, rows

    def deliver_once(self, *, ignore_schedule: bool = False) -> DeliveryReport:
        """Claim one batch and deliver it; an empty report means nothing was due or the LRS is
        backed off (see :attr:`breaker`)."""
        if self.client is None:
            raise OutboxError(
                "no LRS is configured ([xapi] endpoint): statements stay in the local store; "
                "export them with `blendkit statements export`"
            )
        report = DeliveryReport()
        self._mark_owed(report)
        if not self.breaker.allow():
            return report
        try:
            token, rows = self._claim(ignore_schedule=ignore_schedule)
        except BaseException:
            self.breaker.release()
            raise
        if not rows:
            self.breaker.release()
            return report
        self._send(token, rows, report, renew=False)
        return report

    def _send(
        self, token: str, rows: Sequence[_Row], report: DeliveryReport, *, renew: bool = True
    ) -> None:
        assert self.client is not None
        if renew:  # a later sub-batch: extend the claim's lease, send only the rows still ours
            rows = self._renew(token, rows)
            if not rows:
                return
        report.requests += 1
        try:
            self.client.send_serialized([r.payload.encode() for r in rows])
        except LRSUnavailable as exc:
            self._retry(token, rows, exc, report)
            return
        except (LRSConflict, LRSRejected) as exc:
            if exc.status in _SPLIT_STATUSES:
                self.breaker.success()  # the endpoint works; some statement does not
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
        self.breaker.success()
        self._delivered(token, rows, report)

    def _renew(self, token: str, rows: Sequence[_Row]) -> list[_Row]:
        """Extend the whole claim's lease (the rows still waiting for their turn must not expire
        and be re-claimed by another deliverer); return the ``rows`` this claim still holds."""
        until = _utc(self.clock()) + timedelta(seconds=self.lease)
        with self.store.autocommit() as conn:
            held = set(conn.execute(sql.renew(token, until)).scalars())
        return [r for r in rows if r.id in held]

    def _delivered(self, token: str, rows: Sequence[_Row], report: DeliveryReport) -> None:
        """Mark the batch delivered; a refused write is tried again after 0.5 s and 1 s, then
        owed (applied before the next claim) and the database error raised."""
        ids = [r.id for r in rows]
        for attempt in range(1, _MARK_TRIES + 1):
            try:
                marked = self._mark(token, ids)
                break
            except DATABASE_ERRORS:
                if attempt == _MARK_TRIES:
                    self._unmarked[token] = ids
                    self.counters.unmarked += len(ids)
                    log.warning(
                        "outbox: %d statement(s) reached the LRS but the database did not record "
                        "it; the mark is retried before the next claim (if the %.0f s lease runs "
                        "out first they are sent again, and the LRS keeps one copy)",
                        len(ids),
                        self.lease,
                    )
                    raise
                self.counters.mark_retries += 1
                self.sleep(0.5 * 2 ** (attempt - 1))
        report.delivered += marked
        self._count_lost_lease(len(ids) - marked)

    def _mark(self, token: str, ids: list[int]) -> int:
        """Mark delivered (and add to the total) atomically: one statement on PostgreSQL, one
        transaction of two on SQLite."""
        if self.store.is_postgres:
            with self.store.autocommit() as conn:
                return sql.mark_delivered(conn, token, ids, _utc(self.clock()))
        with self.store.transaction() as conn:
            return sql.mark_delivered(conn, token, ids, _utc(self.clock()))

    def _mark_owed(self, report: DeliveryReport) -> None:
        """Apply the marks a database failure left owed (raises while it still fails)."""
        for token, ids in list(self._unmarked.items()):
            marked = self._mark(token, ids)
            del self._unmarked[token]
            self.counters.unmarked -= len(ids)
            self.counters.late_marks += marked
            report.delivered += marked
            if marked:
                log.info("outbox: recorded %d delivered statement(s) late, none re-sent", marked)
            self._count_lost_lease(len(ids) - marked)

    def _count_lost_lease(self, lost: int) -> None:
        """Delivered rows this claim no longer held when marking: their lease ran out and another
        deliverer claimed them, so they are sent once more (the LRS keeps one copy)."""
        if lost <= 0:
            return
        self.counters.resent_after_lease += lost
        log.warning(
            "outbox: %d delivered statement(s) were claimed again after their lease ran out and "
            "are sent once more (the LRS recognises their ids and keeps one copy)",
            lost,
        )

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
        with self.store.autocommit() as conn:
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
        # The breaker logs the endpoint's state changes; a line per batch would flood the log.
        log.debug("outbox: %d statement(s) retry in %.1f s: %s", len(rows), delay, exc.message)
        self.breaker.failure(exc.message, retry_after=exc.retry_after)

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


def _endpoint_name(client: LRSClient | None) -> str:
    if client is None:
        return "LRS (none configured)"
    url = client.requests.base.copy_with(username=None, password=None, query=None)
    return f"LRS {url}"


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
