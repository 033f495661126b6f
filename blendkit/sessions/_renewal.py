"""Providers whose event subscriptions expire and must be renewed by a periodic job."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol, runtime_checkable

__all__ = ["SessionSubscriber", "SubscriptionRenewer"]


@runtime_checkable
class SubscriptionRenewer(Protocol):
    """A meeting provider whose webhook subscriptions expire (Meet's Workspace Events, Teams'
    Graph change notifications).

    ``blendkit sessions import-ended`` calls :meth:`renew_subscriptions` on every run, so the
    cron job that imports ended sessions also keeps event delivery alive.
    """

    def renew_subscriptions(self, now: datetime) -> int:
        """Renew the subscriptions that expire soon after ``now``; return how many were renewed."""
        ...


@runtime_checkable
class SessionSubscriber(Protocol):
    """A meeting provider that subscribes per session and can make missing subscriptions again
    (Teams: one Graph subscription per artifact of each session's online meeting).

    ``blendkit sessions import-ended`` calls :meth:`subscribe_missing` after the renewal with
    the provider meeting ids of the sessions the store knows to have a sitting ending after
    ``now`` less a day, so a subscription that failed when the session was scheduled, or that
    expired, is made by the next run. Providers without it (Meet) are only renewed.
    """

    def subscribe_missing(self, meeting_ids: Sequence[str], now: datetime) -> int:
        """Subscribe each session of ``meeting_ids`` that has no live subscription; return how
        many subscriptions were created."""
        ...
