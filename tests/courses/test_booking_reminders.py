"""Booked office hours get reminders like live sessions (24 h and 15 min, the slot's link or
room, an .ics), and a cancelled booking, a cancelled slot or a new room cancels pending ones."""

from __future__ import annotations

from datetime import timedelta

import pytest
from icalendar import Calendar

from blendkit.calendar import office_hours_bookings
from blendkit.courses import (
    CourseService,
    LiveSessionService,
    OfficeHoursService,
    ReminderPlanner,
    SessionInvitations,
)
from blendkit.errors import CoursesError
from blendkit.notify import BookingStarting, QueuedReminder, ReminderIntent
from blendkit.sessions import FakeMeetingProvider
from tests.courses.test_course_service import NOW, Clock
from tests.courses.test_office_hours import course_with, publish
from tests.courses.test_reminder_hooks import LINKS, Sink, clock, service, sink

__all__ = ["clock", "service", "sink"]  # fixtures shared with the reminder hook tests

SOON = NOW + timedelta(hours=30)  # inside the 48 h horizon: both reminders are due to plan


def booking_rows(sink: Sink, slot_id: str, sub: str | None = None) -> list[ReminderIntent]:
    return [
        i for i in sink.pending(f"booking:{slot_id}:")
        if sub is None or i.recipient == sub
    ]  # fmt: skip


def test_a_booking_schedules_its_reminders_in_the_learners_zone(
    service: CourseService, sink: Sink, clock: Clock
) -> None:
    course = course_with(service)
    hours = OfficeHoursService(service)
    (slot,) = publish(hours, course, start_utc=SOON)
    hours.book(course, slot.id, "learner-1")

    rows = booking_rows(sink, slot.id)
    assert {(i.recipient, i.offset) for i in rows} == {("learner-1", "24h"), ("learner-1", "15m")}
    assert {i.due_at for i in rows} == {SOON - timedelta(hours=24), SOON - timedelta(minutes=15)}
    assert {i.event for i in rows} == {f"booking:{slot.id}:learner-1"}
    context = rows[0].context
    assert isinstance(context, BookingStarting)
    assert context.time_zone == "America/New_York"
    assert (context.slot_title, context.host_name, context.location) == (
        slot.title, "Dr. Ada", "Room 101",
    )  # fmt: skip
    assert context.join_url is None
    assert context.starts == SOON
    # the planner's tick finds the same reminders: nothing new is stored
    planner = ReminderPlanner(service, None, LINKS)
    assert sink.schedule(planner(clock.now)) == 0
    assert {i.key for i in booking_rows(sink, slot.id)} == {i.key for i in rows}


def test_the_planner_schedules_bookings_made_beyond_the_horizon_when_they_fall_due(
    service: CourseService, sink: Sink, clock: Clock
) -> None:
    course = course_with(service)
    hours = OfficeHoursService(service)
    later = NOW + timedelta(days=5)
    (slot,) = publish(hours, course, start_utc=later)
    hours.book(course, slot.id, "learner-0")
    assert booking_rows(sink, slot.id) == []  # nothing due within 48 h yet
    planner = ReminderPlanner(service, None, LINKS)
    clock.now = later - timedelta(hours=47)
    sink.schedule(planner(clock.now))
    assert {i.offset for i in booking_rows(sink, slot.id)} == {"24h", "15m"}


def test_cancelling_a_booking_cancels_only_that_learners_reminders(
    service: CourseService, sink: Sink, clock: Clock
) -> None:
    course = course_with(service)
    hours = OfficeHoursService(service)
    (slot,) = publish(hours, course, start_utc=SOON, capacity=3)
    for sub in ("learner-0", "learner-1"):
        hours.book(course, slot.id, sub)
    first = booking_rows(sink, slot.id, "learner-0")

    hours.cancel_booking(course, slot.id, "learner-0")

    assert booking_rows(sink, slot.id, "learner-0") == []
    assert all(i.key in sink.cancelled for i in first)
    assert len(booking_rows(sink, slot.id, "learner-1")) == 2
    # booking again is a new version of the event: new reminders, not the cancelled keys
    clock.now += timedelta(minutes=5)
    hours.book(course, slot.id, "learner-0")
    again = booking_rows(sink, slot.id, "learner-0")
    assert len(again) == 2
    assert not {i.key for i in again} & {i.key for i in first}
    # the planner does not bring the cancelled ones back
    sink.schedule(ReminderPlanner(service, None, LINKS)(clock.now))
    assert {i.key for i in booking_rows(sink, slot.id, "learner-0")} == {i.key for i in again}


