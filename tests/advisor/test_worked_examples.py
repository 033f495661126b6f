"""The seeds' decision framework on worked examples: a leadership course, a Python syntax
course, a Tokyo + New York cohort; and the linter on a 3-hour lecture and a 30-item path."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest
from pydantic import ValidationError

from blendkit.advisor import (
    AdvisorThresholds,
    CohortFacts,
    CourseAdvice,
    RecordingFacts,
    SessionFacts,
    advise,
    lint_course,
)
from blendkit.progression import Item, Milestone, Module, Path

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def _modes(advice: CourseAdvice) -> dict[str, tuple[str, str]]:
    return {r.id: (r.mode, r.rule) for r in advice.recommendations}


def _course(*items: Item, course_id: str = "course") -> Path:
    return Path(id=course_id, course_start=START, modules=(Module(id="m", items=items),))


def test_leadership_course_conceptual_and_emotional_items_are_synchronous() -> None:
    course = _course(
        Item(id="vision", title="Leading with a vision", nature="conceptual", expected_minutes=50),
        Item(id="hard-talks", title="Hard conversations", nature="emotional", expected_minutes=90),
        Item(id="cases", title="Case discussion", nature="discussion", kind="live_session",
             duration_minutes=60, planned_interactions=6),
        Item(id="handbook", title="Leadership handbook", nature="reference"),
    )  # fmt: skip
    cohort = CohortFacts(zones={f"m{n}": "Europe/London" for n in range(12)})
    advice = advise(course, now=NOW, cohort=cohort)
    assert advice.global_cohort is False
    assert advice.live_share == 1.0
    assert _modes(advice) == {
        "vision": ("synchronous", "conceptual.sync"),
        "hard-talks": ("synchronous", "conceptual.sync"),
        "cases": ("synchronous", "conceptual.sync"),
        "handbook": ("asynchronous", "reference.async"),
    }
    assert advice.office_hours == ()
    vision = advice.recommendations[0]
    assert vision.evidence == {
        "kind": "reading",
        "learners": 12,
        "nature": "conceptual",
        "minutes": 50,
        "live_share": 1.0,
    }
    assert "Conceptual and emotional content needs live conversation" in vision.reason
    assert advice.findings == ()


def test_a_large_leadership_cohort_meets_in_groups() -> None:
    course = _course(Item(id="vision", nature="conceptual"))
    advice = advise(course, now=NOW, cohort=CohortFacts(size=60))
    (rec,) = advice.recommendations
    assert (rec.mode, rec.rule) == ("synchronous", "conceptual.groups")
    assert "into 3 groups" in rec.reason


def test_python_syntax_course_practice_is_asynchronous_and_micro() -> None:
    course = _course(
        Item(id="loops-drill", title="Loop drills", nature="practice", expected_minutes=8),
        Item(id="kata", title="Kata: list comprehensions", nature="repetition",
             expected_minutes=40),
        Item(id="f-strings", title="f-strings in 5 minutes", kind="micro", expected_minutes=5),
        Item(id="cheatsheet", title="Syntax cheat sheet", nature="reference"),
        Item(id="quiz", title="Syntax quiz", kind="quiz"),
    )  # fmt: skip
    cohort = CohortFacts(zones={"a": "Europe/Berlin", "b": "Europe/Paris"})
    advice = advise(course, now=NOW, cohort=cohort)
    assert _modes(advice) == {
        "loops-drill": ("micro_learning", "skill.micro"),
        "kata": ("asynchronous", "skill.async"),
        "f-strings": ("micro_learning", "micro.kind"),
        "cheatsheet": ("asynchronous", "reference.async"),
        "quiz": ("asynchronous", "material.async"),
    }
    assert not any(r.mode == "synchronous" for r in advice.recommendations)


def test_tokyo_and_new_york_cohort_leans_asynchronous_with_office_hours() -> None:
    course = _course(
        Item(id="strategy", title="Strategy", nature="conceptual"),
        Item(id="weekly", title="Weekly live session", kind="live_session", duration_minutes=60,
             starts_at=datetime(2026, 3, 3, 14, 0, tzinfo=UTC), planned_interactions=6),
        Item(id="drill", title="Drill", nature="practice", expected_minutes=30),
    )  # fmt: skip
    zones = {f"tokyo-{n}": "Asia/Tokyo" for n in range(10)}
    zones |= {f"nyc-{n}": "America/New_York" for n in range(10)}
    advice = advise(
        course,
        now=NOW,
        cohort=CohortFacts(zones=zones),
        sessions=[SessionFacts(id="s1", title="Week 1", duration_minutes=60, item="weekly",
                               polls=4)],
    )  # fmt: skip
    assert advice.global_cohort is True
    assert advice.live_share is not None
    assert advice.live_share <= 0.5
    assert advice.time_zones == 2
    assert 1 <= len(advice.office_hours) <= 2
    # The office hours between them serve both cities.
    served = {z.time_zone for slot in advice.office_hours for z in slot.coverage if z.attending}
    assert served == {"Asia/Tokyo", "America/New_York"}
    assert _modes(advice) == {
        "strategy": ("office_hours", "global.office_hours"),
        "weekly": ("recording", "live.global"),
        "drill": ("asynchronous", "skill.async"),
        "s1": ("recording", "live.global"),
    }


def test_one_city_cohort_keeps_the_session_live() -> None:
    course = _course(Item(id="weekly", kind="live_session", duration_minutes=60))
    advice = advise(course, now=NOW, cohort=CohortFacts(zones={"a": "Asia/Tokyo"}))
    assert _modes(advice) == {"weekly": ("synchronous", "live.sync")}


def test_wide_pace_spread_turns_discussion_into_office_hours() -> None:
    course = _course(Item(id="debate", nature="discussion"))
    progress = {f"l{n}": n / 10 for n in range(11)}
    advice = advise(course, now=NOW, cohort=CohortFacts(progress=progress))
    assert advice.pace_spread == 0.8
    assert _modes(advice) == {"debate": ("office_hours", "pace.office_hours")}
    close = {f"l{n}": 0.5 + n / 100 for n in range(11)}
    advice = advise(course, now=NOW, cohort=CohortFacts(progress=close))
    assert _modes(advice) == {"debate": ("synchronous", "conceptual.sync")}


def test_linter_flags_a_three_hour_lecture_without_polls() -> None:
    course = _course(Item(id="lecture", title="Lecture", kind="live_session"))
    (finding,) = lint_course(
        course, sessions=[SessionFacts(id="s", title="Lecture", duration_minutes=180,
                                       item="lecture", polls=0)]
    )  # fmt: skip
    assert finding.rule == "lecture_trap"
    assert finding.subject == "s"
    assert finding.message == "Lecture runs 180 minutes with no poll or question planned"
    assert "every 10 minutes" in finding.why
    assert "about 18 polls or questions" in finding.fix
    assert finding.evidence["source"] == "polls"
    polled = SessionFacts(id="s", duration_minutes=180, item="lecture", polls=3)
    assert lint_course(course, sessions=[polled]) == ()


def test_lecture_trap_reads_the_path_plan_when_no_polls_are_known() -> None:
    silent = _course(Item(id="talk", kind="live_session", duration_minutes=180))
    (finding,) = lint_course(silent)
    assert (finding.rule, finding.evidence["source"]) == ("lecture_trap", "none declared")
    planned = _course(
        Item(id="talk", kind="live_session", duration_minutes=180, planned_interactions=12)
    )
    assert lint_course(planned) == ()
    assert lint_course(planned, sessions=[SessionFacts(id="x", duration_minutes=180,
                                                        item="talk")]) == ()  # fmt: skip
    short = _course(Item(id="talk", kind="live_session", duration_minutes=45))
    assert lint_course(short) == ()
    strict = AdvisorThresholds(lecture_minutes=30)
    assert [f.rule for f in lint_course(short, thresholds=strict)] == ["lecture_trap"]


def test_linter_flags_a_thirty_item_path_without_gates() -> None:
    items = tuple(Item(id=f"pdf-{n}", title=f"PDF {n}") for n in range(30))
    (finding,) = lint_course(_course(*items))
    assert finding.rule == "content_dumping"
    assert finding.message == "30 items with no gate, deadline or milestone"
    assert finding.evidence == {
        "items": 30,
        "gates": 0,
        "deadlines": 0,
        "milestones": 0,
        "limit_items": 15,
    }
    assert "gate" in finding.fix
    dated = (*items[:-1], items[-1].model_copy(update={"due_after_enrolment_days": 14}))
    assert lint_course(_course(*dated)) == ()
    sequenced = Path(id="c", modules=(Module(id="m", items=items, sequential=True),))
    assert lint_course(sequenced) == ()
    checkpoint = Milestone(id="half", due_after_enrolment_days=14, modules=("m",))
    with_milestone = _course(*items).model_copy(update={"milestones": (checkpoint,)})
    assert lint_course(with_milestone) == ()
    assert lint_course(_course(*items[:14])) == ()


def test_linter_flags_overlong_micro_learning_and_uncaptioned_recordings() -> None:
    course = _course(
        Item(id="ok", kind="micro", expected_minutes=6),
        Item(id="long", kind="micro", expected_minutes=25),
        Item(id="late", kind="micro", expected_minutes=5, duration_minutes=8),
    )
    findings = lint_course(
        course,
        recordings=[
            RecordingFacts(session_id="s1", title="Week 1", captioned=False),
            RecordingFacts(session_id="s2", title="Week 2", captioned=True),
        ],
    )
    assert [(f.rule, f.subject) for f in findings] == [
        ("micro_too_long", "long"),
        ("micro_too_long", "late"),
        ("recording_uncaptioned", "s1"),
    ]
    assert findings[1].message == "late takes 8 minutes (limit 5)"
    assert "transcript" in findings[2].fix


def test_a_weekend_course_still_plans_and_class_hours_sit_on_the_grid() -> None:
    weekend = Path(
        id="w",
        course_start=datetime(2026, 3, 7, 9, 0, tzinfo=UTC),  # a Saturday
        course_end=datetime(2026, 3, 8, 17, 0, tzinfo=UTC),
        modules=(Module(id="m", items=(Item(id="talk", nature="discussion"),)),),
    )
    advice = advise(weekend, now=NOW, cohort=CohortFacts(zones={"a": "Europe/Paris"}))
    assert advice.live_share == 1.0
    with pytest.raises(ValidationError, match="half hour"):
        AdvisorThresholds(local_start=time(9, 10))
    with pytest.raises(ValidationError, match="after local_start"):
        AdvisorThresholds(local_start=time(18), local_end=time(9))
