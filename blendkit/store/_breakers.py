"""A circuit breaker whose state every process on one database shares.

With several deliverers (or web workers) per endpoint, in-process breakers let each process
probe a down endpoint on its own schedule: N processes, N probes per interval, N warnings.
:class:`StoredCircuitBreaker` keeps the state in ``http_breakers`` (one row per endpoint):

* **closed, fast path:** no database round trip per call; the shared row is read again at most
  every ``refresh_seconds`` (and on every call once this process has seen a failure), so a
  breaker opened elsewhere holds this process back within that interval;
* **one probe at a time:** when the wait is over, the process whose conditional ``UPDATE`` takes
  the probe lease sends the probe; a lease outlived by its process (``probe_lease_seconds``)
  passes to the next caller;
* **one log line per state change** across processes: only the process whose update changed the
  state logs it;
* **the database down:** the breaker goes on in-process (:class:`blendkit.http.CircuitBreaker`
  behaviour) from its last view, and shares again once the database answers.
"""

from __future__ import annotations

import contextlib
import logging
import math
import random
import time
import uuid
from collections.abc import Callable
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import SQLAlchemyError

from blendkit._breaker import BreakerState, CircuitBreaker
from blendkit.store._store import Store
from blendkit.store._tables_core import http_breakers

__all__ = ["StoredCircuitBreaker"]

_log = logging.getLogger("blendkit.http.breaker")
_t = http_breakers.c


