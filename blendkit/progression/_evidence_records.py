"""The records Evidence keeps per item (attempts, completion state, attendance), instructor
overrides, and the order in which completion states merge.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from blendkit.progression._time import UtcDatetime
from blendkit.progression._units import Percent

__all__ = [
    "Attempt",
    "AttendanceRecord",
    "COMPLETION_RANK",
    "CompletionRecord",
    "CompletionState",
    "Override",
]

CompletionState = Literal["incomplete", "failed", "complete", "passed"]
COMPLETION_RANK: Mapping[str, int] = {"incomplete": 0, "failed": 1, "complete": 2, "passed": 3}
"""Merge order of completion states: a later record replaces an earlier one only upwards."""

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class Attempt(BaseModel):
    """One graded attempt on an item, as a percentage."""

    model_config = _FROZEN
    score: Percent
    at: UtcDatetime


class CompletionRecord(BaseModel):
    """The completion state the platform or app recorded for an item."""

    model_config = _FROZEN
    state: CompletionState
    at: UtcDatetime | None = None


class AttendanceRecord(BaseModel):
    """Time spent in a live session: minutes and percent of its scheduled duration."""

    model_config = _FROZEN
    minutes: Annotated[float, Field(ge=0)] = 0.0
    percent: Percent = 0.0


class Override(BaseModel):
    """An instructor's exception for one learner: unlock an item or waive one of its conditions."""

    model_config = _FROZEN
    item: str
    action: Literal["unlock", "waive"]
    condition_id: str | None = None
    by: str
    at: UtcDatetime
    reason: str

    @model_validator(mode="after")
    def _waive_names_condition(self) -> Override:
        if self.action == "waive" and not self.condition_id:
            raise ValueError("a waive override must name the condition_id it waives")
        return self
