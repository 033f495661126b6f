"""Office hours: a slot's seats are rows, and its bookings are counted instead of kept in a counter.

``course_booking_seats`` holds one row per seat of each slot (as many as its capacity); a
booking takes a free one, so concurrent bookers of one slot each lock their own seat instead of
queueing on the slot's counter. Existing bookings occupy the first seats of their slot, in the
order they were booked, and ``course_booking_slots.booked`` (with its CHECK) goes: a slot's
bookings are counted from ``course_bookings``.

On SQLite dropping the column recreates ``course_booking_slots``, and dropping the old table
would cascade to its bookings: they are kept aside in a temporary table and put back.

Revision ID: booking_0002
Revises: booking_0001
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "booking_0002"
down_revision = "booking_0001"
branch_labels = None
depends_on = None

_BOOKED_CHECK = "ck_course_booking_slots_booked_within_capacity"
_seats = sa.table(
    "course_booking_seats",
    sa.column("slot_id", sa.String),
    sa.column("seat", sa.Integer),
    sa.column("sub", sa.String),
)


@contextmanager
def _bookings_kept() -> Iterator[None]:
    """On SQLite, keep the bookings through a block that recreates ``course_booking_slots``
    (dropping the old table would cascade to them); elsewhere the block runs as it is."""
    if op.get_bind().dialect.name != "sqlite":
        yield
        return
    op.execute("CREATE TEMPORARY TABLE booking_0002_kept AS SELECT * FROM course_bookings")
    yield
    op.execute("DELETE FROM course_bookings")  # what the cascade left, if anything
    op.execute("INSERT INTO course_bookings SELECT * FROM booking_0002_kept")
    op.execute("DROP TABLE booking_0002_kept")


def upgrade() -> None:
    with (
        _bookings_kept(),
        op.batch_alter_table("course_booking_slots") as batch,
    ):
        batch.drop_constraint(op.f(_BOOKED_CHECK), type_="check")
        batch.drop_column("booked")
    op.create_table(
        "course_booking_seats",
        sa.Column("slot_id", sa.String(64), nullable=False),
        sa.Column("seat", sa.Integer(), nullable=False),
        sa.Column("sub", sa.String(255), nullable=True),
        sa.ForeignKeyConstraint(
            ["slot_id"],
            ["course_booking_slots.id"],
            name=op.f("fk_course_booking_seats_slot_id_course_booking_slots"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("slot_id", "seat", name=op.f("pk_course_booking_seats")),
        sa.UniqueConstraint("slot_id", "sub", name="uq_course_booking_seats_slot_sub"),
        sa.CheckConstraint("seat >= 1", name=op.f("ck_course_booking_seats_seat_positive")),
    )
    bind = op.get_bind()
    held: dict[str, list[str]] = {}
    for row in bind.execute(
        sa.text("SELECT slot_id, sub FROM course_bookings ORDER BY slot_id, booked_at, id")
    ):
        held.setdefault(row.slot_id, []).append(row.sub)
    for slot in bind.execute(sa.text("SELECT id, capacity FROM course_booking_slots")).all():
        subs = held.get(slot.id, [])
        # A slot holds at least as many seats as bookings (the old CHECK kept them within it).
        seats: list[dict[str, Any]] = [
            {"slot_id": slot.id, "seat": n, "sub": subs[n - 1] if n <= len(subs) else None}
            for n in range(1, max(slot.capacity, len(subs)) + 1)
        ]
        if seats:
            bind.execute(_seats.insert(), seats)


def downgrade() -> None:
    op.drop_table("course_booking_seats")
    op.add_column(
        "course_booking_slots",
        sa.Column("booked", sa.Integer(), nullable=False, server_default=sa.text("0")),
    )
    op.execute(
        "UPDATE course_booking_slots SET booked = (SELECT count(*) FROM course_bookings"
        " WHERE course_bookings.slot_id = course_booking_slots.id)"
    )
    with (
        _bookings_kept(),
        op.batch_alter_table("course_booking_slots") as batch,
    ):
        batch.create_check_constraint(op.f(_BOOKED_CHECK), "booked >= 0 AND booked <= capacity")
