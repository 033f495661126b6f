"""Turning a :class:`CalendarFeed` into RFC 5545 text (no I/O).

A series becomes ONE ``VEVENT`` whose ``DTSTART`` carries the series' zone (``TZID``) and whose
``RRULE`` repeats it at the same local time; cancelled sittings are ``EXDATE``\\ s and moved ones
are separate ``VEVENT``\\ s with the same ``UID`` and a ``RECURRENCE-ID``. Every zone used gets its
``VTIMEZONE`` from the ``icalendar`` library (only the years the feed spans, built once per zone
and span), so clients that do not know IANA names still place each sitting right across
daylight-saving changes.

Each event is first described as plain ``(name, value)`` properties; :func:`calendar_component`
hands them to ``icalendar``'s objects, and :func:`render_calendar` writes them with a small
content-line writer (:mod:`._writer`) — the same properties, about 20 times faster than
``icalendar``'s own serialiser, which matters to a feed that calendar apps poll (the tests parse
both with ``icalendar`` and compare). The output is byte-for-byte stable for the same feed, which
is what makes the HTTP ``ETag`` meaningful.
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
from blendkit.calendar._writer import (
    Properties,
    Uri,
    duration_text,
    forget_values,
    write_component,
)
from blendkit.sessions import SessionSpec, expand_occurrences

if TYPE_CHECKING:
    from icalendar import Calendar, Timezone

__all__ = [
    "PRODID",
    "calendar_component",
    "forget_rendered",
    "render_calendar",
    "series_rule",
]

PRODID = "-//blendkit//calendar feeds//EN"
_BYDAY = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def series_rule(series: CalendarSeries) -> dict[str, Any]:
    """The ``RRULE`` of a series (as ``icalendar`` takes it).

    A series that ends on a date ends, in the feed, at its last sitting's start in UTC (RFC 5545
    requires a UTC ``UNTIL`` when ``DTSTART`` has a zone), as blendkit's own expansion finds it.
    """
    rule = series.recurrence
    parts: dict[str, Any] = {"FREQ": rule.frequency.upper()}
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
        parts["UNTIL"] = _last_start(series)
    return parts


@lru_cache(maxsize=1024)
def _last_start(series: CalendarSeries) -> datetime:
    sittings = expand_occurrences(
        SessionSpec(
            title=series.title,
            start_utc=series.first_start_utc,
            time_zone=series.time_zone,
            duration_minutes=series.duration_minutes,
            recurrence=series.recurrence,
        )
    )
    return sittings[-1].start_utc if sittings else series.first_start_utc


@lru_cache(maxsize=256)
def _timezone(tzid: str, first_year: int, last_year: int) -> Timezone:
    from icalendar import Timezone

    return Timezone.from_tzid(
        tzid, first_date=date(first_year, 1, 1), last_date=date(last_year + 1, 1, 1)
    )


@lru_cache(maxsize=256)
def _timezone_text(tzid: str, first_year: int, last_year: int) -> str:
    component: Any = _timezone(tzid, first_year, last_year)  # to_ical is untyped in icalendar 7
    return bytes(component.to_ical()).decode("utf-8")


def _local(moment: datetime, zone: str) -> datetime:
    return moment.astimezone(ZoneInfo(zone))


def _text(description: str, url: str | None, label: str) -> str:
    lines = [description.strip()] if description.strip() else []
    if url:
        lines.append(f"{label}: {url}")
    return "\n\n".join(lines)


def _common(item: CalendarItem, label: str) -> Properties:
    props: Properties = [
        ("UID", item.uid),
        ("DTSTAMP", item.last_modified),
        ("LAST-MODIFIED", item.last_modified),
        ("SEQUENCE", item.sequence),
        ("SUMMARY", item.title),
    ]
    text = _text(item.description, item.url, label)
    if text:
        props.append(("DESCRIPTION", text))
    if item.url:
        props.append(("URL", Uri(item.url)))
    return props


def _session(item: CalendarSession) -> Properties:
    start = _local(item.start_utc, item.time_zone)
    props = _common(item, "Join")
    props += [("DTSTART", start), ("DTEND", start + timedelta(minutes=item.duration_minutes))]
    if item.url:
        props.append(("LOCATION", item.url))
    props.append(("STATUS", "CANCELLED" if item.cancelled else "CONFIRMED"))
    return props


def _series(item: CalendarSeries) -> list[Properties]:
    start = _local(item.first_start_utc, item.time_zone)
    master = _common(item, "Join")
    master += [
        ("DTSTART", start),
        ("DTEND", start + timedelta(minutes=item.duration_minutes)),
        ("RRULE", series_rule(item)),
    ]
    if item.cancelled:
        master.append(("EXDATE", [_local(c, item.time_zone) for c in sorted(item.cancelled)]))
    if item.url:
        master.append(("LOCATION", item.url))
    master.append(("STATUS", "CONFIRMED"))
    return [master, *(_moved(item, m) for m in sorted(item.moved, key=_original))]


def _original(moved: MovedSitting) -> datetime:
    return moved.original_start_utc


def _moved(series: CalendarSeries, moved: MovedSitting) -> Properties:
    changed = moved.last_modified or series.last_modified
    url = moved.url if moved.url is not None else series.url
    props: Properties = [
        ("UID", series.uid),
        ("DTSTAMP", changed),
        ("LAST-MODIFIED", changed),
        ("SEQUENCE", max(moved.sequence, series.sequence)),
        ("SUMMARY", series.title),
    ]
    text = _text(series.description, url, "Join")
    if text:
        props.append(("DESCRIPTION", text))
    if url:
        props += [("URL", Uri(url)), ("LOCATION", url)]
    start = _local(moved.start_utc, series.time_zone)
    props += [
        ("RECURRENCE-ID", _local(moved.original_start_utc, series.time_zone)),
        ("DTSTART", start),
        ("DTEND", start + timedelta(minutes=moved.duration_minutes)),
        ("STATUS", "CONFIRMED"),
    ]
    return props


def _deadline(item: CalendarDeadline) -> Properties:
    props = _common(item, "Open")
    if isinstance(item.due, datetime):
        props.append(("DTSTART", _local(item.due, item.time_zone)))
    else:
        props += [("DTSTART", item.due), ("DTEND", item.due + timedelta(days=1))]
    props += [("TRANSP", "TRANSPARENT"), ("CATEGORIES", ["Deadline"])]
    return props


def _booking(item: CalendarBooking) -> Properties:
    props = _common(item, "Open")
    props += [
        ("DTSTART", _local(item.start_utc, item.time_zone)),
        ("DTEND", _local(item.end_utc, item.time_zone)),
    ]
    if item.location:
        props.append(("LOCATION", item.location))
    props += [
        ("STATUS", "CANCELLED" if item.cancelled else "CONFIRMED"),
        ("CATEGORIES", ["Booking"]),
    ]
    return props


def _events(item: CalendarItem) -> list[Properties]:
    if isinstance(item, CalendarSeries):
        return _series(item)
    if isinstance(item, CalendarSession):
        return [_session(item)]
    if isinstance(item, CalendarBooking):
        return [_booking(item)]
    return [_deadline(item)]


@lru_cache(maxsize=8192)
def _span(item: CalendarItem) -> tuple[str, datetime, datetime] | None:
    """The zone a timed item's TZIDs name and the UTC range its times fall in (kept per item
    value, as its text is)."""
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


def _spans(feed: CalendarFeed) -> list[tuple[str, int, int]]:
    """One (zone, first year, last year) per zone the feed's TZIDs name, sorted by zone."""
    spans: dict[str, tuple[int, int]] = {}
    for item in feed.items:
        span = _span(item)
        if span is None or span[0] == "UTC":
            continue
        zone, low, high = span
        known = spans.get(zone, (low.year, high.year))
        spans[zone] = (min(known[0], low.year - 1), max(known[1], high.year + 1))
    return [(zone, *spans[zone]) for zone in sorted(spans)]


