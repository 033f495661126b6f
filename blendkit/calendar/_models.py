"""What a calendar feed holds, as plain frozen values (no I/O, no iCalendar objects).

Every value names its own stable ``uid`` (the same event keeps it across every render, so a
calendar app updates it instead of adding a copy), its ``sequence`` (raised on each significant
change) and ``last_modified``. Times are aware; each timed event also names the IANA zone it
was scheduled in, which becomes the ``TZID`` of its start so every occurrence of a series stays
at its local wall-clock time across daylight-saving changes.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from blendkit.sessions import Recurrence

__all__ = [
    "CalendarBooking",
    "CalendarDeadline",
    "CalendarFeed",
    "CalendarItem",
    "CalendarSeries",
    "CalendarSession",
    "MovedSitting",
]


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("a calendar time must carry a time zone (e.g. 2026-03-10T16:00:00Z)")
    return value.astimezone(UTC)


def _zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise ValueError(f"{value!r} is not an IANA time zone (e.g. 'Europe/Berlin')") from exc
    return value


Utc = Annotated[datetime, AfterValidator(_utc)]
Zone = Annotated[str, AfterValidator(_zone)]
Uid = Annotated[str, Field(min_length=1, max_length=255, pattern=r"^[^\r\n]+$")]
_FROZEN = ConfigDict(frozen=True, extra="forbid")


class _Event(BaseModel):
    model_config = _FROZEN

    uid: Uid
    title: str = Field(min_length=1, max_length=500)
    description: str = ""
    url: str | None = None
    """The link the event opens (a live session: the learner's personal join link)."""
    sequence: int = Field(default=0, ge=0)
    last_modified: Utc


class CalendarSession(_Event):
    """One live session (a single sitting) in its own zone."""

    start_utc: Utc
    duration_minutes: int = Field(ge=1, le=24 * 60)
    time_zone: Zone
    cancelled: bool = False


class MovedSitting(BaseModel):
    """One sitting of a series that no longer starts where the rule puts it (RECURRENCE-ID)."""

    model_config = _FROZEN

    original_start_utc: Utc
    start_utc: Utc
    duration_minutes: int = Field(ge=1, le=24 * 60)
    url: str | None = None
    sequence: int = Field(default=1, ge=0)
    last_modified: Utc | None = None


class CalendarSeries(_Event):
    """A weekly (or daily) series: one event with its rule, cancelled and moved sittings.

    ``first_start_utc`` is the first sitting the rule yields; ``cancelled`` names original starts
    that do not take place (EXDATE); ``moved`` the sittings held elsewhere (RECURRENCE-ID).
    """

    first_start_utc: Utc
    duration_minutes: int = Field(ge=1, le=24 * 60)
    time_zone: Zone
    recurrence: Recurrence
    cancelled: tuple[Utc, ...] = ()
    moved: tuple[MovedSitting, ...] = ()

    @model_validator(mode="after")
    def _distinct(self) -> CalendarSeries:
        moved = {m.original_start_utc for m in self.moved}
        if moved & set(self.cancelled):
            raise ValueError("a sitting is either cancelled or moved, not both")
        return self


class CalendarDeadline(_Event):
    """A deadline of a path item: timed (``due`` a datetime) or all-day (``due`` a date)."""

    due: datetime | date
    time_zone: Zone = "UTC"
    """For a timed deadline: the zone its time is shown in (the learner's)."""

    @model_validator(mode="after")
    def _aware(self) -> CalendarDeadline:
        if isinstance(self.due, datetime) and self.due.utcoffset() is None:
            raise ValueError("a timed deadline must carry a time zone")
        return self


class CalendarBooking(_Event):
    """A booked slot (e.g. office hours) in its own zone; ``location`` is a room or a link."""

    start_utc: Utc
    end_utc: Utc
    time_zone: Zone
    location: str = ""
    cancelled: bool = False

    @model_validator(mode="after")
    def _ordered(self) -> CalendarBooking:
        if self.end_utc <= self.start_utc:
            raise ValueError("a booking must end after it starts")
        return self


CalendarItem = CalendarSession | CalendarSeries | CalendarDeadline | CalendarBooking


class CalendarFeed(BaseModel):
    """One subscribable calendar: its name, the viewer's zone and its events."""

    model_config = _FROZEN

    name: str = Field(min_length=1, max_length=200)
    time_zone: Zone = "UTC"
    """The viewer's zone: timed deadlines are written in it (sessions keep their own TZID)."""
    items: tuple[CalendarItem, ...] = ()
    refresh_minutes: int = Field(default=60, ge=5, le=7 * 24 * 60)
    description: str = ""

    @property
    def last_modified(self) -> datetime | None:
        """The latest change of any event (the feed's ``Last-Modified``); None when empty."""
        stamps = [i.last_modified for i in self.items]
        stamps += [
            m.last_modified
            for i in self.items
            if isinstance(i, CalendarSeries)
            for m in i.moved
            if m.last_modified is not None
        ]
        return max(stamps) if stamps else None
