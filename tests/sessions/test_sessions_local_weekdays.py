"""The planner's weekdays and availability windows in each learner's own zone, and coverage."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from blendkit.errors import ScheduleError
from blendkit.sessions import Availability, SlotProposal, evaluate_slot, plan_slots

WORKING = Availability.parse("09:00-17:00")
EVENINGS = Availability.parse("18:00-21:00")
WEEKENDS_TOO = Availability.parse("10:00-20:00", weekdays=tuple(range(7)))
DEFAULT = Availability()  # Monday to Friday, 08:00-21:00

ZONES = [
    "UTC",
    "Asia/Tokyo",
    "Europe/Berlin",
    "America/New_York",
    "America/Los_Angeles",
    "Asia/Kolkata",  # +05:30
    "Asia/Kathmandu",  # +05:45
    "Australia/Adelaide",  # +09:30 / +10:30, southern daylight saving
    "Australia/Lord_Howe",  # a 30-minute daylight-saving shift
    "America/St_Johns",  # -03:30 / -02:30
    "Pacific/Chatham",  # +12:45 / +13:45
    "America/Santiago",  # southern hemisphere, switches in April and September
    "Pacific/Kiritimati",  # +14: Monday local while still Sunday in UTC
    "Pacific/Pago_Pago",  # -11
]


def occurrences(slot: SlotProposal, first: date, last: date) -> list[date]:
    day = first + timedelta(days=(slot.weekday - first.weekday()) % 7)
    found = []
    while day <= last:
        found.append(day)
        day += timedelta(weeks=1)
    return found


def suits(zone: str, day: date, start: time, length: int, rule: Availability) -> bool:
    """Brute force: the session read on the learner's wall clock with zoneinfo."""
    begin = datetime.combine(day, start, UTC)
    local_start = begin.astimezone(ZoneInfo(zone))
    local_end = (begin + timedelta(minutes=length)).astimezone(ZoneInfo(zone))
    if local_start.weekday() not in rule.weekdays:
        return False
    first = local_start.hour * 60 + local_start.minute
    last = (local_end.date() - local_start.date()).days * 1440
    last += local_end.hour * 60 + local_end.minute
    return any(
        a.hour * 60 + a.minute <= first and last <= b.hour * 60 + b.minute for a, b in rule.windows
    )


def check_against_brute_force(
    slot: SlotProposal,
    cohort: Mapping[str, str],
    rules: Mapping[str, Availability],
    first: date,
    last: date,
) -> None:
    days = occurrences(slot, first, last)
    assert slot.occurrences == len(days)
    inside = {
        lid: [suits(z, d, slot.utc_start, slot.duration_minutes, rules[lid]) for d in days]
        for lid, z in cohort.items()
    }
    attending = {lid for lid, flags in inside.items() if all(flags)}
    per_week = [sum(flags[i] for flags in inside.values()) for i in range(len(days))]
    assert slot.worst_week_inside == min(per_week)
    assert slot.inside_every_week == len(attending)
    by_zone = {c.time_zone: c for c in slot.coverage}
    assert set(by_zone) == set(cohort.values())
    for zone, cover in by_zone.items():
        members = {lid for lid, z in cohort.items() if z == zone}
        assert cover.learners == len(members)
        assert set(cover.attending) == attending & members
    # A learner counted as covered never has a session on a disallowed local weekday.
    for lid in attending:
        zone = ZoneInfo(cohort[lid])
        for day in days:
            local = datetime.combine(day, slot.utc_start, UTC).astimezone(zone)
            assert local.weekday() in rules[lid].weekdays


cohorts = st.lists(
    st.tuples(st.sampled_from(ZONES), st.sampled_from([WORKING, EVENINGS, WEEKENDS_TOO, DEFAULT])),
    min_size=1,
    max_size=8,
)
terms = st.tuples(
    # Terms around March/April and September-November cover both hemispheres' switches.
    st.sampled_from([date(2026, 2, 20), date(2026, 3, 20), date(2026, 9, 15), date(2026, 10, 20)]),
    st.integers(7, 60),
)


def unpack(
    cohort: list[tuple[str, Availability]], term: tuple[date, int]
) -> tuple[date, date, dict[str, str], dict[str, Availability]]:
    zones = {f"l{i}": z for i, (z, _) in enumerate(cohort)}
    rules = {f"l{i}": rule for i, (_, rule) in enumerate(cohort)}
    return term[0], term[0] + timedelta(days=term[1]), zones, rules


@settings(max_examples=100, deadline=None)
@given(cohort=cohorts, term=terms, length=st.sampled_from([30, 45, 60, 90]))
def test_ranked_slots_match_a_brute_force_check(
    cohort: list[tuple[str, Availability]], term: tuple[date, int], length: int
) -> None:
    first, last, zones, rules = unpack(cohort, term)
    plan = plan_slots(
        zones,
        availability=rules,
        term_start=first,
        term_end=last,
        duration_minutes=length,
        grid_minutes=60,
        top=4,
    )
    for slot in (*plan.slots, *plan.chosen):
        check_against_brute_force(slot, zones, rules, first, last)


