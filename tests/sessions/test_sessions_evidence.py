"""Attendance as progression evidence, virtual-classroom xAPI facts and AGS scores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from blendkit.errors import SessionsError
from blendkit.sessions import (
    VIRTUAL_CLASSROOM_EXTENSIONS,
    VIRTUAL_CLASSROOM_VERBS,
    AttendanceReport,
    GradingPolicy,
    Learner,
    Occurrence,
    ParticipantRecord,
    attendance_evidence,
    build_attendance_report,
    iso_seconds,
    score_attendance,
    series_attendance,
    virtual_classroom_events,
)

T0 = datetime(2026, 3, 3, 16, 0, tzinfo=UTC)
ROSTER = [Learner(id=n, email=f"{n}@example.org") for n in ("ada", "bob", "cy")]


def at(minutes: float, base: datetime = T0) -> datetime:
    return base + timedelta(minutes=minutes)


def occurrence_report(index: int, spans: dict[str, list[tuple[int, int]]]) -> AttendanceReport:
    start = T0 + timedelta(weeks=index)
    occurrence = Occurrence(
        index=index, start_utc=start, end_utc=at(60, start), occurrence_id=f"o{index}"
    )
    records = [
        ParticipantRecord(
            join_time=at(a, start), leave_time=at(b, start), email=f"{learner}@example.org"
        )
        for learner, pairs in spans.items()
        for a, b in pairs
    ]
    return build_attendance_report(records, ROSTER, occurrence, meeting_id="m1")


WEEK0 = occurrence_report(0, {"ada": [(0, 60)], "bob": [(0, 15), (30, 45)]})
WEEK1 = occurrence_report(1, {"ada": [(0, 30)]})


def test_evidence_per_learner_is_a_plain_dict() -> None:
    evidence = {e.learner_id: e for e in attendance_evidence(WEEK0, session_id="s1")}
    assert set(evidence) == {"ada", "bob", "cy"}
    bob = evidence["bob"].to_dict()
    assert bob == {
        "kind": "live_session_attendance",
        "learner_id": "bob",
        "session_id": "s1",
        "meeting_id": "m1",
        "occurrence_index": 0,
        "occurrence_id": "o0",
        "occurrence_start": "2026-03-03T16:00:00Z",
        "occurrence_end": "2026-03-03T17:00:00Z",
        "attended": True,
        "minutes_present": 30.0,
        "percent_present": 50.0,
    }
    assert evidence["cy"].attended is False


def test_series_totals_over_the_term() -> None:
    totals = {t.learner_id: t for t in series_attendance([WEEK0, WEEK1], session_id="s1")}
    assert (totals["ada"].attended, totals["ada"].minutes_present) == (2, 90)
    assert totals["ada"].percent_present == pytest.approx(75)
    assert (totals["bob"].attended, totals["bob"].occurrences) == (1, 2)
    assert totals["bob"].percent_present == pytest.approx(25)
    assert totals["cy"].attended == 0
    with pytest.raises(SessionsError):
        series_attendance([], session_id="s1")


def test_full_credit_on_join_and_proportional_policies() -> None:
    stamp = datetime(2026, 3, 11, tzinfo=UTC)
    full = {
        s.learner_id: s
        for s in score_attendance(
            [WEEK0, WEEK1], GradingPolicy.FULL_CREDIT_ON_JOIN, timestamp=stamp
        )
    }
    assert full["ada"].score_given == 100
    assert full["bob"].score_given == 50  # joined one of two
    assert full["cy"].score_given == 0
    assert full["cy"].activity_progress == "Initialized"
    assert full["ada"].activity_progress == "Completed"
    proportional = {
        s.learner_id: s
        for s in score_attendance(
            WEEK0,
            GradingPolicy.PROPORTIONAL,
            score_maximum=10,
            full_credit_percent=80,
            timestamp=stamp,
        )
    }
    assert proportional["ada"].score_given == 10  # 100 % present, capped at full credit
    assert proportional["bob"].score_given == pytest.approx(10 * 50 / 80, abs=0.01)
    body = proportional["bob"].to_ags()
    assert body["userId"] == "bob"
    assert body["scoreMaximum"] == 10
    assert body["gradingProgress"] == "FullyGraded"
    assert body["timestamp"] == "2026-03-11T00:00:00Z"
    with pytest.raises(SessionsError):
        score_attendance(WEEK0, GradingPolicy.PROPORTIONAL, full_credit_percent=0)


def test_iso_durations() -> None:
    assert iso_seconds(2700) == "PT2700S"
    assert iso_seconds(90.5) == "PT90.5S"
    assert iso_seconds(0.004) == "PT0S"


def test_virtual_classroom_events_follow_the_merged_intervals() -> None:
    events = virtual_classroom_events(WEEK0, session_id="s1")
    bob = [(e.event, e.timestamp, e.duration) for e in events if e.learner_id == "bob"]
    assert bob == [
        ("joined", at(0), None),
        ("left", at(15), "PT900S"),
        ("joined", at(30), None),
        ("left", at(45), "PT900S"),
        ("terminated", at(45), "PT1800S"),
    ]
    assert not [e for e in events if e.learner_id == "cy"]
    assert all(e.verb_id == VIRTUAL_CLASSROOM_VERBS[e.event] for e in events)
    assert all(e.planned_duration == "PT3600S" for e in events)
    # Deterministic ids: importing the same attendance again yields the same statements.
    again = virtual_classroom_events(WEEK0, session_id="s1")
    assert [e.statement_id for e in again] == [e.statement_id for e in events]
    assert len({e.statement_id for e in events}) == len(events)
    assert len({e.registration for e in events if e.learner_id == "bob"}) == 1


def statement(event: Any) -> dict[str, Any]:
    """The statement an xAPI layer would build from the event (minimal, profile-conformant)."""
    context: dict[str, Any] = {
        "registration": str(event.registration),
        "contextActivities": {
            "category": [
                {
                    "id": event.profile_id,
                    "objectType": "Activity",
                    "definition": {"type": "http://adlnet.gov/expapi/activities/profile"},
                }
            ]
        },
        "extensions": {
            VIRTUAL_CLASSROOM_EXTENSIONS["session_id"]: event.session_id,
            # The profile's planned duration is an ISO 8601 duration (event.planned_duration);
            # ralph 5.1 types it as a datetime, so the key is present but empty here.
            VIRTUAL_CLASSROOM_EXTENSIONS["planned_duration"]: None,
        },
    }
    body: dict[str, Any] = {
        "id": str(event.statement_id),
        "actor": {
            "objectType": "Agent",
            "account": {"homePage": "https://lms.example.org", "name": event.learner_id},
        },
        "verb": {"id": event.verb_id},
        "object": {
            "id": "https://tool.example.org/sessions/" + event.session_id,
            "objectType": "Activity",
            "definition": {"type": event.activity_type},
        },
        "context": context,
        "timestamp": event.timestamp.isoformat(),
    }
    if event.duration:
        body["result"] = {"duration": event.duration}
    return body


def test_events_match_the_virtual_classroom_profile_as_ralph_reads_it() -> None:
    pytest.importorskip("ralph.models.xapi.virtual_classroom.statements")
    from ralph.models.xapi.virtual_classroom import statements as vc

    expected = {
        "joined": vc.VirtualClassroomJoined,
        "left": vc.VirtualClassroomLeft,
        "terminated": vc.VirtualClassroomTerminated,
    }
    events = virtual_classroom_events(WEEK0, session_id="s1")
    assert {e.event for e in events} == set(expected)
    for event in events:
        model = expected[event.event]
        parsed = model.model_validate(statement(event))
        assert parsed.verb.id == event.verb_id
