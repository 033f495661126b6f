"""Providers whose event subscriptions expire and must be renewed by a periodic job."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol, runtime_checkable

__all__ = ["SubscriptionRenewer"]


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
