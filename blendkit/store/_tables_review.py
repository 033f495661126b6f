"""Tables of peer review: each item's settings, submissions, review assignments, drop-outs.

Every row hangs off a course (``course_courses.id``), so it belongs to one deployment's context;
an assignment also hangs off its submission. Files live in a storage under random keys: the rows
keep the key, a safe display name, the recognised type and the size.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)

from blendkit.store._schema import metadata

__all__ = ["review_assignments", "review_inactive", "review_settings", "review_submissions"]

_ID = BigInteger().with_variant(Integer, "sqlite")


def _course_fk() -> Column[int]:
    return Column(
        "course_id", Integer, ForeignKey("course_courses.id", ondelete="CASCADE"), nullable=False
    )


review_settings = Table(
    "review_settings",
    metadata,
    _course_fk(),
    Column("item", String(200), nullable=False),
    Column("settings", Text, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("course_id", "item", name="pk_review_settings"),
)

review_submissions = Table(
    "review_submissions",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    _course_fk(),
    Column("item", String(200), nullable=False),
    Column("sub", String(255), nullable=False),
    Column("kind", String(8), nullable=False),
    Column("body", Text, nullable=True),
    Column("file_key", String(64), nullable=True),
    Column("file_name", String(120), nullable=True),
    Column("file_type", String(8), nullable=True),
    Column("file_size", Integer, nullable=True),
    Column("submitted_at", DateTime(timezone=True), nullable=False),
    Column("late", Boolean, nullable=False, server_default=false()),
    Column("placed", Boolean, nullable=False, server_default=false()),
    Column("instructor_points", Float, nullable=True),
    Column("instructor_by", String(255), nullable=True),
    Column("instructor_note", Text, nullable=True),
    UniqueConstraint("course_id", "item", "sub", name="uq_review_submissions_learner"),
)

review_assignments = Table(
    "review_assignments",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    _course_fk(),
    Column(
        "submission_id",
        _ID,
        ForeignKey("review_submissions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("item", String(200), nullable=False),
    Column("reviewer", String(255), nullable=False),
    Column("status", String(16), nullable=False),
    Column("assigned_at", DateTime(timezone=True), nullable=False),
    Column("review", Text, nullable=True),
    Column("points", Float, nullable=True),
    Column("reviewed_at", DateTime(timezone=True), nullable=True),
    Column("seen_at", DateTime(timezone=True), nullable=True),
    Column("flagged", Boolean, nullable=False, server_default=false()),
    Column("flag_note", Text, nullable=True),
    Column("override_points", Float, nullable=True),
    Column("override_by", String(255), nullable=True),
    Column("override_note", Text, nullable=True),
    UniqueConstraint("submission_id", "reviewer", name="uq_review_assignments_pair"),
    Index("ix_review_assignments_reviewer", "course_id", "item", "reviewer"),
)

review_inactive = Table(
    "review_inactive",
    metadata,
    _course_fk(),
    Column("item", String(200), nullable=False),
    Column("sub", String(255), nullable=False),
    Column("reason", Text, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("course_id", "item", "sub", name="pk_review_inactive"),
)
