"""Courses: courses with their paths, enrolments, evidence, overrides, quizzes, live sessions,
join links, attendance, recordings, grade passbacks and processed webhook events.

Revision ID: courses_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "courses_0001"
down_revision = None
branch_labels = ("courses",)
depends_on = "core_0001"


def upgrade() -> None:
    op.create_table(
        "course_courses",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("issuer", sa.String(length=512), nullable=False),
        sa.Column("client_id", sa.String(length=255), nullable=True),
        sa.Column("context_id", sa.String(length=255), nullable=False),
        sa.Column("title", sa.String(length=512), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("ags", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_course_courses")),
        sa.UniqueConstraint("issuer", "context_id", name="uq_course_courses_issuer_context"),
    )
    op.create_table(
        "course_webhook_events",
        sa.Column("provider", sa.String(length=64), nullable=False),
        sa.Column("event_id", sa.String(length=255), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("provider", "event_id", name=op.f("pk_course_webhook_events")),
    )
    op.create_table(
        "course_enrolments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("sub", sa.String(length=255), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("enrolled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("groups", sa.Text(), nullable=False),
        sa.Column("roles", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["course_courses.id"],
            name=op.f("fk_course_enrolments_course_id_course_courses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_course_enrolments")),
        sa.UniqueConstraint("course_id", "sub", name="uq_course_enrolments_course_sub"),
    )
    op.create_table(
        "course_evidence",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("sub", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("item", sa.String(length=200), nullable=True),
        sa.Column("piece", sa.Text(), nullable=False),
        sa.Column("details", sa.Text(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["course_courses.id"],
            name=op.f("fk_course_evidence_course_id_course_courses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_course_evidence")),
    )
    op.create_index(
        "ix_course_evidence_item", "course_evidence", ["course_id", "item", "kind"], unique=False
    )
    op.create_index(
        "ix_course_evidence_learner", "course_evidence", ["course_id", "sub"], unique=False
    )
    op.create_table(
        "course_grades",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("sub", sa.String(length=255), nullable=False),
        sa.Column("item", sa.String(length=200), nullable=False),
        sa.Column("label", sa.String(length=512), nullable=False),
        sa.Column("score_given", sa.Float(), nullable=False),
        sa.Column("score_maximum", sa.Float(), nullable=False),
        sa.Column("scored_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["course_courses.id"],
            name=op.f("fk_course_grades_course_id_course_courses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_course_grades")),
    )
    op.create_index(
        "ix_course_grades_due", "course_grades", ["status", "next_attempt_at"], unique=False
    )
    op.create_table(
        "course_overrides",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("sub", sa.String(length=255), nullable=False),
        sa.Column("item", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("condition_id", sa.String(length=200), nullable=True),
        sa.Column("until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("by", sa.String(length=255), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["course_courses.id"],
            name=op.f("fk_course_overrides_course_id_course_courses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_course_overrides")),
    )
    op.create_index(
        "ix_course_overrides_learner", "course_overrides", ["course_id", "sub"], unique=False
    )
    op.create_table(
        "course_quizzes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("item", sa.String(length=200), nullable=False),
        sa.Column("quiz", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["course_courses.id"],
            name=op.f("fk_course_quizzes_course_id_course_courses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_course_quizzes")),
        sa.UniqueConstraint("course_id", "item", name="uq_course_quizzes_course_item"),
    )
    op.create_table(
        "course_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("item", sa.String(length=200), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("start_utc", sa.DateTime(timezone=True), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=64), nullable=False),
        sa.Column("provider_meeting_id", sa.String(length=255), nullable=False),
        sa.Column("occurrence_id", sa.String(length=255), nullable=True),
        sa.Column("join_url", sa.String(length=2048), nullable=False),
        sa.Column("attendance_imported", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["course_courses.id"],
            name=op.f("fk_course_sessions_course_id_course_courses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_course_sessions")),
    )
    op.create_index(
        "ix_course_sessions_meeting",
        "course_sessions",
        ["provider", "provider_meeting_id"],
        unique=False,
    )
    op.create_table(
        "course_attendance",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("session_id", sa.String(length=64), nullable=False),
        sa.Column("sub", sa.String(length=255), nullable=False),
        sa.Column("minutes", sa.Float(), nullable=False),
        sa.Column("percent", sa.Float(), nullable=False),
        sa.Column("first_join", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_leave", sa.DateTime(timezone=True), nullable=True),
        sa.Column("matched_by", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["course_sessions.id"],
            name=op.f("fk_course_attendance_session_id_course_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_course_attendance")),
        sa.UniqueConstraint("session_id", "sub", name="uq_course_attendance_session_sub"),
    )
    op.create_table(
        "course_join_links",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("session_id", sa.String(length=64), nullable=False),
        sa.Column("sub", sa.String(length=255), nullable=False),
        sa.Column("url", sa.String(length=2048), nullable=False),
        sa.Column("registrant_id", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["course_sessions.id"],
            name=op.f("fk_course_join_links_session_id_course_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_course_join_links")),
        sa.UniqueConstraint("session_id", "sub", name="uq_course_join_links_session_sub"),
    )
    op.create_table(
        "course_recordings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("session_id", sa.String(length=64), nullable=False),
        sa.Column("provider_id", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=512), nullable=False),
        sa.Column("play_url", sa.String(length=2048), nullable=True),
        sa.Column("duration_seconds", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["course_sessions.id"],
            name=op.f("fk_course_recordings_session_id_course_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_course_recordings")),
        sa.UniqueConstraint("session_id", "provider_id", name="uq_course_recordings_session_file"),
    )
    op.create_table(
        "course_unmatched",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("session_id", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=255), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("minutes", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["course_sessions.id"],
            name=op.f("fk_course_unmatched_session_id_course_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_course_unmatched")),
    )


def downgrade() -> None:
    op.drop_table("course_unmatched")
    op.drop_table("course_recordings")
    op.drop_table("course_join_links")
    op.drop_table("course_attendance")
    op.drop_table("course_sessions")
    op.drop_table("course_quizzes")
    op.drop_table("course_overrides")
    op.drop_table("course_grades")
    op.drop_table("course_evidence")
    op.drop_table("course_enrolments")
    op.drop_table("course_webhook_events")
    op.drop_table("course_courses")
