"""Values a scheduling plan is made of: ranked slots, learners outside, the recommendation."""

from __future__ import annotations

from datetime import date, time
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_serializer, field_validator

from blendkit.errors import ScheduleError

__all__ = [
    "WEEKDAY_NAMES",
    "WORKING_DAYS",
    "Availability",
    "LearnerOutside",
    "Recommendation",
    "SchedulePlan",
    "SlotProposal",
    "ZoneCoverage",
]

WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


WORKING_DAYS = (0, 1, 2, 3, 4)
"""Monday to Friday: the weekdays sessions may fall on in a learner's own zone by default."""


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Availability(_Value):
    """When a learner (or a whole course) can attend, on their own local clock.

    A session suits the learner when it starts on one of ``weekdays`` (0 = Monday, local) and
    lies wholly inside one of ``windows`` (local start and end times, end exclusive of overrun).
    """

    windows: tuple[tuple[time, time], ...] = ((time(8, 0), time(21, 0)),)
    weekdays: tuple[int, ...] = WORKING_DAYS

    @field_validator("windows")
    @classmethod
    def _ordered_windows(
        cls, value: tuple[tuple[time, time], ...]
    ) -> tuple[tuple[time, time], ...]:
        if not value:
            raise ValueError("give at least one window such as 09:00-17:00")
        for start, end in value:
            if start >= end:
                raise ValueError(f"window {start:%H:%M}-{end:%H:%M} ends before it starts")
        return tuple(sorted(set(value)))

    @field_validator("weekdays")
    @classmethod
    def _known_weekdays(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if not value or not set(value) <= set(range(7)):
            raise ValueError("weekdays must be 0 (Monday) to 6 (Sunday), at least one")
        return tuple(sorted(set(value)))

    @classmethod
    def parse(cls, hours: str, weekdays: tuple[int, ...] = WORKING_DAYS) -> Availability:
        """Windows from text such as ``09:00-17:00`` or ``09:00-12:00 18:00-21:00``.

        Raises :class:`ScheduleError` naming the part that is not a window.
        """
        windows = []
        for part in hours.replace(",", " ").replace(";", " ").split():
            first, sep, last = part.partition("-")
            try:
                if not sep:
                    raise ValueError(part)
                windows.append((time.fromisoformat(first), time.fromisoformat(last)))
            except ValueError:
                raise ScheduleError(
                    f"{part[:40]!r} is not a window of local hours; write it like 09:00-17:00"
                ) from None
        if not windows:
            raise ScheduleError("no hours given; write a window like 09:00-17:00")
        try:
            return cls(windows=tuple(windows), weekdays=weekdays)
        except ValueError as exc:
            raise ScheduleError(f"hours {hours[:60]!r}: {exc}") from None

    @property
    def label(self) -> str:
        """E.g. ``Mon-Fri 09:00-17:00``."""
        days = ",".join(WEEKDAY_NAMES[d][:3] for d in self.weekdays)
        if self.weekdays == WORKING_DAYS:
            days = "Mon-Fri"
        return f"{days} {self.hours}"

    @property
    def hours(self) -> str:
        """The windows as text :meth:`parse` reads back, e.g. ``09:00-12:00 18:00-21:00``."""
        return " ".join(f"{a:%H:%M}-{b:%H:%M}" for a, b in self.windows)


class ZoneCoverage(_Value):
    """Who in one time zone can attend every session of a slot."""

    time_zone: str
    learners: int = Field(description="learners in this zone")
    attending: tuple[str, ...] = Field(
        description="ids of the learners for whom every session is on an allowed local weekday "
        "inside one of their windows"
    )


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
    coverage: tuple[ZoneCoverage, ...] = Field(
        default=(), description="per time zone, the learners who can attend every session"
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
    weekdays: tuple[int, ...] = Field(
        default=WORKING_DAYS, description="allowed weekdays, in each learner's own zone"
    )
    min_share: float
    slots: tuple[SlotProposal, ...] = Field(description="best single slots, ranked")
    chosen: tuple[SlotProposal, ...] = Field(description="the per_week slots chosen together")
    covered: int = Field(description="learners inside at least one chosen slot every week")
    uncovered: tuple[LearnerOutside, ...]
    recommendation: Recommendation

    @field_serializer("local_start", "local_end")
    def _hh_mm(self, value: time) -> str:
        return f"{value:%H:%M}"
