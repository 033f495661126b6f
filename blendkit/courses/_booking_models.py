"""Values of office hours and expert clinics: an item's booking rules, slots and bookings."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from blendkit.courses._models import Utc, ZoneName

__all__ = ["Booking", "BookingRules", "BookingSlot", "SlotBooking"]

_FROZEN = ConfigDict(frozen=True)


class BookingRules(BaseModel):
    """How learners may book the slots of one office-hours item."""

    model_config = _FROZEN

    item: str
    max_per_learner: Annotated[int, Field(ge=1, le=100)] = 1
    """Bookings one learner may hold for the item at a time (attended ones included)."""
    cancel_cutoff_minutes: Annotated[int, Field(ge=0, le=60 * 24 * 14)] = 60
    """A learner may cancel until this many minutes before the slot starts."""


class BookingSlot(BaseModel):
    """One bookable slot: when, how many seats, who hosts it, and where (room or meeting)."""

    model_config = _FROZEN

    id: str
    item: str
    title: str
    start_utc: Utc
    duration_minutes: int
    time_zone: ZoneName
    """The host's zone, in which the slot was published."""
    capacity: int
    booked: int
    buffer_minutes: int = 0
    """The host's break after this slot before another one."""
    host_name: str
    host_sub: str | None = None
    location: str = ""
    provider: str | None = None
    provider_meeting_id: str | None = None
    join_url: str | None = None
    cancelled: bool = False
    attendance_imported: bool = False

    @property
    def end_utc(self) -> datetime:
        return self.start_utc + timedelta(minutes=self.duration_minutes)

    @property
    def seats_left(self) -> int:
        return max(0, self.capacity - self.booked)

    @property
    def full(self) -> bool:
        return self.booked >= self.capacity

    def local_start(self, zone: str) -> datetime:
        """The start on the clock of ``zone`` (a learner's own zone)."""
        return self.start_utc.astimezone(ZoneInfo(zone))


class Booking(BaseModel):
    """A learner's booking as plain values: what calendar feeds and reminders need."""

    model_config = _FROZEN

    slot_id: str
    item: str
    title: str
    start_utc: Utc
    end_utc: Utc
    time_zone: ZoneName
    """The learner's own zone, to show the times in."""
    join_url: str | None
    location: str
    host_name: str
    attended: bool

    @property
    def local_start(self) -> datetime:
        return self.start_utc.astimezone(ZoneInfo(self.time_zone))

    @property
    def local_end(self) -> datetime:
        return self.end_utc.astimezone(ZoneInfo(self.time_zone))


class SlotBooking(BaseModel):
    """Who booked a slot, for its host: when, and whether they were there."""

    model_config = _FROZEN

    slot_id: str
    sub: str
    name: str
    booked_at: Utc
    attended_at: Utc | None = None
    attended_by: str | None = None
