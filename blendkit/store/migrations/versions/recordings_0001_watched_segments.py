"""Recordings: played segments per learner, caption tracks, the course's recording policy.

``recording_views`` keeps, per learner and recording file, when the player was first opened
and the union of the ranges played; ``recording_captions`` the WebVTT track made from a
session's transcript; ``recording_policies`` the share that counts as watched and whether
learners see only captioned recordings. ``course_recordings.media_url`` is the file the tool's
own player plays.

Revision ID: recordings_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "recordings_0001"
down_revision = None
branch_labels = ("recordings",)
depends_on = "courses_0007"


def upgrade() -> None:
    op.add_column("course_recordings", sa.Column("media_url", sa.String(2048), nullable=True))
    op.create_table(
        "recording_policies",
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("watched_percent", sa.Float(), nullable=False),
        sa.Column("captions_required", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["course_courses.id"],
            name=op.f("fk_recording_policies_course_id_course_courses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("course_id", name=op.f("pk_recording_policies")),
    )
    op.create_table(
        "recording_views",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("recording_id", sa.Integer(), nullable=False),
        sa.Column("sub", sa.String(255), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("segments", sa.Text(), nullable=False),
        sa.Column("covered_seconds", sa.Float(), nullable=False),
        sa.Column("progress", sa.Float(), nullable=False),
        sa.Column("watched_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["course_courses.id"],
            name=op.f("fk_recording_views_course_id_course_courses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["recording_id"],
            ["course_recordings.id"],
            name=op.f("fk_recording_views_recording_id_course_recordings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recording_views")),
        sa.UniqueConstraint("recording_id", "sub", name="uq_recording_views_recording_sub"),
    )
    op.create_table(
        "recording_captions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("session_id", sa.String(64), nullable=False),
        sa.Column("language", sa.String(35), nullable=False),
        sa.Column("label", sa.String(128), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("vtt", sa.Text(), nullable=False),
        sa.Column("cues", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["course_sessions.id"],
            name=op.f("fk_recording_captions_session_id_course_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recording_captions")),
        sa.UniqueConstraint(
            "session_id", "language", name="uq_recording_captions_session_language"
        ),
    )


def downgrade() -> None:
    op.drop_table("recording_captions")
    op.drop_table("recording_views")
    op.drop_table("recording_policies")
    with op.batch_alter_table("course_recordings") as batch:
        batch.drop_column("media_url")
