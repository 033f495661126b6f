"""Tables of reminder planning and learner preferences, per course.

``reminder_course_settings`` holds a course's lead times (deadline and live-session reminders),
``reminder_preferences`` a learner's channel, quiet hours and digest choice, and
``reminder_unsubscribes`` the channels a learner unsubscribed from (``*``: every channel), with
the moment they did.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    false,
)

from blendkit.store._schema import metadata

__all__ = [
    "reminder_course_settings",
    "reminder_preferences",
    "reminder_resubscribes",
    "reminder_unsubscribes",
]


def _course_fk() -> Column[int]:
    return Column(
        "course_id", Integer, ForeignKey("course_courses.id", ondelete="CASCADE"), nullable=False
    )


reminder_course_settings = Table(
    "reminder_course_settings",
    metadata,
    _course_fk(),
    Column("deadline_offsets", String(200), nullable=False),
    Column("session_offsets", String(200), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("course_id", name="pk_reminder_course_settings"),
)

reminder_preferences = Table(
    "reminder_preferences",
    metadata,
    _course_fk(),
    Column("sub", String(255), nullable=False),
    Column("channel", String(64), nullable=True),
    Column("quiet_start", String(5), nullable=True),
    Column("quiet_end", String(5), nullable=True),
    Column("digest", Boolean, nullable=False, server_default=false()),
    Column("digest_hour", Integer, nullable=False, server_default="8"),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("course_id", "sub", name="pk_reminder_preferences"),
)

reminder_unsubscribes = Table(
    "reminder_unsubscribes",
    metadata,
    _course_fk(),
    Column("sub", String(255), nullable=False),
    Column("channel", String(64), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("course_id", "sub", "channel", name="pk_reminder_unsubscribes"),
)

# When a learner last subscribed again: every unsubscribe link issued before is revoked.
reminder_resubscribes = Table(
    "reminder_resubscribes",
    metadata,
    _course_fk(),
    Column("sub", String(255), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("course_id", "sub", name="pk_reminder_resubscribes"),
)