@settings(max_examples=200, deadline=None)
@given(
    cohort=cohorts,
    term=terms,
    length=st.sampled_from([15, 45, 60, 100]),
    weekday=st.integers(0, 6),
    minute=st.integers(0, 287).map(lambda n: n * 5),
)
def test_any_slot_matches_a_brute_force_check(
    cohort: list[tuple[str, Availability]],
    term: tuple[date, int],
    length: int,
    weekday: int,
    minute: int,
) -> None:
    first, last, zones, rules = unpack(cohort, term)
    slot = evaluate_slot(
        zones,
        availability=rules,
        weekday=weekday,
        utc_start=time(minute // 60, minute % 60),
        term_start=first,
        term_end=last,
        duration_minutes=length,
    )
    check_against_brute_force(slot, zones, rules, first, last)


# --- hand-checked cases --------------------------------------------------------------------------

TERM = {"term_start": date(2026, 3, 2), "term_end": date(2026, 5, 29)}


def test_a_tokyo_new_york_berlin_cohort_is_offered_weekdays() -> None:
    cohort = {"aiko": "Asia/Tokyo", "ben": "America/New_York", "clara": "Europe/Berlin"}
    plan = plan_slots(cohort, duration_minutes=60, top=5, **TERM)
    assert plan.weekdays == (0, 1, 2, 3, 4)
    for slot in plan.slots:
        assert slot.worst_week_inside >= 1
        for cover in slot.coverage:
            zone = ZoneInfo(cover.time_zone)
            for lid in cover.attending:
                for day in occurrences(slot, TERM["term_start"], TERM["term_end"]):
                    local = datetime.combine(day, slot.utc_start, UTC).astimezone(zone)
                    assert local.weekday() < 5, (slot.label, lid, local)
    # The three are never all awake together, so the best slot serves two of them.
    assert plan.slots[0].worst_week_inside == 2


def test_a_utc_sunday_slot_is_a_monday_in_tokyo_and_a_sunday_in_new_york() -> None:
    cohort = {"aiko": "Asia/Tokyo", "ben": "America/New_York"}
    slot = evaluate_slot(
        cohort, weekday=6, utc_start=time(23, 0), duration_minutes=60, **TERM
    )  # Monday 08:00 in Tokyo, Sunday 18:00/19:00 in New York
    assert {c.time_zone: c.attending for c in slot.coverage} == {
        "Asia/Tokyo": ("aiko",),
        "America/New_York": (),
    }
    weekend = evaluate_slot(
        cohort, weekday=6, utc_start=time(23, 0), duration_minutes=60, weekdays=range(7), **TERM
    )
    assert weekend.inside_every_week == 2


def test_a_friday_evening_utc_slot_is_saturday_morning_in_tokyo() -> None:
    slot = evaluate_slot(
        {"aiko": "Asia/Tokyo"}, weekday=4, utc_start=time(23, 0), duration_minutes=60, **TERM
    )
    assert slot.inside_every_week == 0
    assert slot.outside[0].learner_id == "aiko"


def test_evening_learners_and_working_hours_learners_get_different_slots() -> None:
    cohort = {"day": "Europe/Berlin", "night": "Europe/Berlin"}
    rules = {"day": WORKING, "night": EVENINGS}
    plan = plan_slots(cohort, availability=rules, duration_minutes=60, per_week=2, **TERM)
    assert plan.covered == 2
    served = [set(plan.chosen[i].coverage[0].attending) for i in range(2)]
    assert sorted(map(sorted, served)) == [["day"], ["night"]]


def test_kathmandu_forty_five_minute_offset_to_the_minute() -> None:
    rules = {"k": WORKING}  # 09:00-17:00 local is 03:15-11:15 UTC all year (no daylight saving)
    on = evaluate_slot(
        {"k": "Asia/Kathmandu"},
        availability=rules,
        weekday=1,
        utc_start=time(3, 15),
        duration_minutes=60,
        **TERM,
    )
    early = evaluate_slot(
        {"k": "Asia/Kathmandu"},
        availability=rules,
        weekday=1,
        utc_start=time(3, 10),
        duration_minutes=60,
        **TERM,
    )
    assert (on.inside_every_week, early.inside_every_week) == (1, 0)


def test_adelaide_leaves_daylight_saving_in_april() -> None:
    # Tuesday 22:30 UTC: Wednesday 09:00 ACDT (+10:30) until 5 April 2026, 08:00 ACST afterwards.
    slot = evaluate_slot(
        {"a": "Australia/Adelaide"},
        availability={"a": WORKING},
        weekday=1,
        utc_start=time(22, 30),
        duration_minutes=60,
        **TERM,
    )
    assert slot.outside[0].dates[0] == date(2026, 4, 7)
    assert slot.worst_week_inside == 0
    assert slot.inside_every_week == 0


def test_nobody_available_is_reported() -> None:
    with pytest.raises(ScheduleError, match="allow more weekdays"):
        plan_slots(
            {"a": "UTC"},
            availability={"a": Availability.parse("09:00-10:00")},
            duration_minutes=90,
            **TERM,
        )


def test_availability_for_an_unknown_learner_is_refused() -> None:
    with pytest.raises(ScheduleError, match="not among the learners"):
        plan_slots({"a": "UTC"}, availability={"b": WORKING}, duration_minutes=60, **TERM)


@pytest.mark.parametrize("text", ["9-17", "09:00", "17:00-09:00", "", "09:00-25:00"])
def test_hours_that_are_not_windows_are_refused(text: str) -> None:
    with pytest.raises(ScheduleError):
        Availability.parse(text)


def test_hours_parse_several_windows() -> None:
    rule = Availability.parse("18:00-21:00, 09:00-12:00")
    assert rule.windows == ((time(9), time(12)), (time(18), time(21)))
    assert rule.label == "Mon-Fri 09:00-12:00 18:00-21:00"
