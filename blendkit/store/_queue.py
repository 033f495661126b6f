"""A durable delivery queue in the caller's database: the machinery the xAPI outbox and the
notification queue share.

* A deliverer **claims** a batch with a claim token and a lease (``FOR UPDATE SKIP LOCKED`` on
  PostgreSQL), so several processes drain one queue without sharing a row; a deliverer killed
  mid-batch leaves a lease that expires, and the rows are claimed again.
* It **marks** what the receiver accepted (done, and added to a maintained total so status
  never counts done rows); a mark the database refuses is tried again at once, then kept
  ("owed") and applied before the next claim, so a short database outage costs no re-send.
* Transient failures **back off** per row (exponential, jittered; the server's ``Retry-After``
  wins) and per endpoint (a circuit breaker: one probe at a time, one log line per state change).
* Finished rows older than the retention are **pruned** in bounded batches.

Subclasses define ``deliver_once`` (what one pass sends and how it reads the answers); the loops
(``flush``, ``run``) are in :mod:`blendkit.store._queue_loop`.
"""

from __future__ import annotations

import logging
import uuid
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from operator import attrgetter
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from blendkit.errors import StoreError
from blendkit.store._queue_sql import QueueSpec
from blendkit.store._store import Store

__all__ = ["DATABASE_ERRORS", "DeliveryReport", "DurableQueue", "QueueCounters", "aware", "utc"]

DATABASE_ERRORS = (SQLAlchemyError, StoreError)
_MARK_TRIES = 3  # a refused "done" write is tried again after 0.5 s and 1 s
_REMEMBERED_CLAIMS = 64
"""How many of its latest claims a deliverer can renew (a pass makes at most a few)."""


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


@dataclass
class QueueCounters:
    """What this process's deliverer did beyond plain deliveries (for logs and metrics).

    All count rows and only grow, except ``unmarked`` (a gauge).
    """

    mark_retries: int = 0
    """Times the database write marking a delivered batch was tried again."""
    unmarked: int = 0
    """Delivered rows whose mark is still owed (applied before the next claim)."""
    late_marks: int = 0
    """Delivered rows marked after the database came back (no re-send)."""
    resent_after_lease: int = 0
    """Delivered rows whose lease ran out before the mark: sent again (the receiver keeps one)."""


def utc(value: float) -> datetime:
    """A wall-clock timestamp as an aware UTC datetime."""
    return datetime.fromtimestamp(value, UTC)


def aware(value: Any) -> datetime | None:
    """A datetime read back from the database as aware UTC (SQLite returns naive ones)."""
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value if isinstance(value, datetime) else None


