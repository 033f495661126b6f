"""Tables of the roster area: each course's NRPS sync state and its attendance grading policy."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    false,
)

from blendkit.store._schema import metadata

__all__ = ["course_attendance_grading", "course_rosters"]


def _course_pk() -> Column[int]:
    return Column(
        "course_id",
        Integer,
        ForeignKey("course_courses.id", ondelete="CASCADE"),
        primary_key=True,
    )


# One row per course whose platform offers NRPS: where its roster is read, the differences link
# the platform gave on the last read (used on the next one), and the sync queue: an instructor's
# launch sets ``requested_at``; `blendkit roster sync` takes requested and stale courses.
course_rosters = Table(
    "course_rosters",
    metadata,
    _course_pk(),
    Column("memberships_url", String(2048), nullable=False),
    Column("differences_url", String(2048), nullable=True),
    Column("requested_at", DateTime(timezone=True), nullable=True),
    Column("synced_at", DateTime(timezone=True), nullable=True),
    Column("full_synced_at", DateTime(timezone=True), nullable=True),
    Column("members", Integer, nullable=False, server_default="0"),
    Column("failures", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", DateTime(timezone=True), nullable=True),
    Column("last_error", Text, nullable=True),
    Index("ix_course_rosters_requested", "requested_at"),
)

# A course's grading policy for live attendance: off unless an instructor turns it on.
course_attendance_grading = Table(
    "course_attendance_grading",
    metadata,
    _course_pk(),
    Column("enabled", Boolean, nullable=False, server_default=false()),
    Column("scope", String(16), nullable=False),
    Column("policy", String(32), nullable=False),
    Column("full_credit_percent", Float, nullable=False),
    Column("review_first", Boolean, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
