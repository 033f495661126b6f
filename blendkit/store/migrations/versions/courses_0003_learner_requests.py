"""Courses: learner requests with an idempotency key keep their first outcome.

A learner's form (a quiz, video progress, the done button, a recording watched) may carry an
opaque key rendered with the page. ``course_requests`` keeps, per (course, learner, key), what
kind of request it was, a fingerprint of its content and its outcome, written in the same
transaction as the evidence: a resubmitted form (its answer was lost) gets the first outcome
again instead of spending another quiz attempt.

Revision ID: courses_0003
Revises: courses_0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "courses_0003"
down_revision = "courses_0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "course_requests",
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("sub", sa.String(length=255), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["course_courses.id"],
            name=op.f("fk_course_requests_course_id_course_courses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("course_id", "sub", "key", name=op.f("pk_course_requests")),
    )


def downgrade() -> None:
    op.drop_table("course_requests")
