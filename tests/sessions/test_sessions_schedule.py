"""Scheduling: hand-checked daylight-saving cases and properties of the planner."""

from __future__ import annotations

import random
from datetime import date, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from blendkit.errors import ScheduleError
from blendkit.sessions import evaluate_slot, plan_slots

TUESDAY = 1
SPRING = {"term_start": date(2026, 3, 2), "term_end": date(2026, 4, 30)}  # Monday .. Thursday


def tuesdays(first: date, last: date) -> list[date]:
    day = first + timedelta(days=(TUESDAY - first.weekday()) % 7)
    found = []
    while day <= last:
        found.append(day)
        day += timedelta(weeks=1)
    return found


def outside_dates(slot, learner: str) -> tuple[date, ...]:  # type: ignore[no-untyped-def]
    for item in slot.outside:
        if item.learner_id == learner:
            return item.dates
    return ()


# --- hand-checked daylight-saving cases ----------------------------------------------------------


def test_berlin_moves_an_hour_later_on_the_last_sunday_of_march() -> None:
    # Tuesday 16:00 UTC for 210 minutes: 17:00-20:30 CET (inside), 18:00-21:30 CEST (outside).
    # Europe switches on Sunday 29 March 2026, so Tuesdays from 31 March on are outside.
    slot = evaluate_slot(
        {"berlin": "Europe/Berlin"},
        weekday=TUESDAY,
        utc_start=time(16, 0),
        duration_minutes=210,
        **SPRING,
    )
    all_tuesdays = tuesdays(SPRING["term_start"], SPRING["term_end"])
    assert slot.occurrences == len(all_tuesdays) == 9
    assert outside_dates(slot, "berlin") == tuple(d for d in all_tuesdays if d >= date(2026, 3, 31))
    assert slot.worst_week_inside == 0
    assert slot.inside_every_week == 0
    assert slot.average_inside == pytest.approx(4 / 9, abs=0.01)


def test_new_york_switches_three_weeks_before_berlin() -> None:
    # Tuesday 12:30 UTC, 60 minutes: New York 07:30 EST (outside) until Sunday 8 March 2026,
    # then 08:30 EDT (inside). Berlin is at 13:30/14:30 (inside) throughout.
    slot = evaluate_slot(
        {"ny": "America/New_York", "berlin": "Europe/Berlin"},
        weekday=TUESDAY,
        utc_start=time(12, 30),
        duration_minutes=60,
        **SPRING,
    )
    assert outside_dates(slot, "ny") == (date(2026, 3, 3),)
    assert outside_dates(slot, "berlin") == ()
    assert slot.worst_week_inside == 1
    assert slot.worst_week_dates == (date(2026, 3, 3),)


def test_sydney_switches_the_other_way_in_april() -> None:
    # Tuesday 21:00 UTC is Wednesday 08:00 AEDT (inside); daylight saving ends in Sydney on
    # Sunday 5 April 2026, after which it is 07:00 AEST (outside).
    slot = evaluate_slot(
        {"sydney": "Australia/Sydney"},
        weekday=TUESDAY,
        utc_start=time(21, 0),
        duration_minutes=60,
        **SPRING,
    )
    expected = tuple(
        d for d in tuesdays(SPRING["term_start"], SPRING["term_end"]) if d > date(2026, 4, 5)
    )
    assert outside_dates(slot, "sydney") == expected


def test_session_across_a_transition_night_uses_both_offsets() -> None:
    # Saturday 28 March 23:30 UTC for 120 minutes spans Berlin's switch at 01:00 UTC:
    # local 00:30 CET to 03:30 CEST, outside either way; the planner must not crash or wrap.
    slot = evaluate_slot(
        {"berlin": "Europe/Berlin"},
        weekday=5,
        utc_start=time(23, 30),
        duration_minutes=120,
        term_start=date(2026, 3, 28),
        term_end=date(2026, 3, 28),
    )
    assert outside_dates(slot, "berlin") == (date(2026, 3, 28),)


# --- planning ------------------------------------------------------------------------------------


