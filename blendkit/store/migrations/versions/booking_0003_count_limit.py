"""Office hours: a learner's booking count carries the limit it was raised under, and a CHECK
keeps it within.

``course_booking_counts.booked_limit`` is the item's ``max_per_learner`` in force when the count
was last raised (NULL on rows written before). The CHECK refuses a count above it, so a booking
that raises a count at the limit fails as a whole, seat and booking row included: on PostgreSQL
a booking is then one statement that needs no transaction of its own (a learner booking two
slots of one item at the same moment cannot pass the limit between the check and the write).

Revision ID: booking_0003
Revises: booking_0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "booking_0003"
down_revision = "booking_0002"
branch_labels = None
depends_on = None

_WITHIN_LIMIT = "ck_course_booking_counts_within_limit"


def upgrade() -> None:
    with op.batch_alter_table("course_booking_counts") as batch:
        batch.add_column(sa.Column("booked_limit", sa.Integer(), nullable=True))
        batch.create_check_constraint(
            op.f(_WITHIN_LIMIT), "booked_limit IS NULL OR booked <= booked_limit"
        )


def downgrade() -> None:
    with op.batch_alter_table("course_booking_counts") as batch:
        batch.drop_constraint(op.f(_WITHIN_LIMIT), type_="check")
        batch.drop_column("booked_limit")
