"""Milestone progress: the status rules (hypothesis) and progress computed through the engine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from blendkit.progression import (
    CompletionRecorded,
    Enrolled,
    Evidence,
    ExtensionGranted,
    Item,
    ItemState,
    Milestone,
    MilestoneProgress,
    MilestoneStatus,
    Module,
    Path,
    compile_path,
    evaluate,
    milestone_counts,
    milestone_progress,
    milestone_status,
    milestones_reached,
)
from blendkit.progression._milestones import MILESTONE_STATUSES

NOW = datetime(2026, 3, 10, 12, tzinfo=UTC)
STATES: tuple[ItemState, ...] = ("locked", "available", "in_progress", "completed", "overdue")
Row = tuple[ItemState, datetime | None]

moments = st.none() | st.integers(min_value=-20, max_value=20).map(
    lambda d: NOW + timedelta(days=d)
)
rows = st.lists(st.tuples(st.sampled_from(STATES), moments), min_size=1, max_size=8)


def _rank(status: MilestoneStatus) -> int:
    return MILESTONE_STATUSES.index(status)


@given(rows, moments)
def test_done_exactly_when_every_item_is_complete(items: list[Row], due: datetime | None) -> None:
    status = milestone_status([s for s, _ in items], [d for _, d in items], due, NOW)
    assert (status == "done") == all(s == "completed" for s, _ in items)


@given(rows, moments)
def test_behind_or_missed_means_not_done(items: list[Row], due: datetime | None) -> None:
    status = milestone_status([s for s, _ in items], [d for _, d in items], due, NOW)
    if status in ("behind", "missed"):
        assert any(s != "completed" for s, _ in items)
    if status == "missed":
        assert due is not None
        assert due <= NOW


@given(rows, moments, st.data())
def test_completing_more_items_never_makes_the_status_worse(
    items: list[Row], due: datetime | None, data: st.DataObject
) -> None:
    states = [s for s, _ in items]
    dues = [d for _, d in items]
    flip = data.draw(st.lists(st.integers(0, len(items) - 1), unique=True))
    more: list[ItemState] = ["completed" if n in flip else s for n, s in enumerate(states)]
    assert _rank(milestone_status(more, dues, due, NOW)) >= _rank(
        milestone_status(states, dues, due, NOW)
    )


@given(rows)
def test_a_later_date_never_makes_the_status_worse(
    items: list[Row],
) -> None:
    states = [s for s, _ in items]
    dues = [d for _, d in items]
    ranks = [
        _rank(milestone_status(states, dues, NOW + timedelta(days=d), NOW)) for d in (-3, 0, 3)
    ]
    assert ranks == sorted(ranks)


def _path() -> Path:
    return Path(
        id="p",
        modules=(
            Module(
                id="week-1",
                title="Week 1",
                items=(
                    Item(id="read", title="Reading"),
                    Item(id="quiz", title="Quiz", due_after_enrolment_days=3),
                ),
            ),
            Module(id="week-2", items=(Item(id="essay", title="Essay"),)),
        ),
        milestones=(
            Milestone(
                id="w1", title="Week 1 done", modules=("week-1",), due_after_enrolment_days=7
            ),
            Milestone(id="essay", items=("essay",), due=NOW + timedelta(days=10)),
        ),
    )


def _progress(evidence: Evidence, at: datetime = NOW) -> dict[str, MilestoneProgress]:
    path = _path()
    result = evaluate(compile_path(path), evidence, at)
    return {p.id: p for p in milestone_progress(path, result, evidence)}


def test_progress_through_the_engine_follows_the_items_due_dates() -> None:
    enrolled = Evidence(learner="ann").apply(Enrolled(at=NOW - timedelta(days=1)))
    fresh = _progress(enrolled)["w1"]
    assert fresh.status == "on_track"
    assert fresh.due == NOW + timedelta(days=6)
    assert fresh.percent == 0
    assert fresh.items == ("read", "quiz")
    late = _progress(enrolled, NOW + timedelta(days=3))["w1"]
    assert late.status == "behind"
    assert late.overdue == ("quiz",)
    assert "Quiz" in late.reason
    assert _progress(enrolled, NOW + timedelta(days=6))["w1"].status == "missed"
    half = enrolled.apply(CompletionRecorded(item="read", state="complete", at=NOW))
    assert _progress(half)["w1"].percent == 50
    done = half.apply(CompletionRecorded(item="quiz", state="complete", at=NOW))
    row = _progress(done, NOW + timedelta(days=30))["w1"]
    assert row.status == "done"
    assert row.share == 1.0


def test_a_per_enrolment_date_waits_for_the_enrolment() -> None:
    row = _progress(Evidence(learner="ann"))["w1"]
    assert row.due is None
    assert row.status == "on_track"
    assert "when you enrol" in row.reason


def test_an_extension_on_a_covered_item_moves_the_date() -> None:
    until = NOW + timedelta(days=20)
    evidence = Evidence(learner="ann").apply(ExtensionGranted(item="essay", until=until))
    assert _progress(evidence, NOW + timedelta(days=15))["essay"].due == until


def test_counts_and_reached() -> None:
    path = _path()
    ann = Evidence(learner="ann").apply(Enrolled(at=NOW))
    bob = ann.model_copy(update={"learner": "bob"}).apply(
        CompletionRecorded(item="essay", state="complete", at=NOW)
    )
    progress = [
        milestone_progress(path, evaluate(compile_path(path), e, NOW), e) for e in (ann, bob)
    ]
    counts = {c.id: c for c in milestone_counts(path, progress)}
    assert counts["essay"].counts == {"missed": 0, "behind": 0, "on_track": 1, "done": 1}
    assert counts["essay"].learners == 2
    assert counts["w1"].due_after_enrolment_days == 7
    before: dict[str, ItemState] = {"read": "completed", "quiz": "available", "essay": "available"}
    after: dict[str, ItemState] = {**before, "quiz": "completed"}
    assert [m.id for m in milestones_reached(path, before, after)] == ["w1"]
    assert milestones_reached(path, after, after) == ()
