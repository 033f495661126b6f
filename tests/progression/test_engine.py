"""Engine: states, deadlines, overrides, mastery paths, incremental evaluation and events."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from blendkit.errors import ProgressionError
from blendkit.progression import (
    AttendanceRecorded,
    AttendedCondition,
    CompletionCondition,
    CompletionRecorded,
    Enrolled,
    Evidence,
    ExtensionGranted,
    IncrementalEvaluator,
    Item,
    MasteryRange,
    MasteryRule,
    Module,
    Override,
    OverrideAdded,
    Path,
    RecordingWatched,
    ScoreCondition,
    ScoreRecorded,
    changes,
    evaluate,
)
from tests.progression import strategies as s

T0, NOW = s.T0, s.NOW


def course() -> Path:
    return Path(
        id="course",
        course_start=T0,
        modules=(
            Module(
                id="m1",
                items=(
                    Item(id="quiz1", title="Quiz 1", kind="quiz", pass_mark=70,
                         complete_when=ScoreCondition(item="quiz1", min=70)),
                    Item(id="live", title="Live session", kind="live_session",
                         conditions=ScoreCondition(item="quiz1", min=70, id="quiz-gate"),
                         complete_when=AttendedCondition(item="live", percent=75, recording=80)),
                    Item(id="essay", title="Essay", kind="assignment",
                         conditions=CompletionCondition(item="live"),
                         due=T0 + timedelta(days=7)),
                ),
            ),
        ),
    )  # fmt: skip


def test_walk_through_states() -> None:
    path = course()
    at = T0 + timedelta(days=1)
    assert evaluate(path, Evidence(), at).states() == {
        "quiz1": "available", "live": "locked", "essay": "locked",
    }  # fmt: skip
    ev = Evidence().apply(ScoreRecorded(item="quiz1", score=55, at=at))
    assert evaluate(path, ev, at).states()["quiz1"] == "in_progress"
    ev = ev.apply(ScoreRecorded(item="quiz1", score=85, at=at))
    assert evaluate(path, ev, at).states() == {
        "quiz1": "completed", "live": "available", "essay": "locked",
    }  # fmt: skip
    ev = ev.apply(RecordingWatched(item="live", percent=85))
    result = evaluate(path, ev, T0 + timedelta(days=8))
    assert result.states() == {"quiz1": "completed", "live": "completed", "essay": "overdue"}
    assert result.items[2].reasons[0].type == "overdue"


def test_extension_moves_the_deadline_for_one_learner() -> None:
    path = course()
    ev = Evidence(
        scores={"quiz1": ({"score": 80, "at": T0},)},  # type: ignore[dict-item]
        completions={"live": {"state": "complete"}},  # type: ignore[dict-item]
    )
    late = T0 + timedelta(days=8)
    assert evaluate(path, ev, late).state("essay") == "overdue"
    extended = ev.apply(ExtensionGranted(item="essay", until=T0 + timedelta(days=10)))
    status = evaluate(path, extended, late).items[2]
    assert status.state == "available"
    assert status.due == T0 + timedelta(days=10)
    # an "extension" earlier than the deadline never shortens it
    earlier = ev.apply(ExtensionGranted(item="essay", until=T0 + timedelta(days=3)))
    assert evaluate(path, earlier, T0 + timedelta(days=5)).state("essay") == "available"


def test_overrides_unlock_and_waive_with_who_when_why() -> None:
    path = course()
    waiver = Override(item="live", action="waive", condition_id="quiz-gate", by="prof",
                      at=T0, reason="sat the quiz on paper")  # fmt: skip
    result = evaluate(path, Evidence(overrides=(waiver,)), NOW)
    assert result.state("live") == "available"
    assert result.items[1].overrides == (waiver,)
    unlock = Override(item="essay", action="unlock", by="prof", at=T0, reason="transfer student")
    assert evaluate(path, Evidence(overrides=(unlock,)), T0).state("essay") == "available"
    other = Override(item="live", action="waive", condition_id="nope", by="p", at=T0, reason="x")
    assert evaluate(path, Evidence(overrides=(other,)), NOW).state("live") == "locked"
    with pytest.raises(ValueError, match="condition_id"):
        Override(item="live", action="waive", by="p", at=T0, reason="x")


def test_mastery_ranges_release_one_set() -> None:
    items = tuple(Item(id=i) for i in ("diag", "remedial", "core", "extension"))
    path = Path(
        id="m",
        modules=(Module(id="m", items=items),),
        mastery=(MasteryRule(id="r", trigger="diag", ranges=(
            MasteryRange(label="remediation", max=50, release=("remedial",)),
            MasteryRange(label="standard", min=50, max=80, release=("core",)),
            MasteryRange(label="enrichment", min=80, release=("extension",)),
        )),),
    )  # fmt: skip

    def released(*scores: float) -> set[str]:
        ev = Evidence()
        for n, score in enumerate(scores):
            ev = ev.apply(ScoreRecorded(item="diag", score=score, at=T0 + timedelta(hours=n)))
        states = evaluate(path, ev, NOW).states()
        return {i for i in ("remedial", "core", "extension") if states[i] != "locked"}

    assert released() == set()
    assert released(49.9) == {"remedial"}
    assert released(50) == {"core"}
    assert released(80) == {"extension"}
    assert released(100) == {"extension"}
    assert released(90, 40) == {"remedial"}  # mastery reads the latest attempt by default
    locked = evaluate(path, Evidence(), NOW).items[1]
    assert "Diag" in locked.reasons[0].message or "diag" in locked.reasons[0].message


def test_overlapping_mastery_ranges_are_rejected() -> None:
    with pytest.raises(ValueError, match="overlap"):
        MasteryRule(id="r", trigger="d", ranges=(
            MasteryRange(label="a", max=60, release=("x",)),
            MasteryRange(label="b", min=50, release=("y",)),
        ))  # fmt: skip


def test_hidden_conditions_hide_the_item() -> None:
    gate = ScoreCondition(item="quiz1", min=70, hidden=True)
    path = Path(
        id="h", modules=(Module(id="m", items=(Item(id="quiz1"), Item(id="x", conditions=gate))),)
    )
    assert evaluate(path, Evidence(), NOW).items[1].visible is False
    shown = path.model_copy(deep=True)
    assert (
        evaluate(Path.model_validate(shown.model_dump()), Evidence(), NOW).items[1].visible is False
    )


def test_naive_datetimes_are_rejected() -> None:
    with pytest.raises(ProgressionError, match="no timezone"):
        evaluate(course(), Evidence(), datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="timezone"):
        ScoreRecorded(item="quiz1", score=1, at=datetime(2026, 1, 1))


def test_enrolment_relative_due_date() -> None:
    path = Path(
        id="d", modules=(Module(id="m", items=(Item(id="a", due_after_enrolment_days=3),)),)
    )
    ev = Evidence().apply(Enrolled(at=T0))
    assert evaluate(path, ev, T0 + timedelta(days=2)).state("a") == "available"
    assert evaluate(path, ev, T0 + timedelta(days=3)).state("a") == "overdue"
    assert evaluate(path, Evidence(), T0 + timedelta(days=30)).state("a") == "available"


def test_incremental_events() -> None:
    inc = IncrementalEvaluator(course(), Evidence(learner="ann"), T0)
    events = inc.apply(ScoreRecorded(item="quiz1", score=90, at=T0))
    assert [(e.item, e.kind, e.previous) for e in events] == [
        ("quiz1", "completed", "available"),
        ("live", "available", "locked"),
    ]
    assert all(e.learner == "ann" for e in events)
    events = inc.apply(AttendanceRecorded(item="live", minutes=50, percent=80))
    assert [(e.item, e.kind) for e in events] == [("live", "completed"), ("essay", "available")]
    assert inc.apply(ScoreRecorded(item="quiz1", score=10, at=T0)) == ()
    assert [(e.item, e.kind) for e in inc.advance(T0 + timedelta(days=7))] == [("essay", "overdue")]
    before = evaluate(course(), Evidence(), T0)
    assert [e.item for e in changes(before, inc.result())] == ["quiz1", "live", "essay"]


@settings(max_examples=100, deadline=None)
@given(s.paths(), st.lists(s.pieces(), min_size=1, max_size=12), s.times)
def test_incremental_equals_full_evaluation(
    path: Path, pieces: list[object], now: datetime
) -> None:
    """After every piece the incremental states equal a full evaluation of the evidence it
    admitted (pieces about a locked item are held back, completions seen are kept)."""
    inc = IncrementalEvaluator(path, Evidence(learner="l"), now)
    evidence = Evidence(learner="l")
    previous = evaluate(path, evidence, now)
    for piece in pieces:
        admitted = inc.admits(piece)  # type: ignore[arg-type]
        events = inc.apply(piece)  # type: ignore[arg-type]
        if admitted:
            evidence = evidence.apply(piece)  # type: ignore[arg-type]
        else:
            assert events == ()
            assert inc.held[-1] == piece
        full = evaluate(path, inc.evidence, now)
        assert inc.states() == full.states()
        assert events == changes(previous, full)
        assert inc.evidence.model_copy(update={"completed_at": {}}) == evidence
        previous = full
    assert inc.result() == evaluate(path, inc.evidence, now)


@settings(max_examples=100, deadline=None)
@given(s.paths(), st.lists(s.pieces(), min_size=1, max_size=12), s.times)
def test_no_item_is_completed_while_it_is_locked(
    path: Path, pieces: list[object], now: datetime
) -> None:
    """Whatever arrives, an item becomes completed only at a moment it is open: its evidence
    alone (without the kept completions) completes it then."""
    inc = IncrementalEvaluator(path, Evidence(), now)
    for piece in pieces:
        before = inc.states()
        inc.apply(piece)  # type: ignore[arg-type]
        fresh = evaluate(path, inc.evidence.model_copy(update={"completed_at": {}}), now)
        for item, state in inc.states().items():
            if state == "completed" and before[item] != "completed":
                assert fresh.state(item) == "completed", (item, before[item])


@settings(max_examples=100, deadline=None)
@given(s.paths(), st.lists(s.pieces(), min_size=1, max_size=12), s.times)
def test_adding_evidence_never_relocks_a_completed_item(
    path: Path, pieces: list[object], now: datetime
) -> None:
    inc = IncrementalEvaluator(path, Evidence(), now)
    completed: set[str] = set()
    for piece in pieces:
        inc.apply(piece)  # type: ignore[arg-type]
        states = inc.states()
        assert all(states[item] == "completed" for item in completed), (completed, states)
        completed |= {item for item, state in states.items() if state == "completed"}


def test_completed_items_stay_completed_when_the_gate_closes() -> None:
    gate = CompletionCondition(item="a", state="incomplete")
    path = Path(
        id="s", modules=(Module(id="m", items=(Item(id="a"), Item(id="b", conditions=gate))),)
    )
    inc = IncrementalEvaluator(path, Evidence(), NOW)
    inc.apply(CompletionRecorded(item="b", state="complete"))
    assert inc.states()["b"] == "completed"
    inc.apply(CompletionRecorded(item="a", state="complete"))
    assert inc.states()["b"] == "completed"
    assert evaluate(path, inc.evidence, NOW).state("b") == "completed", "kept in the evidence"
    # and a later "incomplete" record never takes a completion back
    inc.apply(CompletionRecorded(item="a", state="incomplete"))
    assert inc.states()["a"] == "completed"
    # without that history, a completion record on a locked item completes nothing
    record = Evidence().apply(CompletionRecorded(item="a", state="complete"))
    assert (
        evaluate(path, record.apply(CompletionRecorded(item="b", state="complete")), NOW).state("b")
        == "locked"
    )


def test_override_piece_reaches_incremental_evaluator() -> None:
    inc = IncrementalEvaluator(course(), Evidence(), T0)
    unlock = Override(item="essay", action="unlock", by="prof", at=T0, reason="r")
    events = inc.apply(OverrideAdded(override=unlock))
    assert [(e.item, e.kind) for e in events] == [("essay", "available")]
