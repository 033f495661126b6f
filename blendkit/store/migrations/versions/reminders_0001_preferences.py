"""Reminders: each course's lead times, each learner's preferences and unsubscribes.

Revision ID: reminders_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "reminders_0001"
down_revision = None
branch_labels = ("reminders",)
depends_on = "courses_0007"


def _course_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["course_id"],
        ["course_courses.id"],
        name=op.f(f"fk_{table}_course_id_course_courses"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "reminder_course_settings",
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("deadline_offsets", sa.String(200), nullable=False),
        sa.Column("session_offsets", sa.String(200), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        _course_fk("reminder_course_settings"),
        sa.PrimaryKeyConstraint("course_id", name="pk_reminder_course_settings"),
    )
    op.create_table(
        "reminder_preferences",
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("sub", sa.String(255), nullable=False),
        sa.Column("channel", sa.String(64), nullable=True),
        sa.Column("quiet_start", sa.String(5), nullable=True),
        sa.Column("quiet_end", sa.String(5), nullable=True),
        sa.Column("digest", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("digest_hour", sa.Integer(), nullable=False, server_default="8"),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        _course_fk("reminder_preferences"),
        sa.PrimaryKeyConstraint("course_id", "sub", name="pk_reminder_preferences"),
    )
    op.create_table(
        "reminder_unsubscribes",
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("sub", sa.String(255), nullable=False),
        sa.Column("channel", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        _course_fk("reminder_unsubscribes"),
        sa.PrimaryKeyConstraint("course_id", "sub", "channel", name="pk_reminder_unsubscribes"),
    )


def downgrade() -> None:
    op.drop_table("reminder_unsubscribes")
    op.drop_table("reminder_preferences")
    op.drop_table("reminder_course_settings")
