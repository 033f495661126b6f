"""Moodle availability JSON: import, export, located errors, lossless round trips."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings

from blendkit.errors import MoodleFormatError
from blendkit.progression import (
    AllOf,
    AnyOf,
    AttendedCondition,
    CompletionCondition,
    Condition,
    DateCondition,
    DripCondition,
    GroupCondition,
    Item,
    Module,
    MoodleIds,
    Not,
    Path,
    RelativeDateCondition,
    ScoreCondition,
    dump_condition,
    export_moodle,
    import_moodle,
)
from tests.progression import strategies as s

# As stored in Moodle's course_modules.availability by the restriction form (Moodle 4.x).
FORM_DOCUMENT = {
    "op": "&",
    "c": [
        {"type": "grade", "id": 17, "min": 70},
        {
            "op": "|",
            "c": [
                {"type": "completion", "cm": 42, "e": 2},
                {"type": "date", "d": ">=", "t": 1767225600},
            ],
        },
        {"type": "relativedate", "n": 7, "d": 2, "s": 3, "m": 0},
        {"type": "profile", "sf": "department", "op": "isequalto", "v": "Nursing"},
    ],
    "showc": [True, True, False, True],
}


def test_import_maps_every_leaf() -> None:
    cond = import_moodle(FORM_DOCUMENT, MoodleIds(grade={17: "quiz2"}))
    assert isinstance(cond, AllOf)
    score, either, drip, profile = cond.all
    assert score == ScoreCondition(item="quiz2", min=70)
    assert isinstance(either, AnyOf)
    assert either.any[0] == CompletionCondition(item="cm:42", state="passed")
    assert isinstance(either.any[1], DateCondition)
    assert either.any[1].from_ is not None
    assert either.any[1].from_.isoformat() == "2026-01-01T00:00:00+00:00"
    assert drip == RelativeDateCondition(amount=7, unit="days", anchor="enrolment", hidden=True)
    assert profile.hidden is False
    assert export_moodle(cond, MoodleIds(grade={17: "quiz2"})) == FORM_DOCUMENT


def test_negated_roots_become_not_trees() -> None:
    doc = {"op": "!|", "c": [{"type": "group", "id": 5}, {"type": "group"}], "showc": [False, True]}
    cond = import_moodle(doc)
    assert isinstance(cond, Not)
    assert isinstance(cond.not_, AnyOf)
    assert cond.not_.any[0] == GroupCondition(group="group:5", hidden=True)
    assert export_moodle(cond) == doc
    doc2 = {"op": "!&", "c": [{"type": "grouping", "id": 3}], "show": False}
    cond2 = import_moodle(doc2)
    assert isinstance(cond2, Not)
    assert cond2.hidden
    assert export_moodle(cond2) == doc2


def test_previous_activity_is_cm_minus_one() -> None:
    cond = import_moodle(
        {"op": "&", "c": [{"type": "completion", "cm": -1, "e": 1}], "showc": [True]}
    )
    assert isinstance(cond, AllOf)
    assert cond.all[0] == CompletionCondition(item="@previous")
    path = Path(
        id="p", modules=(Module(id="m", items=(Item(id="a"), Item(id="b", conditions=cond))),)
    )
    assert path.gate("b")[0].all[0].item == "a"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (
            {
                "op": "&",
                "c": [
                    {"type": "grade", "id": 1},
                    {"op": "|", "c": [{"type": "date", "d": ">=", "t": 1}, {"type": "xyz"}]},
                ],
                "showc": [True, True],
            },
            'c[1].c[1]: unknown condition type "xyz"',
        ),
        (
            {
                "op": "&",
                "c": [
                    {"type": "grade", "id": 1},
                    {"type": "grade", "id": 2},
                    {"op": "&", "c": [{"type": "xyz"}]},
                ],
                "showc": [True, True, True],
            },
            'c[2].c[0]: unknown condition type "xyz"',
        ),
        (
            {"op": "&", "c": [{"type": "date", "d": ">", "t": 1}], "showc": [True]},
            "c[0]: date condition",
        ),
        (
            {"op": "&", "c": [{"type": "grade", "id": "7"}], "showc": [True]},
            "c[0]: 'id' must be an integer",
        ),
        (
            {"op": "&", "c": [{"type": "grade", "id": 7, "min": 120}], "showc": [True]},
            "c[0]: score: min: must be between 0 and 100",
        ),
        (
            {"op": "&", "c": [{"type": "completion", "cm": 7, "e": 9}], "showc": [True]},
            "c[0]: completion",
        ),
        (
            {
                "op": "&",
                "c": [{"type": "profile", "sf": "x", "cf": "y", "op": "isempty"}],
                "showc": [True],
            },
            "c[0]: profile",
        ),
        (
            {
                "op": "&",
                "c": [{"type": "relativedate", "n": 1, "d": 9, "s": 1, "m": 0}],
                "showc": [True],
            },
            "c[0]: relativedate",
        ),
        ({"op": "&", "c": [{"op": "?", "c": []}], "showc": [True]}, 'c[0]: tree "op"'),
        ({"op": "&", "c": [5], "showc": [True]}, "c[0]: expected an object"),
        ({"op": "&", "c": [{"type": "group"}]}, "(root): a root with op '&' needs \"showc\""),
        (
            {"op": "&", "c": [{"type": "group"}], "showc": [True, False]},
            '(root): "showc" has 2 flags for 1 children',
        ),
        ({"op": "|", "c": [{"type": "group"}]}, "(root): a root with op '|' needs \"show\""),
        ({"type": "group"}, "(root): the root must be a tree"),
        ({"op": "&", "c": "nope", "showc": []}, '(root): tree needs a "c" array'),
    ],
)
def test_malformed_documents_name_the_node(document: dict[str, Any], message: str) -> None:
    with pytest.raises(MoodleFormatError) as caught:
        import_moodle(json.dumps(document))
    assert message in caught.value.message


def test_export_refuses_what_moodle_cannot_say() -> None:
    with pytest.raises(
        MoodleFormatError, match=r"all\[1\]: condition type 'attended' has no Moodle"
    ):
        export_moodle(AllOf(all=(GroupCondition(), AttendedCondition(item="cm:1"))))
    with pytest.raises(MoodleFormatError, match="'quiz' has no Moodle grade id"):
        export_moodle(ScoreCondition(item="quiz", min=5))
    with pytest.raises(MoodleFormatError, match="attempt 'best'"):
        export_moodle(ScoreCondition(item="grade:1", min=5, attempt="latest"))


def test_export_wraps_leaves_and_drip() -> None:
    assert export_moodle(DripCondition(days=3)) == {
        "op": "&", "c": [{"type": "relativedate", "n": 3, "d": 2, "s": 3, "m": 0}], "showc": [True],
    }  # fmt: skip
    assert export_moodle(Not(not_=GroupCondition(group="group:2"))) == {
        "op": "!&", "c": [{"type": "group", "id": 2}], "show": True,
    }  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(s.moodle_documents())
def test_moodle_import_export_is_lossless(document: dict[str, Any]) -> None:
    condition = import_moodle(document)
    assert export_moodle(condition) == document
    # and through the blendkit JSON form the CLI prints
    from blendkit.progression import condition_from_dict

    assert (
        export_moodle(condition_from_dict(json.loads(json.dumps(dump_condition(condition)))))
        == document
    )


@settings(max_examples=300, deadline=None)
@given(s.moodle_supported_conditions())
def test_blendkit_export_import_export_is_stable(condition: Condition) -> None:
    first = export_moodle(condition)
    again = export_moodle(import_moodle(first))
    assert again == first
    # the imported condition means the same as the original
    assert import_moodle(again) == import_moodle(first)


def test_display_flags_follow_moodle() -> None:
    """showc false hides the item when that child fails (for !|: when that child holds)."""
    from blendkit.progression import Evidence, evaluate
    from tests.progression.strategies import NOW

    def visible(document: dict[str, Any], groups: frozenset[str]) -> bool:
        gate = import_moodle(document)
        path = Path(id="p", modules=(Module(id="m", items=(Item(id="x", conditions=gate),)),))
        status = evaluate(path, Evidence(groups=groups), NOW).items[0]
        assert status.state == "locked"
        return status.visible

    and_doc = {
        "op": "&",
        "c": [{"type": "group", "id": 1}, {"type": "group", "id": 2}],
        "showc": [False, True],
    }
    assert visible(and_doc, frozenset({"group:1"})) is True  # only the shown child fails
    assert visible(and_doc, frozenset({"group:2"})) is False  # the hidden child fails
    nor_doc = {
        "op": "!|",
        "c": [{"type": "group", "id": 1}, {"type": "group", "id": 2}],
        "showc": [False, True],
    }
    assert visible(nor_doc, frozenset({"group:1"})) is False
    assert visible(nor_doc, frozenset({"group:2"})) is True
    or_doc = {"op": "|", "c": [{"type": "group", "id": 1}], "show": False}
    assert visible(or_doc, frozenset()) is False
