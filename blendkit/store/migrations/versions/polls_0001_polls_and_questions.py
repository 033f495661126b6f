"""Live polls and the Q&A board of live sessions: polls, answers, questions, votes, and one
change counter per session for cheap polling.

Revision ID: polls_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "polls_0001"
down_revision = None
branch_labels = ("polls",)
depends_on = "courses_0007"

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _course() -> sa.Column:  # type: ignore[type-arg]
    return sa.Column("course_id", sa.Integer(), nullable=False)


def _course_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["course_id"],
        ["course_courses.id"],
        name=op.f(f"fk_{table}_course_id_course_courses"),
        ondelete="CASCADE",
    )


def _session_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["session_id"],
        ["course_sessions.id"],
        name=op.f(f"fk_{table}_session_id_course_sessions"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "poll_boards",
        sa.Column("session_id", sa.String(64), nullable=False),
        _course(),
        sa.Column("version", _ID, nullable=False),
        sa.Column("qa_open", sa.Boolean(), nullable=False),
        _session_fk("poll_boards"),
        _course_fk("poll_boards"),
        sa.PrimaryKeyConstraint("session_id", name=op.f("pk_poll_boards")),
    )
    op.create_table(
        "poll_polls",
        sa.Column("id", sa.String(32), nullable=False),
        _course(),
        sa.Column("session_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("question", sa.String(500), nullable=False),
        sa.Column("options", sa.Text(), nullable=False),
        sa.Column("max_length", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        _course_fk("poll_polls"),
        _session_fk("poll_polls"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_poll_polls")),
    )
    op.create_index("ix_poll_polls_session", "poll_polls", ["session_id"])
    op.create_table(
        "poll_answers",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("poll_id", sa.String(32), nullable=False),
        _course(),
        sa.Column("sub", sa.String(255), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=False),
        _course_fk("poll_answers"),
        sa.ForeignKeyConstraint(
            ["poll_id"],
            ["poll_polls.id"],
            name=op.f("fk_poll_answers_poll_id_poll_polls"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_poll_answers")),
        sa.UniqueConstraint("poll_id", "sub", name="uq_poll_answers_poll_sub"),
    )
    op.create_table(
        "poll_questions",
        sa.Column("id", sa.String(32), nullable=False),
        _course(),
        sa.Column("session_id", sa.String(64), nullable=False),
        sa.Column("sub", sa.String(255), nullable=False),
        sa.Column("text", sa.String(500), nullable=False),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("hidden", sa.Boolean(), nullable=False),
        sa.Column("pinned", sa.Boolean(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("upvotes", sa.Integer(), nullable=False),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        _course_fk("poll_questions"),
        _session_fk("poll_questions"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_poll_questions")),
    )
    op.create_index("ix_poll_questions_session", "poll_questions", ["session_id"])
    op.create_table(
        "poll_votes",
        sa.Column("question_id", sa.String(32), nullable=False),
        _course(),
        sa.Column("sub", sa.String(255), nullable=False),
        sa.Column("voted_at", sa.DateTime(timezone=True), nullable=False),
        _course_fk("poll_votes"),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["poll_questions.id"],
            name=op.f("fk_poll_votes_question_id_poll_questions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("question_id", "sub", name=op.f("pk_poll_votes")),
    )


def downgrade() -> None:
    op.drop_table("poll_votes")
    op.drop_index("ix_poll_questions_session", table_name="poll_questions")
    op.drop_table("poll_questions")
    op.drop_table("poll_answers")
    op.drop_index("ix_poll_polls_session", table_name="poll_polls")
    op.drop_table("poll_polls")
    op.drop_table("poll_boards")