def _header(feed: CalendarFeed, method: str | None) -> Properties:
    props: Properties = [("VERSION", "2.0"), ("PRODID", PRODID), ("CALSCALE", "GREGORIAN")]
    if method:
        props.append(("METHOD", method))
    # No X-WR-TIMEZONE: Google and the libraries that follow it move every UTC time into that
    # zone, which turns a UTC series into one that follows the viewer's daylight saving.
    props += [("NAME", feed.name), ("X-WR-CALNAME", feed.name)]
    if feed.description:
        props.append(("X-WR-CALDESC", feed.description))
    refresh = timedelta(minutes=feed.refresh_minutes)
    props += [("REFRESH-INTERVAL", refresh), ("X-PUBLISHED-TTL", duration_text(refresh))]
    return props


def calendar_component(feed: CalendarFeed, *, method: str | None = None) -> Calendar:
    """The feed as an ``icalendar.Calendar`` (with one ``VTIMEZONE`` per zone it uses)."""
    from icalendar import Calendar, Event, vUri

    cal = Calendar()
    for name, value in _header(feed, method):
        if name == "REFRESH-INTERVAL":
            cal.add(name, value, parameters={"VALUE": "DURATION"})
        else:
            cal.add(name, value)
    for zone, first, last in _spans(feed):
        cal.add_component(_timezone(zone, first, last))
    for item in feed.items:
        for props in _events(item):
            event = Event()
            for name, value in props:
                event.add(name, vUri(str(value)) if isinstance(value, Uri) else value)
            cal.add_component(event)
    return cal


@lru_cache(maxsize=8192)
def _event_text(item: CalendarItem) -> str:
    """An item's VEVENT lines: kept per value, since a polled feed's events rarely change (a
    changed event is a different value, so it is never served stale)."""
    return "".join(write_component("VEVENT", props) for props in _events(item))


def forget_rendered() -> None:
    """Drop every kept event text, line and span (not the ``VTIMEZONE``\\ s): the next render
    writes each event from its values, as the first render of a feed does."""
    _event_text.cache_clear()
    _span.cache_clear()
    forget_values()


def render_calendar(feed: CalendarFeed, *, method: str | None = None) -> bytes:
    """The feed as ``text/calendar`` bytes (CRLF lines, folded at 75 octets).

    Without ``method`` (a subscribed feed), each ``DTSTAMP`` is the event's last change, so the
    same feed renders to the same bytes.
    """
    parts = [write_component("VCALENDAR", _header(feed, method), end=False)]
    parts += [_timezone_text(zone, first, last) for zone, first, last in _spans(feed)]
    parts += [_event_text(item) for item in feed.items]
    parts.append("END:VCALENDAR\r\n")
    return "".join(parts).encode("utf-8")