class StoredCircuitBreaker(CircuitBreaker):
    """A :class:`~blendkit.http.CircuitBreaker` shared through ``store`` by every process that
    names the same endpoint. ``clock`` is wall-clock seconds (shared across processes)."""

    def __init__(
        self,
        store: Store,
        name: str,
        *,
        initial_seconds: float = 1.0,
        max_seconds: float = 300.0,
        failure_threshold: int = 1,
        refresh_seconds: float = 2.0,
        probe_lease_seconds: float = 60.0,
        clock: Callable[[], float] = time.time,
        jitter: Callable[[], float] = random.random,
        log: logging.Logger = _log,
    ) -> None:
        super().__init__(
            name, initial_seconds=initial_seconds, max_seconds=max_seconds,
            failure_threshold=failure_threshold, clock=clock, jitter=jitter, log=log,
        )  # fmt: skip
        self.store = store
        self.refresh = refresh_seconds
        self.probe_lease = probe_lease_seconds
        self._token = uuid.uuid4().hex
        self._read_at = -math.inf
        self._probing = False

    # --- the local view -------------------------------------------------------------------

    def _adopt(self, row: Any | None, now: float) -> None:
        """Take the shared row (None: never failed, closed) as this process's view."""
        with self._lock:
            self._read_at = now
            if row is None:
                self._state, self._failures, self._opens, self._probing = "closed", 0, 0, False
                return
            self._state = row.state
            self._failures, self._opens, self.trips = row.failures, row.opens, row.trips
            self._open_until = row.open_until or 0.0
            self._opened_at = row.opened_at or 0.0
            self._probing = row.state == "half-open" and row.probe_by == self._token

    def _healthy_and_fresh(self) -> bool:
        with self._lock:
            return (
                self._state == "closed"
                and self._failures == 0
                and self.clock() - self._read_at < self.refresh
            )

    def _read(self) -> Any | None:
        with self.store.autocommit() as conn:
            return conn.execute(select(http_breakers).where(_t.name == self.name)).first()

    @property
    def state(self) -> BreakerState:
        if not self._healthy_and_fresh():
            with contextlib.suppress(SQLAlchemyError):  # database down: the last view stands
                self._adopt(self._read(), self.clock())
        return super().state

    # --- calls ------------------------------------------------------------------------------

    def allow(self) -> bool:
        if self._healthy_and_fresh():
            return True
        try:
            return self._allow_shared()
        except SQLAlchemyError:
            return super().allow()

    def _allow_shared(self) -> bool:
        now = self.clock()
        row = self._read()
        self._adopt(row, now)
        if row is None or row.state == "closed":
            return True
        due = or_(
            and_(_t.state == "open", _t.open_until <= now),
            and_(_t.state == "half-open", _t.probe_until <= now),
        )
        with self.store.autocommit() as conn:
            taken = conn.execute(
                update(http_breakers)
                .where(_t.name == self.name, due)
                .values(state="half-open", probe_by=self._token, probe_until=now + self.probe_lease)
            ).rowcount
        if not taken:
            return False
        with self._lock:
            self._state, self._probing = "half-open", True
        self._log.info("%s: circuit half-open, sending one probe", self.name)
        return True

    def release(self) -> None:
        with self._lock:
            probing = self._probing
        if not probing:
            return super().release()
        now = self.clock()
        try:
            with self.store.autocommit() as conn:
                conn.execute(
                    update(http_breakers)
                    .where(_t.name == self.name, _t.probe_by == self._token)
                    .values(state="open", open_until=now, probe_by=None, probe_until=None)
                )
        except SQLAlchemyError:
            self._log.debug("%s: probe lease left to expire (database unavailable)", self.name)
        with self._lock:
            self._state, self._open_until, self._probing = "open", now, False
        return None

    def success(self) -> None:
        with self._lock:
            healthy = self._state == "closed" and self._failures == 0 and not self._probing
        if healthy:
            return
        now = self.clock()
        try:
            with self.store.autocommit() as conn:
                # Only the process whose update finds the row not closed logs the change.
                reopened = conn.execute(
                    update(http_breakers)
                    .where(_t.name == self.name, _t.state != "closed")
                    .values(state="closed", failures=0, opens=0, probe_by=None, probe_until=None)
                    .returning(_t.opened_at)
                ).first()
                if reopened is None:  # closed already: forget failures short of the threshold
                    conn.execute(
                        update(http_breakers)
                        .where(_t.name == self.name, _t.failures > 0)
                        .values(failures=0)
                    )
        except SQLAlchemyError:
            return super().success()
        self._adopt(None, now)
        if reopened is not None:
            self._log.warning(
                "%s: circuit closed, answering again after %.0f s",
                self.name,
                now - (reopened.opened_at or now),
            )
        return None

    def failure(self, reason: str, *, retry_after: float | None = None) -> None:
        try:
            change = self._fail_shared(retry_after)
        except SQLAlchemyError:
            return super().failure(reason, retry_after=retry_after)
        if change is None:
            return None
        was, wait, failures = change
        if was == "closed":
            self._log.warning(
                "%s: circuit open after %d failure(s) (%s); next probe in %.1f s",
                self.name, failures, reason, wait,
            )  # fmt: skip
        else:
            self._log.info(
                "%s: circuit open, probe failed (%s); next probe in %.1f s", self.name, reason, wait
            )
        return None

    def _fail_shared(self, retry_after: float | None) -> tuple[str, float, int] | None:
        """Apply one failure to the shared row under its lock; returns ``(state before, wait,
        failures)`` when this process changed the state to open, else None."""
        now = self.clock()
        fresh = {"name": self.name, "state": "closed", "failures": 0, "opens": 0, "trips": 0}
        with self.store.transaction() as conn:
            conn.execute(self.store.insert_ignoring_conflicts(http_breakers, "name").values(fresh))
            # A write first: the row lock (PostgreSQL) or the write lock (SQLite) is ours
            # before the read, so two processes never decide on the same state.
            conn.execute(
                update(http_breakers).where(_t.name == self.name).values(failures=_t.failures)
            )
            row = conn.execute(select(http_breakers).where(_t.name == self.name)).one()
            change: tuple[str, float, int] | None = None
            values: dict[str, Any] = {}
            if row.state == "closed":
                failures = row.failures + 1
                values["failures"] = failures
                if failures >= self.threshold or retry_after is not None:
                    wait = self._wait(row.opens + 1, retry_after)
                    values.update(
                        state="open", opens=row.opens + 1, trips=row.trips + 1,
                        opened_at=now, open_until=now + wait,
                    )  # fmt: skip
                    change = ("closed", wait, failures)
            elif row.state == "half-open" and row.probe_by == self._token:
                wait = self._wait(row.opens + 1, retry_after)
                values.update(
                    state="open", opens=row.opens + 1, open_until=now + wait,
                    probe_by=None, probe_until=None,
                )  # fmt: skip
                change = ("half-open", wait, row.failures)
            # Open, or another process's probe in flight: this call's failure changes nothing.
            if values:
                conn.execute(update(http_breakers).where(_t.name == self.name).values(values))
            after = conn.execute(select(http_breakers).where(_t.name == self.name)).one()
        self._adopt(after, now)
        return change
