"""Calendar feeds: secret feed tokens (hashed) and each feed event's SEQUENCE/LAST-MODIFIED.

Revision ID: calendar_0001

It depends on ``courses_0001`` (the ``course_courses`` table its foreign keys name), not on the
courses branch's head: a dependency on another branch's head takes that head's row out of
``alembic_version``, and ``/readyz`` (database heads == script heads) would never be ready.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "calendar_0001"
down_revision = None
branch_labels = ("calendar",)
depends_on = "courses_0001"


def upgrade() -> None:
    op.create_table(
        "calendar_feed_tokens",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("sub", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["course_courses.id"],
            name=op.f("fk_calendar_feed_tokens_course_id_course_courses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_feed_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_calendar_feed_tokens_token_hash")),
    )
    op.create_index(
        "ix_calendar_feed_tokens_owner", "calendar_feed_tokens", ["course_id", "sub", "kind"]
    )
    op.create_table(
        "calendar_event_versions",
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(255), nullable=False),
        sa.Column("uid", sa.String(255), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("modified_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["course_courses.id"],
            name=op.f("fk_calendar_event_versions_course_id_course_courses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("course_id", "scope", "uid", name="pk_calendar_event_versions"),
    )


def downgrade() -> None:
    op.drop_table("calendar_event_versions")
    op.drop_index("ix_calendar_feed_tokens_owner", table_name="calendar_feed_tokens")
    op.drop_table("calendar_feed_tokens")
