"""Quiet hours and digest times on the learner's own clock, across daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from blendkit.notify import QuietHours
from blendkit.notify._local_time import first_instant_at, next_wall_time, parse_clock

NEW_YORK = ZoneInfo("America/New_York")
# Zones with an hour's change, a half hour's change (Lord Howe), the southern hemisphere, and
# none at all (Kathmandu's 45-minute offset).
ZONES = ("America/New_York", "Europe/Berlin", "Australia/Sydney", "Australia/Lord_Howe",
         "Asia/Kathmandu", "America/Santiago")  # fmt: skip


def _wall(moment: datetime, zone: ZoneInfo) -> time:
    return moment.astimezone(zone).time().replace(tzinfo=None)


def test_spring_forward_skips_the_end_so_quiet_hours_end_at_the_change() -> None:
    quiet = QuietHours(time(22, 0), time(2, 30))  # 02:30 does not exist on 2027-03-14
    now = datetime(2027, 3, 14, 5, 0, tzinfo=UTC)  # 00:00 EST
    end = quiet.ends_after(now, NEW_YORK)
    assert end == datetime(2027, 3, 14, 7, 0, tzinfo=UTC)  # 03:00 EDT, the first instant past it
    assert end.astimezone(NEW_YORK).strftime("%H:%M %Z") == "03:00 EDT"


def test_fall_back_repeats_the_end_and_each_stretch_ends_at_its_own() -> None:
    quiet = QuietHours(time(22, 0), time(1, 30))  # 01:30 happens twice on 2027-11-07
    first = datetime(2027, 11, 7, 5, 10, tzinfo=UTC)  # 01:10 EDT
    assert quiet.ends_after(first, NEW_YORK) == datetime(2027, 11, 7, 5, 30, tzinfo=UTC)
    second = datetime(2027, 11, 7, 6, 10, tzinfo=UTC)  # 01:10 EST, after the clocks went back
    assert quiet.ends_after(second, NEW_YORK) == datetime(2027, 11, 7, 6, 30, tzinfo=UTC)


def test_outside_quiet_hours_nothing_waits() -> None:
    quiet = QuietHours(time(22, 0), time(7, 0))
    assert quiet.ends_after(datetime(2027, 6, 1, 16, 0, tzinfo=UTC), NEW_YORK) is None  # noon


around_changes = st.sampled_from([
    datetime(2027, 3, 14, tzinfo=UTC), datetime(2027, 11, 7, tzinfo=UTC),  # United States
    datetime(2027, 3, 28, tzinfo=UTC), datetime(2027, 10, 31, tzinfo=UTC),  # Europe
    datetime(2027, 4, 4, tzinfo=UTC), datetime(2027, 10, 3, tzinfo=UTC),  # Australia
    datetime(2027, 9, 5, tzinfo=UTC), datetime(2027, 4, 4, tzinfo=UTC),  # Chile
    datetime(2027, 7, 1, tzinfo=UTC),
]).flatmap(
    lambda d: st.integers(-36 * 60, 36 * 60).map(lambda m: d + timedelta(minutes=m))
)  # fmt: skip
clock_times = st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45]))


@settings(max_examples=1500, deadline=None)
@given(zone=st.sampled_from(ZONES), now=around_changes, start=clock_times, end=clock_times)
def test_quiet_hours_end_at_the_first_instant_out_of_the_window(
    zone: str, now: datetime, start: time, end: time
) -> None:
    if start == end:
        return
    tz = ZoneInfo(zone)
    quiet = QuietHours(start, end)
    until = quiet.ends_after(now, tz)
    if until is None:
        assert not quiet.contains(_wall(now, tz))
        return
    assert quiet.contains(_wall(now, tz))
    assert until > now
    assert not quiet.contains(_wall(until, tz))  # sent then: the learner is awake
    # A day's waking minutes can all be skipped by a spring-forward change (awake 00:00-00:15
    # when clocks jump from 00:00 to 01:00): quiet then lasts into the next day.
    assert until - now <= timedelta(hours=49)
    # Every minute before it is quiet: nothing would have been sent earlier.
    step = now
    while step < until - timedelta(seconds=1):
        assert quiet.contains(_wall(step, tz)), (step, until)
        step += timedelta(minutes=7)
    assert quiet.contains(_wall(until - timedelta(seconds=1), tz))


@settings(max_examples=200, deadline=None)
@given(zone=st.sampled_from(ZONES), now=around_changes, wall=clock_times)
def test_the_next_digest_time_is_the_first_instant_the_clock_reaches_it(
    zone: str, now: datetime, wall: time
) -> None:
    tz = ZoneInfo(zone)
    moment = next_wall_time(now, wall, tz)
    assert now < moment <= now + timedelta(hours=26)
    reached = moment.astimezone(tz)
    before = (moment - timedelta(seconds=1)).astimezone(tz)
    day = reached.date()
    assert (before.date(), before.time().replace(tzinfo=None)) < (day, wall)
    assert (day, wall) <= (day, reached.time().replace(tzinfo=None))


def test_a_skipped_wall_time_is_reached_at_the_change() -> None:
    assert first_instant_at(date(2027, 3, 14), time(2, 30), NEW_YORK) == datetime(
        2027, 3, 14, 7, 0, tzinfo=UTC
    )
    assert first_instant_at(date(2027, 11, 7), time(1, 30), NEW_YORK) == datetime(
        2027, 11, 7, 5, 30, tzinfo=UTC
    )


@pytest.mark.parametrize("text", ["7", "25:00", "07:6", "ab:cd", "07:00:00", ""])
def test_times_of_day_are_hh_mm(text: str) -> None:
    with pytest.raises(ValueError, match="HH:MM"):
        parse_clock(text)


def test_quiet_hours_need_two_different_times() -> None:
    with pytest.raises(ValueError, match="differ"):
        QuietHours(time(7, 0), time(7, 0))
