"""What each message says, as typed values: one frozen model per kind of notification.

Templates receive these fields and nothing else. Moments are aware datetimes shown in the
recipient's own ``time_zone`` (an IANA name); names and titles come from learners and
instructors, so the HTML templates escape them.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from typing import Annotated, ClassVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, AnyHttpUrl, AwareDatetime, BaseModel, ConfigDict, Field

__all__ = [
    "AtRiskLearner",
    "AtRiskNudge",
    "BookingStarting",
    "DeadlineApproaching",
    "DigestEntry",
    "InstructorDigest",
    "ItemUnlocked",
    "LearnerDigest",
    "MessageContext",
    "RecordingReady",
    "SessionMoved",
    "SessionStarting",
    "UpcomingSession",
]


@lru_cache(maxsize=1024)
def _known_zone(name: str) -> ZoneInfo | None:
    """The zone named ``name``, or None. Kept: ``ZoneInfo`` keeps only the last 8 zones asked
    for (and those still referenced), and reads the zone's file again for any other."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _zone(name: str) -> str:
    if _known_zone(name) is None:
        raise ValueError(f"{name!r} is not an IANA time zone (e.g. Europe/Paris)")
    return name


TimeZoneName = Annotated[str, AfterValidator(_zone)]
Name = Annotated[str, Field(min_length=1, max_length=200)]


class MessageContext(BaseModel):
    """Fields every message has; ``template`` names its templates (``<template>.txt`` and
    ``<template>.html``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    template: ClassVar[str]
    recipient_name: Name
    course_title: Name


class ItemUnlocked(MessageContext):
    """An item of the course path opened for the learner."""

    template: ClassVar[str] = "item_unlocked"
    item_title: Name
    item_url: AnyHttpUrl


class DeadlineApproaching(MessageContext):
    """An item is due soon and the learner has not completed it."""

    template: ClassVar[str] = "deadline_approaching"
    item_title: Name
    item_url: AnyHttpUrl
    due: AwareDatetime
    time_zone: TimeZoneName


class SessionStarting(MessageContext):
    """A live session starts soon; ``join_url`` is the learner's personal join link."""

    template: ClassVar[str] = "session_starting"
    session_title: Name
    starts: AwareDatetime
    time_zone: TimeZoneName
    join_url: AnyHttpUrl


class SessionMoved(MessageContext):
    """A sitting the learner expects moved: when it was, when it is now, and their join link."""

    template: ClassVar[str] = "session_moved"
    session_title: Name
    previous_start: AwareDatetime
    starts: AwareDatetime
    time_zone: TimeZoneName
    join_url: AnyHttpUrl


class BookingStarting(MessageContext):
    """An office-hours slot the learner booked starts soon: where to join it (the slot's meeting
    link, or its room) and who hosts it."""

    template: ClassVar[str] = "booking_starting"
    slot_title: Name
    host_name: Name
    starts: AwareDatetime
    time_zone: TimeZoneName
    join_url: AnyHttpUrl | None = None
    location: Annotated[str, Field(max_length=300)] = ""


class RecordingReady(MessageContext):
    """The recording of a session the learner missed can be watched."""

    template: ClassVar[str] = "recording_ready"
    session_title: Name
    recording_url: AnyHttpUrl


class AtRiskNudge(MessageContext):
    """The learner has fallen behind; point them at the next thing to do."""

    template: ClassVar[str] = "at_risk_nudge"
    next_item_title: Name
    next_item_url: AnyHttpUrl
    days_inactive: int = Field(ge=0)


class AtRiskLearner(BaseModel):
    """One line of a digest: a learner who is behind, and why."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: Name
    reason: Annotated[str, Field(min_length=1, max_length=300)]


class UpcomingSession(BaseModel):
    """One upcoming live session in a digest."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    title: Name
    starts: AwareDatetime


class InstructorDigest(MessageContext):
    """The instructor's daily summary of one course."""

    template: ClassVar[str] = "instructor_digest"
    day: date
    time_zone: TimeZoneName
    completions: int = Field(ge=0)
    at_risk: tuple[AtRiskLearner, ...] = ()
    upcoming: tuple[UpcomingSession, ...] = ()
    course_url: AnyHttpUrl


class DigestEntry(BaseModel):
    """One message folded into a learner's digest: its subject and its body."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    subject: Annotated[str, Field(min_length=1, max_length=250)]
    text: Annotated[str, Field(min_length=1)]


class LearnerDigest(MessageContext):
    """The messages a learner chose to receive once a day, in one message."""

    template: ClassVar[str] = "learner_digest"
    entries: Annotated[tuple[DigestEntry, ...], Field(min_length=1)]


def local(moment: datetime, zone: str) -> datetime:
    """``moment`` in the zone ``zone``."""
    return moment.astimezone(ZoneInfo(zone))
