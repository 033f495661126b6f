"""Replay time-ordered evidence: what a learner's stored evidence amounts to, gate by gate.

An :class:`Evidence` value merges figures (best score, largest watch percentage) and forgets when
they arrived. A store keeps every piece with the moment it happened; :func:`replay` walks them in
that order through an :class:`IncrementalEvaluator`, so each piece meets the gate as it stood at
that moment: a piece about an item that was locked then is *held* — kept in the store, listed
for instructors, and never counted, not even after the gate opens (the learner does the work
again once the item is open: watches the recording of the session they sat in unprepared).
Nothing stored can therefore complete an item while it was locked, however it is replayed.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from blendkit.progression._compile import CompiledPath, ItemState, compile_path
from blendkit.progression._engine import ChangeEvent, IncrementalEvaluator
from blendkit.progression._evidence import Evidence, EvidencePiece
from blendkit.progression._path import Path
from blendkit.progression._time import UtcDatetime, ensure_utc, from_timestamp

__all__ = ["Replay", "TimedPiece", "replay", "state_changes"]


_FROZEN = ConfigDict(frozen=True)


class TimedPiece(BaseModel):
    """One stored piece and the moment it happened (aware UTC)."""

    model_config = _FROZEN
    at: UtcDatetime
    piece: EvidencePiece


class Replay(BaseModel):
    """The admitted evidence, the item states at the end, and which pieces were held back."""

    model_config = _FROZEN
    evidence: Evidence
    states: dict[str, ItemState]
    held: tuple[int, ...]
    """Positions (in the timeline as given) of pieces about an item that was locked then."""

    def state(self, item_id: str) -> ItemState:
        """The state of one item at the end of the replay (KeyError when absent)."""
        return self.states[item_id]


def replay(
    path: Path | CompiledPath,
    base: Evidence,
    timeline: Sequence[TimedPiece],
    now: datetime,
) -> Replay:
    """Apply ``timeline`` in time order (ties keep their given order) on top of ``base``
    (enrolment, groups, roles: facts without a moment) and evaluate at ``now``."""
    compiled = path if isinstance(path, CompiledPath) else compile_path(path)
    end = ensure_utc(now, "replay time")
    order = sorted(range(len(timeline)), key=lambda n: timeline[n].at)
    first = timeline[order[0]].at if order else end
    learner = IncrementalEvaluator(compiled, base, min(first, end))
    held: list[int] = []
    for n in order:
        entry = timeline[n]
        if entry.at > from_timestamp(learner.now):
            learner.advance(entry.at)
        if not learner.admits(entry.piece):
            held.append(n)
        learner.apply(entry.piece)
    learner.advance(end)
    return Replay(evidence=learner.evidence, states=learner.states(), held=tuple(sorted(held)))


def state_changes(
    before: Replay, after: Replay, *, learner: str | None, at: datetime
) -> tuple[ChangeEvent, ...]:
    """Events for every item whose state differs between two replays (path order)."""
    return tuple(
        ChangeEvent(
            kind=state,
            item=item_id,
            learner=learner,
            previous=before.states[item_id],
            state=state,
            at=at,
        )
        for item_id, state in after.states.items()
        if before.states.get(item_id, state) != state
    )
