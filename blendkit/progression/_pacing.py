"""Pacing and at-risk signals for instructors, from the same evidence that drives the gates."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from blendkit.progression._compile import compile_path
from blendkit.progression._context_conditions import when
from blendkit.progression._engine import evaluate
from blendkit.progression._evidence import Evidence
from blendkit.progression._path import Path
from blendkit.progression._time import UtcDatetime, ensure_utc

__all__ = ["RiskPolicy", "Signal", "at_risk"]

SignalKind = Literal[
    "behind_pace", "missed_live_session", "repeated_failures", "inactive", "not_started"
]
"""``not_started``: on the course roster but never opened the tool (see ``courses.risks``)."""


class Signal(BaseModel):
    """One reason an instructor may want to reach out, with the facts behind it."""

    model_config = ConfigDict(frozen=True)

    kind: SignalKind
    learner: str | None
    reason: str
    item: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)
    at: UtcDatetime


class RiskPolicy(BaseModel):
    """Thresholds for the signals (defaults suit a weekly-paced course)."""

    model_config = ConfigDict(frozen=True)

    inactive_days: float = Field(default=7, gt=0)
    failures: int = Field(default=2, ge=1)
    behind_items: int = Field(default=1, ge=1, description="overdue items before flagging pace")
    recording_catch_up: float = Field(default=80, ge=0, le=100)


def at_risk(
    path: Path, evidence: Evidence, now: datetime, policy: RiskPolicy | None = None
) -> tuple[Signal, ...]:
    """Behind pace, missed live sessions, repeated quiz failures and inactivity, with reasons."""
    policy = policy or RiskPolicy()
    now = ensure_utc(now, "now")
    compiled = compile_path(path)
    result = evaluate(compiled, evidence, now)
    learner = evidence.learner
    signals: list[Signal] = []

    def add(kind: SignalKind, reason: str, item: str | None = None, **details: Any) -> None:
        signals.append(
            Signal(kind=kind, learner=learner, reason=reason, item=item, details=details, at=now)
        )

    due_by_now = [s for s in result.items if s.due is not None and s.due <= now]
    overdue = [s for s in due_by_now if s.state != "completed"]
    if len(overdue) >= policy.behind_items:
        done = sum(1 for s in due_by_now if s.state == "completed")
        titles = ", ".join(s.title for s in overdue)
        add(
            "behind_pace",
            f"Behind the expected pace: {done} of {len(due_by_now)} items due by now are "
            f"completed; not done: {titles}",
            completed=done,
            due=len(due_by_now),
            overdue=[s.id for s in overdue],
        )
    for item in path.items():
        if item.kind != "live_session" or item.starts_at is None:
            continue
        minutes = item.duration_minutes or 0
        ended = item.starts_at.timestamp() + minutes * 60
        if ended > now.timestamp():
            continue
        attended = evidence.attendance.get(item.id)
        watched = evidence.recordings.get(item.id, 0.0)
        if (attended and (attended.minutes or attended.percent)) or (
            watched >= policy.recording_catch_up
        ):
            continue
        title = item.title or item.id
        add(
            "missed_live_session",
            f"Missed {title} on {when(item.starts_at)} and has watched {watched:g}% of the "
            f"recording (catching up needs {policy.recording_catch_up:g}%)",
            item=item.id,
            recording_percent=watched,
        )
    for item in path.items():
        if item.pass_mark is None:
            continue
        attempts = evidence.scores.get(item.id, ())
        below = [a.score for a in attempts if a.score < item.pass_mark]
        if len(below) >= policy.failures and not any(a.score >= item.pass_mark for a in attempts):
            best = max(a.score for a in attempts)
            add(
                "repeated_failures",
                f"Failed {item.title or item.id} {len(below)} times (best {best:g}%, pass mark "
                f"{item.pass_mark:g}%)",
                item=item.id,
                failures=len(below),
                best=best,
            )
    last = evidence.last_activity_at or evidence.enrolled_at
    if last is not None:
        idle = (now - last).total_seconds() / 86400
        if idle >= policy.inactive_days:
            since = "last active" if evidence.last_activity_at else "enrolled, no activity since"
            add(
                "inactive",
                f"No activity for {idle:.0f} days ({since} {when(last)})",
                idle_days=round(idle, 1),
            )
    return tuple(signals)
