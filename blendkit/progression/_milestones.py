"""Milestone progress: per learner, how much of each dated checkpoint is done and whether the
learner is on track, from the item states and due dates the engine already computes.

The rules (``docs/progression/milestones.md``):

- a milestone covers the items it lists and every item of the modules it lists;
- its date is ``due``, or ``due_after_enrolment_days`` after the learner's enrolment (no date
  until the learner enrols); an extension granted on a covered item that ends later moves the
  learner's date to the extension's end;
- **done**: every covered item is completed (completion is sticky, so done stays done);
- **missed**: not done and the date has passed;
- **behind**: not done, the date not yet passed, and at least one covered item is past its own due
  date and not completed (the engine's pacing: the same overdue items as the "behind pace" signal);
- **on track**: anything else.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from blendkit.progression._compile import ItemState
from blendkit.progression._engine import ItemStatus, PathResult
from blendkit.progression._evidence import Evidence
from blendkit.progression._path import Milestone, Path
from blendkit.progression._time import UtcDatetime, ensure_utc

__all__ = [
    "MILESTONE_STATUSES",
    "MilestoneCount",
    "MilestoneProgress",
    "MilestoneStatus",
    "milestone_counts",
    "milestone_due",
    "milestone_progress",
    "milestone_status",
    "milestones_reached",
]

MilestoneStatus = Literal["missed", "behind", "on_track", "done"]
MILESTONE_STATUSES: tuple[MilestoneStatus, ...] = ("missed", "behind", "on_track", "done")
"""Worst to best: completing more items never moves a learner towards the start."""

_LABELS: Mapping[MilestoneStatus, str] = {
    "missed": "Missed",
    "behind": "Behind",
    "on_track": "On track",
    "done": "Done",
}
_FROZEN = ConfigDict(frozen=True)


class MilestoneProgress(BaseModel):
    """One milestone for one learner: covered items, those completed, the date and the status."""

    model_config = _FROZEN

    id: str
    title: str
    items: tuple[str, ...]
    completed: tuple[str, ...]
    overdue: tuple[str, ...] = Field(description="covered items past their own due date, not done")
    due: UtcDatetime | None
    status: MilestoneStatus
    reason: str

    @property
    def share(self) -> float:
        """Completed items over covered items, 0 to 1."""
        return len(self.completed) / len(self.items) if self.items else 1.0

    @property
    def percent(self) -> int:
        """The share as a whole percentage (rounded down: 100 only when done)."""
        return (len(self.completed) * 100) // len(self.items) if self.items else 100

    @property
    def label(self) -> str:
        """The status in words ("On track", "Behind", "Done", "Missed")."""
        return _LABELS[self.status]


class MilestoneCount(BaseModel):
    """How many learners are at each status for one milestone (the instructor's chart)."""

    model_config = _FROZEN

    id: str
    title: str
    due: UtcDatetime | None
    due_after_enrolment_days: float | None
    counts: dict[MilestoneStatus, int]

    @property
    def learners(self) -> int:
        """Learners counted."""
        return sum(self.counts.values())


def milestone_due(
    milestone: Milestone,
    covered: Iterable[str],
    enrolled_at: datetime | None,
    extensions: Mapping[str, datetime] | None = None,
) -> datetime | None:
    """The learner's date for ``milestone`` (None: per-enrolment and not enrolled yet)."""
    if milestone.due is not None:
        due: datetime | None = milestone.due
    elif enrolled_at is not None and milestone.due_after_enrolment_days is not None:
        due = ensure_utc(enrolled_at, "enrolled_at") + timedelta(
            days=milestone.due_after_enrolment_days
        )
    else:
        due = None
    if due is None or not extensions:
        return due
    later = [ensure_utc(extensions[i], "extension") for i in covered if i in extensions]
    return max([due, *later])


def milestone_status(
    states: Sequence[ItemState],
    item_dues: Sequence[datetime | None],
    due: datetime | None,
    now: datetime,
) -> MilestoneStatus:
    """The status from the covered items' states and own due dates (the rules above)."""
    if all(state == "completed" for state in states):
        return "done"
    if due is not None and now >= due:
        return "missed"
    late = any(
        state != "completed" and (state == "overdue" or (item_due is not None and item_due <= now))
        for state, item_due in zip(states, item_dues, strict=True)
    )
    return "behind" if late else "on_track"


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _progress(
    path: Path,
    milestone: Milestone,
    statuses: Mapping[str, ItemStatus],
    evidence: Evidence,
    now: datetime,
) -> MilestoneProgress:
    covered = path.milestone_items(milestone)
    rows = [statuses[i] for i in covered]
    due = milestone_due(milestone, covered, evidence.enrolled_at, evidence.extensions)
    status = milestone_status([r.state for r in rows], [r.due for r in rows], due, now)
    completed = tuple(r.id for r in rows if r.state == "completed")
    overdue = tuple(
        r.id
        for r in rows
        if r.state != "completed" and (r.state == "overdue" or (r.due is not None and r.due <= now))
    )
    done = f"{len(completed)} of {len(covered)} items completed"
    if status == "done":
        reason = f"Done: all {len(covered)} items completed"
    elif status == "missed" and due is not None:
        reason = f"Missed: due {_when(due)}, {done}"
    elif status == "behind":
        titles = ", ".join(statuses[i].title or i for i in overdue)
        reason = f"Behind: {done}; past their own due date: {titles}"
    elif due is not None:
        reason = f"On track: {done}, due {_when(due)}"
    else:
        reason = f"On track: {done}; the date is set when you enrol"
    return MilestoneProgress(
        id=milestone.id,
        title=milestone.title or milestone.id,
        items=covered,
        completed=completed,
        overdue=overdue,
        due=due,
        status=status,
        reason=reason,
    )


def milestone_progress(
    path: Path, result: PathResult, evidence: Evidence
) -> tuple[MilestoneProgress, ...]:
    """Each milestone of ``path`` for the learner ``result`` evaluated (at ``result.at``)."""
    statuses = {status.id: status for status in result.items}
    return tuple(_progress(path, m, statuses, evidence, result.at) for m in path.milestones)


def milestone_counts(
    path: Path, learners: Iterable[Sequence[MilestoneProgress]]
) -> tuple[MilestoneCount, ...]:
    """Per milestone, how many of ``learners`` (each one's :func:`milestone_progress`) are at
    each status."""
    counts: dict[str, dict[MilestoneStatus, int]] = {
        m.id: dict.fromkeys(MILESTONE_STATUSES, 0) for m in path.milestones
    }
    for progress in learners:
        for row in progress:
            if row.id in counts:
                counts[row.id][row.status] += 1
    return tuple(
        MilestoneCount(
            id=m.id,
            title=m.title or m.id,
            due=m.due,
            due_after_enrolment_days=m.due_after_enrolment_days,
            counts=counts[m.id],
        )
        for m in path.milestones
    )


def milestones_reached(
    path: Path, before: Mapping[str, ItemState], after: Mapping[str, ItemState]
) -> tuple[Milestone, ...]:
    """Milestones whose items were not all completed ``before`` and are all completed ``after``."""
    reached = []
    for milestone in path.milestones:
        covered = path.milestone_items(milestone)
        if all(after.get(i) == "completed" for i in covered) and not all(
            before.get(i) == "completed" for i in covered
        ):
            reached.append(milestone)
    return tuple(reached)
