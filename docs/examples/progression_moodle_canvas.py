"""Moodle availability JSON and Canvas modules into blendkit, evaluated for one learner.

Run: python docs/examples/progression_moodle_canvas.py
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from blendkit.progression import (
    Evidence,
    Item,
    ItemViewed,
    Module,
    MoodleIds,
    Path,
    ScoreRecorded,
    dump_condition,
    evaluate,
    export_moodle,
    import_canvas_modules,
    import_moodle,
)

NOW = datetime(2026, 2, 1, 12, 0, tzinfo=UTC)

# "Restrict access" of a Moodle activity: grade >= 70% on quiz 17, and either completion of
# activity 42 or a date; hidden entirely from learners who fail the grade part.
AVAILABILITY = (
    '{"op":"&","c":[{"type":"grade","id":17,"min":70},'
    '{"op":"|","c":[{"type":"completion","cm":42,"e":1},{"type":"date","d":">=","t":1771200000}]}],'
    '"showc":[false,true]}'
)

# GET /api/v1/courses/:id/modules?include[]=items&include[]=content_details (trimmed)
CANVAS_MODULES = [
    {"id": 1, "name": "Start", "position": 1, "require_sequential_progress": True, "items": [
        {"id": 11, "type": "Page", "title": "Syllabus",
         "completion_requirement": {"type": "must_view"}},
        {"id": 12, "type": "Quiz", "title": "Check-in", "content_details": {"points_possible": 10},
         "completion_requirement": {"type": "min_score", "min_score": 8}},
    ]},
    {"id": 2, "name": "Unit 1", "position": 2, "prerequisite_module_ids": [1], "items": [
        {"id": 21, "type": "Assignment", "title": "Essay",
         "completion_requirement": {"type": "must_submit"}},
    ]},
]  # fmt: skip


def main() -> dict[str, object]:
    ids = MoodleIds(grade={17: "quiz"}, cm={42: "reading"})
    gate = import_moodle(AVAILABILITY, ids)
    print("blendkit condition:", json.dumps(dump_condition(gate)))
    assert export_moodle(gate, ids) == json.loads(AVAILABILITY)  # lossless

    path = Path(
        id="moodle-course",
        modules=(
            Module(
                id="m",
                items=(
                    Item(id="quiz", title="Quiz 2", kind="quiz"),
                    Item(id="reading", title="Reading"),
                    Item(id="lab", title="Lab", conditions=gate),
                ),
            ),
        ),
    )
    ann = Evidence(learner="ann").apply(ScoreRecorded(item="quiz", score=55, at=NOW))
    lab = evaluate(path, ann, NOW).items[2]
    print(
        "lab:", lab.state, "visible" if lab.visible else "hidden", [r.message for r in lab.reasons]
    )

    course = import_canvas_modules(CANVAS_MODULES, path_id="canvas-course")
    bo = Evidence(learner="bo").apply(ItemViewed(item="canvas:11", at=NOW))
    bo = bo.apply(ScoreRecorded(item="canvas:12", score=80, at=NOW))
    states = evaluate(course, bo, NOW).states()
    print("canvas:", states)
    return {"lab": lab, "canvas": states}


if __name__ == "__main__":
    main()
