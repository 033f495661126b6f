"""Office-hours slots as stored: reading them (with their bookings counted), and the
instructor's edits and cancellations."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, delete, func, insert, select, update

from blendkit.courses._booking_models import BookingSlot
from blendkit.courses._booking_reminders import cancel_booking_reminders, schedule_booking_reminders
from blendkit.courses._models import Course
from blendkit.errors import CourseInputInvalid, CoursesError, NotFound
from blendkit.store._tables_booking import (
    course_booking_counts,
    course_booking_seats,
    course_booking_slots,
    course_bookings,
)

if TYPE_CHECKING:
    from blendkit.courses._service import CourseService
    from blendkit.sessions import MeetingProvider
    from blendkit.store import Store

__all__ = ["SLOTS", "OfficeHoursSlots", "slot_value"]

_SLOT = course_booking_slots.c
_SEAT = course_booking_seats.c
_BOOKING = course_bookings.c
# A slot's bookings, counted (no counter on the slot's row, which every booker would update).
_BOOKED = (
    select(func.count())
    .select_from(course_bookings)
    .where(_BOOKING.slot_id == _SLOT.id)
    .correlate(course_booking_slots)
    .scalar_subquery()
    .label("booked")
)
SLOTS = select(course_booking_slots, _BOOKED)
"""Slots with their bookings counted: the rows :func:`slot_value` reads."""


def _seats(slot_id: str, first: int, count: int) -> list[dict[str, Any]]:
    """``count`` free seats of a slot, numbered from ``first``."""
    return [{"slot_id": slot_id, "seat": n, "sub": None} for n in range(first, first + count)]


def invalid_slot(message: str) -> CourseInputInvalid:
    return CourseInputInvalid(message, code="courses.slot_invalid", http_status=400)


class OfficeHoursSlots:
    """Slot operations of :class:`~blendkit.courses.OfficeHoursService`: reading, editing and
    cancelling slots."""

    courses: CourseService
    store: Store
    provider: MeetingProvider | None

    # --- reading, editing, cancelling -------------------------------------------------------

    def slots(
        self, course: Course, item: str | None = None, *, include_cancelled: bool = False
    ) -> list[BookingSlot]:
        """The course's slots (of one item), earliest first."""
        key = course_booking_slots.c
        query = SLOTS.where(key.course_id == course.id)
        if item is not None:
            query = query.where(key.item == item)
        if not include_cancelled:
            query = query.where(key.cancelled.is_(False))
        with self.store.transaction() as s:
            rows = s.execute(query.order_by(key.start_utc, key.id)).all()
        return [slot_value(r) for r in rows]

    def slot(self, course: Course, slot_id: str) -> BookingSlot:
        """One slot of the course (``NotFound`` otherwise)."""
        key = course_booking_slots.c
        with self.store.transaction() as s:
            row = s.execute(SLOTS.where(key.id == slot_id, key.course_id == course.id)).first()
        if row is None:
            raise NotFound(f"office-hours slot {slot_id!r} is not part of {course.title!r}")
        return slot_value(row)

    def edit_slot(
        self,
        course: Course,
        slot_id: str,
        *,
        capacity: int | None = None,
        host_name: str | None = None,
        location: str | None = None,
    ) -> BookingSlot:
        """Change a slot's seats, host or location. Seats never drop below the bookings held
        (``courses.capacity_below_bookings``): cancel the slot to release them. A new host or
        location replaces the bookers' pending reminders."""
        found = self.slot(course, slot_id)
        values: dict[str, Any] = {}
        if capacity is not None:
            if not 1 <= capacity <= 500:
                raise invalid_slot("a slot seats 1 to 500 learners")
            values["capacity"] = capacity
        if host_name is not None and host_name.strip():
            values["host_name"] = host_name.strip()
        if location is not None and (location.strip() or found.join_url):
            values["location"] = location.strip()
        if not values:
            return found
        with self.store.write_transaction() as s:
            # The slot's row first, for update: it waits for the bookings in flight (each holds
            # it FOR SHARE) and holds new ones off until the seats match the capacity. The
            # bookings are counted after it, by a statement that sees the ones that waited.
            s.execute(
                select(_SLOT.id)
                .where(_SLOT.id == slot_id, _SLOT.course_id == course.id)
                .with_for_update()
            )
            held = s.execute(select(_BOOKED).where(_SLOT.id == slot_id)).scalar_one()
            if capacity is not None and capacity < held:
                raise CoursesError(
                    f"{held} learners booked this slot, more than {capacity} seats; keep at "
                    "least as many seats or cancel the slot",
                    code="courses.capacity_below_bookings",
                    http_status=409,
                )
            s.execute(update(course_booking_slots).where(_SLOT.id == slot_id).values(**values))
            if capacity is not None:
                _resize(s, slot_id, capacity)
        if self.courses.notifications is not None and values.keys() - {"capacity"}:
            schedule_booking_reminders(
                self.courses.notifications, self.courses, course, slot_id, now=self.courses.clock()
            )
        return self.slot(course, slot_id)

    def cancel_slot(self, course: Course, slot_id: str) -> list[str]:
        """Cancel a slot (and its meeting), release its bookings and cancel their pending
        reminders; returns who had booked it, so they can be told. Cancelling again does
        nothing."""
        found = self.slot(course, slot_id)
        if found.cancelled:
            return []
        if found.start_utc <= self.courses.clock():
            raise CoursesError(
                "this slot has started or was held, so it cannot be cancelled (its bookings "
                "and attendance stay)",
                code="courses.slot_started",
                http_status=409,
            )
        if found.provider_meeting_id and self.provider is not None:
            self.provider.cancel_session(found.provider_meeting_id)
        count = course_booking_counts.c
        # First the slot alone: once this commits no booking can start (they need it open),
        # and bookings in flight have committed or rolled back.
        with self.store.write_transaction() as s:
            s.execute(
                update(course_booking_slots)
                .where(_SLOT.id == slot_id, _SLOT.course_id == course.id)
                .values(cancelled=True)
            )
        # Then release the bookings, rows in the order a booking takes them (booking, seat,
        # count), so this never deadlocks with a learner's booking or cancellation.
        with self.store.write_transaction() as s:
            subs = list(
                s.execute(
                    delete(course_bookings)
                    .where(_BOOKING.slot_id == slot_id)
                    .returning(_BOOKING.sub)
                ).scalars()
            )
            s.execute(
                update(course_booking_seats)
                .where(_SEAT.slot_id == slot_id, _SEAT.sub.is_not(None))
                .values(sub=None)
            )
            for sub in subs:
                s.execute(
                    update(course_booking_counts)
                    .where(count.course_id == course.id, count.item == found.item, count.sub == sub)
                    .values(booked=count.booked - 1)
                )
        if self.courses.notifications is not None:
            cancel_booking_reminders(self.courses.notifications, course, slot_id, subs)
        return sorted(subs)


