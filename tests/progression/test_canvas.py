"""Canvas modules API JSON to a blendkit path: prerequisites, order, requirements, dates."""

from __future__ import annotations

from typing import Any

import pytest

from blendkit.errors import PathInvalid
from blendkit.progression import (
    CompletionRecorded,
    Evidence,
    ItemViewed,
    ScoreRecorded,
    evaluate,
    import_canvas_modules,
)
from tests.progression.strategies import NOW, T0

# Shaped like GET /api/v1/courses/:id/modules?include[]=items&include[]=content_details
MODULES: list[dict[str, Any]] = [
    {
        "id": 10, "name": "Start here", "position": 1, "prerequisite_module_ids": [],
        "require_sequential_progress": True,
        "items": [
            {"id": 101, "type": "SubHeader", "title": "Welcome"},
            {"id": 102, "type": "Page", "title": "Syllabus",
             "completion_requirement": {"type": "must_view", "completed": False}},
            {"id": 103, "type": "Quiz", "title": "Intro quiz",
             "content_details": {"points_possible": 20},
             "completion_requirement": {"type": "min_score", "min_score": 14, "completed": False}},
        ],
    },
    {
        "id": 11, "name": "Week 1", "position": 2, "prerequisite_module_ids": [10],
        "unlock_at": "2026-01-10T00:00:00Z",
        "items": [
            {"id": 111, "type": "Assignment", "title": "Essay",
             "completion_requirement": {"type": "must_submit"}},
            {"id": 112, "type": "ExternalTool", "title": "Live class", "html_url": "https://x/y"},
        ],
    },
]  # fmt: skip


def test_conversion_keeps_canvas_gating() -> None:
    path = import_canvas_modules(MODULES, path_id="c1")
    assert [i.id for i in path.items()] == ["canvas:102", "canvas:103", "canvas:111", "canvas:112"]
    assert path.item("canvas:103").kind == "quiz"
    assert path.item("canvas:112").kind == "lti_link"
    ev = Evidence()
    assert evaluate(path, ev, NOW).states() == {
        "canvas:102": "available", "canvas:103": "locked",
        "canvas:111": "locked", "canvas:112": "locked",
    }  # fmt: skip
    ev = ev.apply(ItemViewed(item="canvas:102", at=T0))
    assert evaluate(path, ev, NOW).state("canvas:103") == "available"
    ev = ev.apply(ScoreRecorded(item="canvas:103", score=65, at=T0))  # 13/20 < 14/20
    assert evaluate(path, ev, NOW).state("canvas:111") == "locked"
    ev = ev.apply(ScoreRecorded(item="canvas:103", score=70, at=T0))
    assert evaluate(path, ev, NOW).state("canvas:111") == "available"
    before_unlock = evaluate(path, ev, T0)
    assert before_unlock.state("canvas:111") == "locked"
    assert "Available from 2026-01-10" in before_unlock.items[2].reasons[0].message
    ev = ev.apply(CompletionRecorded(item="canvas:111", state="complete"))
    assert evaluate(path, ev, NOW).state("canvas:111") == "completed"


def test_min_score_needs_points_possible() -> None:
    broken = [
        {
            "id": 1,
            "items": [
                {
                    "id": 5,
                    "type": "Quiz",
                    "completion_requirement": {"type": "min_score", "min_score": 3},
                }
            ],
        }
    ]
    with pytest.raises(
        PathInvalid, match=r"\[0\]\.items\[0\]\.completion_requirement: min_score needs"
    ):
        import_canvas_modules(broken)


def test_prerequisite_must_come_first() -> None:
    with pytest.raises(PathInvalid, match="module 99 is not earlier"):
        import_canvas_modules([{"id": 1, "prerequisite_module_ids": [99], "items": []}])


def test_due_dates_become_item_due_dates_and_module_milestones() -> None:
    dated = [
        {**MODULES[0]},
        {**MODULES[1], "items": [
            {"id": 111, "type": "Assignment", "title": "Essay",
             "content_details": {"due_at": "2026-01-17T23:59:00Z", "points_possible": 10},
             "completion_requirement": {"type": "must_submit"}},
            {"id": 113, "type": "Quiz", "title": "Week quiz",
             "content_details": {"due_at": "2026-01-16T12:00:00Z", "points_possible": 5},
             "completion_requirement": {"type": "min_percentage", "min_percentage": 60}},
            {"id": 114, "type": "Page", "title": "Optional reading",
             "content_details": {"due_at": "2026-02-01T00:00:00Z"}},
        ]},
    ]  # fmt: skip
    path = import_canvas_modules(dated, path_id="c1")
    assert path.item("canvas:111").due is not None
    assert path.item("canvas:111").due.isoformat() == "2026-01-17T23:59:00+00:00"
    assert path.item("canvas:114").due is not None  # dated, but no requirement: no milestone
    (milestone,) = path.milestones  # "Start here" has no dated requirement
    assert milestone.id == "canvas-module:11"
    assert milestone.title == "Week 1"
    assert milestone.items == ("canvas:111", "canvas:113")
    assert milestone.due is not None
    assert milestone.due.isoformat() == "2026-01-17T23:59:00+00:00"
    one_of = [{**dated[0]}, {**dated[1], "requirement_count": 1}]
    assert import_canvas_modules(one_of).milestones == ()
