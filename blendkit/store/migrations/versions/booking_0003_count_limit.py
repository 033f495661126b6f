"""Office hours: a learner's booking count carries the limit it was raised under, and a CHECK
keeps it within; free seats have an index in seat order.

``course_booking_counts.booked_limit`` is the item's ``max_per_learner`` in force when the count
was last raised (NULL on rows written before). The CHECK refuses a count above it, so a booking
that raises a count at the limit fails as a whole, seat and booking row included: on PostgreSQL
a booking is then one statement that needs no transaction of its own (a learner booking two
slots of one item at the same moment cannot pass the limit between the check and the write).

``ix_course_booking_seats_free`` (slot, seat) holds the free seats only: a booker's pick of the
slot's first free seat it can lock reads them in order and stops at the first, instead of
reading and sorting every free seat while others hold some of them.

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
_FREE = "ix_course_booking_seats_free"


def upgrade() -> None:
    with op.batch_alter_table("course_booking_counts") as batch:
        batch.add_column(sa.Column("booked_limit", sa.Integer(), nullable=True))
        batch.create_check_constraint(
            op.f(_WITHIN_LIMIT), "booked_limit IS NULL OR booked <= booked_limit"
        )
    op.create_index(
        _FREE,
        "course_booking_seats",
        ["slot_id", "seat"],
        postgresql_where=sa.text("sub IS NULL"),
        sqlite_where=sa.text("sub IS NULL"),
    )


def downgrade() -> None:
    op.drop_index(_FREE, table_name="course_booking_seats")
    with op.batch_alter_table("course_booking_counts") as batch:
        batch.drop_constraint(op.f(_WITHIN_LIMIT), type_="check")
        batch.drop_column("booked_limit")
