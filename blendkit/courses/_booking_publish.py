"""Publishing office-hours slots: the booking rules of each item, and slots in blocks (with a
buffer) that never overlap another slot of the same host."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError
from sqlalchemy import insert, select

from blendkit.courses._booking_models import BookingRules, BookingSlot
from blendkit.courses._booking_slots import _seats, invalid_slot
from blendkit.courses._models import Course, aware
from blendkit.courses._series import slot_first_start
from blendkit.errors import CourseInputInvalid
from blendkit.sessions import SessionSpec, SlotProposal
from blendkit.sessions._answers import provider_answers
from blendkit.store._tables_booking import (
    course_booking_seats,
    course_booking_slots,
    course_office_hours,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from blendkit.courses._service import CourseService
    from blendkit.sessions import MeetingProvider
    from blendkit.store import Store

__all__ = ["OfficeHoursPublishing"]

_MAX_SLOTS_AT_ONCE = 48


class OfficeHoursPublishing:
    """Publishing operations of :class:`~blendkit.courses.OfficeHoursService`: booking rules
    and new slots."""

    courses: CourseService
    store: Store
    provider: MeetingProvider | None
    slot: Callable[[Course, str], BookingSlot]

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
