"""Tables of the courses area: what an embedding app keeps per course and learner.

A course is one LMS context of one deployment (issuer, client_id, deployment_id, context_id) with
its path document; enrolments, evidence, overrides, live sessions (with personal join links,
attendance and recordings), quizzes and grade passbacks hang off it, so they belong to that
deployment too. Evidence rows keep the progression evidence piece as JSON, so the
engine's view of a learner is rebuilt from them exactly.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
    true,
)

from blendkit.store._schema import metadata

__all__ = [
    "course_attendance",
    "course_courses",
    "course_enrolments",
    "course_evidence",
    "course_grade_totals",
    "course_grades",
    "course_join_links",
    "course_overrides",
    "course_quizzes",
    "course_recordings",
    "course_requests",
    "course_series",
    "course_sessions",
    "course_unmatched",
    "course_webhook_events",
]

_ID = BigInteger().with_variant(Integer, "sqlite")


def _course_fk() -> Column[int]:
    return Column(
        "course_id",
        Integer,
        ForeignKey("course_courses.id", ondelete="CASCADE"),
        nullable=False,
    )


def _session_fk() -> Column[str]:
    return Column(
        "session_id",
        String(64),
        ForeignKey("course_sessions.id", ondelete="CASCADE"),
        nullable=False,
    )


course_courses = Table(
    "course_courses",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("issuer", String(512), nullable=False),
    # client_id and deployment_id are NULL only for courses created before deployments were
    # the tenant boundary whose deployment the upgrade could not tell: no launch reaches them
    # until `blendkit courses assign-deployment` names it.
    Column("client_id", String(255), nullable=True),
    Column("deployment_id", String(255), nullable=True),
    Column("context_id", String(255), nullable=False),
    # The course's id in xAPI statements, fixed when the course is created.
    Column("activity_key", String(1024), nullable=False),
    Column("title", String(512), nullable=False),
    Column("path", Text, nullable=False),
    Column("ags", Text, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint(
        "issuer",
        "client_id",
        "deployment_id",
        "context_id",
        name="uq_course_courses_tenant_context",
    ),
)

course_enrolments = Table(
    "course_enrolments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    _course_fk(),
    Column("sub", String(255), nullable=False),
    Column("name", String(255), nullable=False),
    Column("email", String(320), nullable=True),
    Column("time_zone", String(64), nullable=False),
    Column("time_zone_source", String(16), nullable=False, server_default="course"),
    Column("enrolled_at", DateTime(timezone=True), nullable=False),
    Column("groups", Text, nullable=False),
    Column("roles", Text, nullable=False),
    # The whole roster (NRPS): ``source`` says what first told us of the person (``launch`` or
    # ``roster``); ``launched_at`` is their first launch (NULL: not launched yet); ``active`` is
    # false once the platform dropped them (the row and its evidence stay); ``roster_status`` is
    # what the last roster read said (Active, Inactive, Deleted, or absent).
    Column("source", String(16), nullable=False, server_default="launch"),
    Column("launched_at", DateTime(timezone=True), nullable=True),
    Column("active", Boolean, nullable=False, server_default=true()),
    Column("roster_status", String(16), nullable=True),
    Column("roster_seen_at", DateTime(timezone=True), nullable=True),
    UniqueConstraint("course_id", "sub", name="uq_course_enrolments_course_sub"),
)

course_evidence = Table(
    "course_evidence",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    _course_fk(),
    Column("sub", String(255), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("item", String(200), nullable=True),
    Column("piece", Text, nullable=False),
    Column("details", Text, nullable=True),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Index("ix_course_evidence_learner", "course_id", "sub"),
    Index("ix_course_evidence_item", "course_id", "item", "kind"),
)

course_overrides = Table(
    "course_overrides",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    _course_fk(),
    Column("sub", String(255), nullable=False),
    Column("item", String(200), nullable=False),
    Column("action", String(16), nullable=False),
    Column("condition_id", String(200), nullable=True),
    Column("until", DateTime(timezone=True), nullable=True),
    Column("by", String(255), nullable=False),
    Column("reason", Text, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Index("ix_course_overrides_learner", "course_id", "sub"),
)

course_quizzes = Table(
    "course_quizzes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    _course_fk(),
    Column("item", String(200), nullable=False),
    Column("quiz", Text, nullable=False),
    UniqueConstraint("course_id", "item", name="uq_course_quizzes_course_item"),
)

course_sessions = Table(
    "course_sessions",
    metadata,
    Column("id", String(64), primary_key=True),
    _course_fk(),
    Column("item", String(200), nullable=True),
    Column("title", String(200), nullable=False),
    Column("start_utc", DateTime(timezone=True), nullable=False),
    Column("time_zone", String(64), nullable=False),
    Column("duration_minutes", Integer, nullable=False),
    Column("provider", String(64), nullable=False),
    Column("provider_meeting_id", String(255), nullable=False),
    Column("occurrence_id", String(255), nullable=True),
    Column("join_url", String(2048), nullable=False),
    Column("attendance_imported", Boolean, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # A sitting of a weekly series: the series, its original start (RECURRENCE-ID; start_utc
    # is where it is now), whether it was cancelled, and how the provider addresses it.
    Column("series_id", String(64), nullable=True),
    Column("original_start_utc", DateTime(timezone=True), nullable=True),
    Column("cancelled", Boolean, nullable=False, server_default=false()),
    Column("provider_ref", String(255), nullable=True),
    Index("ix_course_sessions_meeting", "provider", "provider_meeting_id"),
    Index("ix_course_sessions_series", "series_id"),
)

course_series = Table(
    "course_series",
    metadata,
    Column("id", String(64), primary_key=True),
    _course_fk(),
    Column("item", String(200), nullable=True),
    Column("title", String(200), nullable=False),
    Column("time_zone", String(64), nullable=False),
    Column("duration_minutes", Integer, nullable=False),
    Column("recurrence", Text, nullable=False),
    Column("provider", String(64), nullable=False),
    Column("provider_meeting_id", String(255), nullable=False),
    Column("cancelled", Boolean, nullable=False, server_default=false()),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

course_join_links = Table(
    "course_join_links",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    _session_fk(),
    Column("sub", String(255), nullable=False),
    Column("url", String(2048), nullable=False),
    Column("registrant_id", String(255), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("session_id", "sub", name="uq_course_join_links_session_sub"),
)

course_attendance = Table(
    "course_attendance",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    _session_fk(),
    Column("sub", String(255), nullable=False),
    Column("minutes", Float, nullable=False),
    Column("percent", Float, nullable=False),
    Column("first_join", DateTime(timezone=True), nullable=True),
    Column("last_leave", DateTime(timezone=True), nullable=True),
    Column("matched_by", String(32), nullable=True),
    UniqueConstraint("session_id", "sub", name="uq_course_attendance_session_sub"),
)

course_unmatched = Table(
    "course_unmatched",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    _session_fk(),
    Column("display_name", String(255), nullable=False),
    Column("email", String(320), nullable=True),
    Column("reason", String(32), nullable=False),
    Column("minutes", Float, nullable=False),
)

course_recordings = Table(
    "course_recordings",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    _session_fk(),
    Column("provider_id", String(255), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("title", String(512), nullable=False),
    Column("play_url", String(2048), nullable=True),
    Column("duration_seconds", Integer, nullable=True),
    # A file the browser can play in the tool's own player (play_url is the provider's page).
    Column("media_url", String(2048), nullable=True),
    UniqueConstraint("session_id", "provider_id", name="uq_course_recordings_session_file"),
)

course_grades = Table(
    "course_grades",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    _course_fk(),
    Column("sub", String(255), nullable=False),
    Column("item", String(200), nullable=False),
    Column("label", String(512), nullable=False),
    Column("score_given", Float, nullable=False),
    Column("score_maximum", Float, nullable=False),
    Column("scored_at", DateTime(timezone=True), nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("last_error", Text, nullable=True),
    Column("sent_at", DateTime(timezone=True), nullable=True),
    # Partial indexes: the queue's queries read pending or failed rows, never the sent ones
    # that pile up (their count is kept in course_grade_totals).
    Index(
        "ix_course_grades_pending_due",
        "next_attempt_at",
        postgresql_where=text("status = 'pending'"),
        sqlite_where=text("status = 'pending'"),
    ),
    Index(
        "ix_course_grades_failed",
        "id",
        postgresql_where=text("status = 'failed'"),
        sqlite_where=text("status = 'failed'"),
    ),
    Index("ix_course_grades_course", "course_id", "id"),
)

# Running totals of the grade queue (``sent``): counted as rows change state, so status pages
# never count the sent rows.
course_grade_totals = Table(
    "course_grade_totals",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("value", BigInteger, nullable=False),
)

course_webhook_events = Table(
    "course_webhook_events",
    metadata,
    Column("provider", String(64), primary_key=True),
    Column("event_id", String(255), primary_key=True),
    Column("received_at", DateTime(timezone=True), nullable=False),
)

# Learner requests that carried an idempotency key: the first outcome is kept, so a resubmitted
# form (its answer was lost) gets that outcome again instead of being recorded twice.
course_requests = Table(
    "course_requests",
    metadata,
    _course_fk(),
    Column("sub", String(255), nullable=False),
    Column("key", String(128), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("outcome", Text, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("course_id", "sub", "key"),
    Index("ix_course_requests_recorded_at", "recorded_at"),  # retention
)
