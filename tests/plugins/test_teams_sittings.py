"""Whether a Teams session has a sitting left, read from the calendar event Graph returns."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from blendkit_teams._convert import event_body
from blendkit_teams._sittings import last_day, session_state
from hypothesis import given
from hypothesis import strategies as st

from blendkit.sessions import Recurrence, SessionSpec, expand_occurrences

FIRST = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday


@st.composite
def counted_series(draw: st.DrawFn) -> SessionSpec:
    frequency = draw(st.sampled_from(["daily", "weekly"]))
    weekdays: tuple[int, ...] = ()
    if frequency == "weekly":
        weekdays = tuple(sorted(draw(st.sets(st.integers(0, 6), min_size=1, max_size=7))))
    return SessionSpec(
        title="Series",
        start_utc=FIRST + timedelta(days=draw(st.integers(0, 6)), hours=draw(st.integers(0, 12))),
        time_zone=draw(st.sampled_from(["Europe/Berlin", "America/New_York", "Asia/Tokyo"])),
        duration_minutes=60,
        recurrence=Recurrence(
            frequency=frequency,
            interval=draw(st.integers(1, 4)),
            weekdays=weekdays,
            count=draw(st.integers(1, 60)),
        ),
    )


@given(counted_series())
def test_a_counted_series_is_never_over_before_its_last_sitting(series: SessionSpec) -> None:
    body = {**event_body(series), "type": "seriesMaster"}
    last = expand_occurrences(series)[-1]
    bound = last_day(body["recurrence"])
    assert bound is not None
    last_local = last.start_utc.astimezone(series.zone).date()
    assert bound >= last_local
    rule = series.recurrence
    assert rule is not None
    slack = timedelta(days=14 * rule.interval if rule.frequency == "weekly" else rule.interval)
    assert bound <= last_local + slack, "at most two periods late"
    assert session_state(body, last.end_utc - timedelta(minutes=1)) == "active"
    after = datetime.combine(bound + timedelta(days=2), datetime.min.time(), UTC)
    assert session_state(body, after) == "over"


@given(st.dates(date(2020, 1, 1), date(2030, 12, 31)), st.integers(-3, 3))
def test_a_series_with_an_end_date_is_active_until_the_day_after(end: date, shift: int) -> None:
    event = {
        "type": "seriesMaster",
        "recurrence": {
            "pattern": {"type": "weekly", "interval": 1, "daysOfWeek": ["monday"]},
            "range": {"type": "endDate", "startDate": "2020-01-01", "endDate": end.isoformat()},
        },
    }
    since = datetime.combine(end + timedelta(days=shift), datetime.min.time(), UTC)
    assert session_state(event, since) == ("active" if shift <= 1 else "over")


def test_single_events_end_in_their_own_zone() -> None:
    event = {
        "type": "singleInstance",
        "end": {"dateTime": "2026-03-03T11:00:00.0000000", "timeZone": "W. Europe Standard Time"},
    }
    ends = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)
    assert session_state(event, ends - timedelta(seconds=1)) == "active"
    assert session_state(event, ends) == "over"
    utc = {"type": "singleInstance", "end": {"dateTime": "2026-03-03T10:00:00", "timeZone": "UTC"}}
    assert session_state(utc, ends) == "over"


def test_what_cannot_be_read_keeps_the_subscription() -> None:
    assert session_state({"type": "singleInstance"}, FIRST) == "active"
    unknown_zone = {"end": {"dateTime": "2020-01-01T00:00:00", "timeZone": "Mars/Olympus"}}
    assert session_state(unknown_zone, FIRST) == "active"
    no_end = {
        "type": "seriesMaster",
        "recurrence": {"pattern": {"type": "daily"}, "range": {"type": "noEnd"}},
    }
    assert session_state(no_end, FIRST + timedelta(days=9999)) == "active"
    assert session_state({"isCancelled": True, "type": "singleInstance"}, FIRST) == "gone"


@given(
    st.dictionaries(
        st.sampled_from(["type", "interval", "daysOfWeek", "numberOfOccurrences", "startDate"]),
        st.none() | st.integers(-5, 10**6) | st.text(max_size=12) | st.lists(st.text(max_size=3)),
    )
)
def test_any_recurrence_shape_gives_a_day_or_none(fields: dict[str, object]) -> None:
    recurrence = {"pattern": dict(fields), "range": {"type": "numbered", **fields}}
    found = last_day(recurrence)
    assert found is None or isinstance(found, date)