class DurableQueue:
    """Claim, renew, mark, back off and prune over one :class:`QueueSpec`'s tables."""

    spec: QueueSpec
    label = "queue"
    """How log lines name the queue (``outbox``, ``notify``)."""
    noun = "row"
    """What one row holds, in log lines (``statement``, ``notification``)."""
    resend_note = "the receiver keeps one copy"
    """Why a re-sent row does no harm, in log lines."""
    log = logging.getLogger("blendkit.store.queue")

    def __init__(
        self,
        store: Store,
        *,
        batch_size: int,
        backoff_initial_seconds: float,
        backoff_max_seconds: float,
        lease_seconds: float,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
        jitter: Callable[[], float],
        keep_done: timedelta | None,
    ) -> None:
        self.store = store
        self.batch_size = batch_size
        self.backoff_initial = backoff_initial_seconds
        self.backoff_max = backoff_max_seconds
        self.lease = lease_seconds
        self.clock = clock
        self.sleep = sleep
        self.jitter = jitter
        self.keep_done = keep_done
        self.counters = QueueCounters()
        # claim token -> delivered row ids to mark, and the extra total they add to
        self._unmarked: dict[str, tuple[list[int], str | None]] = {}
        # claim token -> the ids it claimed, for renewals by primary key (the latest claims)
        self._claimed: OrderedDict[str, list[int]] = OrderedDict()
        self._next_prune = 0.0

    # --- claim --------------------------------------------------------------------------------

    def _claim(
        self, *, ignore_schedule: bool = False, limit: int | None = None
    ) -> tuple[str, list[Any]]:
        """Claim a batch (``limit`` rows, by default :attr:`batch_size`) and read it back in one
        statement (``UPDATE … RETURNING``), by id."""
        token = str(uuid.uuid4())
        now = utc(self.clock())
        limit, due_only = limit or self.batch_size, not ignore_schedule
        postgres = self.store.is_postgres
        claim, params = self.spec.claim(
            token=token,
            now=now,
            until=now + timedelta(seconds=self.lease),
            limit=limit,
            due_only=due_only,
            postgres=postgres,
        )
        claimed: Sequence[Any]
        if postgres:  # on the driver (on Core inside a unit of work or under a statement listener)
            claimed = self.spec.claim_on_driver(limit, due_only).rows(self.store, params)
        else:
            with self.store.autocommit() as conn:
                claimed = conn.execute(claim, params).all()
        rows = sorted(claimed, key=attrgetter("id"))
        if rows:
            self._claimed[token] = [r.id for r in rows]
            while len(self._claimed) > _REMEMBERED_CLAIMS:
                self._claimed.popitem(last=False)
        return token, rows

    def _renew_ids(self, token: str) -> set[int]:
        """Extend the whole claim's lease; return the ids this claim still holds.

        The rows are found by the ids the claim took (primary key), not by the token: no index
        on the claim token to update with every claim and mark. A claim older than the last
        :data:`_REMEMBERED_CLAIMS` of this deliverer is no longer renewed; its rows go back to
        the queue when the lease ends (a pass makes a few claims and sends each before the
        next pass)."""
        ids = self._claimed.get(token)
        if not ids:
            return set()
        until = utc(self.clock()) + timedelta(seconds=self.lease)
        postgres = self.store.is_postgres
        with self.store.autocommit() as conn:
            return set(conn.execute(*self.spec.renew(token, ids, until, postgres)).scalars())

    # --- done -------------------------------------------------------------------------------

    def _delivered(
        self,
        token: str,
        ids: list[int],
        report: DeliveryReport,
        *,
        tally: str | None = None,
    ) -> None:
        """Mark rows done and add them to the done total and to ``tally`` if given (e.g. one
        per notifier); a refused write is tried again after 0.5 s and 1 s, then owed (applied
        before the next claim) and the database error raised."""
        for attempt in range(1, _MARK_TRIES + 1):
            try:
                marked = self._mark(token, ids, tally)
                break
            except DATABASE_ERRORS:
                if attempt == _MARK_TRIES:
                    self._owe(token, ids, tally)
                    self.log.warning(
                        "%s: %d %s(s) reached %s but the database did not record it; the mark is "
                        "retried before the next claim (if the %.0f s lease runs out first they "
                        "are sent again, and %s)",
                        self.label, len(ids), self.noun, self._receiver(), self.lease,
                        self.resend_note,
                    )  # fmt: skip
                    raise
                self.counters.mark_retries += 1
                self.sleep(0.5 * 2 ** (attempt - 1))
        report.delivered += marked
        self._count_lost_lease(len(ids) - marked)

    def _owe(self, token: str, ids: list[int], tally: str | None) -> None:
        """Keep a mark the database did not take, to apply before the next claim (a claim's
        batches owed one after another are marked together)."""
        owed, _ = self._unmarked.get(token, ([], tally))
        self._unmarked[token] = ([*owed, *ids], tally)
        self.counters.unmarked += len(ids)

    def _receiver(self) -> str:
        return "the receiver"

    def _mark(self, token: str, ids: list[int] | None, tally: str | None = None) -> int:
        """Mark done (and add to the total) atomically: one statement on PostgreSQL, one
        transaction of two on SQLite."""
        if self.store.is_postgres:
            with self.store.autocommit() as conn:
                return self.spec.mark_done(conn, token, ids, utc(self.clock()), tally)
        with self.store.transaction() as conn:
            return self.spec.mark_done(conn, token, ids, utc(self.clock()), tally)

    def _mark_owed(self, report: DeliveryReport) -> None:
        """Apply the marks a database failure left owed (raises while it still fails)."""
        for token, (ids, tally) in list(self._unmarked.items()):
            marked = self._mark(token, ids, tally)
            del self._unmarked[token]
            self.counters.unmarked -= len(ids)
            self.counters.late_marks += marked
            report.delivered += marked
            if marked:
                self.log.info(
                    "%s: recorded %d %s %s(s) late, none re-sent",
                    self.label, marked, self.spec.done, self.noun,
                )  # fmt: skip
            self._count_lost_lease(len(ids) - marked)

    def _count_lost_lease(self, lost: int) -> None:
        """Delivered rows this claim no longer held when marking: their lease ran out and another
        deliverer claimed them, so they are sent once more."""
        if lost <= 0:
            return
        self.counters.resent_after_lease += lost
        self.log.warning(
            "%s: %d %s %s(s) were claimed again after their lease ran out and are sent once "
            "more (%s)",
            self.label, lost, self.spec.done, self.noun, self.resend_note,
        )  # fmt: skip

    # --- failures ---------------------------------------------------------------------------

    def backoff(self, attempts: int) -> float:
        """Delay before retry number ``attempts`` (1-based): exponential, capped, jittered."""
        ceiling = min(self.backoff_max, self.backoff_initial * 2.0 ** max(0, attempts - 1))
        return float(ceiling * (0.5 + self.jitter() / 2))

    def _give_back(
        self, token: str, rows: Sequence[Any], message: str, retry_after: float | None
    ) -> float:
        """Count one failed attempt for ``rows`` and make them due again after the backoff (or
        the server's ``retry_after``); returns the delay."""
        attempts = max(r.attempts for r in rows) + 1
        delay = retry_after if retry_after is not None else self.backoff(attempts)
        due = utc(self.clock() + delay)
        with self.store.autocommit() as conn:
            conn.execute(self.spec.retry(token, [r.id for r in rows], due, message))
        return delay

    def _defer(self, token: str, ids: list[int], until: datetime, reason: str | None) -> None:
        """Give rows back, due at ``until``, without counting an attempt."""
        if not ids:
            return
        with self.store.autocommit() as conn:
            conn.execute(self.spec.retry(token, ids, until, reason, count=False))

    # --- inspection and retention -------------------------------------------------------------

    def _next_due(self) -> datetime | None:
        with self.store.autocommit() as conn:
            return aware(conn.execute(self.spec.next_due()).scalar_one())

    def _endpoint_wait(self) -> float | None:
        """Seconds until an endpoint may be tried again when every endpoint is backed off;
        None when one may be tried now (then the next due row decides the wait)."""
        return None

    def prune_finished(self, older_than: timedelta, *, batch_size: int = 1000) -> int:
        """Delete finished rows older than ``older_than``, in batches of ``batch_size`` rows,
        each its own short transaction; pending rows and dead letters are never touched.
        Returns how many were deleted."""
        cutoff = utc(self.clock()) - older_than
        total = 0
        while True:
            with self.store.transaction() as conn:
                deleted = self.spec.prune_batch(conn, cutoff, batch_size)
            total += deleted
            if deleted < batch_size:
                return total
