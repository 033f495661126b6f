"""Turning a :class:`CalendarFeed` into RFC 5545 text with the ``icalendar`` library (no I/O).

A series becomes ONE ``VEVENT`` whose ``DTSTART`` carries the series' zone (``TZID``) and whose
``RRULE`` repeats it at the same local time; cancelled sittings are ``EXDATE``\\ s and moved ones
are separate ``VEVENT``\\ s with the same ``UID`` and a ``RECURRENCE-ID``. Every zone used gets its
``VTIMEZONE`` (only the years the feed spans), so clients that do not know IANA names still place
each sitting right across daylight-saving changes. The output is byte-for-byte stable for the
same feed, which is what makes the HTTP ``ETag`` meaningful.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from blendkit.calendar._models import (
    CalendarBooking,
    CalendarDeadline,
    CalendarFeed,
    CalendarItem,
    CalendarSeries,
    CalendarSession,
    MovedSitting,
)
from blendkit.sessions import SessionSpec, expand_occurrences

if TYPE_CHECKING:
    from icalendar import Calendar, Event, Timezone

__all__ = ["PRODID", "calendar_component", "render_calendar", "series_rule"]

PRODID = "-//blendkit//calendar feeds//EN"
_BYDAY = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def series_rule(series: CalendarSeries) -> dict[str, object]:
    """The ``RRULE`` of a series as ``icalendar`` takes it.

    A series that ends on a date ends, in the feed, at its last sitting's start in UTC (RFC 5545
    requires a UTC ``UNTIL`` when ``DTSTART`` has a zone), as blendkit's own expansion finds it.
    """
    rule = series.recurrence
    parts: dict[str, object] = {"FREQ": rule.frequency.upper()}
    if rule.interval != 1:
        parts["INTERVAL"] = rule.interval
    if rule.frequency == "weekly":
        first_local = series.first_start_utc.astimezone(ZoneInfo(series.time_zone))
        days = rule.weekdays or (first_local.weekday(),)
        parts["BYDAY"] = [_BYDAY[d] for d in sorted(days)]
        parts["WKST"] = "MO"
    if rule.count is not None:
        parts["COUNT"] = rule.count
    else:
        sittings = expand_occurrences(
            SessionSpec(
                title=series.title,
                start_utc=series.first_start_utc,
                time_zone=series.time_zone,
                duration_minutes=series.duration_minutes,
                recurrence=rule,
            )
        )
        parts["UNTIL"] = sittings[-1].start_utc if sittings else series.first_start_utc
    return parts


@lru_cache(maxsize=256)
def _timezone(tzid: str, first_year: int, last_year: int) -> Timezone:
    from icalendar import Timezone

    return Timezone.from_tzid(
        tzid, first_date=date(first_year, 1, 1), last_date=date(last_year + 1, 1, 1)
    )


def _local(moment: datetime, zone: str) -> datetime:
    return moment.astimezone(ZoneInfo(zone))


def _text(description: str, url: str | None, label: str) -> str:
    lines = [description.strip()] if description.strip() else []
    if url:
        lines.append(f"{label}: {url}")
    return "\n\n".join(lines)


def _common(event: Event, item: CalendarItem, *, url: str | None = None) -> None:
    event.add("UID", item.uid)
    event.add("DTSTAMP", item.last_modified)
    event.add("LAST-MODIFIED", item.last_modified)
    event.add("SEQUENCE", item.sequence)
    event.add("SUMMARY", item.title)
    link = url if url is not None else item.url
    text = _text(item.description, link, "Join" if _is_meeting(item) else "Open")
    if text:
        event.add("DESCRIPTION", text)
    if link:
        event.add("URL", link)


def _is_meeting(item: CalendarItem) -> bool:
    return isinstance(item, CalendarSession | CalendarSeries)


def _session(item: CalendarSession) -> Event:
    from icalendar import Event

    event = Event()
    _common(event, item)
    start = _local(item.start_utc, item.time_zone)
    event.add("DTSTART", start)
    event.add("DTEND", start + timedelta(minutes=item.duration_minutes))
    if item.url:
        event.add("LOCATION", item.url)
    event.add("STATUS", "CANCELLED" if item.cancelled else "CONFIRMED")
    return event


def _series(item: CalendarSeries) -> list[Event]:
    from icalendar import Event

    master = Event()
    _common(master, item)
    start = _local(item.first_start_utc, item.time_zone)
    master.add("DTSTART", start)
    master.add("DTEND", start + timedelta(minutes=item.duration_minutes))
    master.add("RRULE", series_rule(item))
    if item.cancelled:
        master.add("EXDATE", [_local(c, item.time_zone) for c in sorted(item.cancelled)])
    if item.url:
        master.add("LOCATION", item.url)
    master.add("STATUS", "CONFIRMED")
    return [master, *(_moved(item, m) for m in sorted(item.moved, key=_original))]


def _original(moved: MovedSitting) -> datetime:
    return moved.original_start_utc


def _moved(series: CalendarSeries, moved: MovedSitting) -> Event:
    from icalendar import Event

    event = Event()
    changed = moved.last_modified or series.last_modified
    url = moved.url if moved.url is not None else series.url
    event.add("UID", series.uid)
    event.add("DTSTAMP", changed)
    event.add("LAST-MODIFIED", changed)
    event.add("SEQUENCE", max(moved.sequence, series.sequence))
    event.add("SUMMARY", series.title)
    text = _text(series.description, url, "Join")
    if text:
        event.add("DESCRIPTION", text)
    if url:
        event.add("URL", url)
        event.add("LOCATION", url)
    event.add("RECURRENCE-ID", _local(moved.original_start_utc, series.time_zone))
    start = _local(moved.start_utc, series.time_zone)
    event.add("DTSTART", start)
    event.add("DTEND", start + timedelta(minutes=moved.duration_minutes))
    event.add("STATUS", "CONFIRMED")
    return event


def _deadline(item: CalendarDeadline) -> Event:
    from icalendar import Event

    event = Event()
    _common(event, item)
    if isinstance(item.due, datetime):
        event.add("DTSTART", _local(item.due, item.time_zone))
    else:
        event.add("DTSTART", item.due)
        event.add("DTEND", item.due + timedelta(days=1))
    event.add("TRANSP", "TRANSPARENT")
    event.add("CATEGORIES", ["Deadline"])
    return event


def _booking(item: CalendarBooking) -> Event:
    from icalendar import Event

    event = Event()
    _common(event, item)
    event.add("DTSTART", _local(item.start_utc, item.time_zone))
    event.add("DTEND", _local(item.end_utc, item.time_zone))
    if item.location:
        event.add("LOCATION", item.location)
    event.add("STATUS", "CANCELLED" if item.cancelled else "CONFIRMED")
    event.add("CATEGORIES", ["Booking"])
    return event


def _events(item: CalendarItem) -> list[Event]:
    if isinstance(item, CalendarSeries):
        return _series(item)
    if isinstance(item, CalendarSession):
        return [_session(item)]
    if isinstance(item, CalendarBooking):
        return [_booking(item)]
    return [_deadline(item)]


def _span(item: CalendarItem) -> tuple[str, datetime, datetime] | None:
    """The zone a timed item's TZIDs name and the UTC range its times fall in."""
    if isinstance(item, CalendarSeries):
        starts = [item.first_start_utc, *item.cancelled]
        starts += [m.start_utc for m in item.moved] + [m.original_start_utc for m in item.moved]
        last = series_rule(item).get("UNTIL")
        if isinstance(last, datetime):
            starts.append(last)
        elif item.recurrence.count is not None:
            weeks = item.recurrence.count * item.recurrence.interval
            starts.append(item.first_start_utc + timedelta(weeks=weeks))
        return item.time_zone, min(starts), max(starts)
    if isinstance(item, CalendarSession | CalendarBooking):
        return item.time_zone, item.start_utc, item.start_utc
    if isinstance(item.due, datetime):
        return item.time_zone, item.due.astimezone(UTC), item.due.astimezone(UTC)
    return None