def test_the_host_releasing_a_seat_after_the_cutoff_cancels_its_reminders(
    service: CourseService, sink: Sink, clock: Clock
) -> None:
    course = course_with(service)
    hours = OfficeHoursService(service)
    (slot,) = publish(hours, course, start_utc=SOON)
    hours.book(course, slot.id, "learner-2")
    clock.now = SOON - timedelta(minutes=30)  # past the learner's 60-minute cutoff
    with pytest.raises(CoursesError, match="too late"):
        hours.cancel_booking(course, slot.id, "learner-2")
    hours.cancel_booking(course, slot.id, "learner-2", by_host=True)
    assert booking_rows(sink, slot.id) == []
    assert hours.slot(course, slot.id).booked == 0


def test_cancelling_the_slot_cancels_every_bookers_reminders(
    service: CourseService, sink: Sink, clock: Clock
) -> None:
    course = course_with(service)
    hours = OfficeHoursService(service)
    (slot,) = publish(hours, course, start_utc=SOON, capacity=3)
    for n in range(3):
        hours.book(course, slot.id, f"learner-{n}")
    assert len(booking_rows(sink, slot.id)) == 6

    hours.cancel_slot(course, slot.id)

    assert booking_rows(sink, slot.id) == []
    assert {e for _, e, _ in sink.calls} >= {f"booking:{slot.id}:learner-{n}" for n in range(3)}
    assert sink.schedule(ReminderPlanner(service, None, LINKS)(clock.now)) == 0


def test_a_new_room_or_host_replaces_the_pending_reminders(
    service: CourseService, sink: Sink
) -> None:
    course = course_with(service)
    hours = OfficeHoursService(service)
    (slot,) = publish(hours, course, start_utc=SOON)
    hours.book(course, slot.id, "learner-0")
    before = booking_rows(sink, slot.id)
    hours.edit_slot(course, slot.id, capacity=4)  # seats alone: the reminders stay
    assert booking_rows(sink, slot.id) == before

    hours.edit_slot(course, slot.id, location="Room 202")

    after = booking_rows(sink, slot.id)
    assert all(i.key in sink.cancelled for i in before)
    assert {i.context.location for i in after} == {"Room 202"}  # type: ignore[union-attr]
    assert len(after) == 2


def test_a_booking_reminder_carries_the_slot_as_an_ics_with_the_feeds_uid(
    service: CourseService, sink: Sink
) -> None:
    course = course_with(service)
    provider = FakeMeetingProvider()
    hours = OfficeHoursService(service, provider)
    (slot,) = publish(hours, course, start_utc=SOON, location="", create_meeting=True)
    hours.book(course, slot.id, "learner-0")
    reminder = booking_rows(sink, slot.id)[0]
    context = reminder.context
    assert isinstance(context, BookingStarting)
    assert str(context.join_url) == slot.join_url

    attach = SessionInvitations(LiveSessionService(service, provider), uid_domain="tool.example")
    (ics,) = attach(QueuedReminder(id=1, intent=reminder, attempts=0))

    assert ics.filename == "office-hours.ics"
    event = next(c for c in Calendar.from_ical(ics.content).walk("VEVENT"))
    feed = office_hours_bookings(hours, uid_domain="tool.example")(course, "learner-0")
    assert str(event["UID"]) == feed[0].uid  # type: ignore[index]
    assert str(event["LOCATION"]) == slot.join_url
    assert event.decoded("DTSTART") == SOON
