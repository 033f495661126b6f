"""The durable notification queue: reminders are stored first, then delivered by
``blendkit notify run`` — never lost, and in practice never twice.

* :meth:`NotificationQueue.schedule` stores a :class:`~blendkit.notify.ReminderIntent` once per
  idempotency key (course, recipient, event, event version, offset); a moved session's old
  reminders are cancelled with :meth:`~NotificationQueue.cancel_event`.
* A deliverer claims due rows (a claim token and a lease, shared with the xAPI outbox's
  machinery), groups them by ``(course_id, recipient)`` and asks the
  :class:`~blendkit.notify.DeliveryResolver` what to do: send (:class:`Dispatch`), postpone
  (:class:`Postpone`, no attempt counted) or drop (:class:`Drop`, with the reason).
* **Commit points:** each message is marked sent in its own commit right after its notifier
  accepted it, so a deliverer killed (``kill -9``) between the server's "accepted" and that
  commit sends only that one message again — with the same ``Message.key`` (the e-mail's
  ``Message-ID``) — once the lease runs out. Every other message of the batch is either marked
  sent or was never sent.
* A retryable failure backs the rows off (the server's ``retry_after`` wins) and the notifier's
  endpoint too: a circuit breaker per notifier (shared through the database with
  :meth:`from_settings`) lets one probe through at a time and logs once per state change; rows
  due while it is open wait for it without counting an attempt. A permanent failure makes a dead
  letter with the server's reason.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from itertools import groupby
from typing import Any

from blendkit._breaker import CircuitBreaker
from blendkit.errors import NotifierConfigError
from blendkit.notify._intent import (
    DeliveryDecision,
    DeliveryResolver,
    Dispatch,
    Drop,
    Postpone,
    QueuedReminder,
    ReminderIntent,
)
from blendkit.notify._message import Delivered, Notifier, PermanentFailure, RetryableFailure
from blendkit.notify._queue_ops import (
    DROPPED,
    SENT,
    NotificationDeadLetter,
    NotificationOperations,
    NotificationReport,
    NotificationStatus,
    outcome_total,
)
from blendkit.store import Store, StoredCircuitBreaker
from blendkit.store._queue import DATABASE_ERRORS, DeliveryReport, utc

__all__ = [
    "NotificationDeadLetter",
    "NotificationQueue",
    "NotificationReport",
    "NotificationStatus",
    "Planner",
]

log = logging.getLogger("blendkit.notify.queue")

Planner = Callable[[datetime], Iterable[ReminderIntent]]
"""What ``notify run`` asks each tick: the reminders to schedule as of that moment."""


class NotificationQueue(NotificationOperations):
    """Store-first reminder delivery; implements :class:`~blendkit.notify.NotificationSink`.
    See the module docstring for the guarantees."""

    log = log

    def __init__(
        self,
        store: Store,
        resolver: DeliveryResolver | None = None,
        notifiers: Mapping[str, Notifier] | Callable[[str], Notifier] | None = None,
        *,
        batch_size: int = 100,
        backoff_initial_seconds: float = 5.0,
        backoff_max_seconds: float = 900.0,
        lease_seconds: float = 120.0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
        keep_sent: timedelta | None = None,
        breakers: Callable[[str], CircuitBreaker] | None = None,
    ) -> None:
        super().__init__(
            store,
            batch_size=batch_size,
            backoff_initial_seconds=backoff_initial_seconds,
            backoff_max_seconds=backoff_max_seconds,
            lease_seconds=lease_seconds,
            clock=clock,
            sleep=sleep,
            jitter=jitter,
            keep_done=keep_sent,
        )
        self.resolver = resolver
        self._notifiers: dict[str, Notifier] = {}
        self._factory: Callable[[str], Notifier] | None = None
        if callable(notifiers):
            self._factory = notifiers
        elif notifiers is not None:
            self._notifiers.update(notifiers)
        self._breaker_factory = breakers or self._local_breaker
        self.breakers: dict[str, CircuitBreaker] = {}
        self._renewed = 0.0

    @classmethod
    def from_settings(
        cls,
        settings: Any,
        *,
        store: Store | None = None,
        resolver: DeliveryResolver | None = None,
        notifiers: Mapping[str, Notifier] | Callable[[str], Notifier] | None = None,
    ) -> NotificationQueue:
        """The queue for :class:`blendkit.config.Settings`: ``[notify]``, notifiers loaded by
        name from the ``blendkit.notifiers`` plugins, the :class:`RecipientResolver` by default,
        and one breaker per notifier shared by every deliverer on the database."""
        from blendkit.notify._registry import load_notifier
        from blendkit.notify._resolver import RecipientResolver

        config = settings.notify
        store = store or Store.from_settings(settings)

        def shared(name: str) -> CircuitBreaker:
            return StoredCircuitBreaker(
                store,
                f"notifier {name}",
                initial_seconds=config.backoff_initial_seconds,
                max_seconds=max(config.backoff_max_seconds, config.backoff_initial_seconds),
                probe_lease_seconds=config.lease_seconds,
                log=log,
            )

        return cls(
            store,
            resolver or RecipientResolver(store, channel=config.channel),
            notifiers if notifiers is not None else (lambda name: load_notifier(name, settings)),
            batch_size=config.batch_size,
            backoff_initial_seconds=config.backoff_initial_seconds,
            backoff_max_seconds=config.backoff_max_seconds,
            lease_seconds=config.lease_seconds,
            keep_sent=timedelta(days=config.keep_sent_days) if config.keep_sent_days else None,
            breakers=shared,
        )

    # --- notifiers and their endpoints ----------------------------------------------------------

    def _local_breaker(self, name: str) -> CircuitBreaker:
        return CircuitBreaker(
            f"notifier {name}",
            initial_seconds=self.backoff_initial,
            max_seconds=max(self.backoff_max, self.backoff_initial),
            clock=self.clock,
            jitter=self.jitter,
            log=log,
        )

    def notifier(self, name: str) -> Notifier:
        """The notifier ``name`` (loaded once); :class:`~blendkit.NotifierConfigError` or the
        loader's error when there is none."""
        if name not in self._notifiers:
            if self._factory is None:
                raise NotifierConfigError(
                    f"no notifier named {name!r} is configured: this queue was built without "
                    "notifiers; build it with NotificationQueue.from_settings",
                    code="notify.unknown_notifier",
                )
            self._notifiers[name] = self._factory(name)
        return self._notifiers[name]

    def breaker(self, name: str) -> CircuitBreaker:
        """The endpoint breaker of the notifier ``name``."""
        if name not in self.breakers:
            self.breakers[name] = self._breaker_factory(name)
        return self.breakers[name]

    def _endpoint_wait(self) -> float | None:
        if not self.breakers or any(b.state == "closed" for b in self.breakers.values()):
            return None
        return min(b.wait_seconds() for b in self.breakers.values())

    # --- delivery -------------------------------------------------------------------------------

    def deliver_once(self, *, ignore_schedule: bool = False) -> NotificationReport:
        """Claim one batch of due reminders and settle every row of it; an empty report means
        nothing was due or every notifier is backed off."""
        if self.resolver is None:
            raise NotifierConfigError(
                "this NotificationQueue has no resolver (who receives what, by which notifier) "
                "and cannot deliver: build it with NotificationQueue.from_settings(..., "
                "resolver=...) or use blendkit notify run",
                code="notify.no_resolver",
            )
        report = NotificationReport()
        self._mark_owed(report)
        wait = self._endpoint_wait()
        if wait is not None and wait > 0:
            return report
        token, rows = self._claim(ignore_schedule=ignore_schedule)
        report.claimed = len(rows)
        self._renewed = self.clock()
        rows.sort(key=lambda r: (r.course_id, r.recipient, r.id))
        for _, group in groupby(rows, key=lambda r: (r.course_id, r.recipient)):
            self._settle(token, list(group), report)
        return report

    def _settle(self, token: str, rows: list[Any], report: NotificationReport) -> None:
        """Resolve one recipient's rows and carry out every decision."""
        assert self.resolver is not None
        queued: list[QueuedReminder] = []
        for row in rows:
            try:
                queued.append(self.reminder(row))
            except (LookupError, ValueError) as exc:  # a template or context that no longer reads
                report.dead += self._dead(token, [row.id], "-", f"unreadable reminder: {exc}")
        if not queued:
            return
        try:
            decisions: Sequence[DeliveryDecision] = self.resolver.resolve(queued)
        except DATABASE_ERRORS:
            raise  # the claim's lease runs out and the rows are claimed again: nothing was sent
        except Exception as exc:  # a broken template or resolver: keep the reason, not the loop
            log.exception("notify: the resolver failed for %d reminder(s)", len(queued))
            reason = f"the resolver failed: {type(exc).__name__}: {exc}"
            report.dead += self._dead(token, [q.id for q in queued], "-", reason)
            return
        left = {q.id: q for q in queued}
        for decision in decisions:
            mine = [q for q in (left.pop(i, None) for i in decision.ids) if q is not None]
            ids = [q.id for q in mine]
            if not ids:
                continue
            if isinstance(decision, Postpone):
                until = max(decision.until, utc(self.clock()))
                self._defer(token, ids, until, f"postponed: {decision.reason}")
                report.postponed += len(ids)
            elif isinstance(decision, Drop):
                report.dropped += self._finish(token, ids, DROPPED, decision.reason)
            else:
                self._dispatch(token, mine, decision, report)
        if left:  # every row must have a decision: a missing one is retried later
            self._give_back(token, list(left.values()), "the resolver made no decision", None)
            report.retried += len(left)

    def _dispatch(
        self,
        token: str,
        rows: list[QueuedReminder],
        dispatch: Dispatch,
        report: NotificationReport,
    ) -> None:
        if self.clock() - self._renewed > self.lease / 3:  # a long batch keeps its claim
            held = self._renew_ids(token)
            self._renewed = self.clock()
            rows = [r for r in rows if r.id in held]
        ids = [r.id for r in rows]
        if not ids:
            return
        try:
            notifier = self.notifier(dispatch.notifier)
        except Exception as exc:
            reason = f"notifier {dispatch.notifier!r} is not available: {exc}"
            report.dead += self._dead(token, ids, dispatch.notifier, reason)
            return
        breaker = self.breaker(dispatch.notifier)
        if not breaker.allow():  # the endpoint is backed off: wait for it, no attempt counted
            until = utc(self.clock() + max(breaker.wait_seconds(), self.backoff_initial))
            self._defer(token, ids, until, f"waiting for {breaker.name} to answer again")
            report.postponed += len(ids)
            return
        report.requests += 1
        try:
            outcome = notifier.send(dispatch.message)
        except Exception as exc:
            outcome = RetryableFailure(reason=f"{type(exc).__name__}: {exc}"[:500])
        if isinstance(outcome, Delivered):
            breaker.success()
            self._delivered(token, ids, report, tally=outcome_total(SENT, dispatch.notifier))
        elif isinstance(outcome, PermanentFailure):
            breaker.success()  # the endpoint answered; this message will never go
            report.dead += self._dead(token, ids, dispatch.notifier, outcome.reason)
            report.errors.append(outcome.reason)
            log.error("notify: %s refused a message for good: %s", notifier.name, outcome.reason)
        else:
            delay = self._give_back(token, rows, outcome.reason, outcome.retry_after)
            report.retried += len(ids)
            report.errors.append(outcome.reason)
            log.debug("notify: %d reminder(s) retry in %.1f s: %s", len(ids), delay, outcome.reason)
            breaker.failure(outcome.reason, retry_after=outcome.retry_after)

    def _worked(self, report: DeliveryReport) -> bool:
        return isinstance(report, NotificationReport) and report.claimed > 0

    # --- the deliverer process ------------------------------------------------------------------

    def run_with_planner(
        self,
        should_stop: Callable[[], bool],
        *,
        poll_seconds: float = 5.0,
        planner: Planner | None = None,
        plan_every_seconds: float = 60.0,
    ) -> DeliveryReport:
        """:meth:`run` that also asks ``planner`` (at most every ``plan_every_seconds``) for
        the reminders due as of now and schedules them; a database error while planning is
        survived like any other."""
        if planner is None:
            return self.run(should_stop, poll_seconds=poll_seconds)
        next_plan = 0.0

        def plan() -> None:
            nonlocal next_plan
            if self.clock() < next_plan:
                return
            added = self.schedule(planner(utc(self.clock())))
            next_plan = self.clock() + plan_every_seconds
            if added:
                log.info("notify: scheduled %d new reminder(s)", added)

        return self.run(should_stop, poll_seconds=poll_seconds, each_pass=plan)
