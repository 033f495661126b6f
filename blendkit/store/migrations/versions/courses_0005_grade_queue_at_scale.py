"""Courses: the grade queue reads pending and failed scores through partial indexes, a course's
scores through ``(course_id, id)``, and counts sent scores in ``course_grade_totals``.

Replaces the full ``(status, next_attempt_at)`` index, whose every entry a status count read.

Revision ID: courses_0005
Revises: courses_0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "courses_0005"
down_revision = "courses_0004"
branch_labels = None
depends_on = None


def _partial(name: str, column: str, status: str) -> None:
    where = sa.text(f"status = '{status}'")
    op.create_index(name, "course_grades", [column], postgresql_where=where, sqlite_where=where)


def upgrade() -> None:
    _partial("ix_course_grades_pending_due", "next_attempt_at", "pending")
    _partial("ix_course_grades_failed", "id", "failed")
    op.create_index("ix_course_grades_course", "course_grades", ["course_id", "id"])
    op.drop_index("ix_course_grades_due", table_name="course_grades")
    op.create_table(
        "course_grade_totals",
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_course_grade_totals")),
    )
    op.execute(
        "INSERT INTO course_grade_totals (name, value) "
        "SELECT 'sent', count(*) FROM course_grades WHERE status = 'sent'"
    )


def downgrade() -> None:
    op.drop_table("course_grade_totals")
    op.create_index("ix_course_grades_due", "course_grades", ["status", "next_attempt_at"])
    op.drop_index("ix_course_grades_course", table_name="course_grades")
    op.drop_index("ix_course_grades_failed", table_name="course_grades")
    op.drop_index("ix_course_grades_pending_due", table_name="course_grades")
