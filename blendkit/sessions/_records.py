"""Durable storage for the sessions core: raw participant records and processed webhook events.

:class:`SessionRecords` keeps every participant record a provider reported (each one once, so
re-importing a meeting or an overlapping page is harmless) and is a durable
:class:`~blendkit.sessions.EventLedger`: an event id is accepted once across all processes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql import Executable

from blendkit.errors import StoreError
from blendkit.sessions._answers import provider_answers
from blendkit.sessions._attendance import LearnerRoster, build_attendance_report
from blendkit.sessions._models import (
    AttendanceReport,
    JoinLink,
    Learner,
    Occurrence,
    ParticipantRecord,
)
from blendkit.sessions._provider import MeetingProvider
from blendkit.store import Store, describe_database_error
from blendkit.store._tables_sessions import sessions_participant_records, sessions_webhook_events

__all__ = ["SessionRecords", "import_attendance"]

_CHUNK = 500  # rows per INSERT: 13 parameters each stays below every SQLite variable limit
_FIELDS = (
    "occurrence_id",
    "join_time",
    "leave_time",
    "provider_user_id",
    "registrant_id",
    "email",
    "display_name",
    "connection_id",
)


def _aware(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; everything stored is UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def fingerprint(record: ParticipantRecord) -> str:
    """A stable digest of everything a record says, to store each record once."""
    canonical = json.dumps(record.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class SessionRecords:
    """Participant records by provider meeting, and the durable webhook event ledger."""

    def __init__(self, store: Store, *, clock: Callable[[], datetime] | None = None) -> None:
        self._store = store
        self._clock = clock or (lambda: datetime.now(UTC))

    def _insert_ignoring_duplicates(self, table: Any, rows: list[dict[str, Any]]) -> int:
        """INSERT … ON CONFLICT DO NOTHING RETURNING; returns how many rows were new.

        Counted from RETURNING because psycopg reports no rowcount for such inserts.
        """
        dialect = postgresql if self._store.is_postgres else sqlite
        inserted = 0
        try:
            with self._store.transaction() as session:
                for start in range(0, len(rows), _CHUNK):
                    stmt: Executable = (
                        dialect.insert(table)
                        .values(rows[start : start + _CHUNK])
                        .on_conflict_do_nothing()
                        .returning(*table.primary_key.columns)
                    )
                    inserted += len(session.execute(stmt).all())
        except SQLAlchemyError as exc:
            raise StoreError(
                f"could not store live-session records: {describe_database_error(exc)}"
            ) from exc
        return inserted

    def add_participants(
        self, provider: str, meeting_id: str, records: Iterable[ParticipantRecord]
    ) -> int:
        """Store records of a provider meeting; returns how many were not stored already."""
        now = self._clock()
        rows = {}
        for record in records:
            key = fingerprint(record)
            rows[key] = {
                "provider": provider,
                "meeting_id": meeting_id,
                "fingerprint": key,
                "imported_at": now,
                **{name: getattr(record, name) for name in _FIELDS},
            }
        if not rows:
            return 0
        return self._insert_ignoring_duplicates(sessions_participant_records, list(rows.values()))

    def participants(
        self, provider: str, meeting_id: str, occurrence_id: str | None = None
    ) -> list[ParticipantRecord]:
        """The stored records of a meeting (or of one occurrence), in join order."""
        table = sessions_participant_records
        query = select(*(table.c[name] for name in _FIELDS)).where(
            table.c.provider == provider, table.c.meeting_id == meeting_id
        )
        if occurrence_id is not None:
            query = query.where(table.c.occurrence_id == occurrence_id)
        query = query.order_by(table.c.join_time, table.c.id)
        try:
            with self._store.transaction() as session:
                rows = session.execute(query).mappings().all()
        except SQLAlchemyError as exc:
            raise StoreError(
                f"could not read live-session records: {describe_database_error(exc)}"
            ) from exc
        return [
            ParticipantRecord(
                **{
                    **row,
                    "join_time": _aware(row["join_time"]),
                    "leave_time": _aware(row["leave_time"]),
                }
            )
            for row in rows
        ]

    def first_time(self, provider: str, event_id: str) -> bool:
        """Record a webhook event id; True only for the first delivery (any process)."""
        row = {"provider": provider, "event_id": event_id, "received_at": self._clock()}
        return self._insert_ignoring_duplicates(sessions_webhook_events, [row]) == 1

    def forget_events_before(self, cutoff: datetime) -> int:
        """Drop event ids received before ``cutoff`` (providers stop redelivering after days)."""
        try:
            with self._store.transaction() as session:
                result: Any = session.execute(
                    delete(sessions_webhook_events).where(
                        sessions_webhook_events.c.received_at < cutoff.astimezone(UTC)
                    )
                )
                return int(result.rowcount)
        except SQLAlchemyError as exc:
            raise StoreError(
                f"could not prune webhook event ids: {describe_database_error(exc)}"
            ) from exc


def import_attendance(
    provider: MeetingProvider,
    meeting_id: str,
    occurrence: Occurrence,
    roster: Sequence[Learner] | LearnerRoster,
    *,
    join_links: Iterable[JoinLink] = (),
    records: SessionRecords | None = None,
) -> AttendanceReport:
    """Fetch an occurrence's participants from ``provider`` and build its attendance report.

    With ``records``, the fetched intervals are stored first and the report is built from
    everything stored for the occurrence, so records from earlier imports (or webhooks) that the
    provider no longer returns still count, and re-importing never counts anything twice.
    """
    with provider_answers(provider):
        fetched = provider.fetch_attendance(meeting_id, occurrence.occurrence_id)
    if records is not None:
        records.add_participants(provider.name, meeting_id, fetched)
        fetched = records.participants(provider.name, meeting_id, occurrence.occurrence_id)
    return build_attendance_report(
        fetched, roster, occurrence, meeting_id=meeting_id, join_links=join_links
    )
