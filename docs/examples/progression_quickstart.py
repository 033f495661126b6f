"""Progression quickstart: a flipped-classroom path, one learner, explanations and events.

Run: python docs/examples/progression_quickstart.py
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from blendkit.progression import (
    Evidence,
    IncrementalEvaluator,
    Override,
    OverrideAdded,
    RecordingWatched,
    ScoreRecorded,
    VideoWatched,
    at_risk,
    dump_path,
    evaluate,
    export_moodle,
    flipped_classroom,
    import_moodle,
    parse_path,
)

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def main() -> dict[str, object]:
    # 1. A path from a template; save it as YAML, edit it, load it back.
    path = parse_path(dump_path(flipped_classroom(START), "yaml"), "yaml")

    # 2. What may Ann open two days before class, and why not the rest?
    ann = Evidence(learner="ann", enrolled_at=START - timedelta(days=7))
    before = START - timedelta(days=2)
    for status in evaluate(path, ann, before).items:
        print(f"{status.id:15} {status.state:11} {'; '.join(r.message for r in status.reasons)}")

    # 3. Evidence arrives one piece at a time; only the affected items are re-evaluated.
    learner = IncrementalEvaluator(path, ann, before)
    learner.apply(VideoWatched(item="prework-video", percent=95))
    learner.apply(ScoreRecorded(item="readiness-quiz", score=55, at=before))
    locked = learner.result().items[2]
    print(locked.id, "->", locked.reasons[0].message)
    events = learner.apply(ScoreRecorded(item="readiness-quiz", score=80, at=before))
    print("events:", [(e.item, e.kind) for e in events])

    # 4. Ann misses the live session and catches up on the recording.
    learner.advance(START + timedelta(days=1))
    events = learner.apply(RecordingWatched(item="live-session", percent=90))
    print("events:", [(e.item, e.kind) for e in events])

    # 5. An instructor unlocks the practice for Bo, recording who, when and why.
    bo = IncrementalEvaluator(path, Evidence(learner="bo"), START)
    unlock = Override(item="practice", action="unlock", by="prof.lee", at=START, reason="lab clash")
    print("bo:", [(e.item, e.kind) for e in bo.apply(OverrideAdded(override=unlock))])

    # 6. Signals for the instructor, a week later.
    late = START + timedelta(days=8)
    quiet = Evidence(learner="bo", last_activity_at=START)
    signals = [s.reason for s in at_risk(path, quiet, late)]
    print("signals:", signals)

    # 7. Moodle availability JSON in and out.
    moodle = {"op": "&", "c": [{"type": "grade", "id": 17, "min": 70}], "showc": [True]}
    condition = import_moodle(moodle)
    assert export_moodle(condition) == moodle
    print("moodle:", json.dumps(export_moodle(condition)))
    return {"states": learner.states(), "signals": signals}


if __name__ == "__main__":
    main()
