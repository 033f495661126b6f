"""Course-design advisor: delivery recommendations and pitfalls for a Tokyo + New York cohort.

Run: python docs/examples/course_advisor.py
"""

from __future__ import annotations

from datetime import UTC, datetime

from blendkit.advisor import CohortFacts, RecordingFacts, SessionFacts, advise
from blendkit.progression import Item, Module, Path

START = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def main() -> dict[str, object]:
    # 1. A path whose items declare what they ask of learners and how long they take.
    path = Path(
        id="leading-teams",
        title="Leading teams",
        course_start=START,
        modules=(
            Module(
                id="week-1",
                items=(
                    Item(id="vision", title="Leading with a vision", nature="conceptual"),
                    Item(id="feedback-drill", title="Feedback drill", nature="practice",
                         expected_minutes=8),
                    Item(id="one-on-ones", title="One-on-ones in 5 minutes", kind="micro",
                         expected_minutes=5),
                    Item(id="kickoff", title="Kick-off", kind="live_session",
                         duration_minutes=180),
                ),
            ),
        ),
    )  # fmt: skip

    # 2. The cohort: ten learners in Tokyo, ten in New York (the roster's zones).
    zones = {f"tokyo-{n}": "Asia/Tokyo" for n in range(10)}
    zones |= {f"nyc-{n}": "America/New_York" for n in range(10)}

    # 3. What the app knows: the kick-off's sitting has no polls yet, its recording no captions.
    advice = advise(
        path,
        now=START,
        cohort=CohortFacts(zones=zones),
        sessions=[SessionFacts(id="kickoff-1", title="Kick-off", duration_minutes=180,
                               item="kickoff", polls=0)],
        recordings=[RecordingFacts(session_id="kickoff-1", title="Kick-off", captioned=False)],
    )  # fmt: skip

    print(f"one weekly slot serves {advice.live_share:.0%}; global: {advice.global_cohort}")
    for slot in advice.office_hours:
        print(f"office hours: {slot.weekday_name} {slot.utc_start:%H:%M} UTC")
    for rec in advice.recommendations:
        print(f"{rec.id:15} {rec.mode:15} {rec.rule}")
    for finding in advice.findings:
        print(f"{finding.rule}: {finding.message}\n  fix: {finding.fix}")
    return {
        "modes": {r.id: r.mode for r in advice.recommendations},
        "rules": {r.id: r.rule for r in advice.recommendations},
        "findings": [f.rule for f in advice.findings],
        "office_hours": len(advice.office_hours),
    }


if __name__ == "__main__":
    main()
