"""Outcomes of calls to other services (a grade sent to a platform, a webhook received),
announced to listeners such as the Prometheus metrics, without a dependency on them."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Literal

__all__ = [
    "OutcomeKind",
    "OutcomeListener",
    "add_outcome_listener",
    "record_outcome",
    "remove_outcome_listener",
]

OutcomeKind = Literal["ags", "webhook"]
OutcomeListener = Callable[[OutcomeKind, str, str], None]
"""``listener(kind, provider, outcome)``; ``provider`` and ``outcome`` come from small fixed sets
(a platform's issuer, a configured meeting provider; ``sent``, ``retried``, ``failed`` …)."""

_listeners: list[OutcomeListener] = []
log = logging.getLogger("blendkit.operations")


def add_outcome_listener(listener: OutcomeListener) -> None:
    """Call ``listener`` for every outcome recorded from now on (once per listener)."""
    if listener not in _listeners:
        _listeners.append(listener)


def remove_outcome_listener(listener: OutcomeListener) -> None:
    """Stop calling ``listener`` (nothing happens if it was not added)."""
    if listener in _listeners:
        _listeners.remove(listener)


def record_outcome(kind: OutcomeKind, provider: str, outcome: str) -> None:
    """Announce one outcome; a failing listener is logged once per call and never raises."""
    for listener in tuple(_listeners):
        try:
            listener(kind, provider, outcome)
        except Exception as exc:  # a metric must never break a delivery or a webhook
            log.warning("outcome listener failed: %s", type(exc).__name__)
