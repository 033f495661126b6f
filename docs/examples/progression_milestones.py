"""Milestones: dated checkpoints over a path's items, one learner's progress and a cohort count.

Run: python docs/examples/progression_milestones.py
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from blendkit.progression import (
    CompletionRecorded,
    Enrolled,
    Evidence,
    ScoreRecorded,
    evaluate,
    milestone_counts,
    milestone_progress,
    parse_path,
)

PATH = """
id: writing-101
modules:
  - id: week-1
    title: Week 1
    items:
      - {id: reading, title: Reading}
      - {id: quiz, title: Week 1 quiz, kind: quiz, due_after_enrolment_days: 5,
         complete_when: {type: score, item: quiz, min: 60}}
  - id: week-2
    title: Week 2
    items:
      - {id: draft, title: First draft, kind: assignment}
milestones:
  - {id: week-1-done, title: Week 1 done, modules: [week-1], due_after_enrolment_days: 7}
  - {id: draft-in, title: Draft handed in, items: [draft], due: "2026-02-01T17:00:00Z"}
"""

ENROLLED = datetime(2026, 1, 12, 9, 0, tzinfo=UTC)


def main() -> dict[str, Any]:
    path = parse_path(PATH, "yaml")
    now = ENROLLED + timedelta(days=6)  # the quiz was due a day ago
    ann = Evidence(learner="ann").apply(Enrolled(at=ENROLLED))
    ann = ann.apply(CompletionRecorded(item="reading", state="complete", at=ENROLLED))
    bo = ann.model_copy(update={"learner": "bo"})
    bo = bo.apply(ScoreRecorded(item="quiz", score=80, at=ENROLLED + timedelta(days=2)))
    everyone = []
    for evidence in (ann, bo):
        progress = milestone_progress(path, evaluate(path, evidence, now), evidence)
        everyone.append(progress)
        for row in progress:
            print(f"{evidence.learner} {row.id}: {row.status} ({row.percent}%) - {row.reason}")
    counts = milestone_counts(path, everyone)
    for count in counts:
        print(f"{count.title}: {count.counts}")
    return {
        "ann": {row.id: row.status for row in everyone[0]},
        "bo": {row.id: row.status for row in everyone[1]},
        "counts": {count.id: count.counts for count in counts},
    }


if __name__ == "__main__":
    main()
