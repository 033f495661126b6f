"""Values of the live-sessions core: sessions, occurrences, participants, attendance, recordings.

Every value is a frozen pydantic model. Datetimes are always timezone-aware and normalised to UTC
(a naive datetime is rejected: guessing its zone is how attendance goes wrong by an hour). Time
zones are IANA names checked against :mod:`zoneinfo`.
"""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    field_validator,
    model_validator,
)

from blendkit._links import web_link

__all__ = [
    "Attendance",
    "AttendanceReport",
    "Interval",
    "JoinLink",
    "Learner",
    "LiveSession",
    "MatchKey",
    "Occurrence",
    "ParticipantRecord",
    "ProviderMeeting",
    "Recording",
    "RecordingKind",
    "Recurrence",
    "SessionSpec",
    "TimeZoneName",
    "UnmatchedParticipant",
    "UnmatchedReason",
    "UtcDateTime",
]


def _to_utc(value: datetime) -> datetime:
    if value.tzinfo is UTC:
        return value
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(
            "datetime must carry a time zone (e.g. 2026-03-02T16:00:00Z); naive datetimes are "
            "ambiguous"
        )
    return value.astimezone(UTC)


def _check_zone(value: str) -> str:
    key = value.strip()
    try:
        ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise ValueError(
            f"{value!r} is not an IANA time zone (use names like 'Europe/Berlin' or "
            "'America/New_York')"
        ) from exc
    return key


UtcDateTime = Annotated[datetime, AfterValidator(_to_utc)]
"""A timezone-aware datetime, normalised to UTC."""

TimeZoneName = Annotated[str, AfterValidator(_check_zone)]
WebLink = Annotated[str, AfterValidator(web_link)]
"""A link from a meeting provider that pages show learners: absolute http(s), never a script."""
"""An IANA time zone name known to :mod:`zoneinfo` (e.g. ``Europe/Berlin``)."""


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# --- scheduling a session ------------------------------------------------------------------------


class Recurrence(_Value):
    """How a session repeats, in the session's own time zone (local wall-clock time is kept).

    ``weekdays`` (0 = Monday … 6 = Sunday) applies to weekly recurrence; empty means the weekday
    of the first start. Exactly one of ``count`` (number of occurrences) or ``until`` (last local
    date, inclusive) ends the series.
    """

    frequency: Literal["daily", "weekly"]
    interval: int = Field(default=1, ge=1, le=90)
    weekdays: tuple[Annotated[int, Field(ge=0, le=6)], ...] = ()
    count: int | None = Field(default=None, ge=1, le=1000)
    until: date | None = None

    @model_validator(mode="after")
    def _one_end(self) -> Self:
        if (self.count is None) == (self.until is None):
            raise ValueError("a recurrence needs exactly one of count or until")
        if self.frequency == "daily" and self.weekdays:
            raise ValueError("weekdays only apply to weekly recurrence")
        if len(set(self.weekdays)) != len(self.weekdays):
            raise ValueError("weekdays must not repeat")
        return self


class SessionSpec(_Value):
    """What to create or update at a provider: title, start, zone, length and recurrence."""

    title: str = Field(min_length=1, max_length=200)
    start_utc: UtcDateTime
    time_zone: TimeZoneName
    duration_minutes: int = Field(ge=1, le=24 * 60)
    recurrence: Recurrence | None = None
    agenda: str = Field(default="", max_length=2000)
    personal_join_links: bool = True
    record_automatically: bool = False

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @property
    def start_local(self) -> datetime:
        """The first start as wall-clock time in :attr:`time_zone`."""
        return self.start_utc.astimezone(self.zone)


class LiveSession(SessionSpec):
    """A session the tool keeps: the spec plus its own id, course and provider meeting."""

    id: str = Field(min_length=1, max_length=64)
    context_id: str | None = None
    provider: str | None = None
    provider_meeting_id: str | None = None

    @property
    def spec(self) -> SessionSpec:
        """The provider-facing part, for :meth:`MeetingProvider.update_session`."""
        return SessionSpec.model_validate(self.model_dump(include=set(SessionSpec.model_fields)))


class Occurrence(_Value):
    """One sitting of a session: its position in the series and its start and end in UTC.

    ``occurrence_id`` is the provider's id when it has one (Zoom occurrence id, Graph event id);
    ``session_id`` is blendkit's :class:`LiveSession` id once the application has linked them.
    """

    index: int = Field(ge=0)
    start_utc: UtcDateTime
    end_utc: UtcDateTime
    occurrence_id: str | None = None
    session_id: str | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.end_utc <= self.start_utc:
            raise ValueError("an occurrence must end after it starts")
        return self

    @property
    def duration(self) -> timedelta:
        return self.end_utc - self.start_utc

    @property
    def duration_minutes(self) -> float:
        return self.duration.total_seconds() / 60


class ProviderMeeting(_Value):
    """A meeting as the provider created it.

    ``start_url`` lets the host start the meeting and may embed a credential: never show it to
    learners or log it.
    """

    provider: str
    meeting_id: str = Field(min_length=1)
    join_url: WebLink
    start_url: str | None = None
    occurrences: tuple[Occurrence, ...] = ()
    extras: dict[str, JsonValue] = Field(default_factory=dict)


