"""Teams request bodies and answer parsing: events across time zones, attendance records."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from blendkit_teams._convert import WEEKDAYS, attendance_records, event_body, parse_time
from hypothesis import given, settings
from hypothesis import strategies as st
from tzlocal.windows_tz import win_tz

from blendkit.errors import ProviderError
from blendkit.sessions import Recurrence, SessionSpec, expand_occurrences
from tests.plugins.graph_fake import START, spec

# --- event bodies ------------------------------------------------------------------------------


def test_recurring_event_keeps_local_time_across_daylight_saving() -> None:
    winter = SessionSpec(
        title="Evening lecture",
        start_utc=datetime(2026, 3, 18, 17, 0, tzinfo=UTC),  # 18:00 in Berlin (CET)
        time_zone="Europe/Berlin",
        duration_minutes=90,
        recurrence=Recurrence(frequency="weekly", count=4),
    )
    body = event_body(winter)
    assert body["start"] == {
        "dateTime": "2026-03-18T18:00:00",
        "timeZone": "W. Europe Standard Time",
    }
    assert body["end"] == {"dateTime": "2026-03-18T19:30:00", "timeZone": "W. Europe Standard Time"}
    assert body["recurrence"]["range"] == {
        "startDate": "2026-03-18",
        "recurrenceTimeZone": "W. Europe Standard Time",
        "type": "numbered",
        "numberOfOccurrences": 4,
    }
    assert body["recurrence"]["pattern"]["daysOfWeek"] == ["wednesday"]


@settings(max_examples=200)
@given(
    weekdays=st.sets(st.integers(min_value=0, max_value=6), max_size=7),
    interval=st.integers(min_value=1, max_value=4),
    count=st.integers(min_value=1, max_value=30),
    offset_days=st.integers(min_value=0, max_value=365),
)
def test_weekly_pattern_names_the_same_days_blendkit_expands(
    weekdays: set[int], interval: int, count: int, offset_days: int
) -> None:
    session = SessionSpec(
        title="t",
        start_utc=START + timedelta(days=offset_days),
        time_zone="America/New_York",
        duration_minutes=50,
        recurrence=Recurrence(
            frequency="weekly", weekdays=tuple(sorted(weekdays)), interval=interval, count=count
        ),
    )
    pattern = event_body(session)["recurrence"]["pattern"]
    expanded_days = {
        o.start_utc.astimezone(session.zone).weekday() for o in expand_occurrences(session)
    }
    named = {WEEKDAYS.index(d) for d in pattern["daysOfWeek"]}
    assert expanded_days <= named
    assert named == (weekdays or {session.start_local.weekday()})
    assert pattern["interval"] == interval


ZONES = sorted(zoneinfo.available_timezones() - {"Factory", "localtime"})


@settings(max_examples=300)
@given(
    zone=st.sampled_from(ZONES),
    offset_minutes=st.integers(min_value=0, max_value=3 * 365 * 24 * 60),
    weekly=st.booleans(),
)
def test_event_times_mean_the_same_instant_to_outlook(
    zone: str, offset_minutes: int, weekly: bool
) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=offset_minutes // 15 * 15)
    rule = Recurrence(frequency="weekly", count=30) if weekly else None
    session = SessionSpec(
        title="t", start_utc=start, time_zone=zone, duration_minutes=45, recurrence=rule
    )
    body = event_body(session)
    named = body["start"]["timeZone"]
    # Outlook reads a Windows name with the rules of its representative IANA zone.
    rules = zoneinfo.ZoneInfo(win_tz.get(named, named))
    local = datetime.fromisoformat(body["start"]["dateTime"])
    assert local.replace(tzinfo=rules).astimezone(UTC) == start or _in_gap(local, rules)
    for occurrence in expand_occurrences(session):
        wall = occurrence.start_utc.astimezone(session.zone).replace(tzinfo=None)
        assert wall.replace(tzinfo=rules).utcoffset() == occurrence.start_utc.astimezone(
            session.zone
        ).utcoffset() or _in_gap(wall, rules)


def _in_gap(wall: datetime, zone: zoneinfo.ZoneInfo) -> bool:
    """A wall-clock time that does not exist in ``zone`` (spring forward) or exists twice."""
    first = wall.replace(tzinfo=zone, fold=0).utcoffset()
    second = wall.replace(tzinfo=zone, fold=1).utcoffset()
    return first != second


def test_zones_are_written_with_their_windows_names() -> None:
    def zone_of(name: str) -> str:
        return str(event_body(spec(time_zone=name))["start"]["timeZone"])

    assert zone_of("Europe/Vienna") == "W. Europe Standard Time"
    assert zone_of("America/Indiana/Indianapolis") == "US Eastern Standard Time"
    assert zone_of("Asia/Kolkata") == "India Standard Time"
    # Windows' Azores zone no longer has Scoresbysund's rules: the IANA name is kept.
    assert zone_of("America/Scoresbysund") == "America/Scoresbysund"


def test_a_recurrence_without_occurrences_is_refused() -> None:
    mondays_only = Recurrence(frequency="weekly", weekdays=(0,), until=date(2026, 3, 6))
    with pytest.raises(ProviderError) as caught:
        event_body(spec(recurrence=mondays_only))  # starts on Tuesday 3 March
    assert caught.value.code == "sessions.provider_unsupported"


def test_until_is_the_local_end_date() -> None:
    body = event_body(spec(recurrence=Recurrence(frequency="daily", until=date(2026, 3, 20))))
    assert body["recurrence"]["range"]["type"] == "endDate"
    assert body["recurrence"]["range"]["endDate"] == "2026-03-20"
    assert body["recurrence"]["pattern"] == {"type": "daily", "interval": 1}


graph_times = st.one_of(
    st.none(),
    st.text(max_size=30),
    st.datetimes(
        min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)
    ).map(lambda m: m.strftime("%Y-%m-%dT%H:%M:%S.%f") + "1Z"),
)


@settings(max_examples=300)
@given(
    intervals=st.lists(st.tuples(graph_times, graph_times), max_size=4),
    email=st.one_of(st.none(), st.text(max_size=10)),
    identity=st.one_of(
        st.none(),
        st.just({}),
        st.fixed_dictionaries({"id": st.one_of(st.none(), st.text(max_size=8))}),
    ),
)
def test_any_attendance_record_gives_valid_intervals(
    intervals: list[tuple[str | None, str | None]], email: str | None, identity: Any
) -> None:
    record = {
        "id": "r",
        "emailAddress": email,
        "identity": identity,
        "attendanceIntervals": [{"joinDateTime": a, "leaveDateTime": b} for a, b in intervals],
    }
    found = attendance_records(record, "report-1")
    assert len(found) == sum(1 for a, _ in intervals if parse_time(a) is not None)
    for item in found:
        assert item.leave_time is None or item.leave_time >= item.join_time
        assert item.occurrence_id == "report-1"
