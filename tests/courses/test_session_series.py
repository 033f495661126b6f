"""Weekly series of live sessions: scheduled in local time, one sitting moved or cancelled."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from blendkit import BlendkitError
from blendkit.courses import CourseService, LiveSessionService, slot_first_start
from blendkit.progression import ScoreRecorded, VideoWatched
from blendkit.sessions import FakeMeetingProvider, Learner, SlotProposal
from blendkit.store import Store
from blendkit.xapi import Outbox, StatementFactory
from tests.courses.test_course_service import START, Clock, _course
from tests.courses.test_import_ended import clock, service

BERLIN = ZoneInfo("Europe/Berlin")
__all__ = ["clock", "service"]  # fixtures shared with the import tests


def _weekly(live: LiveSessionService, course, **changes):  # type: ignore[no-untyped-def]
    values = {
        "title": "Seminar",
        "start_utc": START,  # Monday 2030-03-04, 17:00 in Berlin; DST starts 2030-03-31
        "time_zone": "Europe/Berlin",
        "duration_minutes": 60,
        "count": 6,
        "item": "live-session",
        **changes,
    }
    return live.schedule_series(course, **values)


def test_a_series_keeps_local_time_across_dst_and_stores_each_sitting(
    service: CourseService,
) -> None:
    course = _course(service)
    fake = FakeMeetingProvider()
    live = LiveSessionService(service, fake)
    series = _weekly(live, course)

    locals_ = [o.start_utc.astimezone(BERLIN) for o in series.occurrences]
    assert {t.time() for t in locals_} == {time(17, 0)}
    assert [t.date() for t in locals_] == [date(2030, 3, 4) + timedelta(weeks=i) for i in range(6)]
    utc_hours = [o.start_utc.hour for o in series.occurrences]
    assert utc_hours == [16, 16, 16, 16, 15, 15]  # summer time from 31 March
    assert all(o.original_start_utc == o.start_utc for o in series.occurrences)
    assert len({o.occurrence_id for o in series.occurrences}) == 6
    assert [o.id for o in live.sessions(course)] == [o.id for o in series.occurrences]
    assert live.all_series(course) == [series]


def test_moving_one_sitting_moves_it_at_the_provider_and_keeps_its_original_start(
    service: CourseService,
) -> None:
    course = _course(service)
    fake = FakeMeetingProvider()
    live = LiveSessionService(service, fake)
    series = _weekly(live, course)
    third = series.occurrences[2]
    later = third.start_utc + timedelta(days=1, hours=2)

    moved = live.move_occurrence(course, third.id, start_utc=later, duration_minutes=90)
    again = live.move_occurrence(course, third.id, start_utc=later + timedelta(hours=1))

    assert (moved.start_utc, moved.duration_minutes, moved.moved) == (later, 90, True)
    assert again.start_utc == later + timedelta(hours=1)
    assert again.duration_minutes == 90
    assert again.original_start_utc == third.start_utc
    after = live.series(course, series.id)
    unchanged = [o for o in after.occurrences if o.id != third.id]
    assert [o.start_utc for o in unchanged] == [
        o.start_utc for o in series.occurrences if o.id != third.id
    ]
    link = fake.join_link(series.provider_meeting_id, Learner(id="ana"))
    # The provider holds the sitting at its new time: someone joining then is counted in it.
    fake.join(series.provider_meeting_id, at=again.start_utc, link=link)
    (record,) = fake.fetch_attendance(series.provider_meeting_id, third.occurrence_id)
    assert record.join_time == again.start_utc


def test_cancelling_one_sitting_then_the_series(service: CourseService) -> None:
    course = _course(service)
    fake = FakeMeetingProvider()
    live = LiveSessionService(service, fake)
    series = _weekly(live, course)
    second = series.occurrences[1]

    cancelled = live.cancel_occurrence(course, second.id)
    assert cancelled.cancelled
    assert live.cancel_occurrence(course, second.id) == cancelled  # a resubmission is harmless
    assert second.id not in {o.id for o in live.sessions(course)}
    with pytest.raises(BlendkitError) as info:
        live.join_link(course, second.id, "ana")
    assert info.value.code == "courses.session_cancelled"
    with pytest.raises(BlendkitError) as moving:
        live.move_occurrence(course, second.id, start_utc=START)
    assert moving.value.code == "courses.session_cancelled"
    assert live.series(course, series.id).next_occurrence(second.start_utc).id == (
        series.occurrences[2].id
    )

    whole = live.cancel_series(course, series.id)
    assert whole.cancelled
    assert all(o.cancelled for o in whole.occurrences)
    assert live.sessions(course) == []
    with pytest.raises(BlendkitError):
        fake.fetch_attendance(series.provider_meeting_id)  # gone at the provider too
    assert live.cancel_series(course, series.id) == whole


def test_one_off_sessions_and_bad_series_are_refused(service: CourseService) -> None:
    course = _course(service)
    live = LiveSessionService(service, FakeMeetingProvider())
    single = live.schedule(
        course, title="Once", start_utc=START, time_zone="UTC", duration_minutes=30
    )
    for call in (
        lambda: live.cancel_occurrence(course, single.id),
        lambda: live.move_occurrence(course, single.id, start_utc=START),
    ):
        with pytest.raises(BlendkitError) as info:
            call()
        assert info.value.code == "courses.not_a_series"
    for changes in (
        {"count": None},  # neither count nor until
        {"until": date(2030, 3, 1)},  # both
        {"count": None, "until": date(2030, 3, 1)},  # ends before it starts
    ):
        with pytest.raises(BlendkitError) as bad:
            _weekly(live, course, **changes)
        assert bad.value.code == "courses.series_invalid"
    series = _weekly(live, course)
    with pytest.raises(BlendkitError) as naive:
        live.move_occurrence(course, series.occurrences[0].id, start_utc=datetime(2030, 3, 5))
    assert naive.value.code == "courses.series_invalid"


def test_attending_a_moved_sitting_counts_for_it_and_unlocks_progress(
    service: CourseService, clock: Clock
) -> None:
    course = _course(service)
    fake = FakeMeetingProvider()
    live = LiveSessionService(service, fake)
    series = _weekly(live, course)
    ready = START - timedelta(days=1)
    service.record(
        course,
        "ana",
        [
            VideoWatched(item="prework-video", percent=100, at=ready),
            ScoreRecorded(item="readiness-quiz", score=100, at=ready),
        ],
    )
    second = series.occurrences[1]
    moved = live.move_occurrence(
        course, second.id, start_utc=second.start_utc + timedelta(days=2), duration_minutes=60
    )
    url = live.join_link(course, moved.id, "ana")
    link = fake.join_link(series.provider_meeting_id, Learner(id="ana"))
    assert url == link.url
    conn = fake.join(series.provider_meeting_id, at=moved.start_utc, link=link)
    fake.leave(series.provider_meeting_id, conn, at=moved.start_utc + timedelta(minutes=50))
    fake.end(series.provider_meeting_id, at=moved.end_utc)
    clock.now = moved.end_utc + timedelta(minutes=1)

    # The "meeting ended" webhook imports the sitting it is about, not its neighbours.
    events = [
        e
        for request in fake.pending_webhooks()
        for e in fake.handle_webhook(request).events
        if e.type == "meeting.ended"
    ]
    assert live.handle_events(events) == 1
    rows = live.attendance(course)
    assert {r.session_id for r in rows} == {moved.id}  # every roster learner, for that sitting
    assert [(r.sub, r.minutes) for r in rows if r.minutes] == [("ana", 50)]
    assert service.evidence(course, "ana").attendance["live-session"].minutes == 50
    assert service.learner_path(course, "ana").state("live-session") == "completed"
    with pytest.raises(BlendkitError) as held:
        live.move_occurrence(course, moved.id, start_utc=START)
    assert held.value.code == "courses.session_held"


def test_a_planner_slot_becomes_the_series_first_start() -> None:
    slot = SlotProposal(
        weekday=1, weekday_name="Tuesday", utc_start=time(15, 30), duration_minutes=45,
        occurrences=10, learners=3, worst_week_inside=3, average_inside=3.0,
        inside_every_week=3, worst_week_dates=(), outside=(),
    )  # fmt: skip
    assert slot_first_start(slot, date(2030, 3, 4)) == datetime(2030, 3, 5, 15, 30, tzinfo=UTC)
    assert slot_first_start(slot, date(2030, 3, 5)) == datetime(2030, 3, 5, 15, 30, tzinfo=UTC)


ZONES = (
    "Europe/Berlin",
    "America/New_York",
    "Australia/Sydney",  # southern hemisphere: DST ends in April, starts in October
    "America/Santiago",
    "Asia/Kathmandu",  # +05:45, no DST
    "Australia/Lord_Howe",  # a 30-minute DST shift
)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    zone=st.sampled_from(ZONES),
    first=st.dates(min_value=date(2030, 1, 1), max_value=date(2030, 12, 31)),
    wall=st.times().map(lambda t: t.replace(second=0, microsecond=0)),
    weekdays=st.sets(st.integers(0, 6), min_size=1, max_size=3),
    count=st.integers(1, 40),
)
def test_sittings_keep_their_local_wall_clock_time_in_every_zone(
    tmp_path: Path,
    zone: str,
    first: date,
    wall: time,
    weekdays: set[int],
    count: int,
) -> None:
    tz = ZoneInfo(zone)
    start = datetime.combine(first, wall, tzinfo=tz).astimezone(UTC)
    store = _SHARED.get("store")
    if store is None:
        store = Store(f"sqlite:///{tmp_path / 'series.sqlite3'}")
        store.migrate()
        _SHARED["store"] = store
    service = CourseService(
        store, outbox=Outbox(store), statements=StatementFactory("https://tool.example.edu")
    )
    course = _course(service)
    fake = FakeMeetingProvider()
    live = LiveSessionService(service, fake)
    series = live.schedule_series(
        course, title="Property", start_utc=start, time_zone=zone, duration_minutes=50,
        count=count, weekdays=tuple(sorted(weekdays)),
    )  # fmt: skip
    assert len(series.occurrences) == count
    local_wall = start.astimezone(tz).time()
    for sitting in series.occurrences:
        local = sitting.start_utc.astimezone(tz)
        assert local.weekday() in weekdays  # the weekday in the series' own zone
        # Where the wall-clock time exists that day, every sitting starts exactly at it.
        resolved = datetime.combine(local.date(), local_wall, tzinfo=tz)
        if resolved.astimezone(UTC).astimezone(tz).time() == local_wall:
            assert local.time() == local_wall
        assert sitting.start_utc == resolved.astimezone(UTC)
        assert sitting.end_utc - sitting.start_utc == timedelta(minutes=50)


_SHARED: dict[str, Store] = {}
