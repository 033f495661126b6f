# ruff: noqa: E501  (a table of expected messages reads best one per line)
"""Every built-in condition type is documented and explains itself with a current value."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest

from blendkit.progression import (
    AskedQuestionCondition,
    AttendedCondition,
    CompletionCondition,
    Condition,
    DateCondition,
    DeadlineCondition,
    DripCondition,
    Evidence,
    GroupCondition,
    GroupingCondition,
    Item,
    Module,
    PeerReviewsCondition,
    PollsAnsweredCondition,
    ProfileCondition,
    RelativeDateCondition,
    RoleCondition,
    ScoreCondition,
    ViewedCondition,
    WatchedCondition,
    condition_types,
    evaluate,
)
from blendkit.progression import Path as CoursePath
from tests.progression.strategies import NOW, T0

DOC = Path(__file__).resolve().parents[2] / "docs" / "progression" / "conditions.md"

UNMET: list[tuple[Condition, str]] = [
    (ScoreCondition(item="q", min=70), "Score at least 70% on Quiz — you have no score yet"),
    (CompletionCondition(item="q", state="passed"), "Pass Quiz — currently not completed yet"),
    (AttendedCondition(item="live", percent=75), "Attend Live for at least 75% of it — you have not attended"),
    (WatchedCondition(item="video", percent=90), "Watch at least 90% of Video — you watched 0%"),
    (ViewedCondition(item="video"), "Open Video — not opened yet"),
    (PeerReviewsCondition(item="q", count=2), "Give at least 2 peer reviews on Quiz — you gave 0"),
    (PollsAnsweredCondition(item="live", count=2), "Answer at least 2 polls in Live — you answered 0"),
    (AskedQuestionCondition(item="live"), "Ask a question in Live or upvote one — you asked 0 and upvoted 0"),
    (AskedQuestionCondition(item="live", upvotes=False), "Ask a question in Live — you asked 0"),
    (DateCondition(from_=NOW + timedelta(days=1)), "Available from 2026-01-16 09:00 UTC — it is now 2026-01-15 09:00 UTC"),
    (DripCondition(days=3), "Opens 3 days after you enrolled — your enrolment date is not known yet"),
    (RelativeDateCondition(amount=2, unit="weeks", anchor="course_start"), "Opens 2 weeks relative to course start — that is 2026-01-19 09:00 UTC"),
    (DeadlineCondition(at=T0), "Only before the deadline (2026-01-05 09:00 UTC) — the deadline has passed"),
    (GroupCondition(group="g1"), "Be in the group g1 — you are in no group"),
    (GroupingCondition(grouping="gr"), "Be in a group of the grouping gr — you are in none"),
    (RoleCondition(roles=("ta",)), "Have the role ta — you have no role listed"),
    (ProfileCondition(field="dept", value="bio"), "Your profile field dept is 'bio' — yours is not set"),
]  # fmt: skip


@pytest.mark.parametrize(("condition", "message"), UNMET, ids=lambda v: getattr(v, "type", ""))
def test_each_type_explains_itself(condition: Condition, message: str) -> None:
    items = (
        Item(id="q", title="Quiz", pass_mark=50),
        Item(id="live", title="Live", kind="live_session"),
        Item(id="video", title="Video", kind="video"),
        Item(id="gated", title="Gated", conditions=condition),
    )
    path = CoursePath(id="p", course_start=T0, modules=(Module(id="m", items=items),))
    status = evaluate(path, Evidence(), NOW).items[-1]
    assert status.state == "locked"
    assert [reason.message for reason in status.reasons] == [message]
    assert status.reasons[0].type == condition.type


def test_every_built_in_type_has_a_reference_entry_and_an_explanation_test() -> None:
    documented = set(re.findall(r"^\| `([a-z_]+)` \|", DOC.read_text(encoding="utf-8"), re.M))
    types = set(condition_types())
    assert types <= documented, f"document these in conditions.md: {sorted(types - documented)}"
    explained = {condition.type for condition, _ in UNMET} | {"all", "any", "not"}
    assert types <= explained