def test_two_regions_without_overlap_need_two_slots() -> None:
    # Tokyo (08-21 = 23:00-12:00 UTC) and New York (08-21 EDT = 12:00-01:00 UTC) overlap for
    # two hours at most, so no single four-hour slot serves both.
    cohort = {f"t{i}": "Asia/Tokyo" for i in range(3)} | {
        f"n{i}": "America/New_York" for i in range(2)
    }
    term = {"term_start": date(2026, 4, 6), "term_end": date(2026, 6, 28)}
    one = plan_slots(cohort, duration_minutes=240, per_week=1, **term)
    assert one.slots[0].worst_week_inside == 3  # the larger group wins
    assert one.covered == 3
    assert one.recommendation.mode == "asynchronous"
    assert {o.learner_id for o in one.uncovered} == {"n0", "n1"}
    office = one.recommendation.office_hours
    assert len(office) == 2
    two = plan_slots(cohort, duration_minutes=240, per_week=2, **term)
    assert two.covered == 5
    assert two.uncovered == ()
    assert two.recommendation.mode == "live"
    assert len(two.chosen) == 2
    starts = sorted(
        c.weekday * 1440 + c.utc_start.hour * 60 + c.utc_start.minute for c in two.chosen
    )
    assert starts[1] - starts[0] >= 240  # the two chosen slots do not overlap


def test_ranking_is_worst_week_then_average() -> None:
    cohort = {"a": "Europe/Berlin", "b": "America/New_York", "c": "Asia/Kolkata"}
    plan = plan_slots(cohort, duration_minutes=60, top=50, **SPRING)
    keys = [(s.worst_week_inside, s.average_inside) for s in plan.slots]
    assert keys == sorted(keys, reverse=True)
    best = plan.slots[0]
    assert best.worst_week_inside == 3
    assert best.outside == ()
    assert plan.recommendation.mode == "live"


@pytest.mark.parametrize(
    ("cohort", "kwargs", "message"),
    [
        ({"a": "Mars/Olympus"}, {}, "not an IANA time zone"),
        ({}, {}, "empty"),
        ({"a": "UTC"}, {"duration_minutes": 900}, "cannot fit"),
        ({"a": "UTC"}, {"term_end": date(2026, 2, 1)}, "before it starts"),
        ({"a": "UTC"}, {"grid_minutes": 7}, "divide an hour"),
        ({"a": "UTC"}, {"min_share": 1.5}, "min_share"),
    ],
)
def test_invalid_requests_raise_schedule_error(
    cohort: dict[str, str], kwargs: dict[str, object], message: str
) -> None:
    arguments: dict[str, object] = {"duration_minutes": 60, **SPRING, **kwargs}
    with pytest.raises(ScheduleError, match=message):
        plan_slots(cohort, **arguments)  # type: ignore[arg-type]


def test_duplicate_learner_is_rejected() -> None:
    with pytest.raises(ScheduleError, match="listed twice"):
        plan_slots([("a", "UTC"), ("a", "Europe/Paris")], duration_minutes=60, **SPRING)


# --- properties ----------------------------------------------------------------------------------

ZONES = [
    "UTC",
    "Europe/Berlin",
    "Europe/London",
    "America/New_York",
    "America/Sao_Paulo",
    "Australia/Sydney",
    "Asia/Kolkata",
    "Pacific/Auckland",
    "Asia/Kathmandu",
]


