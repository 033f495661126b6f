"""A durable webhook event ledger: each provider event is processed once across processes."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete

from blendkit.store import Store
from blendkit.store._tables_courses import course_webhook_events

__all__ = ["StoreEventLedger"]


class StoreEventLedger:
    """A durable :class:`~blendkit.sessions.EventLedger`: webhook events processed once, across
    every app process sharing the database."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def first_time(self, provider: str, event_id: str) -> bool:
        insert = self.store.insert_ignoring_conflicts(course_webhook_events, "provider", "event_id")
        with self.store.transaction() as s:
            stored = s.execute(
                insert.values(
                    provider=provider, event_id=event_id, received_at=datetime.now(UTC)
                ).returning(course_webhook_events.c.event_id)
            ).first()
        return stored is not None

    def forget(self, provider: str, event_id: str) -> None:
        """Un-record an event whose processing failed, so the provider's retry is processed."""
        with self.store.transaction() as s:
            s.execute(
                delete(course_webhook_events).where(
                    course_webhook_events.c.provider == provider,
                    course_webhook_events.c.event_id == event_id,
                )
            )
