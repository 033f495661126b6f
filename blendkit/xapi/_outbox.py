"""The durable outbox: statements are written to the store first, then delivered in batches.

* ``emit()`` validates, gives each statement an id and a timestamp if it lacks them, and inserts
  it (once: the statement id is unique) in the caller's transaction or its own.
* A deliverer claims a batch (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, a claim token and lease
  everywhere), POSTs it, and marks it delivered; the batches of a claim go out from a sender
  thread while the batch before is marked and the next claim made
  (:mod:`blendkit.xapi._outbox_pipeline`). On PostgreSQL claims and marks commit without
  waiting for the WAL flush (a server crash may forget one: a re-send, never a loss). 5xx /
  429 / timeouts back off exponentially with jitter (``Retry-After`` wins); 400 / 409 / 413 /
  422 split the batch in halves until the bad statements are alone, and those go to the
  dead-letter table with the LRS's reason.
* While the LRS is down or busy the whole endpoint backs off (a :class:`~blendkit.http.
  CircuitBreaker`): one probe batch at a time, not a claim per due row; one log line per state
  change.
* A crash between claim and mark leaves a lease that expires; the batches on the wire and being
  marked are sent again and the LRS recognises the ids (204 / 409), so nothing is lost and
  nothing is stored twice. A mark that the database refuses is retried at once, then kept and
  applied before the next claim (with the mark of the batch that was on the wire meanwhile), so
  a short database outage does not cost a re-send; :attr:`Outbox.counters` counts both.
* Before each later half of a split batch, the deliverer renews its whole claim (the halves still
  waiting included) and sends only the rows it still owns: rows another deliverer re-claimed
  after a stall are left to it, never sent twice by the old owner.
"""

from __future__ import annotations

import functools
import logging
import os
import random
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import orjson
from sqlalchemy import Connection, delete, insert
from sqlalchemy.orm import Session

from blendkit._collector import collector_paused
from blendkit.errors import LRSConflict, LRSError, LRSRejected, OutboxError
from blendkit.http import CircuitBreaker, Fence
from blendkit.store import Store, StoredCircuitBreaker
from blendkit.store._pipeline import pipeline_ready
from blendkit.store._queue import utc as _utc
from blendkit.store._tables_xapi import xapi_dead_letters, xapi_outbox
from blendkit.xapi._client import LRSClient
from blendkit.xapi._models import Statement
from blendkit.xapi._outbox_ops import (
    PENDING,
    ROW_PREFIX,
    DeadLetter,
    DeliveryReport,
    ExportState,
    OutboxCounters,
    OutboxOperations,
    OutboxStatus,
    _Row,
)
from blendkit.xapi._outbox_pipeline import Pipeline
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

_PIPELINED_ROWS = 100
"""Rows per INSERT when an emit's statements are sent in pipeline mode (PostgreSQL): 25 to 125
measured alike (105–114 ms for 2,000 statements), one INSERT of 500 took 171 ms."""

# Answers that mean "this batch holds a statement the LRS will never accept": split to find it.
_SPLIT_STATUSES = frozenset({400, 409, 413, 422})


