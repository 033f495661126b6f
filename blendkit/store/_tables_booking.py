"""Tables of office hours and expert clinics: bookable slots, their seats, bookings and
per-learner counts.

Double booking and overbooking are ruled out by the database itself, under any concurrency: a
slot has one ``course_booking_seats`` row per seat (as many as its capacity), a booking takes a
free one (``sub`` set; unique per slot and learner), so a slot never holds more bookings than
seats; ``course_bookings`` is unique per (slot, learner), and ``course_booking_counts`` holds
each learner's bookings per item under a CHECK, raised with a conditional UPDATE against the
item's limit. A slot's bookings are counted, not kept in a counter every booker would update.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
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
)

from blendkit.store._schema import metadata

__all__ = [
    "course_booking_counts",
    "course_booking_seats",
    "course_booking_slots",
    "course_bookings",
    "course_office_hours",
]


def _course_fk() -> Column[int]:
    return Column(
        "course_id", Integer, ForeignKey("course_courses.id", ondelete="CASCADE"), nullable=False
    )


def _slot_fk() -> Column[str]:
    return Column(
        "slot_id",
        String(64),
        ForeignKey("course_booking_slots.id", ondelete="CASCADE"),
        nullable=False,
    )


course_office_hours = Table(
    "course_office_hours",
    metadata,
    _course_fk(),
    Column("item", String(200), nullable=False),
    Column("max_per_learner", Integer, nullable=False),
    Column("cancel_cutoff_minutes", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("course_id", "item", name="pk_course_office_hours"),
    CheckConstraint("max_per_learner >= 1", name="max_per_learner_positive"),
    CheckConstraint("cancel_cutoff_minutes >= 0", name="cutoff_not_negative"),
)

course_booking_slots = Table(
    "course_booking_slots",
    metadata,
    Column("id", String(64), primary_key=True),
    _course_fk(),
    Column("item", String(200), nullable=False),
    Column("title", String(200), nullable=False),
    Column("start_utc", DateTime(timezone=True), nullable=False),
    Column("duration_minutes", Integer, nullable=False),
    Column("time_zone", String(64), nullable=False),
    Column("capacity", Integer, nullable=False),
    Column("buffer_minutes", Integer, nullable=False, server_default=text("0")),
    Column("host_sub", String(255), nullable=True),
    Column("host_name", String(200), nullable=False),
    Column("location", String(500), nullable=False, server_default=""),
    Column("provider", String(64), nullable=True),
    Column("provider_meeting_id", String(255), nullable=True),
    Column("join_url", String(2048), nullable=True),
    Column("cancelled", Boolean, nullable=False, server_default=false()),
    Column("attendance_imported", Boolean, nullable=False, server_default=false()),
    Column("created_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("capacity >= 1", name="capacity_positive"),
    CheckConstraint("duration_minutes >= 1", name="duration_positive"),
    Index("ix_course_booking_slots_course_item", "course_id", "item", "start_utc"),
)

course_bookings = Table(
    "course_bookings",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    _course_fk(),
    _slot_fk(),
    Column("sub", String(255), nullable=False),
    Column("booked_at", DateTime(timezone=True), nullable=False),
    Column("attended_at", DateTime(timezone=True), nullable=True),
    Column("attended_by", String(255), nullable=True),
    Column("note", Text, nullable=False, server_default=""),
    UniqueConstraint("slot_id", "sub", name="uq_course_bookings_slot_sub"),
    Index("ix_course_bookings_course_sub", "course_id", "sub"),
)

course_booking_seats = Table(
    "course_booking_seats",
    metadata,
    _slot_fk(),
    Column("seat", Integer, nullable=False),
    Column("sub", String(255), nullable=True),  # who holds it; NULL: free
    PrimaryKeyConstraint("slot_id", "seat", name="pk_course_booking_seats"),
    UniqueConstraint("slot_id", "sub", name="uq_course_booking_seats_slot_sub"),
    CheckConstraint("seat >= 1", name="seat_positive"),
    # The free seats in seat order: a booker's pick stops at the first one it can lock.
    Index(
        "ix_course_booking_seats_free",
        "slot_id",
        "seat",
        postgresql_where=text("sub IS NULL"),
        sqlite_where=text("sub IS NULL"),
    ),
)

course_booking_counts = Table(
    "course_booking_counts",
    metadata,
    _course_fk(),
    Column("item", String(200), nullable=False),
    Column("sub", String(255), nullable=False),
    Column("booked", Integer, nullable=False),
    # The item's max_per_learner when the count was last raised (NULL: rows from before
    # booking_0003); the CHECK makes a booking past the limit fail as a whole.
    Column("booked_limit", Integer, nullable=True),
    PrimaryKeyConstraint("course_id", "item", "sub", name="pk_course_booking_counts"),
    CheckConstraint("booked >= 0", name="booked_not_negative"),
    CheckConstraint("booked_limit IS NULL OR booked <= booked_limit", name="within_limit"),
)
