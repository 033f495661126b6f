"""Attendance merge and participant mapping: hand-checked cases and properties."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from blendkit.sessions import (
    AttendanceReport,
    JoinLink,
    Learner,
    MatchKey,
    Occurrence,
    ParticipantRecord,
    UnmatchedReason,
    build_attendance_report,
    merge_intervals,
)

T0 = datetime(2026, 3, 3, 16, 0, tzinfo=UTC)
LENGTH = 120


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def rec(join: float, leave: float | None, **ids: str) -> ParticipantRecord:
    return ParticipantRecord(
        join_time=at(join), leave_time=None if leave is None else at(leave), **ids
    )


OCC = Occurrence(index=0, start_utc=T0, end_utc=at(LENGTH), occurrence_id="o1")
ADA = Learner(id="ada", name="Ada Lovelace", email="Ada@Example.org ")
BOB = Learner(id="bob", name="Bob", email="bob@example.org", provider_user_ids=("zu-bob",))
CY = Learner(id="cy", name="Cy", email="cy@example.org")
ROSTER = [ADA, BOB, CY]
LINKS = [JoinLink(meeting_id="m", learner_id="cy", url="https://x/j", registrant_id="reg-cy")]


def report(records: list[ParticipantRecord], roster: list[Learner] = ROSTER) -> AttendanceReport:
    return build_attendance_report(records, roster, OCC, meeting_id="m", join_links=LINKS)


# --- merging -------------------------------------------------------------------------------------


def test_rejoin_two_devices_and_overlap_are_merged() -> None:
    # Laptop 0-30, rejoin 40-70; phone 60-80 overlaps the rejoin: union is 0-30 and 40-80.
    records = [
        rec(0, 30, email="bob@example.org", connection_id="laptop"),
        rec(40, 70, email="bob@example.org", connection_id="laptop"),
        rec(60, 80, email="bob@example.org", connection_id="phone"),
    ]
    bob = report(records).for_learner("bob")
    assert bob is not None
    assert [(i.start, i.end) for i in bob.intervals] == [(at(0), at(30)), (at(40), at(80))]
    assert bob.minutes_present == pytest.approx(70)
    assert bob.percent_present == pytest.approx(100 * 70 / 120)
    assert bob.first_join == at(0)
    assert bob.last_leave == at(80)


def test_open_interval_counts_until_the_end_and_outside_time_is_clipped() -> None:
    # Joined 15 minutes early (waiting room) and never left: counts 0-120 only.
    records = [rec(-15, None, email="bob@example.org")]
    bob = report(records).for_learner("bob")
    assert bob is not None
    assert bob.minutes_present == pytest.approx(LENGTH)
    assert bob.percent_present == pytest.approx(100)
    assert bob.last_leave == OCC.end_utc


def test_record_entirely_outside_the_occurrence_counts_nothing() -> None:
    records = [rec(130, 150, email="bob@example.org"), rec(-40, -10, email="bob@example.org")]
    bob = report(records).for_learner("bob")
    assert bob is not None
    assert bob.minutes_present == 0
    assert bob.intervals == ()
    assert not bob.attended


def test_touching_intervals_merge_into_one() -> None:
    merged = merge_intervals([rec(0, 10), rec(10, 20)], OCC)
    assert [(i.start, i.end) for i in merged] == [(at(0), at(20))]


def test_leave_before_join_is_rejected() -> None:
    with pytest.raises(ValidationError, match="leave_time is before join_time"):
        rec(10, 5)


def test_naive_times_are_rejected() -> None:
    with pytest.raises(ValidationError, match="time zone"):
        ParticipantRecord(join_time=datetime(2026, 3, 3, 16, 0))


# --- mapping -------------------------------------------------------------------------------------


def test_mapping_order_registrant_then_user_id_then_email() -> None:
    records = [
        # Registrant id wins even though the e-mail belongs to Ada.
        rec(0, 10, registrant_id="reg-cy", email="ada@example.org"),
        # Provider user id wins over a foreign e-mail.
        rec(0, 10, provider_user_id="zu-bob", email="someone@else.org"),
        # E-mail, trimmed and case-insensitive.
        rec(0, 10, email="  ADA@example.ORG"),
    ]
    result = report(records)
    assert {a.learner_id: a.matched_by for a in result.attendance} == {
        "ada": MatchKey.EMAIL,
        "bob": MatchKey.PROVIDER_USER_ID,
        "cy": MatchKey.REGISTRANT_ID,
    }
    assert result.unmatched == ()


def test_display_name_alone_never_matches() -> None:
    result = report([rec(0, 60, display_name="Ada Lovelace")])
    ada = result.for_learner("ada")
    assert ada is not None
    assert ada.minutes_present == 0
    assert ada.matched_by is None
    (unmatched,) = result.unmatched
    assert unmatched.reason == UnmatchedReason.NO_IDENTIFIER
    assert unmatched.display_name == "Ada Lovelace"
    assert unmatched.minutes_present == pytest.approx(60)


def test_unknown_identifiers_are_reported_not_in_roster() -> None:
    result = report(
        [
            rec(0, 30, email="guest@example.org", display_name="Guest"),
            rec(40, 50, email="GUEST@example.org", display_name="Guest (phone)"),
            rec(0, 10, registrant_id="reg-unknown"),
        ]
    )
    reasons = sorted((u.reason, u.records, u.minutes_present) for u in result.unmatched)
    assert reasons == [
        (UnmatchedReason.NOT_IN_ROSTER, 1, pytest.approx(10)),
        (UnmatchedReason.NOT_IN_ROSTER, 2, pytest.approx(40)),
    ]


def test_shared_email_in_roster_is_ambiguous() -> None:
    twins = [
        Learner(id="t1", email="family@example.org"),
        Learner(id="t2", email="Family@example.org"),
    ]
    result = report([rec(0, 30, email="family@example.org")], twins)
    assert [u.reason for u in result.unmatched] == [UnmatchedReason.AMBIGUOUS_EMAIL]
    assert all(a.minutes_present == 0 for a in result.attendance)


def test_registrant_of_a_learner_outside_the_roster_is_not_attributed() -> None:
    result = build_attendance_report(
        [rec(0, 30, registrant_id="reg-cy")], [ADA], OCC, meeting_id="m", join_links=LINKS
    )
    assert [a.learner_id for a in result.attendance] == ["ada"]
    assert [u.reason for u in result.unmatched] == [UnmatchedReason.NOT_IN_ROSTER]


def test_every_roster_learner_appears_once_absent_ones_with_zero() -> None:
    result = report([rec(0, 30, email="bob@example.org")])
    assert [a.learner_id for a in result.attendance] == ["ada", "bob", "cy"]
    assert [a.attended for a in result.attendance] == [False, True, False]


# --- properties ----------------------------------------------------------------------------------

IDENTITIES = [
    {"email": "ada@example.org"},
    {"email": "BOB@example.org "},
    {"provider_user_id": "zu-bob"},
    {"registrant_id": "reg-cy"},
    {"email": "guest@example.org"},
    {"display_name": "Nameless"},
]


@st.composite
def records(draw: st.DrawFn) -> ParticipantRecord:
    join = draw(st.integers(-60, LENGTH + 60))
    leave = draw(st.one_of(st.none(), st.integers(join, LENGTH + 90)))
    identity = draw(st.sampled_from(IDENTITIES))
    device = draw(st.sampled_from(["laptop", "phone", None]))
    extra = {"connection_id": device} if device else {}
    return rec(join, leave, **identity, **extra)


def minutes_by_counting(items: list[ParticipantRecord]) -> int:
    """Reference: the set of whole minutes covered, counted one by one."""
    covered: set[int] = set()
    for r in items:
        join = int((r.join_time - T0).total_seconds() // 60)
        leave = LENGTH if r.leave_time is None else int((r.leave_time - T0).total_seconds() // 60)
        covered.update(m for m in range(join, leave) if 0 <= m < LENGTH)
    return len(covered)


@settings(max_examples=200, deadline=None)
@given(st.lists(records(), max_size=25))
def test_merged_minutes_never_exceed_the_occurrence(items: list[ParticipantRecord]) -> None:
    for attendance in report(items).attendance:
        assert 0 <= attendance.minutes_present <= LENGTH
        assert 0 <= attendance.percent_present <= 100
        starts = [i.start for i in attendance.intervals]
        assert starts == sorted(starts)
        for left, right in zip(attendance.intervals, attendance.intervals[1:], strict=False):
            assert left.end < right.start  # disjoint and not touching


@settings(max_examples=200, deadline=None)
@given(st.lists(records(), max_size=25), st.randoms(use_true_random=False))
def test_invariant_under_permutation_and_duplication(
    items: list[ParticipantRecord], rnd: random.Random
) -> None:
    shuffled = list(items) + list(items[: len(items) // 2])
    rnd.shuffle(shuffled)
    assert report(shuffled) == report(items)


@settings(max_examples=200, deadline=None)
@given(st.lists(records(), max_size=25))
def test_minutes_equal_union_measured_minute_by_minute(items: list[ParticipantRecord]) -> None:
    result = report(items)
    bob_items = [
        r
        for r in items
        if r.provider_user_id == "zu-bob" or (r.email or "").strip() == "BOB@example.org"
    ]
    bob = result.for_learner("bob")
    assert bob is not None
    assert bob.minutes_present == minutes_by_counting(bob_items)
    ada_items = [r for r in items if r.email == "ada@example.org"]
    ada = result.for_learner("ada")
    assert ada is not None
    assert ada.minutes_present == minutes_by_counting(ada_items)
    # Unmatched participants are measured the same way.
    guest = [u for u in result.unmatched if u.email == "guest@example.org"]
    guest_items = [r for r in items if r.email == "guest@example.org"]
    if guest_items:
        assert guest[0].minutes_present == minutes_by_counting(guest_items)
    else:
        assert guest == []


@given(
    reason=st.sampled_from(
        [
            UnmatchedReason.ANONYMOUS,
            UnmatchedReason.PHONE,
            UnmatchedReason.UNKNOWN_ACCOUNT,
            UnmatchedReason.LOOKUP_DENIED,
        ]
    ),
    email=st.sampled_from([None, "ada@example.org", "someone@elsewhere.org"]),
)
def test_the_providers_reason_is_reported_only_when_nothing_ties_the_record(
    reason: UnmatchedReason, email: str | None
) -> None:
    record = ParticipantRecord(
        join_time=at(0), leave_time=at(30), email=email, display_name="Ada", unidentified=reason
    )
    report = build_attendance_report([record], [ADA], OCC, meeting_id="m1")
    ada = report.for_learner("ada")
    assert ada is not None
    if email == "ada@example.org":  # an identifier that matches wins over the provider's doubt
        assert ada.minutes_present == 30
        assert report.unmatched == ()
    else:  # never matched by the display name, and the reason is the provider's
        assert ada.minutes_present == 0
        assert [u.reason for u in report.unmatched] == [reason]
