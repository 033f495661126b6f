"""A series in the feed, expanded by an independent library (``recurring-ical-events``), yields
exactly blendkit's own sittings — in the learner's zone, across both daylight-saving changes of a
term, for zones with 30- and 45-minute offsets, with cancelled and moved sittings."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import icalendar
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from blendkit.calendar import (
    CalendarFeed,
    CalendarSeries,
    MovedSitting,
    render_calendar,
)
from blendkit.sessions import Recurrence, SessionSpec, expand_occurrences
from tests.calendar_feeds.expand import in_zone, occurrences

ODD_ZONES = (
    "Asia/Kolkata",  # +05:30, no DST
    "Asia/Kathmandu",  # +05:45
    "Australia/Adelaide",  # +09:30 / +10:30, southern DST
    "Australia/Lord_Howe",  # +10:30 / +11:00: a 30-minute DST shift
    "Pacific/Chatham",  # +12:45 / +13:45
    "America/St_Johns",  # -03:30 / -02:30
)
ZONES = (*ODD_ZONES, "Europe/Berlin", "America/New_York", "Asia/Tokyo", "UTC")
STAMP = datetime(2026, 1, 5, tzinfo=UTC)


def _blendkit_sittings(
    series: CalendarSeries,
) -> list[tuple[datetime, datetime]]:
    """blendkit's own schedule: its expansion, less the cancelled, with the moved moved."""
    spec = SessionSpec(
        title=series.title,
        start_utc=series.first_start_utc,
        time_zone=series.time_zone,
        duration_minutes=series.duration_minutes,
        recurrence=series.recurrence,
    )
    moved = {m.original_start_utc: m for m in series.moved}
    out = []
    for sitting in expand_occurrences(spec):
        if sitting.start_utc in series.cancelled:
            continue
        if sitting.start_utc in moved:
            m = moved[sitting.start_utc]
            out.append((m.start_utc, m.start_utc + timedelta(minutes=m.duration_minutes)))
        else:
            out.append((sitting.start_utc, sitting.end_utc))
    return out


def _first(zone: str, day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=ZoneInfo(zone)).astimezone(UTC)


@st.composite
def series_cases(draw: st.DrawFn) -> tuple[CalendarSeries, str]:
    zone = draw(st.sampled_from(ZONES))
    viewer = draw(st.sampled_from(ZONES))
    # A term that spans both changes: northern spring (March) to autumn (October/November),
    # and the southern ones (April, October) in between.
    day = date(2026, 2, 1) + timedelta(days=draw(st.integers(0, 60)))
    # Avoid local times in a DST gap or overlap (the RFC and zoneinfo agree there, but the
    # generator keeps to times every zone has exactly once).
    at = time(draw(st.integers(6, 21)), draw(st.sampled_from((0, 15, 30, 45))))
    weekdays = tuple(sorted(draw(st.sets(st.integers(0, 6), min_size=1, max_size=3))))
    interval = draw(st.integers(1, 2))
    ends = draw(st.sampled_from(("count", "until")))
    if ends == "count":
        rule = Recurrence(
            frequency="weekly", weekdays=weekdays, interval=interval, count=draw(st.integers(1, 40))
        )
    else:
        rule = Recurrence(
            frequency="weekly", weekdays=weekdays, interval=interval,
            until=day + timedelta(days=draw(st.integers(0, 280))),
        )  # fmt: skip
    start = _first(zone, day, at)
    spec = SessionSpec(
        title="Seminar", start_utc=start, time_zone=zone, duration_minutes=90, recurrence=rule
    )
    sittings = [o.start_utc for o in expand_occurrences(spec)]
    assume(sittings)
    picked = draw(st.lists(st.sampled_from(sittings), unique=True, max_size=min(6, len(sittings))))
    half = len(picked) // 2
    moved = tuple(
        MovedSitting(
            original_start_utc=original,
            start_utc=original + timedelta(hours=draw(st.integers(-30, 30))),
            duration_minutes=draw(st.integers(15, 180)),
        )
        for original in picked[half:]
    )
    series = CalendarSeries(
        uid="series-1@test", title="Seminar", last_modified=STAMP,
        first_start_utc=sittings[0], duration_minutes=90, time_zone=zone,
        recurrence=rule, cancelled=tuple(picked[:half]), moved=moved,
    )  # fmt: skip
    return series, viewer


@settings(max_examples=60, deadline=None)
@given(series_cases())
def test_the_feed_expands_to_blendkits_own_sittings(case: tuple[CalendarSeries, str]) -> None:
    series, viewer = case
    body = render_calendar(CalendarFeed(name="Course", time_zone=viewer, items=(series,)))

    assert occurrences(body, viewer) == in_zone(_blendkit_sittings(series), viewer)


def test_a_berlin_series_across_both_dst_changes_seen_from_kathmandu_and_lord_howe() -> None:
    # Mondays 17:00 Berlin from 2 March to 2 November 2026: CET → CEST (29 March) → CET (25 Oct).
    start = _first("Europe/Berlin", date(2026, 3, 2), time(17, 0))
    rule = Recurrence(frequency="weekly", until=date(2026, 11, 2))
    series = CalendarSeries(
        uid="series-2@test", title="Seminar", last_modified=STAMP, first_start_utc=start,
        duration_minutes=60, time_zone="Europe/Berlin", recurrence=rule,
    )  # fmt: skip
    body = render_calendar(CalendarFeed(name="Course", items=(series,)))

    berlin = occurrences(body, "Europe/Berlin")
    assert len(berlin) == 36
    assert {s.time() for s, _ in berlin} == {time(17, 0)}
    utc_hours = [s.astimezone(UTC).hour for s, _ in berlin]
    assert utc_hours[:5] == [16, 16, 16, 16, 15]
    assert utc_hours[-3:] == [15, 16, 16]
    # Kathmandu (+05:45, no DST) sees the seminar at 21:45 in winter and 20:45 in summer.
    kathmandu = {s.time() for s, _ in occurrences(body, "Asia/Kathmandu")}
    assert kathmandu == {time(21, 45), time(20, 45)}
    # Lord Howe shifts by 30 minutes itself (April and October), on the other side of the year.
    lord_howe = [s for s, _ in occurrences(body, "Australia/Lord_Howe")]
    assert lord_howe == [s.astimezone(ZoneInfo("Australia/Lord_Howe")) for s, _ in berlin]
    assert {s.time() for s in lord_howe} == {time(3, 0), time(2, 0), time(1, 30)}


def test_every_zone_the_feed_names_has_its_vtimezone_and_rule_ends_in_utc() -> None:
    start = _first("Australia/Adelaide", date(2026, 3, 1), time(9, 30))
    series = CalendarSeries(
        uid="series-3@test", title="Tutorial", last_modified=STAMP, first_start_utc=start,
        duration_minutes=45, time_zone="Australia/Adelaide",
        recurrence=Recurrence(frequency="weekly", until=date(2026, 6, 1)),
    )  # fmt: skip
    calendar = icalendar.Calendar.from_ical(
        render_calendar(CalendarFeed(name="C", items=(series,)))
    )

    (zone,) = calendar.walk("VTIMEZONE")
    assert str(zone["TZID"]) == "Australia/Adelaide"
    (event,) = calendar.walk("VEVENT")
    assert event["DTSTART"].params["TZID"] == "Australia/Adelaide"
    (until,) = event["RRULE"]["UNTIL"]
    assert until.tzinfo is not None
    assert until.utcoffset() == timedelta(0)
