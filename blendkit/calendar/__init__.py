"""Calendar feeds (RFC 5545): a learner's live sessions, deadlines and bookings, and an
instructor's course calendar, rendered with the ``icalendar`` library.

The values and the renderer do no I/O (:func:`render_calendar`); :class:`CalendarFeeds` reads a
course's sessions and deadlines from the store, keeps each event's ``SEQUENCE`` and
``LAST-MODIFIED``, and issues the secret, revocable feed tokens the subscribe links carry;
:func:`feed_response` answers a calendar app's poll with ``ETag``/``Last-Modified`` and 304s;
:func:`session_invitation` is the ``.ics`` attachment of a session e-mail. See
docs/calendar-feeds.md.
"""

from blendkit.calendar._bookings import office_hours_bookings
from blendkit.calendar._feeds import BookingSource, CalendarFeeds, RenderedFeed, SessionLink
from blendkit.calendar._http import (
    CALENDAR_CONTENT_TYPE,
    feed_not_found,
    feed_response,
    strong_etag,
)
from blendkit.calendar._invitation import (
    INVITATION_CONTENT_TYPE,
    booking_invitation,
    session_invitation,
    session_uid,
)
from blendkit.calendar._models import (
    CalendarBooking,
    CalendarDeadline,
    CalendarFeed,
    CalendarItem,
    CalendarSeries,
    CalendarSession,
    MovedSitting,
)
from blendkit.calendar._render import PRODID, calendar_component, render_calendar, series_rule
from blendkit.calendar._tokens import FeedOwner, token_digest

__all__ = [
    "BookingSource",
    "CALENDAR_CONTENT_TYPE",
    "CalendarBooking",
    "CalendarDeadline",
    "CalendarFeed",
    "CalendarFeeds",
    "CalendarItem",
    "CalendarSeries",
    "CalendarSession",
    "FeedOwner",
    "INVITATION_CONTENT_TYPE",
    "MovedSitting",
    "PRODID",
    "RenderedFeed",
    "SessionLink",
    "booking_invitation",
    "calendar_component",
    "feed_not_found",
    "feed_response",
    "office_hours_bookings",
    "render_calendar",
    "series_rule",
    "session_invitation",
    "session_uid",
    "strong_etag",
    "token_digest",
]
