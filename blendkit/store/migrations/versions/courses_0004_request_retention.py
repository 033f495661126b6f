"""Courses: learner request keys are deleted after ``[courses] keep_request_days``, through an
index on ``recorded_at``.

Revision ID: courses_0004
Revises: courses_0003
"""

from __future__ import annotations

from alembic import op

revision = "courses_0004"
down_revision = "courses_0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_course_requests_recorded_at", "course_requests", ["recorded_at"])


def downgrade() -> None:
    op.drop_index("ix_course_requests_recorded_at", table_name="course_requests")
