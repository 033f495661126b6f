"""Courses: weekly series of live sessions, each sitting with its original start and state.

``course_series`` keeps the rule a series was scheduled with; each sitting stays a row of
``course_sessions`` (so attendance, join links and recordings work per sitting) and gains its
series, its original start (RECURRENCE-ID), a cancelled flag and the provider's handle for it.

Revision ID: courses_0006
Revises: courses_0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "courses_0006"
down_revision = "courses_0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "course_series",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("item", sa.String(200), nullable=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("time_zone", sa.String(64), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("recurrence", sa.Text(), nullable=False),
        sa.Column("provider", sa.String(64), nullable=False),
        sa.Column("provider_meeting_id", sa.String(255), nullable=False),
        sa.Column("cancelled", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["course_courses.id"],
            name=op.f("fk_course_series_course_id_course_courses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_course_series")),
    )
    # Plain ALTER TABLE ADD COLUMN, never a batch copy: on SQLite a batch drops and recreates
    # course_sessions, and the drop would cascade to its join links, attendance and recordings.
    op.add_column("course_sessions", sa.Column("series_id", sa.String(64), nullable=True))
    op.add_column(
        "course_sessions",
        sa.Column("original_start_utc", sa.DateTime(timezone=True), nullable=True),
    )
    op.add_column(
        "course_sessions",
        sa.Column("cancelled", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column("course_sessions", sa.Column("provider_ref", sa.String(255), nullable=True))
    op.create_index("ix_course_sessions_series", "course_sessions", ["series_id"])


def downgrade() -> None:
    op.drop_index("ix_course_sessions_series", table_name="course_sessions")
    for column in ("provider_ref", "cancelled", "original_start_utc", "series_id"):
        op.drop_column("course_sessions", column)
    op.drop_table("course_series")
