"""Calendar feeds: a learner's feed of 50 events (weekly series with cancelled and moved
sittings, single sessions, deadlines, bookings) rendered to RFC 5545, against a peer.

Figures (one JSON line each, medians of --repeats runs, peers measured in the same run):

- ``calendar.learner_feed_50_events``: :func:`blendkit.calendar.render_calendar` of the feed,
  every event written anew (every kept event text, line and span cleared before each render,
  only the VTIMEZONEs kept; target: at most 5 ms; measured 0.75–3.1 ms against 25–58 ms for the
  peer at a load average of about 7, docs/calendar-feeds.md). Peer: the same calendar built
  with ``icalendar`` directly, the way its documentation shows (events with zone-aware
  datetimes, then
  ``Calendar.add_missing_timezones()`` for the VTIMEZONEs), rendered with ``to_ical()``.
- ``calendar.learner_feed_50_events_warm``: the same feed polled again (its events' text comes
  from the per-value cache, as in a server answering repeated polls), same peer.
- ``calendar.learner_feed_50_events_from_store``: the whole answer to a poll on SQLite
  (token → course → sessions, series, deadlines, event versions → bytes), no peer.

    .venv/bin/python benchmarks/bench_calendar.py [--repeats 7]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time as clock
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import icalendar

from blendkit.calendar import (
    CalendarBooking,
    CalendarDeadline,
    CalendarFeed,
    CalendarItem,
    CalendarSeries,
    CalendarSession,
    MovedSitting,
    render_calendar,
    series_rule,
)
from blendkit.calendar._render import forget_rendered
from blendkit.sessions import Recurrence

STAMP = datetime(2026, 1, 5, tzinfo=UTC)
TERM_START = datetime(2026, 2, 2, 16, 0, tzinfo=UTC)
ZONES = ("Europe/Berlin", "America/New_York", "Asia/Kolkata")
RENDERS = 40


def feed_items() -> list[CalendarItem]:
    """3 series (12 sittings, 2 cancelled and 1 moved each), 7 sessions, 35 deadlines, 5
    bookings: 50 events."""
    items: list[CalendarItem] = []
    for n, zone in enumerate(ZONES):
        first = TERM_START + timedelta(days=n, hours=n)
        weekly = [first + timedelta(weeks=w) for w in range(12)]
        local = [w.astimezone(ZoneInfo(zone)) for w in weekly]
        # keep local time: recompute each sitting from the first's wall-clock time
        starts = [
            datetime.combine(d.date(), local[0].timetz().replace(tzinfo=None), ZoneInfo(zone))
            .astimezone(UTC)
            for d in local
        ]  # fmt: skip
        items.append(
            CalendarSeries(
                uid=f"series-{n}@bench", title=f"Seminar {n}", last_modified=STAMP,
                url=f"https://meet.example.org/j/{n}?pwd=personal", first_start_utc=starts[0],
                duration_minutes=90, time_zone=zone,
                recurrence=Recurrence(frequency="weekly", count=12),
                cancelled=(starts[3], starts[7]),
                moved=(MovedSitting(original_start_utc=starts[5],
                                    start_utc=starts[5] + timedelta(days=1), duration_minutes=60),),
            )
        )  # fmt: skip
    for n in range(7):
        items.append(
            CalendarSession(
                uid=f"session-{n}@bench", title=f"Clinic {n}", last_modified=STAMP,
                start_utc=TERM_START + timedelta(days=3 * n), duration_minutes=45,
                time_zone=ZONES[n % 3], url=f"https://meet.example.org/j/s{n}",
            )
        )  # fmt: skip
    for n in range(35):
        items.append(
            CalendarDeadline(
                uid=f"deadline-{n}@bench", title=f"Due: task {n}", last_modified=STAMP,
                due=TERM_START + timedelta(days=2 * n, hours=7), time_zone="Asia/Kolkata",
                url=f"https://tool.example.org/item/{n}",
            )
        )  # fmt: skip
    for n in range(5):
        start = TERM_START + timedelta(days=5 * n + 1)
        items.append(
            CalendarBooking(
                uid=f"booking-{n}@bench", title="Office hours", last_modified=STAMP,
                start_utc=start, end_utc=start + timedelta(minutes=20),
                time_zone="Europe/Berlin", location="Room 4",
            )
        )  # fmt: skip
    return items


def naive(items: list[CalendarItem]) -> bytes:
    """The same calendar with icalendar directly, as its documentation shows."""
    cal = icalendar.Calendar()
    cal.add("VERSION", "2.0")
    cal.add("PRODID", "-//bench//naive//EN")
    cal.add("NAME", "Biology")
    for item in items:
        event = icalendar.Event()
        event.add("UID", item.uid)
        event.add("DTSTAMP", item.last_modified)
        event.add("LAST-MODIFIED", item.last_modified)
        event.add("SEQUENCE", item.sequence)
        event.add("SUMMARY", item.title)
        if item.url:
            event.add("URL", item.url)
            event.add("DESCRIPTION", f"Join: {item.url}")
        if isinstance(item, CalendarSeries):
            zone = ZoneInfo(item.time_zone)
            start = item.first_start_utc.astimezone(zone)
            event.add("DTSTART", start)
            event.add("DTEND", start + timedelta(minutes=item.duration_minutes))
            event.add("RRULE", series_rule(item))
            event.add("EXDATE", [c.astimezone(zone) for c in item.cancelled])
            cal.add_component(event)
            for m in item.moved:
                moved = icalendar.Event()
                moved.add("UID", item.uid)
                moved.add("DTSTAMP", item.last_modified)
                moved.add("SUMMARY", item.title)
                moved.add("RECURRENCE-ID", m.original_start_utc.astimezone(zone))
                moved.add("DTSTART", m.start_utc.astimezone(zone))
                moved.add(
                    "DTEND", (m.start_utc + timedelta(minutes=m.duration_minutes)).astimezone(zone)
                )
                cal.add_component(moved)
            continue
        if isinstance(item, CalendarSession):
            zone = ZoneInfo(item.time_zone)
            event.add("DTSTART", item.start_utc.astimezone(zone))
            event.add(
                "DTEND",
                (item.start_utc + timedelta(minutes=item.duration_minutes)).astimezone(zone),
            )
        elif isinstance(item, CalendarBooking):
            zone = ZoneInfo(item.time_zone)
            event.add("DTSTART", item.start_utc.astimezone(zone))
            event.add("DTEND", item.end_utc.astimezone(zone))
            event.add("LOCATION", item.location)
        elif isinstance(item.due, datetime):
            event.add("DTSTART", item.due.astimezone(ZoneInfo(item.time_zone)))
        cal.add_component(event)
    cal.add_missing_timezones(first_date=date(2025, 1, 1), last_date=date(2028, 1, 1))
    return bytes(cal.to_ical())  # type: ignore[no-untyped-call]


def median_ms(run: Callable[[], object], repeats: int) -> float:
    samples = []
    for _ in range(repeats):
        started = clock.perf_counter()
        for _ in range(RENDERS):
            run()
        samples.append((clock.perf_counter() - started) * 1000 / RENDERS)
    return statistics.median(samples)


def emit(figure: str, ours: float, peer: float | None, peer_name: str | None, **extra: Any) -> None:
    line: dict[str, Any] = {"figure": figure, "blendkit_median_ms": round(ours, 3)}
    if peer is not None:
        line |= {
            "peer": peer_name,
            "peer_median_ms": round(peer, 3),
            "speedup": round(peer / ours, 2),
        }
    print(json.dumps(line | extra))


def store_case(directory: Path) -> Callable[[], object]:
    """A course on SQLite with 3 series, 7 sessions and path deadlines, and a learner's token."""
    from blendkit.calendar import CalendarFeeds
    from blendkit.courses import CourseService, Enrolment, LiveSessionService
    from blendkit.lti import Tenant
    from blendkit.progression import Item, Module
    from blendkit.progression import Path as CoursePath
    from blendkit.sessions import FakeMeetingProvider
    from blendkit.store import Store
    from blendkit.xapi import Outbox, StatementFactory

    store = Store(f"sqlite:///{directory / 'bench.sqlite3'}")
    store.migrate()
    courses = CourseService(store, outbox=Outbox(store), statements=StatementFactory("https://t"))
    deadlines = tuple(
        Item(id=f"task-{n}", title=f"Task {n}", kind="assignment",
             due=TERM_START + timedelta(days=2 * n, hours=7))
        for n in range(40)
    )  # fmt: skip
    path = CoursePath(id="bench", modules=(Module(id="m", items=deadlines),))
    tenant = Tenant(issuer="https://lms.example.edu", client_id="c", deployment_id="d")
    course = courses.ensure_course(tenant, "bench-1", title="Bench", path=path)
    courses.enrol(course, Enrolment(sub="ana", time_zone="Asia/Kolkata"))
    live = LiveSessionService(courses, FakeMeetingProvider())
    for n, zone in enumerate(ZONES):
        series = live.schedule_series(
            course, title=f"Seminar {n}", start_utc=TERM_START + timedelta(days=n),
            time_zone=zone, duration_minutes=90, count=12,
        )  # fmt: skip
        live.cancel_occurrence(course, series.occurrences[3].id)
        moved = series.occurrences[5]
        live.move_occurrence(course, moved.id, start_utc=moved.start_utc + timedelta(days=1))
    for n in range(7):
        live.schedule(
            course, title=f"Clinic {n}", start_utc=TERM_START + timedelta(days=3 * n),
            time_zone=ZONES[n % 3], duration_minutes=45,
        )  # fmt: skip
    feeds = CalendarFeeds(courses)
    token = feeds.issue_token(course, "ana")
    return lambda: feeds.render_token(token)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    repeats = max(5, parser.parse_args().repeats)
    items = feed_items()
    feed = CalendarFeed(name="Biology", time_zone="Asia/Kolkata", items=tuple(items))
    assert len(items) == 50
    # Both calendars expand to the same occurrences (checked once, outside the timing).
    import recurring_ical_events

    def starts(body: bytes) -> list[datetime]:
        cal = icalendar.Calendar.from_ical(body)
        found = recurring_ical_events.of(cal).between(date(2025, 1, 1), date(2028, 1, 1))
        return sorted(e["DTSTART"].dt.astimezone(UTC) for e in found)

    assert starts(render_calendar(feed)) == starts(naive(items))
    render_calendar(feed)  # the VTIMEZONE cache, as in a running server

    def cold() -> bytes:
        forget_rendered()
        return render_calendar(feed)

    ours = median_ms(cold, repeats)
    peer = median_ms(lambda: naive(items), repeats)
    warm = median_ms(lambda: render_calendar(feed), repeats)
    emit("calendar.learner_feed_50_events", ours, peer, "icalendar_direct_add_missing_timezones",
         events=50, target_ms=5.0)  # fmt: skip
    emit("calendar.learner_feed_50_events_warm", warm, peer,
         "icalendar_direct_add_missing_timezones", events=50)  # fmt: skip
    with tempfile.TemporaryDirectory() as directory:
        poll = store_case(Path(directory))
        poll()
        emit("calendar.learner_feed_50_events_from_store", median_ms(poll, repeats), None, None,
             database="sqlite")  # fmt: skip


if __name__ == "__main__":
    main()
