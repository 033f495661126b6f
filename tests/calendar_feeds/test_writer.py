"""The feed's own content-line writer and ``icalendar``'s serialiser say the same thing: both
outputs, parsed by ``icalendar``, hold the same events with the same values."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import icalendar
from hypothesis import given
from hypothesis import strategies as st

from blendkit.calendar import (
    CalendarBooking,
    CalendarDeadline,
    CalendarFeed,
    CalendarSeries,
    CalendarSession,
    MovedSitting,
    calendar_component,
    render_calendar,
)
from blendkit.sessions import Recurrence

STAMP = datetime(2026, 1, 5, tzinfo=UTC)
START = datetime(2026, 3, 2, 16, tzinfo=UTC)


def _value(event: Any, name: str) -> Any:
    prop = event[name]
    if name == "RRULE":
        return dict(prop)
    if name == "CATEGORIES":  # a list value: icalendar 6.1 cannot decode() it
        return [str(c) for c in prop.cats]
    if name == "EXDATE":
        return [d.dt for one in (prop if isinstance(prop, list) else [prop]) for d in one.dts]
    return event.decoded(name)


def _events(body: bytes) -> list[dict[str, Any]]:
    calendar = icalendar.Calendar.from_ical(body)
    out = [{name: _value(event, name) for name in event} for event in calendar.walk("VEVENT")]
    return sorted(out, key=lambda e: (str(e["UID"]), str(e.get("RECURRENCE-ID", ""))))


TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from(";,\\\n"),
    min_size=1,
    max_size=120,
)


@given(title=TEXT, description=TEXT, location=TEXT)
def test_both_writers_parse_to_the_same_events(title: str, description: str, location: str) -> None:
    url = "https://meet.example.org/j/1?pwd=a;b,c"
    items = (
        CalendarSeries(
            uid="series-1@t", title=title, description=description, url=url,
            last_modified=STAMP, first_start_utc=START, duration_minutes=60,
            time_zone="Australia/Lord_Howe",
            recurrence=Recurrence(frequency="weekly", weekdays=(0, 3), until=date(2026, 6, 1)),
            cancelled=(START + timedelta(weeks=1),),
            moved=(MovedSitting(original_start_utc=START + timedelta(weeks=2),
                                start_utc=START + timedelta(weeks=2, hours=5),
                                duration_minutes=30),),
        ),
        CalendarSession(uid="session-1@t", title=title, last_modified=STAMP, start_utc=START,
                        duration_minutes=45, time_zone="UTC"),
        CalendarDeadline(uid="deadline-1@t", title=title, last_modified=STAMP,
                         due=date(2026, 4, 1)),
        CalendarDeadline(uid="deadline-2@t", title=title, last_modified=STAMP,
                         due=START, time_zone="Asia/Kathmandu"),
        CalendarBooking(uid="booking-1@t", title=title, last_modified=STAMP, start_utc=START,
                        end_utc=START + timedelta(minutes=20), time_zone="Asia/Kolkata",
                        location=location),
    )  # fmt: skip
    feed = CalendarFeed(name="Course", items=items)
    ours = render_calendar(feed)
    theirs = bytes(calendar_component(feed).to_ical())  # type: ignore[no-untyped-call]

    assert _events(ours) == _events(theirs)
    assert all(len(line) <= 75 for line in ours.split(b"\r\n"))
    assert ours.endswith(b"END:VCALENDAR\r\n")
