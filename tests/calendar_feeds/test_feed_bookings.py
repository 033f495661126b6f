"""Office-hours bookings in the feeds: a learner's feed holds their own booking (in the slot's
zone, with its room), nobody else's; the course feed holds the booked slot with its seat count;
a cancelled booking leaves the learner's feed."""

from __future__ import annotations

from datetime import timedelta

import icalendar

from blendkit.calendar import CalendarFeeds, office_hours_bookings, render_calendar
from blendkit.courses import CourseService, OfficeHoursService
from tests.courses.test_import_ended import clock, service
from tests.courses.test_office_hours import SLOT_START, course_with, publish

__all__ = ["clock", "service"]


def _events(feeds: CalendarFeeds, course, sub: str | None) -> list[icalendar.Event]:  # type: ignore[no-untyped-def]
    calendar = icalendar.Calendar.from_ical(render_calendar(feeds.feed(course, sub)))
    return list(calendar.walk("VEVENT"))


def test_a_booking_joins_the_learners_feed_and_the_course_feed(service: CourseService) -> None:
    course = course_with(service)
    hours = OfficeHoursService(service)
    (slot,) = publish(hours, course, capacity=3)
    feeds = CalendarFeeds(service, bookings=office_hours_bookings(hours))
    assert not [e for e in _events(feeds, course, "learner-0") if "Expert clinic" in e["SUMMARY"]]

    hours.book(course, slot.id, "learner-0")
    (mine,) = [e for e in _events(feeds, course, "learner-0") if "Expert clinic" in e["SUMMARY"]]
    assert mine.decoded("DTSTART") == SLOT_START.astimezone(mine.decoded("DTSTART").tzinfo)
    assert mine.decoded("DTEND") - mine.decoded("DTSTART") == timedelta(minutes=20)
    assert str(mine["LOCATION"]) == "Room 101"
    assert "Dr. Ada" in str(mine["SUMMARY"])
    others = _events(feeds, course, "learner-1")
    assert not [e for e in others if "Expert clinic" in e["SUMMARY"]]  # not theirs
    (booked,) = [e for e in _events(feeds, course, None) if "Expert clinic" in e["SUMMARY"]]
    assert "1 of 3 booked" in str(booked["SUMMARY"])

    hours.cancel_booking(course, slot.id, "learner-0")
    assert not [e for e in _events(feeds, course, "learner-0") if "Expert clinic" in e["SUMMARY"]]
    assert not [e for e in _events(feeds, course, None) if "Expert clinic" in e["SUMMARY"]]
