"""Publishing office-hours slots: rules per item, slots in blocks (with a buffer), edits and
cancellations by the instructor."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from sqlalchemy import Connection, delete, func, insert, select, update

from blendkit.courses._booking_models import BookingRules, BookingSlot
from blendkit.courses._booking_reminders import cancel_booking_reminders, schedule_booking_reminders
from blendkit.courses._models import Course, aware
from blendkit.courses._series import slot_first_start
from blendkit.errors import CourseInputInvalid, CoursesError, NotFound
from blendkit.sessions import SessionSpec, SlotProposal
from blendkit.sessions._answers import provider_answers
from blendkit.store._tables_booking import (
    course_booking_counts,
    course_booking_seats,
    course_booking_slots,
    course_bookings,
    course_office_hours,
)

if TYPE_CHECKING:
    from blendkit.courses._service import CourseService
    from blendkit.sessions import MeetingProvider
    from blendkit.store import Store

__all__ = ["SLOTS", "OfficeHoursSlots", "slot_value"]

_MAX_SLOTS_AT_ONCE = 48
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
    """Instructor operations of :class:`~blendkit.courses.OfficeHoursService`."""

    courses: CourseService
    store: Store
    provider: MeetingProvider | None

    # --- rules ------------------------------------------------------------------------------

    def _office_item(self, course: Course, item: str) -> None:
        try:
            kind = course.path.item(item).kind
        except KeyError:
            raise CourseInputInvalid(
                f"the course path has no item {item!r} to publish office hours for",
                code="courses.unknown_item",
                http_status=400,
            ) from None
        if kind != "office_hours":
            raise CourseInputInvalid(
                f"item {item!r} is a {kind}, not office hours: slots are published for "
                "office-hours items",
                code="courses.not_office_hours",
                http_status=400,
            )

    def set_rules(
        self,
        course: Course,
        item: str,
        *,
        max_per_learner: int = 1,
        cancel_cutoff_minutes: int = 60,
    ) -> BookingRules:
        """Keep how learners may book ``item``: bookings each may hold, and until how long
        before a slot they may cancel."""
        self._office_item(course, item)
        try:
            rules = BookingRules(
                item=item,
                max_per_learner=max_per_learner,
                cancel_cutoff_minutes=cancel_cutoff_minutes,
            )
        except ValidationError:
            raise invalid_slot(
                "bookings per learner must be 1 to 100 and the cancellation cut-off 0 to 20160 "
                "minutes (two weeks)"
            ) from None
        values = {
            "course_id": course.id,
            "item": item,
            "max_per_learner": rules.max_per_learner,
            "cancel_cutoff_minutes": rules.cancel_cutoff_minutes,
            "updated_at": self.courses.clock(),
        }
        statement = self.store.insert_or_replace(
            course_office_hours,
            ("course_id", "item"),
            values,
            ("max_per_learner", "cancel_cutoff_minutes", "updated_at"),
        )
        with self.store.transaction() as s:
            s.execute(statement)
        return rules

    def rules(self, course: Course, item: str) -> BookingRules:
        """The booking rules of ``item`` (one booking per learner, cancel until an hour before,
        when the instructor set none)."""
        with self.store.transaction() as s:
            row = s.execute(
                select(course_office_hours).where(
                    course_office_hours.c.course_id == course.id,
                    course_office_hours.c.item == item,
                )
            ).first()
        if row is None:
            return BookingRules(item=item)
        return BookingRules(
            item=item,
            max_per_learner=row.max_per_learner,
            cancel_cutoff_minutes=row.cancel_cutoff_minutes,
        )

    # --- publishing -------------------------------------------------------------------------

    def publish(
        self,
        course: Course,
        item: str,
        *,
        start_utc: datetime,
        duration_minutes: int,
        host_name: str,
        time_zone: str,
        capacity: int = 1,
        count: int = 1,
        buffer_minutes: int = 0,
        host_sub: str | None = None,
        location: str = "",
        create_meeting: bool = False,
        title: str | None = None,
    ) -> list[BookingSlot]:
        """Publish ``count`` slots one after the other from ``start_utc``, each
        ``duration_minutes`` long with ``buffer_minutes`` free between them.

        ``create_meeting`` creates each slot's meeting at the course's provider (its join link
        is the slot's); otherwise ``location`` (a room, or a link) tells learners where to go.
        Refused when a slot starts in the past or overlaps (buffer included) another slot of
        the same host.
        """
        self._office_item(course, item)
        if start_utc.tzinfo is None or start_utc.utcoffset() is None:
            raise invalid_slot("the first start must carry a time zone (e.g. 2030-03-04T16:00Z)")
        if not 5 <= duration_minutes <= 8 * 60:
            raise invalid_slot("a slot lasts 5 to 480 minutes")
        if not 1 <= capacity <= 500:
            raise invalid_slot("a slot seats 1 to 500 learners")
        if not 1 <= count <= _MAX_SLOTS_AT_ONCE:
            raise invalid_slot(f"publish 1 to {_MAX_SLOTS_AT_ONCE} slots at once")
        if not 0 <= buffer_minutes <= 240:
            raise invalid_slot("the buffer between slots is 0 to 240 minutes")
        if not host_name.strip():
            raise invalid_slot("name who hosts the slots (learners see it)")
        if create_meeting and self.provider is None:
            raise invalid_slot("this course has no meeting provider: give a location instead")
        if not create_meeting and not location.strip():
            raise invalid_slot("give a location (a room or a link), or create a meeting")
        start = start_utc.astimezone(UTC)
        now = self.courses.clock()
        if start <= now:
            raise invalid_slot("the first slot must start in the future")
        length = timedelta(minutes=duration_minutes)
        step = length + timedelta(minutes=buffer_minutes)
        starts = [start + step * n for n in range(count)]
        self._no_overlap(course, host_name.strip(), starts, length, buffer_minutes)
        name = (title or "").strip() or course.path.item(item).title or "Office hours"
        rows: list[dict[str, Any]] = []
        for begin in starts:
            meeting = None
            if create_meeting and self.provider is not None:
                spec = SessionSpec(
                    title=name,
                    start_utc=begin,
                    time_zone=time_zone,
                    duration_minutes=duration_minutes,
                )
                with provider_answers(self.provider):
                    meeting = self.provider.create_session(spec)
            rows.append({
                "id": uuid.uuid4().hex[:16], "course_id": course.id, "item": item,
                "title": name, "start_utc": begin, "duration_minutes": duration_minutes,
                "time_zone": time_zone, "capacity": capacity,
                "buffer_minutes": buffer_minutes,
                "host_sub": host_sub, "host_name": host_name.strip(),
                "location": location.strip(),
                "provider": meeting.provider if meeting else None,
                "provider_meeting_id": meeting.meeting_id if meeting else None,
                "join_url": meeting.join_url if meeting else None,
                "cancelled": False, "attendance_imported": False, "created_at": now,
            })  # fmt: skip
        with self.store.transaction() as s:
            s.execute(insert(course_booking_slots), rows)
            s.execute(
                insert(course_booking_seats),
                [seat for r in rows for seat in _seats(r["id"], 1, capacity)],
            )
        return [self.slot(course, r["id"]) for r in rows]

    def publish_at_suggestion(
        self,
        course: Course,
        item: str,
        suggestion: SlotProposal,
        *,
        on_or_after: date,
        slot_minutes: int,
        host_name: str,
        time_zone: str,
        capacity: int = 1,
        buffer_minutes: int = 0,
        host_sub: str | None = None,
        location: str = "",
        create_meeting: bool = False,
    ) -> list[BookingSlot]:
        """Fill a window the planner suggested (its first date on or after ``on_or_after``)
        with as many ``slot_minutes`` slots, ``buffer_minutes`` apart, as fit in it."""
        step = slot_minutes + buffer_minutes
        count = (suggestion.duration_minutes + buffer_minutes) // step if step > 0 else 0
        if count < 1:
            raise invalid_slot(
                f"a {slot_minutes}-minute slot does not fit in the suggested "
                f"{suggestion.duration_minutes}-minute window"
            )
        return self.publish(
            course,
            item,
            start_utc=slot_first_start(suggestion, on_or_after),
            duration_minutes=slot_minutes,
            host_name=host_name,
            time_zone=time_zone,
            capacity=capacity,
            count=min(count, _MAX_SLOTS_AT_ONCE),
            buffer_minutes=buffer_minutes,
            host_sub=host_sub,
            location=location,
            create_meeting=create_meeting,
        )

    def _no_overlap(
        self,
        course: Course,
        host: str,
        starts: list[datetime],
        length: timedelta,
        buffer_minutes: int,
    ) -> None:
        widest = timedelta(minutes=240)  # the largest buffer a slot may keep
        first, last = starts[0], starts[-1] + length
        key = course_booking_slots.c
        with self.store.transaction() as s:
            rows = s.execute(
                select(key.start_utc, key.duration_minutes, key.buffer_minutes).where(
                    key.course_id == course.id,
                    key.host_name == host,
                    key.cancelled.is_(False),
                    key.start_utc < last + widest,
                    key.start_utc > first - widest - timedelta(hours=8),
                )
            ).all()
        for row in rows:
            # The wider of the two buffers keeps the host's break between them.
            gap = timedelta(minutes=max(buffer_minutes, row.buffer_minutes))
            begin = aware(row.start_utc)
            end = begin + timedelta(minutes=row.duration_minutes)
            for start in starts:
                if start < end + gap and begin < start + length + gap:
                    raise invalid_slot(
                        f"{host} already hosts a slot at {begin:%Y-%m-%d %H:%M} UTC that "
                        "overlaps these (buffer included); move them or cancel that slot"
                    )

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