class Learner(_Value):
    """A learner as the LTI roster (NRPS) knows them; ``provider_user_ids`` are known accounts."""

    id: str = Field(min_length=1)
    name: str = ""
    email: str | None = None
    provider_user_ids: tuple[str, ...] = ()


class JoinLink(_Value):
    """A learner's personal join link; ``registrant_id`` is kept to match attendance later."""

    meeting_id: str
    learner_id: str
    url: WebLink
    registrant_id: str | None = None


# --- attendance ----------------------------------------------------------------------------------


class UnmatchedReason(enum.StrEnum):
    """Why a participant could not be tied to a learner (names are never guessed from)."""

    NO_IDENTIFIER = "no_identifier"
    NOT_IN_ROSTER = "not_in_roster"
    AMBIGUOUS_EMAIL = "ambiguous_email"
    ANONYMOUS = "anonymous"
    """The provider says the person joined without signing in (Meet's ``anonymousUser``)."""
    PHONE = "phone"
    """The person dialled in by phone: the provider holds only a partly hidden number."""
    UNKNOWN_ACCOUNT = "unknown_account"
    """A signed-in account the organisation's directory does not know (outside the domain)."""
    LOOKUP_DENIED = "lookup_denied"
    """A signed-in account whose e-mail the provider may not read (a scope is not granted)."""


class ParticipantRecord(_Value):
    """One join→leave interval of one participant on one device, as the provider reports it.

    ``leave_time`` is None while the participant is still in (or the provider lost the leave).
    """

    join_time: UtcDateTime
    leave_time: UtcDateTime | None = None
    provider_user_id: str | None = None
    registrant_id: str | None = None
    email: str | None = None
    display_name: str = ""
    connection_id: str | None = None
    occurrence_id: str | None = None
    unidentified: UnmatchedReason | None = None
    """Why the provider could not say who this is (anonymous, phone, a lookup that failed):
    reported as the reason when nothing else ties the record to a learner."""

    @field_validator("provider_user_id", "registrant_id", "email", "connection_id", mode="after")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        if value is None:
            return None
        stripped = value.strip()
        return stripped or None

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.leave_time is not None and self.leave_time < self.join_time:
            raise ValueError("leave_time is before join_time")
        return self


class Interval(_Value):
    """A half-open stretch of time [start, end) in UTC."""

    start: UtcDateTime
    end: UtcDateTime

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.end < self.start:
            raise ValueError("an interval must not end before it starts")
        return self

    @property
    def minutes(self) -> float:
        return (self.end - self.start).total_seconds() / 60


class MatchKey(enum.StrEnum):
    """Which identifier tied a participant to a learner, strongest first."""

    REGISTRANT_ID = "registrant_id"
    PROVIDER_USER_ID = "provider_user_id"
    EMAIL = "email"


class Attendance(_Value):
    """One learner's presence in one occurrence, after merging every interval and device."""

    learner_id: str
    intervals: tuple[Interval, ...] = ()
    minutes_present: float = Field(ge=0)
    percent_present: float = Field(ge=0, le=100)
    first_join: UtcDateTime | None = None
    last_leave: UtcDateTime | None = None
    matched_by: MatchKey | None = None

    @property
    def attended(self) -> bool:
        return self.minutes_present > 0


class UnmatchedParticipant(_Value):
    """A participant no roster learner could be tied to, with why and how long they stayed."""

    display_name: str
    email: str | None
    provider_user_id: str | None
    registrant_id: str | None
    reason: UnmatchedReason
    minutes_present: float = Field(ge=0)
    records: int = Field(ge=1)


class AttendanceReport(_Value):
    """Attendance of every roster learner for one occurrence, plus who could not be matched."""

    meeting_id: str
    occurrence: Occurrence
    attendance: tuple[Attendance, ...]
    unmatched: tuple[UnmatchedParticipant, ...] = ()

    def for_learner(self, learner_id: str) -> Attendance | None:
        """The learner's attendance, or None when they are not on the roster."""
        for item in self.attendance:
            if item.learner_id == learner_id:
                return item
        return None


# --- recordings ----------------------------------------------------------------------------------


class RecordingKind(enum.StrEnum):
    """What a recording file holds."""

    VIDEO = "video"
    AUDIO = "audio"
    TRANSCRIPT = "transcript"
    CHAT = "chat"
    CAPTIONS = "captions"
    TIMELINE = "timeline"
    SUMMARY = "summary"
    OTHER = "other"


class Recording(_Value):
    """One recorded file of a meeting; ``play_url`` is for people, ``download_url`` for copies."""

    provider_id: str
    meeting_id: str
    kind: RecordingKind
    play_url: WebLink | None = None
    download_url: str | None = None
    duration_seconds: int | None = Field(default=None, ge=0)
    start_utc: UtcDateTime | None = None
    end_utc: UtcDateTime | None = None
    occurrence_id: str | None = None
    title: str = ""
    extras: dict[str, JsonValue] = Field(default_factory=dict)
