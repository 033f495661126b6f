"""The outbox's loops: ``flush`` (deliver everything now) and ``run`` (the deliverer process that
survives its database and its LRS, and prunes delivered rows as it goes)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy.exc import SQLAlchemyError

from blendkit.errors import BlendkitError, StoreError
from blendkit.http import CircuitBreaker
from blendkit.store import describe_database_error
from blendkit.xapi import _outbox_sql as sql
from blendkit.xapi._client import LRSClient
from blendkit.xapi._outbox_ops import DeliveryReport, OutboxOperations, _aware, _utc

__all__ = ["DATABASE_ERRORS", "OutboxLoops", "describe_outage"]

log = logging.getLogger("blendkit.xapi.outbox")

DATABASE_ERRORS = (SQLAlchemyError, StoreError)
_PRUNE_EVERY_SECONDS = 300.0
_PRUNE_BATCH = 1000


class OutboxLoops(OutboxOperations):
    """``flush`` and ``run`` over :meth:`deliver_once` (defined by :class:`Outbox`)."""

    client: LRSClient | None
    breaker: CircuitBreaker
    keep_delivered: timedelta | None
    sleep: Callable[[float], None]
    jitter: Callable[[], float]
    deliver_once: Callable[..., DeliveryReport]
    _next_prune: float

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
                wait = max(wait, self.breaker.wait_seconds())
                self.sleep(min(max(wait, 0.05), max(0.0, deadline - self.clock())))
            ignore_schedule = False

    def run(self, should_stop: Callable[[], bool], *, poll_seconds: float = 2.0) -> DeliveryReport:
        """Deliver until ``should_stop()`` is true: the long-running deliverer process.

        A database error anywhere in the loop (a locked SQLite file, a PostgreSQL failover, a
        terminated connection) never ends it: it is logged once when the database goes away and
        once when it is back, and retried with backoff from ``poll_seconds`` up to a minute.
        Delivered rows older than ``keep_delivered`` are pruned in bounded batches as it goes.
        ``should_stop`` is checked between batches, so a stop finishes the batch in flight.
        """
        total = DeliveryReport()
        database = CircuitBreaker(
            "outbox database",
            initial_seconds=poll_seconds,
            max_seconds=max(poll_seconds, 60.0),
            clock=self.clock,
            jitter=self.jitter,
            log=log,
        )
        while not should_stop():
            try:
                report = self.deliver_once()
                total.add(report)
                self._prune_step()
                wait = 0.0 if report.requests else self._idle_wait(poll_seconds)
            except DATABASE_ERRORS as exc:
                database.failure(describe_outage(exc))
                total.errors.append(describe_outage(exc))
                wait = database.wait_seconds()
            else:
                database.success()
            if wait > 0:
                self.sleep(wait)
        return total

    def _idle_wait(self, poll_seconds: float) -> float:
        if self.breaker.state != "closed":
            wait = self.breaker.wait_seconds()
        else:
            with self.store.autocommit() as conn:
                nxt = _aware(conn.execute(sql.next_due()).scalar_one())
            wait = poll_seconds if nxt is None else nxt.timestamp() - self.clock()
        return min(max(wait, 0.05), poll_seconds)

    def _prune_step(self) -> None:
        """One bounded batch of retention deletes when one is due (the loop calls this)."""
        if self.keep_delivered is None or self.clock() < self._next_prune:
            return
        limit = _PRUNE_BATCH
        cutoff = _utc(self.clock()) - self.keep_delivered
        with self.store.transaction() as conn:
            deleted = sql.prune_batch(conn, cutoff, limit)
        # A full batch means more are waiting: next pass. Otherwise look again in a while.
        self._next_prune = self.clock() + (0.0 if deleted == limit else _PRUNE_EVERY_SECONDS)
        if deleted:
            log.info("outbox: pruned %d delivered statement(s) older than %s", deleted, cutoff)


def describe_outage(exc: BaseException) -> str:
    """A secret-free line for a database error: class and code only, never a statement or its
    values (see :func:`blendkit.store.describe_database_error`)."""
    if isinstance(exc, BlendkitError):
        return f"{type(exc).__name__} [{exc.code}]"
    return describe_database_error(exc)
