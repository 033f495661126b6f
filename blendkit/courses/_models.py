"""Values of the courses area: courses, enrolments, evidence records, overrides, live sessions.

Every value is frozen; datetimes are aware UTC. They are what :class:`CourseService` returns, so
an app renders them without touching the tables.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any, Final, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from blendkit.lti import Tenant
from blendkit.progression import ChangeEvent, Path

__all__ = [
    "AttendanceRow",
    "Course",
    "Enrolment",
    "EnrolmentSource",
    "EvidenceRecord",
    "GradeRecord",
    "LiveSessionRecord",
    "OverrideRecord",
    "RecordOutcome",
    "RecordingRow",
    "TimeZoneSource",
    "UnmatchedRow",
    "ZONE_PRECEDENCE",
    "aware",
    "check_zone",
    "zone_replaces",
]


def aware(value: datetime) -> datetime:
    """``value`` as aware UTC (SQLite returns naive datetimes for UTC columns)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def check_zone(value: str) -> str:
    """An IANA zone name known to :mod:`zoneinfo` (ValueError names the problem)."""
    key = value.strip()
    try:
        ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise ValueError(
            f"{value!r} is not an IANA time zone; use a name like 'Europe/Berlin'"
        ) from exc
    return key


Utc = Annotated[datetime, AfterValidator(aware)]

TimeZoneSource = Literal["course", "browser", "platform", "learner"]
"""Where an enrolment's zone came from, lowest precedence first (:data:`ZONE_PRECEDENCE`)."""
#: Precedence of the time zone sources: a zone replaces a stored one of lower or equal rank only.
ZONE_PRECEDENCE: Final[Mapping[str, int]] = {"course": 0, "browser": 1, "platform": 2, "learner": 3}


def zone_replaces(incoming: str, stored: str) -> bool:
    """Whether a zone from ``incoming`` replaces one stored from ``stored``."""
    return ZONE_PRECEDENCE[incoming] >= ZONE_PRECEDENCE.get(stored, 0)


ZoneName = Annotated[str, AfterValidator(check_zone)]
EnrolmentSource = Literal["launch", "roster"]
_FROZEN = ConfigDict(frozen=True)


class Course(BaseModel):
    """One LMS context of one deployment, and its course path."""

    model_config = _FROZEN

    id: int
    issuer: str
    client_id: str | None
    deployment_id: str | None
    """None only for a course from before deployment tenancy that waits to be assigned."""
    context_id: str
    activity_key: str
    """The course's id in xAPI statements (``CourseService.course_key``)."""
    title: str
    path: Path
    ags: dict[str, Any] | None = None

    @property
    def tenant(self) -> Tenant | None:
        """The deployment this course belongs to (None while unassigned)."""
        if self.client_id is None or self.deployment_id is None:
            return None
        return Tenant(
            issuer=self.issuer, client_id=self.client_id, deployment_id=self.deployment_id
        )


class Enrolment(BaseModel):
    """A person in a course as the launches told us, plus their own time zone."""

    model_config = _FROZEN

    sub: str = Field(min_length=1, max_length=255)
    name: str = ""
    email: str | None = None
    time_zone: ZoneName = "UTC"
    time_zone_source: TimeZoneSource = "course"
    """``course`` (default), ``browser`` (confirmed by the learner), ``platform`` or ``learner``."""
    enrolled_at: Utc | None = None
    groups: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    source: EnrolmentSource = "launch"
    """What first told the tool of the person: a ``launch``, or the platform's ``roster``."""
    launched_at: Utc | None = None
    """Their first launch; None while they are on the roster but have not launched yet."""
    active: bool = True
    """False once the platform dropped them from the course (their records stay)."""
    roster_status: str | None = None
    """What the last roster read said: Active, Inactive, Deleted or absent (None: never read)."""

    @property
    def launched(self) -> bool:
        """Whether the person has launched the tool at least once."""
        return self.launched_at is not None

    @property
    def zone(self) -> ZoneInfo:
        """The learner's zone, to show times in their own clock."""
        return ZoneInfo(self.time_zone)

    @property
    def display_name(self) -> str:
        return self.name or self.sub


class EvidenceRecord(BaseModel):
    """One stored piece of evidence; ``details`` keeps what the engine does not need (answers)."""

    model_config = _FROZEN

    id: int
    sub: str
    kind: str
    item: str | None
    piece: dict[str, Any]
    details: dict[str, Any] | None
    recorded_at: Utc


class OverrideRecord(BaseModel):
    """An instructor's exception for one learner: who, when and why."""

    model_config = _FROZEN

    id: int
    sub: str
    item: str
    action: Literal["unlock", "extend", "waive"]
    condition_id: str | None
    until: Utc | None
    by: str
    reason: str
    at: Utc


class LiveSessionRecord(BaseModel):
    """A scheduled live session and the provider meeting behind it."""

    model_config = _FROZEN

    id: str
    item: str | None
    title: str
    start_utc: Utc
    time_zone: str
    duration_minutes: int
    provider: str
    provider_meeting_id: str
    occurrence_id: str | None
    join_url: str
    attendance_imported: bool
    series_id: str | None = None
    original_start_utc: Utc | None = None
    cancelled: bool = False

    @property
    def end_utc(self) -> datetime:
        from datetime import timedelta

        return self.start_utc + timedelta(minutes=self.duration_minutes)

    @property
    def moved(self) -> bool:
        """True for a sitting of a series that no longer starts at its original start."""
        return self.original_start_utc is not None and self.original_start_utc != self.start_utc


class AttendanceRow(BaseModel):
    """One learner's merged presence in one session."""

    model_config = _FROZEN

    session_id: str
    sub: str
    minutes: float
    percent: float
    first_join: Utc | None
    last_leave: Utc | None
    matched_by: str | None


class UnmatchedRow(BaseModel):
    """A participant no enrolment could be tied to, and why."""

    model_config = _FROZEN

    session_id: str
    display_name: str
    email: str | None
    reason: str
    minutes: float


class RecordingRow(BaseModel):
    """A recording file of a session that learners may play."""

    model_config = _FROZEN

    session_id: str
    provider_id: str
    kind: str
    title: str
    play_url: str | None
    duration_seconds: int | None
    id: int = 0
    """The file's row id (0 only for rows built by hand)."""
    media_url: str | None = None
    """A file the tool's own player can play (``play_url`` is the provider's page)."""


class GradeRecord(BaseModel):
    """A score waiting for, or done with, passback to the platform's gradebook."""

    model_config = _FROZEN

    id: int
    sub: str
    item: str
    label: str
    score_given: float
    score_maximum: float
    scored_at: Utc
    status: Literal["pending", "sent", "failed"]
    attempts: int
    next_attempt_at: Utc
    last_error: str | None
    sent_at: Utc | None


class RecordOutcome(BaseModel):
    """What recording evidence caused: state changes and the statements queued for the LRS."""

    model_config = _FROZEN

    events: tuple[ChangeEvent, ...] = ()
    statement_ids: tuple[str, ...] = ()
    grade_ids: tuple[int, ...] = ()
    held: tuple[str, ...] = ()
    """Items whose new evidence was stored but held: the item was locked when it happened."""

    def unlocked(self) -> tuple[str, ...]:
        """Items that opened (locked → anything else)."""
        return tuple(e.item for e in self.events if e.previous == "locked")
