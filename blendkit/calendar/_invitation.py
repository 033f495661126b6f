"""The ``.ics`` attachment of a session e-mail: one sitting, with the learner's join link.

It is sent with ``METHOD:PUBLISH``, not ``REQUEST``: a REQUEST is a meeting invitation that
needs an ORGANIZER and ATTENDEEs and makes mail clients offer Accept/Decline and mail a reply
to the organizer, which nobody reads here (the course, not a person, schedules the session,
and attendance comes from the meeting provider). PUBLISH just puts the event in the calendar;
its ``UID`` is the one the learner's feed gives the same sitting (one ``UID`` per sitting, so
a sitting of a series stands on its own in the learner's calendar), and its ``SEQUENCE`` rises
with each moved notice so the calendar replaces the earlier copy.
"""

from __future__ import annotations

from datetime import datetime

from blendkit.calendar._feeds import _uid
from blendkit.calendar._models import CalendarBooking, CalendarFeed, CalendarItem, CalendarSession
from blendkit.calendar._render import render_calendar
from blendkit.courses import BookingSlot, Course, LiveSessionRecord
from blendkit.notify import MessageAttachment

__all__ = ["INVITATION_CONTENT_TYPE", "booking_invitation", "session_invitation", "session_uid"]

INVITATION_CONTENT_TYPE = "text/calendar; method=PUBLISH; charset=utf-8"


def session_uid(course: Course, session_id: str, *, uid_domain: str = "blendkit") -> str:
    """The ``UID`` of a single session (or one sitting) in feeds and attachments alike."""
    return f"session-{session_id}.{course.id}@{uid_domain}"


def session_invitation(
    course: Course,
    record: LiveSessionRecord,
    *,
    join_url: str | None,
    changed_at: datetime,
    sequence: int = 0,
    description: str = "",
    uid_domain: str = "blendkit",
) -> MessageAttachment:
    """``session.ics`` for one sitting: start/end in the session's zone (TZID + VTIMEZONE),
    the learner's ``join_url`` as URL, LOCATION and in the DESCRIPTION; a cancelled sitting
    carries ``STATUS:CANCELLED``. Raise ``sequence`` for each later notice (e.g. moved)."""
    event = CalendarSession(
        uid=session_uid(course, record.id, uid_domain=uid_domain),
        title=record.title,
        description=description,
        url=join_url,
        sequence=sequence,
        last_modified=changed_at,
        start_utc=record.start_utc,
        duration_minutes=record.duration_minutes,
        time_zone=record.time_zone,
        cancelled=record.cancelled,
    )
    return _attachment(course, record.time_zone, event, "session.ics")


def booking_invitation(
    course: Course,
    slot: BookingSlot,
    *,
    changed_at: datetime,
    sequence: int = 0,
    uid_domain: str = "blendkit",
) -> MessageAttachment:
    """``office-hours.ics`` for a booked slot: the same ``UID`` as the booking in the learner's
    feed, its meeting link (or room) as LOCATION, ``STATUS:CANCELLED`` once cancelled."""
    event = CalendarBooking(
        uid=_uid("booking", slot.id, course, uid_domain),
        title=f"{slot.title} with {slot.host_name}",
        url=slot.join_url,
        location=slot.join_url or slot.location,
        sequence=sequence,
        last_modified=changed_at,
        start_utc=slot.start_utc,
        end_utc=slot.end_utc,
        time_zone=slot.time_zone,
        cancelled=slot.cancelled,
    )
    return _attachment(course, slot.time_zone, event, "office-hours.ics")


def _attachment(course: Course, zone: str, event: CalendarItem, name: str) -> MessageAttachment:
    feed = CalendarFeed(name=course.title, time_zone=zone, items=(event,))
    return MessageAttachment(
        filename=name,
        content_type=INVITATION_CONTENT_TYPE,
        content=render_calendar(feed, method="PUBLISH"),
    )
