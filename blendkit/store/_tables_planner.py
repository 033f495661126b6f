"""Tables of the slot planner: each learner's own hours for live sessions, per course."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, ForeignKey, Integer, PrimaryKeyConstraint, String, Table

from blendkit.store._schema import metadata

__all__ = ["planner_session_hours"]

planner_session_hours = Table(
    "planner_session_hours",
    metadata,
    Column(
        "course_id", Integer, ForeignKey("course_courses.id", ondelete="CASCADE"), nullable=False
    ),
    Column("sub", String(255), nullable=False),
    Column("hours", String(200), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("course_id", "sub", name="pk_planner_session_hours"),
)
