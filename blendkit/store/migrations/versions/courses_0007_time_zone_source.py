"""Courses: each enrolment remembers where its time zone came from.

``time_zone_source`` is one of ``course`` (nothing better known), ``browser`` (the learner
confirmed the zone their browser reported), ``platform`` (the LMS sent a valid zone) and
``learner`` (the learner chose it). A launch only replaces a zone of lower precedence, so a
learner's own choice is never overwritten by the platform.

Existing rows: before this revision a zone other than UTC came from the platform or the learner
and every launch with a zone replaced it, which ``platform`` keeps; UTC was the default, which
becomes ``course`` so the learner is offered their browser's zone.

Revision ID: courses_0007
Revises: courses_0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "courses_0007"
down_revision = "courses_0006"
branch_labels = None
depends_on = None

_enrolments = sa.table("course_enrolments", sa.column("time_zone"), sa.column("time_zone_source"))


def upgrade() -> None:
    op.add_column(
        "course_enrolments",
        sa.Column("time_zone_source", sa.String(16), nullable=False, server_default="course"),
    )
    op.execute(
        _enrolments.update()
        .where(_enrolments.c.time_zone != "UTC")
        .values(time_zone_source="platform")
    )


def downgrade() -> None:
    with op.batch_alter_table("course_enrolments") as batch:
        batch.drop_column("time_zone_source")
