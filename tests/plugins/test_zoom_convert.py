"""Zoom request bodies: recurrence translated so Zoom lays out the same sittings as blendkit."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from blendkit_zoom import ZoomProvider
from blendkit_zoom._convert import meeting_body, parse_time, participant_record, zoom_weekday
from hypothesis import given, settings
from hypothesis import strategies as st

from blendkit.errors import ProviderError
from blendkit.sessions import Recurrence, SessionSpec, expand_occurrences
from tests.fence import public_fence
from tests.plugins.vendor_contract import Recorder
from tests.plugins.zoom_data import zoom_settings
from tests.plugins.zoom_fake import ZoomFake

ZONES = ["Europe/Berlin", "America/New_York", "Australia/Sydney", "Asia/Kolkata", "UTC"]


def test_weekday_numbers() -> None:
    # blendkit: 0 = Monday … 6 = Sunday; Zoom: 1 = Sunday … 7 = Saturday.
    assert [zoom_weekday(d) for d in range(7)] == [2, 3, 4, 5, 6, 7, 1]


@settings(max_examples=120, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    offset_hours=st.integers(min_value=0, max_value=2 * 365 * 24),
    weekdays=st.sets(st.integers(min_value=0, max_value=6), max_size=3),
    daily=st.booleans(),
    interval=st.integers(min_value=1, max_value=3),
    count=st.integers(min_value=1, max_value=20),
    use_until=st.booleans(),
)
def test_zoom_lays_out_the_occurrences_blendkit_expands(
    zone: str,
    offset_hours: int,
    weekdays: set[int],
    daily: bool,
    interval: int,
    count: int,
    use_until: bool,
) -> None:
    start = datetime(2026, 1, 5, 8, 30, tzinfo=UTC) + timedelta(hours=offset_hours)
    local_first = start.astimezone(ZoneInfo(zone)).date()
    ending = {"until": local_first + timedelta(days=count * 3)} if use_until else {"count": count}
    rule = Recurrence(
        frequency="daily" if daily else "weekly",
        interval=interval,
        weekdays=() if daily else tuple(sorted(weekdays)),
        **ending,
    )
    session = SessionSpec(
        title="t", start_utc=start, time_zone=zone, duration_minutes=50, recurrence=rule
    )
    provider = ZoomProvider(
        fence=public_fence(), settings=zoom_settings(), client=Recorder(ZoomFake()).client()
    )
    expected = [o.start_utc for o in expand_occurrences(session)]
    if not expected or len(expected) > 60:  # e.g. only Mondays from a Tuesday to that Friday
        with pytest.raises(ProviderError):
            provider.create_session(session)
        return
    meeting = provider.create_session(session)
    assert [o.start_utc for o in meeting.occurrences] == expected


def test_more_than_sixty_occurrences_is_refused_before_calling_zoom() -> None:
    session = SessionSpec(
        title="t",
        start_utc=datetime(2026, 1, 5, 9, tzinfo=UTC),
        time_zone="UTC",
        duration_minutes=30,
        recurrence=Recurrence(frequency="daily", until=date(2026, 6, 30)),
    )
    with pytest.raises(ProviderError) as caught:
        meeting_body(session)
    assert caught.value.code == "sessions.provider_unsupported"
    assert "60" in caught.value.message


def test_weekly_interval_beyond_zoom_limit_is_refused() -> None:
    session = SessionSpec(
        title="t",
        start_utc=datetime(2026, 1, 5, 9, tzinfo=UTC),
        time_zone="UTC",
        duration_minutes=30,
        recurrence=Recurrence(frequency="weekly", interval=51, count=2),
    )
    with pytest.raises(ProviderError) as caught:
        meeting_body(session)
    assert caught.value.code == "sessions.provider_unsupported"


def test_registration_settings_follow_personal_links() -> None:
    base = {
        "title": "t",
        "start_utc": datetime(2026, 1, 5, 9, tzinfo=UTC),
        "time_zone": "UTC",
        "duration_minutes": 30,
    }
    personal = meeting_body(SessionSpec(**base))["settings"]
    shared = meeting_body(SessionSpec(**base, personal_join_links=False))["settings"]
    assert personal["approval_type"] == 0
    assert shared["approval_type"] == 2
    recorded = meeting_body(SessionSpec(**base, record_automatically=True))["settings"]
    assert recorded["auto_recording"] == "cloud"


optional_text = st.one_of(st.none(), st.text(max_size=12), st.sampled_from(["", " "]))
moments = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)
)
zoom_times = st.one_of(
    st.none(),
    st.text(max_size=25),
    moments.map(lambda m: m.strftime("%Y-%m-%dT%H:%M:%SZ")),
)


@settings(max_examples=300)
@given(
    join=zoom_times,
    leave=zoom_times,
    email=optional_text,
    registrant=optional_text,
    user=optional_text,
    status=st.sampled_from(["in_meeting", "in_waiting_room", None]),
)
def test_any_participants_row_is_a_valid_record_or_skipped(
    join: str | None,
    leave: str | None,
    email: str | None,
    registrant: str | None,
    user: str | None,
    status: str | None,
) -> None:
    row = {
        "join_time": join,
        "leave_time": leave,
        "user_email": email,
        "registrant_id": registrant,
        "participant_user_id": user,
        "status": status,
        "name": "N",
    }
    record = participant_record(row, "occ")
    if record is None:
        assert status == "in_waiting_room" or parse_time(join) is None
        return
    assert record.join_time == parse_time(join)
    assert record.leave_time is None or record.leave_time >= record.join_time
    assert record.occurrence_id == "occ"
    assert record.email is None or record.email.strip() == record.email != ""
