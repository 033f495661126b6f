"""Suspicion 13: iCalendar injection through a link written into a feed.

A link in a feed (a meeting provider's join URL, a booking's link) was written as is: a line
break in it started new properties (``ATTENDEE``, ``END:VEVENT``, ``BEGIN:VALARM``) in every
subscriber's calendar. Before the fix these tests failed; now no value can break a content line.
"""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st
from icalendar import Calendar

from blendkit.calendar import CalendarFeed, CalendarSession, render_calendar

# --- iCalendar content lines ------------------------------------------------------------------

STAMP = datetime(2031, 3, 4, 15, 0, tzinfo=UTC)
BREAKS = st.sampled_from(["\r\n", "\n", "\r", "\r\n ", "\x0b", "\x00"])


def _feed(url: str) -> bytes:
    session = CalendarSession(
        uid="session-1.7@blendkit", title="Seminar", url=url, start_utc=STAMP,
        duration_minutes=60, time_zone="UTC", last_modified=STAMP,
    )  # fmt: skip
    return render_calendar(CalendarFeed(name="Course", time_zone="UTC", items=(session,)))


def _unfolded_lines(body: bytes) -> list[str]:
    text = body.decode().replace("\r\n ", "").replace("\r\n\t", "")
    assert text.endswith("\r\n")
    return text[:-2].split("\r\n")


@given(
    head=st.text(alphabet="abcdefghijklmnopqrstuvwxyz/.:?=&", max_size=30),
    brk=BREAKS,
    injected=st.sampled_from(
        ["ATTENDEE:mailto:boss@evil.example", "END:VEVENT", "BEGIN:VALARM", "X-EVIL:1"]
    ),
)
def test_a_link_with_a_line_break_adds_no_property_to_a_feed(
    head: str, brk: str, injected: str
) -> None:
    url = f"https://meet.example/{head}{brk}{injected}"
    body = _feed(url)
    lines = _unfolded_lines(body)
    assert all("\r" not in line and "\n" not in line for line in lines)
    assert not any(line.startswith(injected) and line != "END:VEVENT" for line in lines), lines
    assert sum(line == "BEGIN:VEVENT" for line in lines) == 1
    assert sum(line == "END:VEVENT" for line in lines) == 1
    event = Calendar.from_ical(body).walk("VEVENT")[0]
    assert "ATTENDEE" not in event
    assert "VALARM" not in [c.name for c in event.subcomponents]


def test_a_plain_link_is_written_unchanged() -> None:
    url = "https://meet.example/j/123?pwd=a;b,c"
    lines = _unfolded_lines(_feed(url))
    assert f"URL:{url}" in lines
