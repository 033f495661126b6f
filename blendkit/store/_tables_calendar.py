"""Tables of the calendar feeds: the secret feed tokens (kept hashed) and each event's version."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
)

from blendkit.store._schema import metadata

__all__ = ["calendar_event_versions", "calendar_feed_tokens"]

calendar_feed_tokens = Table(
    "calendar_feed_tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "course_id", Integer, ForeignKey("course_courses.id", ondelete="CASCADE"), nullable=False
    ),
    # A learner's feed names the learner; the instructors' course feed has sub "".
    Column("sub", String(255), nullable=False),
    Column("kind", String(16), nullable=False),
    # SHA-256 of the token, hex: the token itself is shown once and never stored.
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
    # Who took the token: the learner (their sub) or the instructor who took the course feed's.
    # NULL only on rows from before calendar_0003 (whose course tokens that migration revoked).
    Column("issued_by", String(255), nullable=True),
    Index("ix_calendar_feed_tokens_owner", "course_id", "sub", "kind"),
)

calendar_event_versions = Table(
    "calendar_event_versions",
    metadata,
    Column(
        "course_id", Integer, ForeignKey("course_courses.id", ondelete="CASCADE"), nullable=False
    ),
    # Whose feed the version belongs to (a learner's sub, "" for the course feed): the same
    # session carries a different personal join link in each learner's feed.
    Column("scope", String(255), nullable=False),
    Column("uid", String(255), nullable=False),
    Column("digest", String(64), nullable=False),
    Column("sequence", Integer, nullable=False),
    Column("modified_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("course_id", "scope", "uid", name="pk_calendar_event_versions"),
)
