"""Properties of the advisor's rules: one recommendation per item and session, each naming a
rule of the table; gates, deadlines and planned polls never add findings."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import get_args

from hypothesis import given, settings
from hypothesis import strategies as st

from blendkit.advisor import (
    ADVISOR_RULES,
    AdvisorThresholds,
    CohortFacts,
    SessionFacts,
    advise,
    lint_course,
)
from blendkit.progression import (
    CompletionCondition,
    Item,
    ItemKind,
    ItemNature,
    Milestone,
    Module,
    Path,
)

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
ZONES = ["Europe/London", "Asia/Tokyo", "America/New_York", "Australia/Sydney", "Asia/Kolkata"]
RULES = {rule.id: rule for rule in ADVISOR_RULES}


@st.composite
def items(draw: st.DrawFn, index: int) -> Item:
    kind = draw(st.sampled_from(get_args(ItemKind)))
    return Item(
        id=f"i{index}",
        kind=kind,
        nature=draw(st.none() | st.sampled_from(get_args(ItemNature))),
        expected_minutes=draw(st.none() | st.floats(min_value=1, max_value=240)),
        duration_minutes=draw(st.none() | st.floats(min_value=5, max_value=240)),
        planned_interactions=draw(st.none() | st.integers(min_value=0, max_value=20)),
    )


@st.composite
def paths(draw: st.DrawFn, min_items: int = 1, max_items: int = 40) -> Path:
    count = draw(st.integers(min_value=min_items, max_value=max_items))
    return Path(
        id="p",
        modules=(Module(id="m", items=tuple(draw(items(n)) for n in range(count))),),
    )


cohorts = st.builds(
    CohortFacts,
    zones=st.dictionaries(st.from_regex(r"[a-z]{1,4}", fullmatch=True), st.sampled_from(ZONES),
                          max_size=6),
    size=st.none() | st.integers(min_value=0, max_value=300),
    progress=st.dictionaries(st.from_regex(r"[a-z]{1,4}", fullmatch=True),
                             st.floats(min_value=0, max_value=1), max_size=8),
)  # fmt: skip


@settings(max_examples=60)
@given(paths(max_items=12), cohorts, st.lists(st.floats(min_value=5, max_value=300), max_size=3))
def test_every_item_and_session_gets_exactly_one_recommendation(
    course: Path, cohort: CohortFacts, lengths: list[float]
) -> None:
    ids = [item.id for item in course.items()]
    sessions = [
        SessionFacts(id=f"s{n}", duration_minutes=minutes, item=ids[n % len(ids)])
        for n, minutes in enumerate(lengths)
    ]
    advice = advise(course, now=NOW, cohort=cohort, sessions=sessions)
    assert [r.id for r in advice.recommendations] == ids + [s.id for s in sessions]
    for rec in advice.recommendations:
        assert rec.rule in RULES
        assert rec.mode == RULES[rec.rule].mode
        assert rec.reason
    if advice.global_cohort:
        assert not any(r.rule in {"conceptual.sync", "conceptual.groups", "live.sync"}
                       for r in advice.recommendations)  # fmt: skip
        assert 1 <= len(advice.office_hours) <= 2


@given(
    paths(min_items=1, max_items=40),
    st.integers(min_value=0, max_value=39),
    st.sampled_from(["gate", "deadline", "milestone"]),
)
def test_adding_a_gate_deadline_or_milestone_never_adds_content_dumping(
    course: Path, where: int, structure: str
) -> None:
    before = {f.subject for f in lint_course(course) if f.rule == "content_dumping"}
    module = course.modules[0]
    index = where % len(module.items)
    target = module.items[index]
    if structure == "milestone":
        checkpoint = Milestone(id="check", due_after_enrolment_days=7, items=(target.id,))
        after_path = course.model_copy(update={"milestones": (checkpoint,)})
    else:
        update: dict[str, object] = (
            {"conditions": CompletionCondition(item=module.items[0].id)}
            if structure == "gate"
            else {"due_after_enrolment_days": 7.0}
        )
        items_after = (*module.items[:index], target.model_copy(update=update),
                       *module.items[index + 1 :])  # fmt: skip
        changed = module.model_copy(update={"items": items_after})
        after_path = course.model_copy(update={"modules": (changed,)})
    after = {f.subject for f in lint_course(after_path) if f.rule == "content_dumping"}
    assert after <= before
    assert not after


@given(paths(min_items=1, max_items=40), st.integers(min_value=1, max_value=60))
def test_content_dumping_needs_many_items_and_no_structure(course: Path, limit: int) -> None:
    findings = lint_course(course, thresholds=AdvisorThresholds(content_items=limit))
    dumping = [f for f in findings if f.rule == "content_dumping"]
    count = sum(1 for _ in course.items())
    assert bool(dumping) == (count >= limit)


@given(paths(max_items=6), st.integers(min_value=0, max_value=5), st.integers(1, 20))
def test_planning_polls_never_adds_a_lecture_trap(course: Path, polls: int, more: int) -> None:
    sessions = [SessionFacts(id=f"s-{i.id}", duration_minutes=i.duration_minutes or 90, item=i.id,
                             polls=polls) for i in course.items()]  # fmt: skip
    more_polls = [s.model_copy(update={"polls": polls + more}) for s in sessions]
    traps = {f.subject for f in lint_course(course, sessions=sessions) if f.rule == "lecture_trap"}
    fewer = {f.subject for f in lint_course(course, sessions=more_polls)
             if f.rule == "lecture_trap"}  # fmt: skip
    assert fewer <= traps
    assert not {s for s in fewer if s.startswith("s-")}
