"""Reminders of booked office-hours slots: planned like a live session's (the course's session
lead times, 24 h and 15 min by default), one event per booking, cancelled with it.

Each booking is its own event, named per learner (``booking:<slot>:<sub>``), so cancelling one
learner's booking leaves the others' reminders alone. Its version holds the slot's start, when
the learner booked, and a digest of where it happens (join link, room, host): a learner who
cancels and books again, or a slot that moves or changes its room, gets new reminders while
the pending ones of the old version are cancelled.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from pydantic import AnyHttpUrl
from sqlalchemy import select

from blendkit.courses._models import Course, aware
from blendkit.notify._contexts import BookingStarting
from blendkit.notify._planning import Offset, PlannedEvent, ReminderPlan
from blendkit.store._tables_booking import course_booking_slots, course_bookings

if TYPE_CHECKING:
    from blendkit.courses._service import CourseService
    from blendkit.notify._intent import NotificationSink

__all__ = ["booking_events", "cancel_booking_reminders", "schedule_booking_reminders"]

HORIZON = timedelta(hours=48)
"""How far ahead a booking schedules its reminders at once (the planner does the rest)."""
_PLACEHOLDER = "learner"
_SLOT = course_booking_slots.c
_BOOKING = course_bookings.c


def booking_event_name(slot_id: str) -> str:
    """The event every booking of a slot shares (each learner's reminders add ``:<sub>``)."""
    return f"booking:{slot_id}"


def booking_events(
    courses: CourseService,
    course: Course,
    offsets: tuple[Offset, ...],
    now: datetime,
    *,
    slot_id: str | None = None,
    subs: Iterable[str] | None = None,
) -> list[PlannedEvent]:
    """One event per booking of a slot of ``course`` that starts after ``now`` and is not
    cancelled (only the slot ``slot_id`` and the learners ``subs`` when given)."""
    query = (
        select(course_booking_slots, _BOOKING.sub, _BOOKING.booked_at)
        .join(course_bookings, _BOOKING.slot_id == _SLOT.id)
        .where(
            _SLOT.course_id == course.id,
            _BOOKING.course_id == course.id,
            _SLOT.cancelled.is_(False),
            _SLOT.start_utc > now,
        )
        .order_by(_SLOT.start_utc, _SLOT.id, _BOOKING.sub)
    )
    if slot_id is not None:
        query = query.where(_SLOT.id == slot_id)
    if subs is not None:
        query = query.where(_BOOKING.sub.in_(list(subs)))
    with courses.store.transaction() as s:
        rows = s.execute(query).all()
    events: list[PlannedEvent] = []
    for row in rows:
        start = aware(row.start_utc)
        where = "|".join((row.join_url or "", row.location or "", row.host_name))
        digest = hashlib.sha256(where.encode()).hexdigest()[:12]
        events.append(
            PlannedEvent(
                event=booking_event_name(row.id),
                version=f"{start.isoformat()}|{aware(row.booked_at).isoformat()}|{digest}",
                moment=start,
                offsets=offsets,
                context=BookingStarting(
                    recipient_name=_PLACEHOLDER, course_title=course.title[:200],
                    slot_title=row.title[:200], host_name=row.host_name[:200], starts=start,
                    time_zone="UTC", location=(row.location or "")[:300],
                    join_url=AnyHttpUrl(row.join_url) if row.join_url else None,
                ),
                recipients=(row.sub,),
                per_recipient=True,
            )
        )  # fmt: skip
    return events


def schedule_booking_reminders(
    sink: NotificationSink,
    courses: CourseService,
    course: Course,
    slot_id: str,
    *,
    now: datetime,
    subs: Iterable[str] | None = None,
) -> int:
    """After a booking (``subs``: the learner) or a change of the slot (every booker): cancel
    the pending reminders of any other version and schedule those due within the horizon."""
    from blendkit.courses._reminder_store import ReminderSettings
    from blendkit.courses._reminders import addressees

    offsets = ReminderSettings(courses.store, clock=courses.clock).offsets(course.id).session
    events = booking_events(courses, course, offsets, now, slot_id=slot_id, subs=subs)
    if not events:
        return 0
    booked = {sub for e in events for sub in e.recipients or ()}
    for event in events:
        for sub in event.recipients or ():
            sink.cancel_event(course.id, event.name_for(sub), keep_version=event.version)
    people = [p for p in courses.enrolments(course, learners_only=True) if p.sub in booked]
    plan = ReminderPlan(course.id, addressees(people), events)
    return sink.schedule(plan.due(now, HORIZON))


def cancel_booking_reminders(
    sink: NotificationSink, course: Course, slot_id: str, subs: Iterable[str]
) -> int:
    """A booking cancelled (by the learner or the host) or its slot cancelled: every pending
    reminder of those learners' bookings of the slot is cancelled."""
    name = booking_event_name(slot_id)
    return sum(sink.cancel_event(course.id, f"{name}:{sub}") for sub in subs)
