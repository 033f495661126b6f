"""At-risk signals: each fires on its own evidence and says why."""

from __future__ import annotations

from datetime import timedelta

from blendkit.progression import (
    ActivitySeen,
    AttendanceRecorded,
    Evidence,
    RecordingWatched,
    RiskPolicy,
    ScoreRecorded,
    at_risk,
    cohort_pacing,
)
from tests.progression.strategies import T0

PATH = cohort_pacing(T0, weeks=2)
WEEK2 = T0 + timedelta(days=9)


def kinds(evidence: Evidence, policy: RiskPolicy | None = None) -> dict[str, str]:
    return {s.kind: s.reason for s in at_risk(PATH, evidence, WEEK2, policy)}


def on_track() -> Evidence:
    ev = Evidence(learner="ann", enrolled_at=T0)
    ev = ev.apply(ScoreRecorded(item="w1-quiz", score=90, at=T0 + timedelta(days=3)))
    ev = ev.apply(AttendanceRecorded(item="w1-live", minutes=55, percent=92))
    ev = ev.apply(AttendanceRecorded(item="w2-live", minutes=55, percent=92))
    return ev.apply(ActivitySeen(at=WEEK2 - timedelta(days=1)))


def test_no_signal_for_a_learner_on_track() -> None:
    assert kinds(on_track()) == {}


def test_behind_pace() -> None:
    ev = Evidence(learner="bo", enrolled_at=T0).apply(ActivitySeen(at=WEEK2))
    reason = kinds(ev)["behind_pace"]
    assert reason == (
        "Behind the expected pace: 0 of 1 items due by now are completed; not done: Week 1 quiz"
    )


def test_missed_live_session_unless_caught_up_on_the_recording() -> None:
    ev = on_track().model_copy(update={"attendance": {}})
    reasons = [s for s in at_risk(PATH, ev, WEEK2) if s.kind == "missed_live_session"]
    assert [s.item for s in reasons] == ["w1-live"]  # week 2's session has not ended yet
    assert "Missed Week 1 live session on 2026-01-07 09:00 UTC" in reasons[0].reason
    caught_up = ev.apply(RecordingWatched(item="w1-live", percent=85))
    assert "missed_live_session" not in kinds(caught_up)


def test_repeated_failures() -> None:
    ev = on_track().model_copy(update={"scores": {}})
    for n, score in enumerate([40, 55]):
        ev = ev.apply(ScoreRecorded(item="w1-quiz", score=score, at=T0 + timedelta(days=n)))
    assert kinds(ev)["repeated_failures"] == "Failed Week 1 quiz 2 times (best 55%, pass mark 60%)"
    assert "repeated_failures" not in kinds(ev, RiskPolicy(failures=3))


def test_inactivity() -> None:
    ev = on_track().model_copy(update={"last_activity_at": T0})
    assert kinds(ev)["inactive"].startswith("No activity for 9 days (last active 2026-01-05")
    assert "inactive" not in kinds(ev, RiskPolicy(inactive_days=10))
