"""Office-hours bookings as calendar events: a learner's own bookings in their feed, and every
booked slot in the course feed (with how many seats are taken), from
:class:`~blendkit.courses.OfficeHoursService`."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import TYPE_CHECKING

from blendkit.calendar._feeds import _PLACEHOLDER, BookingSource, _uid
from blendkit.calendar._models import CalendarBooking

if TYPE_CHECKING:
    from blendkit.courses import Course, OfficeHoursService

__all__ = ["office_hours_bookings"]


def office_hours_bookings(
    office_hours: OfficeHoursService, *, uid_domain: str = "blendkit"
) -> BookingSource:
    """The :data:`BookingSource` of ``office_hours`` for :class:`CalendarFeeds`: ``(course,
    sub)`` gives the learner's bookings (the join link or room as location), ``(course, None)``
    the course's slots that have at least one booking."""

    def source(course: Course, sub: str | None) -> Iterable[CalendarBooking]:
        if sub is not None:
            return [
                CalendarBooking(
                    uid=_uid("booking", b.slot_id, course, uid_domain),
                    title=f"{b.title} with {b.host_name}",
                    url=b.join_url,
                    location=b.join_url or b.location,
                    start_utc=b.start_utc,
                    end_utc=b.end_utc,
                    time_zone=b.time_zone,
                    last_modified=_PLACEHOLDER,  # the feed keeps the real version
                )
                for b in office_hours.bookings_for(course, sub)
            ]
        return [
            CalendarBooking(
                uid=_uid("booking", s.id, course, uid_domain),
                title=f"{s.title} ({s.booked} of {s.capacity} booked)",
                url=s.join_url,
                location=s.join_url or s.location,
                start_utc=s.start_utc,
                end_utc=s.start_utc + timedelta(minutes=s.duration_minutes),
                time_zone=s.time_zone,
                last_modified=_PLACEHOLDER,
            )
            for s in office_hours.slots(course)
            if s.booked > 0
        ]

    return source
