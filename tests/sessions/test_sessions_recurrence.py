"""Recurrence expansion keeps the local wall-clock time, date by date (properties)."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from blendkit.sessions import Recurrence, SessionSpec, expand_occurrences

ZONES = ["Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Kolkata", "UTC"]


@settings(max_examples=150, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    day=st.dates(min_value=date(2026, 1, 1), max_value=date(2027, 12, 31)),
    hour=st.integers(6, 20),  # daytime: never inside a daylight-saving gap
    minute=st.sampled_from([0, 15, 30, 45]),
    frequency=st.sampled_from(["daily", "weekly"]),
    interval=st.integers(1, 3),
    count=st.integers(1, 40),
    weekdays=st.sets(st.integers(0, 6), max_size=3),
)
def test_occurrences_keep_local_time_and_follow_the_rule(
    zone: str,
    day: date,
    hour: int,
    minute: int,
    frequency: str,
    interval: int,
    count: int,
    weekdays: set[int],
) -> None:
    tz = ZoneInfo(zone)
    start = datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz)
    days = tuple(sorted(weekdays)) if frequency == "weekly" else ()
    spec = SessionSpec(
        title="t",
        start_utc=start,
        time_zone=zone,
        duration_minutes=45,
        recurrence=Recurrence(
            frequency=frequency,  # type: ignore[arg-type]
            interval=interval,
            count=count,
            weekdays=days,
        ),
    )
    occurrences = expand_occurrences(spec, session_id="s")
    assert len(occurrences) == count
    assert [o.index for o in occurrences] == list(range(count))
    local = [o.start_utc.astimezone(tz) for o in occurrences]
    assert all((d.hour, d.minute) == (hour, minute) for d in local)
    assert all(o.end_utc - o.start_utc == timedelta(minutes=45) for o in occurrences)
    assert all(o.start_utc.tzinfo is UTC for o in occurrences)
    assert all(o.session_id == "s" for o in occurrences)
    assert local[0].date() >= day
    assert all(a < b for a, b in itertools.pairwise(local))
    if frequency == "daily":
        assert all((b.date() - a.date()).days == interval for a, b in itertools.pairwise(local))
    else:
        allowed = set(days or (day.weekday(),))
        assert {d.weekday() for d in local} <= allowed
        monday = day - timedelta(days=day.weekday())
        assert all(((d.date() - monday).days // 7) % interval == 0 for d in local)


def test_until_is_an_inclusive_local_date() -> None:
    spec = SessionSpec(
        title="t",
        start_utc=datetime(2026, 10, 20, 23, 30, tzinfo=ZoneInfo("Europe/Berlin")),
        time_zone="Europe/Berlin",
        duration_minutes=60,
        recurrence=Recurrence(frequency="weekly", until=date(2026, 11, 3)),
    )
    local = [o.start_utc.astimezone(ZoneInfo("Europe/Berlin")) for o in expand_occurrences(spec)]
    assert [d.date() for d in local] == [date(2026, 10, 20), date(2026, 10, 27), date(2026, 11, 3)]
    # 23:30 CEST is 21:30 UTC; after 25 October, 23:30 CET is 22:30 UTC.
    assert [o.start_utc.hour for o in expand_occurrences(spec)] == [21, 22, 22]
