"""Prometheus metrics (``pip install 'blendkit[metrics]'``): request latency, outbox health and
outcomes of calls to platforms and meeting providers.

* ``blendkit_launch_duration_seconds{endpoint}`` and ``blendkit_page_duration_seconds{endpoint}``:
  histograms per route (the framework's endpoint name, ``unmatched`` for unknown paths: a small,
  fixed label set).
* ``blendkit_outbox_statements{endpoint,state}`` (pending, delivered, dead),
  ``blendkit_outbox_oldest_pending_age_seconds``, ``blendkit_outbox_breaker_state`` and
  ``blendkit_outbox_breaker_trips``: read by :class:`OutboxCollector` from
  :meth:`Outbox.status` when Prometheus scrapes (one indexed query per scrape, none per request).
  ``blendkit_outbox_up`` is 0 when that query failed.
* ``blendkit_notify_reminders{state}`` (pending, sent, cancelled, dropped, dead),
  ``blendkit_notify_oldest_pending_age_seconds`` and ``blendkit_notify_up``: read by
  :class:`NotificationCollector` from :meth:`NotificationQueue.status` (the same one indexed
  query); ``blendkit_notify_outcomes_total{notifier,outcome}`` (sent, dead): what each notifier
  delivered or gave up on, totals the queue keeps in the database beside each mark (so every
  deliverer process counts, and retention never lowers them).
* ``blendkit_ags_outcomes_total{platform,outcome}`` and
  ``blendkit_webhook_outcomes_total{provider,outcome}``.

Multi-process servers (gunicorn): set ``PROMETHEUS_MULTIPROC_DIR`` to an empty directory before
the server starts (it must be set before ``prometheus_client`` is imported) and call
:func:`mark_process_dead` from gunicorn's ``child_exit`` hook; every worker then writes its
samples there and any worker answers a scrape with the sum.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime

try:
    from prometheus_client import (
        CONTENT_TYPE_LATEST,
        CollectorRegistry,
        Counter,
        Histogram,
        generate_latest,
        multiprocess,
    )
    from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
    from prometheus_client.registry import Collector
except ModuleNotFoundError as exc:  # the extra is missing: say which one
    raise ModuleNotFoundError(
        f"metrics need {exc.name!r}, which is not installed: pip install 'blendkit[metrics]' "
        "(or leave [metrics] token unset)",
        name=exc.name,
    ) from exc
from pydantic import SecretStr
from sqlalchemy.exc import SQLAlchemyError

from blendkit.errors import BlendkitError
from blendkit.notify import NotificationQueue, available_notifiers
from blendkit.operations._metrics_server import MetricsServer
from blendkit.operations._outcomes import OutcomeKind, add_outcome_listener
from blendkit.xapi import Outbox

__all__ = [
    "MULTIPROCESS_ENV",
    "Metrics",
    "MetricsServer",
    "NotificationCollector",
    "OutboxCollector",
    "bearer_token_matches",
    "mark_process_dead",
]

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"
_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_BREAKER_STATES = ("closed", "open", "half-open")

LAUNCH_SECONDS = Histogram(
    "blendkit_launch_duration_seconds",
    "Time to answer an LTI login, launch or registration request.",
    ["endpoint"],
    buckets=_BUCKETS,
    registry=None,
)
PAGE_SECONDS = Histogram(
    "blendkit_page_duration_seconds",
    "Time to answer a page or form request of the tool.",
    ["endpoint"],
    buckets=_BUCKETS,
    registry=None,
)
AGS_OUTCOMES = Counter(
    "blendkit_ags_outcomes",
    "Scores sent to a platform's grade service, by platform issuer and outcome.",
    ["platform", "outcome"],
    registry=None,
)
WEBHOOK_OUTCOMES = Counter(
    "blendkit_webhook_outcomes",
    "Webhook requests from meeting providers, by provider and outcome.",
    ["provider", "outcome"],
    registry=None,
)
_OWN_METRICS = (LAUNCH_SECONDS, PAGE_SECONDS, AGS_OUTCOMES, WEBHOOK_OUTCOMES)


def _count_outcome(kind: OutcomeKind, provider: str, outcome: str) -> None:
    counter = AGS_OUTCOMES if kind == "ags" else WEBHOOK_OUTCOMES
    counter.labels(provider, outcome).inc()


add_outcome_listener(_count_outcome)


def bearer_token_matches(authorization: str | None, token: SecretStr) -> bool:
    """Whether an ``Authorization`` header carries ``Bearer <token>`` (constant-time compare)."""
    expected = token.get_secret_value().encode("utf-8")
    if not expected or not authorization:
        return False
    scheme, _, given = authorization.partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode("utf-8"), expected)


def mark_process_dead(pid: int) -> None:
    """gunicorn ``child_exit`` hook body: drop a dead worker's live gauges (multi-process)."""
    if os.environ.get(MULTIPROCESS_ENV):
        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]


