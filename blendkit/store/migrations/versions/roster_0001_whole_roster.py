"""Roster: the course's whole membership from NRPS, and attendance grading per course.

``course_enrolments`` gains ``source`` (``launch`` or ``roster``: what first told the tool of the
person), ``launched_at`` (their first launch; NULL means "not launched yet"), ``active`` (false
once the platform dropped them; the row and its evidence stay), ``roster_status`` and
``roster_seen_at`` (what the last roster read said, and when). Existing rows all came from
launches: their ``launched_at`` is their ``enrolled_at``.

``course_rosters`` keeps each course's memberships URL, the platform's ``differences`` link and
the sync queue; ``course_attendance_grading`` keeps a course's attendance grading policy.

Revision ID: roster_0001
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "roster_0001"
down_revision = None
branch_labels = ("roster",)
depends_on = "courses_0007"

_enrolments = sa.table("course_enrolments", sa.column("enrolled_at"), sa.column("launched_at"))


def _course_pk(table: str) -> list[Any]:
    return [
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["course_courses.id"],
            name=op.f(f"fk_{table}_course_id_course_courses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("course_id", name=op.f(f"pk_{table}")),
    ]


def upgrade() -> None:
    # Plain ALTER TABLE ADD COLUMN, never a batch copy (SQLite would recreate the table).
    op.add_column(
        "course_enrolments",
        sa.Column("source", sa.String(16), nullable=False, server_default="launch"),
    )
    op.add_column(
        "course_enrolments", sa.Column("launched_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column(
        "course_enrolments",
        sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()),
    )
    op.add_column("course_enrolments", sa.Column("roster_status", sa.String(16), nullable=True))
    op.add_column(
        "course_enrolments",
        sa.Column("roster_seen_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.execute(_enrolments.update().values(launched_at=_enrolments.c.enrolled_at))
    op.create_table(
        "course_rosters",
        *_course_pk("course_rosters"),
        sa.Column("memberships_url", sa.String(2048), nullable=False),
        sa.Column("differences_url", sa.String(2048), nullable=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("synced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("full_synced_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("members", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("failures", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
    )
    op.create_index("ix_course_rosters_requested", "course_rosters", ["requested_at"])
    op.create_table(
        "course_attendance_grading",
        *_course_pk("course_attendance_grading"),
        sa.Column("enabled", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("policy", sa.String(32), nullable=False),
        sa.Column("full_credit_percent", sa.Float(), nullable=False),
        sa.Column("review_first", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("course_attendance_grading")
    op.drop_index("ix_course_rosters_requested", table_name="course_rosters")
    op.drop_table("course_rosters")
    with op.batch_alter_table("course_enrolments") as batch:
        for name in ("roster_seen_at", "roster_status", "active", "launched_at", "source"):
            batch.drop_column(name)
