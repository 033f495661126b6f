"""Tables of the live-sessions core: raw participant records and processed webhook events.

Raw records are kept (not only the merged attendance) so that attendance can be recomputed when
late pages arrive or the roster changes (a corrected e-mail address, a late enrolment). Event
ids make webhook processing idempotent across processes.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    String,
    Table,
    UniqueConstraint,
)

from blendkit.store._schema import metadata

__all__ = ["sessions_participant_records", "sessions_webhook_events"]

_ID = BigInteger().with_variant(Integer, "sqlite")

sessions_participant_records = Table(
    "sessions_participant_records",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("provider", String(64), nullable=False),
    Column("meeting_id", String(255), nullable=False),
    Column("occurrence_id", String(255), nullable=True),
    Column("fingerprint", String(64), nullable=False),
    Column("join_time", DateTime(timezone=True), nullable=False),
    Column("leave_time", DateTime(timezone=True), nullable=True),
    Column("provider_user_id", String(255), nullable=True),
    Column("registrant_id", String(255), nullable=True),
    Column("email", String(320), nullable=True),
    Column("display_name", String(255), nullable=False),
    Column("connection_id", String(255), nullable=True),
    Column("imported_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint(
        "provider", "meeting_id", "fingerprint", name="uq_sessions_participant_records_print"
    ),
    Index("ix_sessions_participant_records_meeting", "provider", "meeting_id", "occurrence_id"),
)

sessions_webhook_events = Table(
    "sessions_webhook_events",
    metadata,
    Column("provider", String(64), primary_key=True),
    Column("event_id", String(255), primary_key=True),
    Column("received_at", DateTime(timezone=True), nullable=False, index=True),
)
