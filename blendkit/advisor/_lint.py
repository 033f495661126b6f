"""The pitfall linter: lecture trap, content dumping, overlong micro-learning, uncaptioned
recordings. Each finding says what was found, why it matters and how to fix it."""

from __future__ import annotations

import math
from collections.abc import Iterable

from blendkit.advisor._models import (
    AdvisorThresholds,
    DesignFinding,
    RecordingFacts,
    SessionFacts,
)
from blendkit.progression import Item, Path

__all__ = ["lint_course"]


def _interactions(session: SessionFacts, path: Path) -> tuple[int, str]:
    """Polls and questions planned for ``session``, and where the figure comes from."""
    if session.polls is not None:
        return session.polls, "polls"
    item = _item(path, session.item)
    if item is not None and item.planned_interactions is not None:
        return item.planned_interactions, "path"
    return 0, "none declared"


def _item(path: Path, item_id: str | None) -> Item | None:
    return next((i for i in path.items() if i.id == item_id), None)


def _live_sessions(path: Path, sessions: Iterable[SessionFacts]) -> list[SessionFacts]:
    """The scheduled sessions, plus each live-session item of the path none of them runs."""
    found = list(sessions)
    scheduled = {s.item for s in found}
    for item in path.items():
        if item.kind == "live_session" and item.id not in scheduled:
            minutes = item.duration_minutes or item.expected_minutes
            if minutes is not None:
                found.append(
                    SessionFacts(
                        id=item.id, title=item.title, duration_minutes=minutes, item=item.id
                    )
                )
    return found


def lecture_traps(
    path: Path, sessions: Iterable[SessionFacts], limits: AdvisorThresholds
) -> list[DesignFinding]:
    """Live sessions longer than the limit with no poll or question planned."""
    findings = []
    for session in _live_sessions(path, sessions):
        planned, source = _interactions(session, path)
        if session.duration_minutes <= limits.lecture_minutes or planned > 0:
            continue
        needed = math.ceil(session.duration_minutes / limits.interaction_every_minutes)
        findings.append(
            DesignFinding(
                rule="lecture_trap",
                subject=session.id,
                message=(
                    f"{session.title or session.id} runs {session.duration_minutes:g} minutes "
                    f"with no poll or question planned"
                ),
                why=(
                    "A live session with no interaction every "
                    f"{limits.interaction_every_minutes:g} minutes becomes a lecture: attention "
                    "drops and the live time buys nothing a recording would not."
                ),
                fix=(
                    f"Plan about {needed} polls or questions (one every "
                    f"{limits.interaction_every_minutes:g} minutes), or record the talk and keep "
                    f"the live part under {limits.lecture_minutes:g} minutes for discussion."
                ),
                evidence={
                    "minutes": session.duration_minutes,
                    "interactions": planned,
                    "source": source,
                    "limit_minutes": limits.lecture_minutes,
                },
            )
        )
    return findings


def has_structure(path: Path) -> dict[str, int]:
    """Gates, deadlines and milestones of ``path``, counted (all zero: nothing paces the
    learner)."""
    gates = sum(
        1
        for module in path.modules
        for item in module.items
        if item.conditions is not None or module.conditions is not None or module.sequential
    ) + sum(len(rule.ranges) for rule in path.mastery)
    deadlines = sum(
        1 for item in path.items() if item.due is not None or item.due_after_enrolment_days
    )
    return {"gates": gates, "deadlines": deadlines, "milestones": len(path.milestones)}


def content_dumping(path: Path, limits: AdvisorThresholds) -> list[DesignFinding]:
    """A path of many items with no gate, deadline or milestone."""
    count = sum(1 for _ in path.items())
    structure = has_structure(path)
    if count < limits.content_items or any(structure.values()):
        return []
    return [
        DesignFinding(
            rule="content_dumping",
            subject=path.id,
            message=f"{count} items with no gate, deadline or milestone",
            why=(
                "A folder of material with no path, urgency or milestones leaves self-paced "
                "learners without a next step or a reason to take it now; most stall."
            ),
            fix=(
                "Group the items into modules with a gate (a quiz to pass, a peer review to "
                "give), set due dates, or add milestones with dates."
            ),
            evidence={"items": count, **structure, "limit_items": limits.content_items},
        )
    ]


def overlong_micro(path: Path, limits: AdvisorThresholds) -> list[DesignFinding]:
    """Micro-learning items longer than the limit, or longer than they declare."""
    findings = []
    for item in path.items():
        if item.kind != "micro":
            continue
        declared = item.expected_minutes
        actual = item.duration_minutes or declared
        if actual is None:
            continue
        over_limit = actual > limits.micro_minutes
        over_declared = declared is not None and actual > declared
        if not (over_limit or over_declared):
            continue
        bound = min(limits.micro_minutes, declared) if declared else limits.micro_minutes
        findings.append(
            DesignFinding(
                rule="micro_too_long",
                subject=item.id,
                message=f"{item.title or item.id} takes {actual:g} minutes (limit {bound:g})",
                why=(
                    "Micro-learning works because a unit fits a short break; a longer one is "
                    "put off, and a length that differs from the declared one breaks the "
                    "learner's plan."
                ),
                fix=(
                    f"Split it into units of at most {limits.micro_minutes:g} minutes, or make "
                    "it an ordinary item and declare its real length."
                ),
                evidence={
                    "minutes": actual,
                    "declared_minutes": declared,
                    "limit_minutes": limits.micro_minutes,
                },
            )
        )
    return findings


def uncaptioned(recordings: Iterable[RecordingFacts]) -> list[DesignFinding]:
    """Recordings learners may watch that have no captions."""
    return [
        DesignFinding(
            rule="recording_uncaptioned",
            subject=r.session_id,
            message=f"The recording {r.title or r.session_id} has no captions",
            why=(
                "Without captions the recording is closed to deaf and hard-of-hearing "
                "learners and hard to follow in a second language or a noisy place."
            ),
            fix=(
                "Import the meeting's transcript as captions (a .vtt or .srt file on the "
                "session's page), or publish a transcript with it."
            ),
            evidence={"session": r.session_id},
        )
        for r in recordings
        if not r.captioned
    ]


def lint_course(
    path: Path,
    *,
    sessions: Iterable[SessionFacts] = (),
    recordings: Iterable[RecordingFacts] = (),
    thresholds: AdvisorThresholds | None = None,
) -> tuple[DesignFinding, ...]:
    """Every pitfall of ``path``, its scheduled ``sessions`` and published ``recordings``."""
    limits = thresholds or AdvisorThresholds()
    return (
        *content_dumping(path, limits),
        *lecture_traps(path, sessions, limits),
        *overlong_micro(path, limits),
        *uncaptioned(recordings),
    )
