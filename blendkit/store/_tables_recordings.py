"""Tables of recordings that are watched: each learner's played segments, caption tracks made
from the providers' transcripts, and each course's recording policy."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from blendkit.store._schema import metadata

__all__ = ["recording_captions", "recording_policies", "recording_views"]

recording_policies = Table(
    "recording_policies",
    metadata,
    Column(
        "course_id",
        Integer,
        ForeignKey("course_courses.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    # Covered share (percent) of a recording from which it counts as watched.
    Column("watched_percent", Float, nullable=False),
    # Learners see only recordings that have a caption track.
    Column("captions_required", Boolean, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

recording_views = Table(
    "recording_views",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "course_id", Integer, ForeignKey("course_courses.id", ondelete="CASCADE"), nullable=False
    ),
    Column(
        "recording_id",
        Integer,
        ForeignKey("course_recordings.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("sub", String(255), nullable=False),
    # When the learner first opened the player: reports may not claim more play than this allows.
    Column("opened_at", DateTime(timezone=True), nullable=False),
    # The union of the played ranges, JSON [[start, end], ...] in seconds, sorted and disjoint.
    Column("segments", Text, nullable=False),
    Column("covered_seconds", Float, nullable=False),
    Column("progress", Float, nullable=False),
    Column("watched_at", DateTime(timezone=True), nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("recording_id", "sub", name="uq_recording_views_recording_sub"),
)

recording_captions = Table(
    "recording_captions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "session_id",
        String(64),
        ForeignKey("course_sessions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("language", String(35), nullable=False),
    Column("label", String(128), nullable=False),
    # Where the transcript came from: zoom, teams, upload …
    Column("source", String(32), nullable=False),
    Column("vtt", Text, nullable=False),
    Column("cues", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("session_id", "language", name="uq_recording_captions_session_language"),
)
