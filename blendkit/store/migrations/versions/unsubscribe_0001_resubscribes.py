"""Unsubscribe links: when each learner last subscribed again, so earlier links are revoked.

A one-click unsubscribe link needs no login and is valid for a year; subscribing again from the
course's notification page now revokes every link issued before (``reminder_resubscribes``).

Revision ID: unsubscribe_0001

It depends on ``courses_0001`` (the table its foreign key names), not on another branch's head
(see ``calendar_0001`` for why).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "unsubscribe_0001"
down_revision = None
branch_labels = ("unsubscribe",)
depends_on = "courses_0001"


def upgrade() -> None:
    op.create_table(
        "reminder_resubscribes",
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("sub", sa.String(255), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["course_courses.id"],
            name=op.f("fk_reminder_resubscribes_course_id_course_courses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("course_id", "sub", name="pk_reminder_resubscribes"),
    )


def downgrade() -> None:
    op.drop_table("reminder_resubscribes")
