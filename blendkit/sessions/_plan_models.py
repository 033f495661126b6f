"""Values a scheduling plan is made of: ranked slots, learners outside, the recommendation."""

from __future__ import annotations

from datetime import date, time
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_serializer

__all__ = ["WEEKDAY_NAMES", "LearnerOutside", "Recommendation", "SchedulePlan", "SlotProposal"]

WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class LearnerOutside(_Value):
    """A learner for whom sessions fall outside local hours, with the (UTC) dates concerned."""

    learner_id: str
    time_zone: str
    dates: tuple[date, ...]


class SlotProposal(_Value):
    """A weekly slot (UTC weekday and start) and how well it suits the cohort over the term."""

    weekday: int = Field(ge=0, le=6, description="0 = Monday … 6 = Sunday, in UTC")
    weekday_name: str
    utc_start: time
    duration_minutes: int
    occurrences: int = Field(description="sessions this slot has in the term")
    learners: int
    worst_week_inside: int = Field(description="learners inside local hours in the worst week")
    average_inside: float = Field(description="learners inside local hours, averaged over weeks")
    inside_every_week: int = Field(description="learners inside local hours for every session")
    worst_week_dates: tuple[date, ...]
    outside: tuple[LearnerOutside, ...] = Field(
        description="learners outside local hours for at least one session, with those dates"
    )

    @field_serializer("utc_start")
    def _hh_mm(self, value: time) -> str:
        return f"{value:%H:%M}"

    @property
    def label(self) -> str:
        """E.g. ``Tuesday 16:00 UTC``."""
        return f"{self.weekday_name} {self.utc_start:%H:%M} UTC"


class Recommendation(_Value):
    """Live sessions, or asynchronous delivery with office hours when too few can attend."""

    mode: Literal["live", "asynchronous"]
    share: float = Field(ge=0, le=1, description="share of learners the chosen slots serve")
    message: str
    office_hours: tuple[SlotProposal, ...] = ()


class SchedulePlan(_Value):
    """The answer of :func:`blendkit.sessions.plan_slots`."""

    learners: int
    time_zones: int
    term_start: date
    term_end: date
    duration_minutes: int
    per_week: int
    grid_minutes: int
    local_start: time
    local_end: time
    min_share: float
    slots: tuple[SlotProposal, ...] = Field(description="best single slots, ranked")
    chosen: tuple[SlotProposal, ...] = Field(description="the per_week slots chosen together")
    covered: int = Field(description="learners inside at least one chosen slot every week")
    uncovered: tuple[LearnerOutside, ...]
    recommendation: Recommendation

    @field_serializer("local_start", "local_end")
    def _hh_mm(self, value: time) -> str:
        return f"{value:%H:%M}"