class OutboxCollector(Collector):
    """Outbox counts, oldest pending age and breaker state, read when Prometheus scrapes."""

    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox

    def collect(self) -> Iterator[Metric]:
        endpoint = self.outbox.breaker.name
        up = GaugeMetricFamily(
            "blendkit_outbox_up", "1 when the outbox status could be read.", labels=["endpoint"]
        )
        try:
            status = self.outbox.status()
        except (SQLAlchemyError, BlendkitError):
            up.add_metric([endpoint], 0)
            yield up
            return
        up.add_metric([endpoint], 1)
        yield up
        counts = GaugeMetricFamily(
            "blendkit_outbox_statements",
            "xAPI statements in the outbox by state (delivered: kept until pruned).",
            labels=["endpoint", "state"],
        )
        for state, value in (
            ("pending", status.pending),
            ("delivered", status.delivered),
            ("dead", status.dead),
        ):
            counts.add_metric([endpoint, state], value)
        yield counts
        age = _age(status.oldest_pending_at)
        oldest = GaugeMetricFamily(
            "blendkit_outbox_oldest_pending_age_seconds",
            "Age of the oldest statement still waiting for delivery (0: none).",
            labels=["endpoint"],
        )
        oldest.add_metric([endpoint], age)
        yield oldest
        breaker = GaugeMetricFamily(
            "blendkit_outbox_breaker_state",
            "1 for the LRS circuit breaker's current state (shared by the deliverers when stored).",
            labels=["endpoint", "state"],
        )
        current = self.outbox.breaker.state
        for state in _BREAKER_STATES:
            breaker.add_metric([endpoint, state], 1 if state == current else 0)
        yield breaker
        trips = CounterMetricFamily(
            "blendkit_outbox_breaker_trips",
            "Times the LRS circuit breaker opened (every process, when stored).",
            labels=["endpoint"],
        )
        trips.add_metric([endpoint], self.outbox.breaker.trips)
        yield trips


class NotificationCollector(Collector):
    """Notification queue counts by state, oldest pending age and each notifier's outcomes, read
    when Prometheus scrapes. A reminder's notifier is chosen when it is sent (the learner's
    preferences), so pending reminders are counted for the queue, outcomes per notifier."""

    def __init__(self, queue: NotificationQueue, notifiers: Sequence[str]) -> None:
        self.queue = queue
        self.notifiers = tuple(notifiers)

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("blendkit_notify_up", "1 when the notification queue could be read.")
        try:
            status = self.queue.status()
            outcomes = self.queue.outcomes(self.notifiers)
        except (SQLAlchemyError, BlendkitError):
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        counts = GaugeMetricFamily(
            "blendkit_notify_reminders",
            "Reminders in the notification queue by state (finished ones: kept until pruned).",
            labels=["state"],
        )
        for state, value in (
            ("pending", status.pending),
            ("sent", status.sent),
            ("cancelled", status.cancelled),
            ("dropped", status.dropped),
            ("dead", status.dead),
        ):
            counts.add_metric([state], value)
        yield counts
        yield GaugeMetricFamily(
            "blendkit_notify_oldest_pending_age_seconds",
            "Age of the oldest reminder still waiting to be sent (0: none).",
            value=_age(status.oldest_pending_at),
        )
        sent = CounterMetricFamily(
            "blendkit_notify_outcomes",
            "Reminders each notifier sent or gave up on (dead letters), every process.",
            labels=["notifier", "outcome"],
        )
        for (notifier, outcome), value in sorted(outcomes.items()):
            sent.add_metric([notifier, outcome], value)
        yield sent


def _age(since: datetime | None) -> float:
    """Seconds since ``since`` (0 for None)."""
    if since is None:
        return 0.0
    return max(0.0, (datetime.now(UTC) - since).total_seconds())


class Metrics:
    """The metrics one app exposes: its own registry, so several apps (or tests) never clash.

    In multi-process mode (``PROMETHEUS_MULTIPROC_DIR`` set, or ``multiprocess_dir``) the
    request and outcome metrics are read from every process's files.
    """

    def __init__(self, *, multiprocess_dir: str | None = None) -> None:
        self.registry = CollectorRegistry()
        directory = multiprocess_dir or os.environ.get(MULTIPROCESS_ENV)
        if directory:
            multiprocess.MultiProcessCollector(  # type: ignore[no-untyped-call]
                self.registry, path=directory
            )
        else:
            for metric in _OWN_METRICS:
                self.registry.register(metric)
        self._outboxes: set[int] = set()
        self._queues: set[int] = set()
        self.server: MetricsServer | None = None
        """The separate metrics server this process runs, if any (:meth:`serve`)."""

    def watch_outbox(self, outbox: Outbox) -> None:
        """Report ``outbox``'s counts and breaker on every scrape (once per outbox)."""
        if id(outbox) not in self._outboxes:
            self._outboxes.add(id(outbox))
            self.registry.register(OutboxCollector(outbox))

    def watch_notifications(
        self, queue: NotificationQueue, notifiers: Sequence[str] | None = None
    ) -> None:
        """Report ``queue``'s counts, and the outcomes of ``notifiers`` (default: every notifier
        that loads), on every scrape (once per queue)."""
        if id(queue) not in self._queues:
            self._queues.add(id(queue))
            names = available_notifiers() if notifiers is None else notifiers
            self.registry.register(NotificationCollector(queue, names))

    @staticmethod
    def observe_request(endpoint: str, seconds: float, *, launch: bool) -> None:
        """Record one request's duration under its route's endpoint name."""
        histogram = LAUNCH_SECONDS if launch else PAGE_SECONDS
        histogram.labels(endpoint).observe(seconds)

    def exposition(self) -> tuple[bytes, str]:
        """The text a scrape receives, and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST

    def serve(self, bind: str, token: SecretStr | None = None) -> MetricsServer | None:
        """Serve these metrics on ``bind`` (``host:port``) from a thread of this process;
        ``None`` when another process of the host already listens there (it serves them)."""
        server = MetricsServer(bind, self.exposition, token)
        if not server.start():
            return None
        self.server = server
        return server
