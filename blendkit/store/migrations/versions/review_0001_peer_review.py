"""Peer review: item settings, submissions, review assignments and reviewers who dropped out.

Revision ID: review_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "review_0001"
down_revision = None
branch_labels = ("review",)
depends_on = "courses_0007"


def _course(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["course_id"],
        ["course_courses.id"],
        name=op.f(f"fk_{table}_course_id_course_courses"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "review_settings",
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("item", sa.String(200), nullable=False),
        sa.Column("settings", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        _course("review_settings"),
        sa.PrimaryKeyConstraint("course_id", "item", name="pk_review_settings"),
    )
    ident = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    op.create_table(
        "review_submissions",
        sa.Column("id", ident, autoincrement=True, nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("item", sa.String(200), nullable=False),
        sa.Column("sub", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("file_key", sa.String(64), nullable=True),
        sa.Column("file_name", sa.String(120), nullable=True),
        sa.Column("file_type", sa.String(8), nullable=True),
        sa.Column("file_size", sa.Integer(), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("late", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("placed", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("instructor_points", sa.Float(), nullable=True),
        sa.Column("instructor_by", sa.String(255), nullable=True),
        sa.Column("instructor_note", sa.Text(), nullable=True),
        _course("review_submissions"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_submissions")),
        sa.UniqueConstraint("course_id", "item", "sub", name="uq_review_submissions_learner"),
    )
    op.create_table(
        "review_assignments",
        sa.Column("id", ident, autoincrement=True, nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("submission_id", ident, nullable=False),
        sa.Column("item", sa.String(200), nullable=False),
        sa.Column("reviewer", sa.String(255), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("review", sa.Text(), nullable=True),
        sa.Column("points", sa.Float(), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("flagged", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("flag_note", sa.Text(), nullable=True),
        sa.Column("override_points", sa.Float(), nullable=True),
        sa.Column("override_by", sa.String(255), nullable=True),
        sa.Column("override_note", sa.Text(), nullable=True),
        _course("review_assignments"),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["review_submissions.id"],
            name=op.f("fk_review_assignments_submission_id_review_submissions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_assignments")),
        sa.UniqueConstraint("submission_id", "reviewer", name="uq_review_assignments_pair"),
    )
    op.create_index(
        "ix_review_assignments_reviewer",
        "review_assignments",
        ["course_id", "item", "reviewer"],
        unique=False,
    )
    op.create_table(
        "review_inactive",
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("item", sa.String(200), nullable=False),
        sa.Column("sub", sa.String(255), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        _course("review_inactive"),
        sa.PrimaryKeyConstraint("course_id", "item", "sub", name="pk_review_inactive"),
    )


def downgrade() -> None:
    op.drop_table("review_inactive")
    op.drop_index("ix_review_assignments_reviewer", table_name="review_assignments")
    op.drop_table("review_assignments")
    op.drop_table("review_submissions")
    op.drop_table("review_settings")
