"""Office hours and expert clinics: bookable slots, bookings and each learner's count per item.

``course_booking_slots.booked`` counts a slot's bookings under a CHECK (0 to capacity), and
``course_booking_counts.booked`` counts a learner's bookings of one item: each booking raises both
with conditional UPDATEs, so concurrent bookings can neither overbook a slot nor exceed the item's
limit; ``course_bookings`` is unique per (slot, learner).

Revision ID: booking_0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "booking_0001"
down_revision = None
branch_labels = ("booking",)
# Needs course_courses only. Not the courses branch's head: a dependency on a head makes the
# database record just this branch's head, and readiness (/readyz) compares recorded heads
# with the script's.
depends_on = "courses_0001"


def _course_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["course_id"],
        ["course_courses.id"],
        name=op.f(f"fk_{table}_course_id_course_courses"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "course_office_hours",
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("item", sa.String(200), nullable=False),
        sa.Column("max_per_learner", sa.Integer(), nullable=False),
        sa.Column("cancel_cutoff_minutes", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        _course_fk("course_office_hours"),
        sa.PrimaryKeyConstraint("course_id", "item", name=op.f("pk_course_office_hours")),
        sa.CheckConstraint(
            "max_per_learner >= 1", name=op.f("ck_course_office_hours_max_per_learner_positive")
        ),
        sa.CheckConstraint(
            "cancel_cutoff_minutes >= 0", name=op.f("ck_course_office_hours_cutoff_not_negative")
        ),
    )
    op.create_table(
        "course_booking_slots",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("item", sa.String(200), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("start_utc", sa.DateTime(timezone=True), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column("time_zone", sa.String(64), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("buffer_minutes", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column("booked", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column("host_sub", sa.String(255), nullable=True),
        sa.Column("host_name", sa.String(200), nullable=False),
        sa.Column("location", sa.String(500), nullable=False, server_default=""),
        sa.Column("provider", sa.String(64), nullable=True),
        sa.Column("provider_meeting_id", sa.String(255), nullable=True),
        sa.Column("join_url", sa.String(2048), nullable=True),
        sa.Column("cancelled", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("attendance_imported", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _course_fk("course_booking_slots"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_course_booking_slots")),
        sa.CheckConstraint("capacity >= 1", name=op.f("ck_course_booking_slots_capacity_positive")),
        sa.CheckConstraint(
            "booked >= 0 AND booked <= capacity",
            name=op.f("ck_course_booking_slots_booked_within_capacity"),
        ),
        sa.CheckConstraint(
            "duration_minutes >= 1", name=op.f("ck_course_booking_slots_duration_positive")
        ),
    )
    op.create_index(
        "ix_course_booking_slots_course_item",
        "course_booking_slots",
        ["course_id", "item", "start_utc"],
    )
    op.create_table(
        "course_bookings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("slot_id", sa.String(64), nullable=False),
        sa.Column("sub", sa.String(255), nullable=False),
        sa.Column("booked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attended_by", sa.String(255), nullable=True),
        sa.Column("note", sa.Text(), nullable=False, server_default=""),
        _course_fk("course_bookings"),
        sa.ForeignKeyConstraint(
            ["slot_id"],
            ["course_booking_slots.id"],
            name=op.f("fk_course_bookings_slot_id_course_booking_slots"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_course_bookings")),
        sa.UniqueConstraint("slot_id", "sub", name="uq_course_bookings_slot_sub"),
    )
    op.create_index("ix_course_bookings_course_sub", "course_bookings", ["course_id", "sub"])
    op.create_table(
        "course_booking_counts",
        sa.Column("course_id", sa.Integer(), nullable=False),
        sa.Column("item", sa.String(200), nullable=False),
        sa.Column("sub", sa.String(255), nullable=False),
        sa.Column("booked", sa.Integer(), nullable=False),
        _course_fk("course_booking_counts"),
        sa.PrimaryKeyConstraint("course_id", "item", "sub", name=op.f("pk_course_booking_counts")),
        sa.CheckConstraint(
            "booked >= 0", name=op.f("ck_course_booking_counts_booked_not_negative")
        ),
    )


def downgrade() -> None:
    op.drop_table("course_booking_counts")
    op.drop_index("ix_course_bookings_course_sub", table_name="course_bookings")
    op.drop_table("course_bookings")
    op.drop_index("ix_course_booking_slots_course_item", table_name="course_booking_slots")
    op.drop_table("course_booking_slots")
    op.drop_table("course_office_hours")
