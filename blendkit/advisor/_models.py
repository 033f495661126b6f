"""Values of the course-design advisor: its inputs (cohort, sessions, recordings, thresholds) and
its answers (a delivery recommendation per item and session, findings of the pitfall linter)."""

from __future__ import annotations

from datetime import time
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from blendkit.sessions import SlotProposal

__all__ = [
    "AdvisorThresholds",
    "CohortFacts",
    "CourseAdvice",
    "DeliveryMode",
    "DeliveryRecommendation",
    "DesignFinding",
    "RecordingFacts",
    "SessionFacts",
]

_FROZEN = ConfigDict(frozen=True, extra="forbid")

DeliveryMode = Literal["synchronous", "asynchronous", "office_hours", "recording", "micro_learning"]
"""How to deliver an item or a session."""

Share = Annotated[float, Field(ge=0, le=1)]


class AdvisorThresholds(BaseModel):
    """The advisor's thresholds; every one can be changed per course."""

    model_config = _FROZEN

    lecture_minutes: float = Field(
        default=60, gt=0, description="live sessions longer than this need polls or questions"
    )
    interaction_every_minutes: float = Field(
        default=10, gt=0, description="one poll or question this often keeps a session live"
    )
    content_items: int = Field(
        default=15, ge=1, description="paths this long need a gate, deadline or milestone"
    )
    micro_minutes: float = Field(default=10, gt=0, description="the longest micro-learning unit")
    min_live_share: Share = Field(
        default=0.8, gt=0, description="share of learners one weekly live slot must serve"
    )
    local_start: time = Field(default=time(9, 0), description="start of local class hours")
    local_end: time = Field(default=time(18, 0), description="end of local class hours")
    planning_minutes: int = Field(
        default=60, ge=5, le=600, description="session length for items without a length"
    )
    office_hours: int = Field(default=2, ge=1, le=4, description="most office hours to propose")
    pace_spread: Share = Field(
        default=0.3, description="gap in path share between the quickest and slowest tenth"
    )
    group_size: int = Field(default=25, ge=2, description="largest group for a live discussion")

    @model_validator(mode="after")
    def _hours(self) -> AdvisorThresholds:
        if self.local_start >= self.local_end:
            raise ValueError("local_end must be after local_start")
        bounds = (self.local_start, self.local_end)
        if any(t.minute % 30 or t.second or t.microsecond for t in bounds):
            raise ValueError("local class hours start and end on the hour or the half hour")
        return self


class CohortFacts(BaseModel):
    """The cohort as the advisor sees it: time zones, size and how far apart learners are.

    ``zones`` maps learner ids to IANA zones (the roster's). ``size`` counts learners whose zone
    is unknown too (default: the zoned learners). ``progress`` maps learner ids to the share of
    the path each has completed (from the pacing evaluation), for the pace spread.
    """

    model_config = _FROZEN

    zones: dict[str, str] = Field(default_factory=dict)
    size: Annotated[int, Field(ge=0)] | None = None
    progress: dict[str, Share] = Field(default_factory=dict)

    @property
    def learners(self) -> int:
        """Learners in the cohort."""
        return max(self.size or 0, len(self.zones), len(self.progress))

    @property
    def pace_spread(self) -> float | None:
        """Share of the path between the 90th and 10th percentile learner (None: no progress)."""
        values = sorted(self.progress.values())
        if len(values) < 2:
            return None
        last = len(values) - 1
        return round(values[round(0.9 * last)] - values[round(0.1 * last)], 4)


class RecordingFacts(BaseModel):
    """A recording learners may watch, and whether it has captions."""

    model_config = _FROZEN

    session_id: str
    title: str = ""
    captioned: bool


class SessionFacts(BaseModel):
    """A scheduled live session: its length, path item and the interactions planned in it.

    ``polls`` counts the polls and questions prepared for it (e.g. from ``LivePolls``); None
    means unknown, and the linked item's ``planned_interactions`` is read instead.
    """

    model_config = _FROZEN

    id: str
    title: str = ""
    duration_minutes: float = Field(gt=0)
    item: str | None = None
    polls: Annotated[int, Field(ge=0)] | None = None


class DeliveryRecommendation(BaseModel):
    """How to deliver one item or live session, the rule that decided it, and its evidence."""

    model_config = ConfigDict(frozen=True)

    subject: Literal["item", "session"]
    id: str
    title: str
    mode: DeliveryMode
    rule: str
    reason: str
    evidence: dict[str, Any] = Field(default_factory=dict)


class DesignFinding(BaseModel):
    """A course-design pitfall: what was found, why it matters and how to fix it."""

    model_config = ConfigDict(frozen=True)

    rule: Literal["lecture_trap", "content_dumping", "micro_too_long", "recording_uncaptioned"]
    subject: str
    message: str
    why: str
    fix: str
    evidence: dict[str, Any] = Field(default_factory=dict)


class CourseAdvice(BaseModel):
    """The advisor's answer for a course: recommendations, findings and the cohort's figures."""

    model_config = ConfigDict(frozen=True)

    recommendations: tuple[DeliveryRecommendation, ...]
    findings: tuple[DesignFinding, ...]
    learners: int
    time_zones: int
    live_share: float | None = Field(description="share of learners one weekly slot serves")
    global_cohort: bool
    office_hours: tuple[SlotProposal, ...] = ()
    pace_spread: float | None = None
    thresholds: AdvisorThresholds

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (times and dates as ISO strings)."""
        return self.model_dump(mode="json")