class Outbox(OutboxOperations):
    """Store-first statement delivery; see the module docstring for the guarantees."""

    log = log
    claim_batches = 5
    """How many batches one claim holds at most (one round trip claims them; each is sent and
    marked delivered on its own, so a crash re-sends at most the batches in flight)."""
    claims_per_pass = 8
    """How many claims one delivery pass makes at most while the LRS accepts every batch (each
    next claim is made while the last batch of the one before is on the wire)."""

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
        # A claim must outlive the longest request, or a live deliverer could lose its batch.
        timeout = client.timeout.read if client is not None and client.timeout.read else 0.0
        super().__init__(
            store,
            batch_size=batch_size,
            backoff_initial_seconds=backoff_initial_seconds,
            backoff_max_seconds=backoff_max_seconds,
            lease_seconds=max(lease_seconds, 3 * timeout + 5),
            clock=clock,
            sleep=sleep,
            jitter=jitter,
            keep_done=keep_delivered,
        )
        self.client = client
        self.version = version
        self.breaker = breaker or CircuitBreaker(
            _endpoint_name(client),
            initial_seconds=backoff_initial_seconds,
            max_seconds=max(backoff_max_seconds, backoff_initial_seconds),
            clock=clock,
            jitter=jitter,
            log=log,
        )
        self._insert_statement: tuple[str, Any] | None = None

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
        return self._stamped(as_statement(statement, self.version))

    def _stamped(
        self, statement: Statement, new_id: Callable[[], uuid.UUID] = uuid.uuid4
    ) -> tuple[str, bytes]:
        """``(id, JSON)`` of a validated statement, given an id (from ``new_id``) and a
        timestamp if it lacks them.

        The members added go in front of the statement's own JSON (its bytes, kept on the value
        once computed) rather than into a copy of the value serialised afresh: the same members
        and values, only their order differs, and a copy cost as much again as the JSON."""
        body = statement.to_json()
        if statement.id is not None and statement.timestamp is not None:
            return str(statement.id), body
        added: dict[str, Any] = {}
        sid = statement.id or new_id()
        if statement.id is None:
            added["id"] = sid
        if statement.timestamp is None:
            added["timestamp"] = _utc(self.clock())
        head = orjson.dumps(added, option=orjson.OPT_UTC_Z)  # b'{"id":…}'
        return str(sid), head[:-1] + b"," + body[1:]

    def row(self, statement: Any) -> dict[str, Any]:
        """One statement as the bind values of :meth:`row_insert` (validated and given an id
        and timestamp as ``emit`` does), due now."""
        with collector_paused():
            sid, body = self.prepare(statement)
        now = _utc(self.clock())
        return {
            f"{ROW_PREFIX}statement_id": sid, f"{ROW_PREFIX}payload": body.decode(),
            f"{ROW_PREFIX}status": PENDING, f"{ROW_PREFIX}attempts": 0,
            f"{ROW_PREFIX}next_attempt_at": now, f"{ROW_PREFIX}created_at": now,
        }  # fmt: skip

    def emit(
        self, statements: Any | Iterable[Any], *, session: Session | Connection | None = None
    ) -> list[str]:
        """Queue statements durably; returns their ids. A statement already queued is ignored.

        Pass the app's ``session`` (or connection) to make the statements part of its
        transaction: they are stored if and only if the app's change commits. Inside
        :meth:`blendkit.Store.unit_of_work` they join that unit without being passed anything.
        """
        items = [statements] if _is_single(statements) else list(statements)
        with collector_paused():
            # Every statement is validated before any is written: a refusal writes nothing.
            checked = [as_statement(s, self.version) for s in items]
            if not checked:
                return []
            if session is not None:
                return self._queue(session, checked)
            # its own transaction, or the store's unit of work when one is open
            with self.store.transaction() as joined:
                return self._queue(joined, checked)

    def _queue(self, target: Session | Connection, statements: Sequence[Statement]) -> list[str]:
        """Insert validated statements (given ids and timestamps) in ``target``'s transaction;
        returns their ids. Many statements on PostgreSQL go in pipelined INSERTs of
        :data:`_PIPELINED_ROWS`: each part is serialised while the server inserts the one
        before (:mod:`blendkit.store._pipeline`)."""
        conn = target.connection() if isinstance(target, Session) else target
        now = _utc(self.clock())
        new_id = functools.partial(next, _random_uuids(len(statements)))
        if len(statements) > _PIPELINED_ROWS and pipeline_ready(conn):
            ids: list[str] = []

            def parts() -> Iterator[list[tuple[str, str]]]:
                for start in range(0, len(statements), _PIPELINED_ROWS):
                    chunk = statements[start : start + _PIPELINED_ROWS]
                    part = [self._stamped(s, new_id) for s in chunk]
                    ids.extend(sid for sid, _ in part)
                    yield [(sid, body.decode()) for sid, body in part]

            self._insert_pipelined(conn, parts(), now)
            return ids
        prepared = [self._stamped(s, new_id) for s in statements]
        self._insert(conn, [(sid, body.decode()) for sid, body in prepared], now)
        return [sid for sid, _ in prepared]

    # --- claim and deliver ------------------------------------------------------------------

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
        with collector_paused():
            self._deliver_claim(report, ignore_schedule=ignore_schedule)
        return report

    def _deliver_claim(self, report: DeliveryReport, *, ignore_schedule: bool) -> None:
        """Claim up to :attr:`claim_batches` batches and send them one by one."""
        # A probe of an endpoint that was down is one batch; otherwise a claim holds up to
        # ``claim_batches`` batches, each sent and marked on its own.
        batches = 1 if self.breaker.state != "closed" else self.claim_batches
        try:
            claimed = self._claim_batches(ignore_schedule, batches)
        except BaseException:
            self.breaker.release()
            raise
        if claimed is None:
            self.breaker.release()
            return
        token, chunks = claimed
        if len(chunks) == 1:  # one batch: nothing to overlap
            self._send(token, chunks[0], report, renew=False)
            return
        with ThreadPoolExecutor(1, thread_name_prefix="blendkit-outbox-post") as sender:
            Pipeline(
                self,
                sender,
                token,
                chunks,
                report,
                claim_more=lambda: self._claim_batches(ignore_schedule, self.claim_batches),
                claims=self.claims_per_pass,
            ).run()

    def _claim_batches(
        self, ignore_schedule: bool, batches: int
    ) -> tuple[str, list[list[_Row]]] | None:
        """Claim up to ``batches`` batches: the claim token and the batches (None: none due)."""
        token, claimed = self._claim(
            ignore_schedule=ignore_schedule, limit=self.batch_size * batches
        )
        if not claimed:
            return None
        rows = [_Row(*r) for r in claimed]
        size = self.batch_size
        return token, [rows[start : start + size] for start in range(0, len(rows), size)]

    def _unsent(self, token: str, chunks: Sequence[Sequence[_Row]]) -> None:
        """Give back batches of a claim that were not sent: due now, no attempt counted."""
        self._defer(token, [r.id for chunk in chunks for r in chunk], _utc(self.clock()), None)

    def _post(self, rows: Sequence[_Row]) -> LRSError | None:
        """POST ``rows`` (their stored JSON, joined as it is); the LRS's refusal, or None. Only
        HTTP: the sender thread of a claim runs this while the database records the last batch."""
        assert self.client is not None
        try:
            self.client.send_serialized([r.payload.encode() for r in rows])
        except LRSError as exc:
            return exc
        return None

    def _send(
        self,
        token: str,
        rows: Sequence[_Row],
        report: DeliveryReport,
        *,
        renew: bool = True,
    ) -> bool:
        """POST ``rows`` and record the outcome; False when the endpoint failed (retried).
        ``renew``: extend the claim's lease first and send only the rows still ours."""
        if renew:
            rows = self._renew(token, rows)
            if not rows:
                return True
        report.requests += 1
        refused = self._post(rows)
        if refused is None:
            self.breaker.success()
            self._delivered(token, [r.id for r in rows], report)
            return True
        return self._refused(token, rows, refused, report)

    def _refused(
        self, token: str, rows: Sequence[_Row], exc: LRSError, report: DeliveryReport
    ) -> bool:
        """Record a refused POST: 400 / 409 / 413 / 422 split the batch (a lone statement is a
        dead letter), anything else is retried; False when the endpoint failed."""
        if isinstance(exc, LRSConflict | LRSRejected) and exc.status in _SPLIT_STATUSES:
            self.breaker.success()  # the endpoint works; some statement does not
            if len(rows) == 1:
                self._dead(token, rows[0], exc, report)
                return True
            half = len(rows) // 2
            first = self._send(token, rows[:half], report)
            second = self._send(token, rows[half:], report)
            return first and second
        # unavailable, credentials, endpoint: not the statements
        self._retry(token, rows, exc, report)
        return False

    @property
    def keep_delivered(self) -> timedelta | None:
        """Delivered statements older than this are pruned by :meth:`run` (None: kept)."""
        return self.keep_done

    def _receiver(self) -> str:
        return "the LRS"

    def _endpoint_wait(self) -> float | None:
        return self.breaker.wait_seconds() if self.breaker.state != "closed" else None

    def _renew(self, token: str, rows: Sequence[_Row]) -> list[_Row]:
        """Extend the whole claim's lease (the rows still waiting for their turn must not expire
        and be re-claimed by another deliverer); return the ``rows`` this claim still holds."""
        held = self._renew_ids(token)
        return [r for r in rows if r.id in held]

    def _retry(
        self, token: str, rows: Sequence[_Row], exc: LRSError, report: DeliveryReport
    ) -> None:
        delay = self._give_back(token, rows, exc.message, exc.retry_after)
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


def _random_uuids(count: int) -> Iterator[uuid.UUID]:
    """``count`` random (version 4) UUIDs, as :func:`uuid.uuid4` makes them, from one read of
    the operating system's random source (``uuid4`` reads it once per id)."""
    pool = os.urandom(16 * count)
    for start in range(0, len(pool), 16):
        yield uuid.UUID(bytes=pool[start : start + 16], version=4)


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
