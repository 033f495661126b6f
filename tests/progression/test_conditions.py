"""Condition semantics, explanations with current values, the registry and its plugins."""

from __future__ import annotations

import warnings
from datetime import timedelta
from importlib.metadata import EntryPoint
from typing import Literal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import blendkit.plugins
from blendkit.errors import ConditionInvalid
from blendkit.plugins import PluginLoadWarning, clear_plugin_cache
from blendkit.progression import (
    AllOf,
    AnyOf,
    Attempt,
    AttendanceRecord,
    AttendedCondition,
    CompletionCondition,
    CompletionRecord,
    Condition,
    DateCondition,
    EvaluationContext,
    Evidence,
    Item,
    Module,
    Not,
    Path,
    ProfileCondition,
    Reason,
    RelativeDateCondition,
    ScoreCondition,
    condition_from_dict,
    condition_holds,
    condition_types,
    dump_condition,
    evaluate,
    negate,
)
from tests.progression import strategies as s

T0, NOW = s.T0, s.NOW


def attempts(*pairs: tuple[float, int]) -> tuple[Attempt, ...]:
    return tuple(Attempt(score=score, at=T0 + timedelta(days=day)) for score, day in pairs)


def path_with_gate(gate: Condition, *extra: Item) -> Path:
    items = (*extra, Item(id="gated", title="Gated", conditions=gate))
    return Path(
        id="p",
        course_start=T0,
        course_end=T0 + timedelta(days=30),
        modules=(Module(id="m", items=items),),
    )


QUIZ = Item(id="quiz2", title="Quiz 2", kind="quiz", pass_mark=70)


def reasons(gate: Condition, evidence: Evidence, *extra: Item) -> list[str]:
    result = evaluate(path_with_gate(gate, *extra), evidence, NOW)
    return [r.message for r in result.items[-1].reasons]


class TestScore:
    def test_message_shows_best_score(self) -> None:
        ev = Evidence(scores={"quiz2": attempts((40, 0), (55, 1))})
        gate = ScoreCondition(item="quiz2", min=70)
        assert reasons(gate, ev, QUIZ) == ["Score at least 70% on Quiz 2 — your best is 55%"]

    @pytest.mark.parametrize(
        ("attempt", "expected"), [("best", 90.0), ("latest", 60.0), ("average", 70.0)]
    )
    def test_attempt_modes(
        self, attempt: Literal["best", "latest", "average"], expected: float
    ) -> None:
        # attempts listed out of time order: the latest is the one with the latest timestamp
        ev = Evidence(scores={"quiz2": attempts((90, 1), (60, 3), (60, 2))})
        at_expected = ScoreCondition(
            item="quiz2", min=expected, max=expected + 0.5, attempt=attempt
        )
        assert condition_holds(at_expected, ev, NOW)
        above = ScoreCondition(item="quiz2", min=expected + 0.5, attempt=attempt)
        assert not condition_holds(above, ev, NOW)

    def test_half_open_range(self) -> None:
        cond = ScoreCondition(item="q", min=50, max=80)
        for score, held in [(49.99, False), (50, True), (79.99, True), (80, False)]:
            ev = Evidence(scores={"q": attempts((score, 0))})
            assert condition_holds(cond, ev, NOW) is held, score

    def test_no_score_means_unmet_even_for_max_only(self) -> None:
        assert not condition_holds(ScoreCondition(item="q", max=50), Evidence(), NOW)
        assert condition_holds(
            ScoreCondition(item="q", max=50), Evidence(scores={"q": attempts((0, 0))}), NOW
        )

    def test_min_must_be_below_max(self) -> None:
        with pytest.raises(ConditionInvalid, match="min"):
            condition_from_dict({"type": "score", "item": "q", "min": 80, "max": 80})