@settings(max_examples=100, deadline=None)
@given(
    weekday=st.integers(0, 6),
    minute=st.integers(0, 1439),
    length=st.integers(1, 13 * 60),
)
def test_utc_learner_is_inside_iff_slot_is_inside_utc_hours(
    weekday: int, minute: int, length: int
) -> None:
    slot = evaluate_slot(
        {"u": "UTC"},
        weekday=weekday,
        utc_start=time(minute // 60, minute % 60),
        duration_minutes=length,
        term_start=date(2026, 3, 1),
        term_end=date(2026, 3, 31),
    )
    expected_inside = weekday < 5 and minute >= 8 * 60 and minute + length <= 21 * 60
    assert (slot.worst_week_inside == 1) is expected_inside
    assert (slot.outside == ()) is expected_inside


@settings(max_examples=25, deadline=None)
@given(
    cohort=st.lists(st.sampled_from(ZONES), min_size=1, max_size=12),
    seed=st.integers(0, 2**32 - 1),
    per_week=st.integers(1, 2),
)
def test_plan_is_invariant_under_learner_order(cohort: list[str], seed: int, per_week: int) -> None:
    pairs = [(f"learner{i}", zone) for i, zone in enumerate(cohort)]
    shuffled = list(pairs)
    random.Random(seed).shuffle(shuffled)
    arguments = {
        "term_start": date(2026, 3, 16),
        "term_end": date(2026, 4, 12),
        "duration_minutes": 90,
        "per_week": per_week,
        "grid_minutes": 60,
    }
    assert plan_slots(pairs, **arguments) == plan_slots(shuffled, **arguments)  # type: ignore[arg-type]


@settings(max_examples=25, deadline=None)
@given(cohort=st.lists(st.sampled_from(ZONES), min_size=1, max_size=12))
def test_counts_agree_with_a_direct_check(cohort: list[str]) -> None:
    """Reference: convert every occurrence to every learner's zone with datetime directly."""
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    pairs = {f"learner{i}": zone for i, zone in enumerate(cohort)}
    term = {"term_start": date(2026, 3, 20), "term_end": date(2026, 4, 10)}
    plan = plan_slots(pairs, duration_minutes=75, grid_minutes=60, top=3, **term)
    for slot in plan.slots:
        counts = []
        day = term["term_start"]
        while day <= term["term_end"]:
            if day.weekday() == slot.weekday:
                start = datetime.combine(day, slot.utc_start, UTC)
                inside = 0
                for zone in pairs.values():
                    local_start = start.astimezone(ZoneInfo(zone))
                    local_end = (start + timedelta(minutes=75)).astimezone(ZoneInfo(zone))
                    if (
                        local_start.date() == local_end.date()
                        and local_start.time() >= time(8)
                        and local_end.time() <= time(21)
                    ):
                        inside += 1
                counts.append(inside)
            day += timedelta(days=1)
        assert slot.worst_week_inside == min(counts)
        assert slot.average_inside == pytest.approx(sum(counts) / len(counts), abs=0.01)


def test_weekdays_limit_the_candidates() -> None:
    plan = plan_slots(
        {"a": "Europe/Berlin"}, duration_minutes=60, weekdays=[1, 3], top=200, **SPRING
    )
    assert {s.weekday for s in plan.slots} == {1, 3}
    with pytest.raises(ScheduleError, match="weekdays"):
        plan_slots({"a": "UTC"}, duration_minutes=60, weekdays=[7], **SPRING)


def test_ties_go_to_the_more_comfortable_slot() -> None:
    # For a UTC learner every 60-minute slot starting 08:00-20:00 is inside. 14:00-15:00 is 360
    # minutes from both edges of 08:00-21:00; 13:30 and 14:30 come next with 330.
    plan = plan_slots({"u": "UTC"}, duration_minutes=60, weekdays=[2], top=3, **SPRING)
    best = plan.slots[0]
    assert best.utc_start == time(14, 0)  # 360 minutes after 08:00 and 360 before 21:00
    assert {s.utc_start for s in plan.slots[1:]} == {time(13, 30), time(14, 30)}


@settings(max_examples=20, deadline=None)
@given(cohort=st.lists(st.sampled_from(ZONES), min_size=1, max_size=10))
def test_more_slots_a_week_never_serve_fewer_learners(cohort: list[str]) -> None:
    pairs = {f"learner{i}": zone for i, zone in enumerate(cohort)}
    arguments = {
        "term_start": date(2026, 3, 16),
        "term_end": date(2026, 4, 12),
        "duration_minutes": 120,
        "grid_minutes": 60,
    }
    served = [plan_slots(pairs, per_week=k, **arguments).covered for k in (1, 2, 3)]  # type: ignore[arg-type]
    assert served == sorted(served)
    one = plan_slots(pairs, per_week=1, **arguments)  # type: ignore[arg-type]
    assert one.covered == one.slots[0].inside_every_week
