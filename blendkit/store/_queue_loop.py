"""A durable queue's loops: ``flush`` (deliver everything now) and ``run`` (the deliverer
process that survives its database and its endpoints, and prunes finished rows as it goes)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from blendkit._breaker import CircuitBreaker
from blendkit.errors import BlendkitError
from blendkit.store._errors import describe_database_error
from blendkit.store._queue import DATABASE_ERRORS, DeliveryReport, DurableQueue, utc

__all__ = ["QueueLoops", "describe_outage"]

_PRUNE_EVERY_SECONDS = 300.0
_PRUNE_BATCH = 1000


class QueueLoops(DurableQueue):
    """``flush`` and ``run`` over :meth:`deliver_once` (defined by the subclass)."""

    deliver_once: Callable[..., DeliveryReport]
    status: Callable[[], Any]
    database_name = "queue database"
    stopping: Callable[[], bool] = staticmethod(lambda: False)
    """Asked between the batches of one claim: a stop requested while :meth:`run` delivers
    gives the batches not sent yet back at once."""
    """The name the database's own breaker logs under (``outbox database``)."""

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
                wait = max(wait, self._endpoint_wait() or 0.0)
                self.sleep(min(max(wait, 0.05), max(0.0, deadline - self.clock())))
            ignore_schedule = False

    def run(
        self,
        should_stop: Callable[[], bool],
        *,
        poll_seconds: float = 2.0,
        each_pass: Callable[[], Any] | None = None,
    ) -> DeliveryReport:
        """Deliver until ``should_stop()`` is true: the long-running deliverer process.

        A database error anywhere in the loop (a locked SQLite file, a PostgreSQL failover, a
        terminated connection) never ends it: it is logged once when the database goes away and
        once when it is back, and retried with backoff from ``poll_seconds`` up to a minute.
        Finished rows older than the retention are pruned in bounded batches as it goes.
        ``each_pass`` runs before every pass, inside the same protection (e.g. planning).
        ``should_stop`` is checked between batches, so a stop finishes the batch in flight.
        """
        total = DeliveryReport()
        self.stopping = should_stop  # a claim of several batches stops between two of them
        database = CircuitBreaker(
            self.database_name,
            initial_seconds=poll_seconds,
            max_seconds=max(poll_seconds, 60.0),
            clock=self.clock,
            jitter=self.jitter,
            log=self.log,
        )
        while not should_stop():
            try:
                if each_pass is not None:
                    each_pass()
                report = self.deliver_once()
                total.add(report)
                self._prune_step()
                wait = 0.0 if self._worked(report) else self._idle_wait(poll_seconds)
            except DATABASE_ERRORS as exc:
                database.failure(describe_outage(exc))
                total.errors.append(describe_outage(exc))
                wait = database.wait_seconds()
            else:
                database.success()
            if wait > 0:
                self.sleep(wait)
        return total

    def _worked(self, report: DeliveryReport) -> bool:
        """Whether the pass did work (then the next one follows at once)."""
        return report.requests > 0

    def _idle_wait(self, poll_seconds: float) -> float:
        wait = self._endpoint_wait()
        if wait is None:
            nxt = self._next_due()
            wait = poll_seconds if nxt is None else nxt.timestamp() - self.clock()
        return min(max(wait, 0.05), poll_seconds)

    def _prune_step(self) -> None:
        """One bounded batch of retention deletes when one is due (the loop calls this)."""
        if self.keep_done is None or self.clock() < self._next_prune:
            return
        limit = _PRUNE_BATCH
        cutoff = utc(self.clock()) - self.keep_done
        with self.store.transaction() as conn:
            deleted = self.spec.prune_batch(conn, cutoff, limit)
        # A full batch means more are waiting: next pass. Otherwise look again in a while.
        self._next_prune = self.clock() + (0.0 if deleted == limit else _PRUNE_EVERY_SECONDS)
        if deleted:
            self.log.info(
                "%s: pruned %d finished %s(s) older than %s", self.label, deleted, self.noun, cutoff
            )


def describe_outage(exc: BaseException) -> str:
    """A secret-free line for a database error: class and code only, never a statement or its
    values (see :func:`blendkit.store.describe_database_error`)."""
    if isinstance(exc, BlendkitError):
        return f"{type(exc).__name__} [{exc.code}]"
    return describe_database_error(exc)