class TestAttendance:
    def test_minutes_or_percent_or_recording(self) -> None:
        cond = AttendedCondition(item="live", minutes=45, percent=75, recording=80)
        cases = [
            (Evidence(attendance={"live": AttendanceRecord(minutes=45)}), True),
            (Evidence(attendance={"live": AttendanceRecord(minutes=44, percent=75)}), True),
            (Evidence(attendance={"live": AttendanceRecord(minutes=20, percent=30)}), False),
            (Evidence(recordings={"live": 80}), True),
            (Evidence(recordings={"live": 79.9}), False),
        ]
        for ev, held in cases:
            assert condition_holds(cond, ev, NOW) is held

    def test_percent_is_derived_from_minutes_and_the_scheduled_duration(self) -> None:
        live = Item(id="live", title="Live", kind="live_session", duration_minutes=60)
        gate = AttendedCondition(item="live", percent=75)
        path = path_with_gate(gate, live)
        for minutes, held in [(44.0, False), (45.0, True)]:
            ev = Evidence(attendance={"live": AttendanceRecord(minutes=minutes)})
            assert condition_holds(gate, ev, NOW, path) is held
            assert (evaluate(path, ev, NOW).state("gated") != "locked") is held
        ev = Evidence(attendance={"live": AttendanceRecord(minutes=30)})
        assert "you attended 30 minutes (50%)" in reasons(gate, ev, live)[0]

    def test_without_recording_option_the_recording_does_not_count(self) -> None:
        cond = AttendedCondition(item="live", percent=50)
        assert not condition_holds(cond, Evidence(recordings={"live": 100}), NOW)

    def test_explanation_gives_both_current_values(self) -> None:
        live = Item(id="live", title="Live session 3", kind="live_session")
        ev = Evidence(
            attendance={"live": AttendanceRecord(minutes=20, percent=33)}, recordings={"live": 35}
        )
        gate = AttendedCondition(item="live", minutes=45, recording=80)
        (message,) = reasons(gate, ev, live)
        assert "Attend Live session 3 for at least 45 minutes" in message
        assert "or watch at least 80% of its recording" in message
        assert "you attended 20 minutes" in message
        assert "watched 35% of the recording" in message
        status = evaluate(path_with_gate(gate, live), ev, NOW).items[-1]
        assert status.reasons[0].current == {"minutes": 20.0, "percent": 33.0, "recording": 35.0}


class TestCompletion:
    def test_states(self) -> None:
        gate_pass = CompletionCondition(item="quiz2", state="passed")
        gate_fail = CompletionCondition(item="quiz2", state="failed")
        failed = Evidence(scores={"quiz2": attempts((55, 0))})
        passed = Evidence(scores={"quiz2": attempts((55, 0), (75, 1))})
        path = path_with_gate(gate_pass, QUIZ)
        assert condition_holds(gate_fail, failed, NOW, path)
        assert not condition_holds(gate_pass, failed, NOW, path)
        assert condition_holds(gate_pass, passed, NOW, path)
        assert not condition_holds(gate_fail, passed, NOW, path)

    def test_recorded_states(self) -> None:
        ev = Evidence(completions={"quiz2": CompletionRecord(state="failed")})
        path = path_with_gate(CompletionCondition(item="quiz2"), QUIZ)
        assert condition_holds(CompletionCondition(item="quiz2"), ev, NOW, path)
        assert condition_holds(CompletionCondition(item="quiz2", state="failed"), ev, NOW, path)
        assert not condition_holds(
            CompletionCondition(item="quiz2", state="incomplete"), ev, NOW, path
        )


class TestOthers:
    def test_date_window_is_half_open(self) -> None:
        cond = DateCondition(from_=T0, until=T0 + timedelta(days=1))
        assert condition_holds(cond, Evidence(), T0)
        assert not condition_holds(cond, Evidence(), T0 - timedelta(seconds=1))
        assert not condition_holds(cond, Evidence(), T0 + timedelta(days=1))

    def test_profile_operators_follow_moodle(self) -> None:
        ev = Evidence(profile={"email": "ann@uni.edu", "city": ""})
        assert condition_holds(
            ProfileCondition(field="email", op="endswith", value="@uni.edu"), ev, NOW
        )
        assert condition_holds(ProfileCondition(field="city", op="isempty"), ev, NOW)
        assert not condition_holds(ProfileCondition(field="missing", op="isempty"), ev, NOW)
        assert condition_holds(
            ProfileCondition(field="email", op="doesnotcontain", value=""), ev, NOW
        )
        with pytest.raises(ConditionInvalid):
            condition_from_dict({"type": "profile", "field": "city", "op": "isempty", "value": "x"})

    def test_relative_month_clamps_to_month_end(self) -> None:
        path = Path(
            id="p",
            course_start=T0.replace(day=31, month=1),
            modules=(Module(id="m", items=(Item(id="x"),)),),
        )
        cond = RelativeDateCondition(amount=1, unit="months", anchor="course_start")
        feb_end = T0.replace(month=2, day=28)
        assert condition_holds(cond, Evidence(), feb_end, path)
        assert not condition_holds(cond, Evidence(), feb_end - timedelta(seconds=1), path)


