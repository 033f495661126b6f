"""A durable webhook event ledger: each provider event is processed once across processes."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete, insert
from sqlalchemy.exc import IntegrityError

from blendkit.store import Store
from blendkit.store._tables_courses import course_webhook_events

__all__ = ["StoreEventLedger"]


class StoreEventLedger:
    """A durable :class:`~blendkit.sessions.EventLedger`: webhook events processed once, across
    every app process sharing the database."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def first_time(self, provider: str, event_id: str) -> bool:
        try:
            with self.store.transaction(savepoint=True) as s:
                s.execute(
                    insert(course_webhook_events).values(
                        provider=provider, event_id=event_id, received_at=datetime.now(UTC)
                    )
                )
        except IntegrityError:
            return False
        return True

    def forget(self, provider: str, event_id: str) -> None:
        """Un-record an event whose processing failed, so the provider's retry is processed."""
        with self.store.transaction() as s:
            s.execute(
                delete(course_webhook_events).where(
                    course_webhook_events.c.provider == provider,
                    course_webhook_events.c.event_id == event_id,
                )
            )
