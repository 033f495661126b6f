"""Live sessions: raw participant records and processed webhook event ids.

Revision ID: sessions_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "sessions_0001"
down_revision = None
branch_labels = ("sessions",)
depends_on = "core_0001"

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "sessions_participant_records",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("provider", sa.String(64), nullable=False),
        sa.Column("meeting_id", sa.String(255), nullable=False),
        sa.Column("occurrence_id", sa.String(255), nullable=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("join_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("leave_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("provider_user_id", sa.String(255), nullable=True),
        sa.Column("registrant_id", sa.String(255), nullable=True),
        sa.Column("email", sa.String(320), nullable=True),
        sa.Column("display_name", sa.String(255), nullable=False),
        sa.Column("connection_id", sa.String(255), nullable=True),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sessions_participant_records"),
        sa.UniqueConstraint(
            "provider", "meeting_id", "fingerprint", name="uq_sessions_participant_records_print"
        ),
    )
    op.create_index(
        "ix_sessions_participant_records_meeting",
        "sessions_participant_records",
        ["provider", "meeting_id", "occurrence_id"],
    )
    op.create_table(
        "sessions_webhook_events",
        sa.Column("provider", sa.String(64), nullable=False),
        sa.Column("event_id", sa.String(255), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("provider", "event_id", name="pk_sessions_webhook_events"),
    )
    op.create_index(
        "ix_sessions_webhook_events_received_at", "sessions_webhook_events", ["received_at"]
    )


def downgrade() -> None:
    op.drop_table("sessions_webhook_events")
    op.drop_table("sessions_participant_records")
