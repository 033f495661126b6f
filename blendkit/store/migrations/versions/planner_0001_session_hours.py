"""Slot planner: each learner's own hours for live sessions, per course.

Revision ID: planner_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "planner_0001"
down_revision = None
branch_labels = ("planner",)
depends_on = "courses_0001"


def upgrade() -> None:
    op.create_table(
        "planner_session_hours",
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("sub", sa.String(255), nullable=False),
        sa.Column("hours", sa.String(200), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["course_courses.id"],
            name=op.f("fk_planner_session_hours_course_id_course_courses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("course_id", "sub", name=op.f("pk_planner_session_hours")),
    )


def downgrade() -> None:
    op.drop_table("planner_session_hours")