class TestTrees:
    def test_shorthand_and_round_trip(self) -> None:
        data = {
            "all": [
                {"type": "score", "item": "q", "min": 70},
                {"not": {"type": "group", "group": "g1"}},
            ]
        }
        cond = condition_from_dict(data)
        assert isinstance(cond, AllOf)
        assert isinstance(cond.all[1], Not)
        assert condition_from_dict(dump_condition(cond)) == cond

    def test_empty_trees(self) -> None:
        assert condition_holds(AllOf(), Evidence(), NOW)
        assert not condition_holds(AnyOf(), Evidence(), NOW)

    def test_unknown_type_names_the_node(self) -> None:
        with pytest.raises(
            ConditionInvalid, match=r"all\[1\]\.any\[0\]\.type: unknown condition type 'xyz'"
        ):
            condition_from_dict({"all": [{"type": "group"}, {"any": [{"type": "xyz"}]}]})

    @settings(max_examples=150, deadline=None)
    @given(s.conditions(s.ITEMS), st.lists(s.pieces(), max_size=6))
    def test_not_not_is_identity(self, cond: Condition, pieces: list[object]) -> None:
        ev = Evidence().apply_all(pieces)  # type: ignore[arg-type]
        assert condition_holds(Not(not_=Not(not_=cond)), ev, NOW) == condition_holds(cond, ev, NOW)
        assert negate(negate(cond)) == cond or isinstance(cond, Not)
        assert negate(Not(not_=cond)) == cond


@settings(max_examples=200, deadline=None)
@given(s.conditions(s.ITEMS), st.lists(s.pieces(), max_size=8))
def test_compiled_gate_equals_reference_semantics(cond: Condition, pieces: list[object]) -> None:
    """The generated code and the pydantic models agree on every condition and evidence."""
    items = tuple(
        Item(
            id=i,
            title=i,
            pass_mark=70 if i == "i1" else None,
            duration_minutes=60 if i == "i2" else None,
        )
        for i in s.ITEMS
    )
    path = Path(
        id="p",
        course_start=T0,
        course_end=T0 + timedelta(days=30),
        modules=(Module(id="m", items=(*items, Item(id="gated", conditions=cond))),),
    )
    ev = Evidence().apply_all(pieces)  # type: ignore[arg-type]
    ev = ev.model_copy(update={"overrides": tuple(o for o in ev.overrides if o.item != "gated")})
    result = evaluate(path, ev, NOW)
    expected = condition_holds(cond, ev, NOW, path)
    assert (result.state("gated") != "locked") == expected


# --- registry and plugins -------------------------------------------------------------------------


class BadgeCondition(Condition):
    """A third-party condition: the learner holds a badge (from the profile)."""

    type: Literal["badge"] = "badge"
    badge: str

    def holds(self, ctx: EvaluationContext) -> bool:
        return ctx.facts.profile.get("badges", "").split(",").count(self.badge) > 0

    def describe(self, ctx: EvaluationContext) -> Reason:
        return Reason(type="badge", message=f"Earn the {self.badge} badge — not earned yet")


class _FakeEntryPoint(EntryPoint):
    pass


@pytest.fixture
def fake_plugins(monkeypatch: pytest.MonkeyPatch) -> list[EntryPoint]:
    eps: list[EntryPoint] = []

    def entry_points(group: str) -> list[EntryPoint]:
        return [ep for ep in eps if ep.group == group]

    monkeypatch.setattr(blendkit.plugins, "entry_points", entry_points)
    clear_plugin_cache()
    yield eps
    clear_plugin_cache()


def test_plugin_condition_is_registered_and_evaluated(fake_plugins: list[EntryPoint]) -> None:
    fake_plugins.append(EntryPoint("badge", f"{__name__}:BadgeCondition", "blendkit.conditions"))
    assert condition_types()["badge"] is BadgeCondition
    gate = condition_from_dict({"all": [{"type": "badge", "badge": "safety"}]})
    path = path_with_gate(gate)
    assert (
        evaluate(path, Evidence(profile={"badges": "first-aid,safety"}), NOW).state("gated")
        == "available"
    )
    locked = evaluate(path, Evidence(), NOW).items[-1]
    assert locked.state == "locked"
    assert locked.reasons[0].message == "Earn the safety badge — not earned yet"


def test_broken_plugin_warns_and_the_rest_still_load(fake_plugins: list[EntryPoint]) -> None:
    fake_plugins.append(
        EntryPoint("broken", "blendkit_no_such_module:Thing", "blendkit.conditions")
    )
    fake_plugins.append(EntryPoint("badge", f"{__name__}:BadgeCondition", "blendkit.conditions"))
    with pytest.warns(PluginLoadWarning, match="broken"):
        types = condition_types()
    assert "badge" in types
    assert "score" in types


def test_plugin_that_is_not_a_condition_is_skipped(fake_plugins: list[EntryPoint]) -> None:
    fake_plugins.append(EntryPoint("notacondition", "json:dumps", "blendkit.conditions"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        types = condition_types()
    assert "notacondition" not in types
    assert any("not a Condition subclass" in str(w.message) for w in caught)