def _duration_text(span: timedelta) -> str:
    """An RFC 5545 DURATION for a whole number of minutes (``PT1H``, ``PT90M``, ``P1D``)."""
    minutes = int(span.total_seconds()) // 60
    if minutes % (24 * 60) == 0:
        return f"P{minutes // (24 * 60)}D"
    if minutes % 60 == 0:
        return f"PT{minutes // 60}H"
    return f"PT{minutes}M"


def calendar_component(feed: CalendarFeed, *, method: str | None = None) -> Calendar:
    """The feed as an ``icalendar.Calendar`` (with one ``VTIMEZONE`` per zone it uses)."""
    from icalendar import Calendar

    cal = Calendar()
    cal.add("VERSION", "2.0")
    cal.add("PRODID", PRODID)
    cal.add("CALSCALE", "GREGORIAN")
    if method:
        cal.add("METHOD", method)
    cal.add("NAME", feed.name)
    cal.add("X-WR-CALNAME", feed.name)
    # No X-WR-TIMEZONE: Google and the libraries that follow it move every UTC time into that
    # zone, which turns a UTC series into one that follows the viewer's daylight saving.
    if feed.description:
        cal.add("X-WR-CALDESC", feed.description)
    refresh = timedelta(minutes=feed.refresh_minutes)
    cal.add("REFRESH-INTERVAL", refresh, parameters={"VALUE": "DURATION"})
    cal.add("X-PUBLISHED-TTL", _duration_text(refresh))
    spans: dict[str, tuple[int, int]] = {}
    for item in feed.items:
        span = _span(item)
        if span is None or span[0] == "UTC":
            continue
        zone, low, high = span
        known = spans.get(zone, (low.year, high.year))
        spans[zone] = (min(known[0], low.year - 1), max(known[1], high.year + 1))
    for zone in sorted(spans):
        cal.add_component(_timezone(zone, *spans[zone]))
    for item in feed.items:
        for event in _events(item):
            cal.add_component(event)
    return cal


def render_calendar(feed: CalendarFeed, *, method: str | None = None) -> bytes:
    """The feed as ``text/calendar`` bytes (CRLF lines, folded at 75 octets).

    Without ``method`` (a subscribed feed), each ``DTSTAMP`` is the event's last change, so the
    same feed renders to the same bytes.
    """
    component: Any = calendar_component(feed, method=method)  # to_ical is untyped in icalendar 7
    return bytes(component.to_ical())