def _resize(s: Connection, slot_id: str, capacity: int) -> None:
    """Give a slot ``capacity`` seats: new free seats after the last one, or the last free
    ones removed (the caller holds the slot's row and checked the bookings fit)."""
    seats = s.execute(
        select(func.count(), func.coalesce(func.max(_SEAT.seat), 0)).where(_SEAT.slot_id == slot_id)
    ).one()
    total, last = seats
    if capacity > total:
        s.execute(insert(course_booking_seats), _seats(slot_id, last + 1, capacity - total))
    elif capacity < total:
        spare = (
            select(_SEAT.seat)
            .where(_SEAT.slot_id == slot_id, _SEAT.sub.is_(None))
            .order_by(_SEAT.seat.desc())
            .limit(total - capacity)
        )
        s.execute(
            delete(course_booking_seats).where(
                _SEAT.slot_id == slot_id, _SEAT.sub.is_(None), _SEAT.seat.in_(spare)
            )
        )


def slot_value(row: Any) -> BookingSlot:
    """A ``course_booking_slots`` row as a :class:`BookingSlot`."""
    return BookingSlot(
        id=row.id,
        item=row.item,
        title=row.title,
        start_utc=row.start_utc,
        duration_minutes=row.duration_minutes,
        time_zone=row.time_zone,
        capacity=row.capacity,
        booked=row.booked,
        buffer_minutes=row.buffer_minutes,
        host_name=row.host_name,
        host_sub=row.host_sub,
        location=row.location,
        provider=row.provider,
        provider_meeting_id=row.provider_meeting_id,
        join_url=row.join_url,
        cancelled=row.cancelled,
        attendance_imported=row.attendance_imported,
    )
