"""Tables of live polls and the Q&A board: per live session of a course.

``poll_boards`` holds one change counter per session: every poll, answer, question, vote and
moderation bumps it, so a page polling for news reads one row and answers ``304`` while nothing
changed. Answers are unique per poll and learner (a new answer replaces the old while the poll
is open); votes are unique per question and learner.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from blendkit.store._schema import metadata
from blendkit.store._tables_courses import _course_fk, _session_fk

__all__ = ["poll_answers", "poll_boards", "poll_polls", "poll_questions", "poll_votes"]

_ID = BigInteger().with_variant(Integer, "sqlite")


poll_boards = Table(
    "poll_boards",
    metadata,
    _session_fk(),
    _course_fk(),
    Column("version", _ID, nullable=False),
    Column("qa_open", Boolean, nullable=False),
    PrimaryKeyConstraint("session_id", name="pk_poll_boards"),
)

poll_polls = Table(
    "poll_polls",
    metadata,
    Column("id", String(32), primary_key=True),
    _course_fk(),
    _session_fk(),
    Column("kind", String(16), nullable=False),
    Column("question", String(500), nullable=False),
    Column("options", Text, nullable=False),
    Column("max_length", Integer, nullable=False),
    Column("state", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("opened_at", DateTime(timezone=True), nullable=True),
    Column("closed_at", DateTime(timezone=True), nullable=True),
    Index("ix_poll_polls_session", "session_id"),
)

poll_answers = Table(
    "poll_answers",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("poll_id", String(32), ForeignKey("poll_polls.id", ondelete="CASCADE"), nullable=False),
    _course_fk(),
    Column("sub", String(255), nullable=False),
    Column("answer", Text, nullable=False),
    Column("answered_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("poll_id", "sub", name="uq_poll_answers_poll_sub"),
)

poll_questions = Table(
    "poll_questions",
    metadata,
    Column("id", String(32), primary_key=True),
    _course_fk(),
    _session_fk(),
    Column("sub", String(255), nullable=False),
    Column("text", String(500), nullable=False),
    Column("anonymous", Boolean, nullable=False),
    Column("hidden", Boolean, nullable=False),
    Column("pinned", Boolean, nullable=False),
    Column("answer", Text, nullable=True),
    Column("upvotes", Integer, nullable=False),
    Column("asked_at", DateTime(timezone=True), nullable=False),
    Index("ix_poll_questions_session", "session_id"),
)

poll_votes = Table(
    "poll_votes",
    metadata,
    Column(
        "question_id",
        String(32),
        ForeignKey("poll_questions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    _course_fk(),
    Column("sub", String(255), nullable=False),
    Column("voted_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("question_id", "sub", name="pk_poll_votes"),
)
