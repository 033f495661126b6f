"""Attendance turned into what the rest of blendkit consumes (no I/O, plain values).

- :class:`AttendanceEvidence` / :class:`SeriesAttendance`: minutes and percent per learner, for
  progression conditions (``to_dict()`` gives the documented plain dict).
- :class:`VirtualClassroomEvent`: joined / left / terminated facts with durations, shaped after
  the xAPI virtual-classroom profile, for the xAPI layer to turn into statements.
- :class:`AttendanceScore`: an AGS score under the instructor's :class:`GradingPolicy`.
"""

from __future__ import annotations

import enum
import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from blendkit.errors import SessionsError
from blendkit.sessions._models import AttendanceReport, UtcDateTime

__all__ = [
    "AttendanceEvidence",
    "AttendanceScore",
    "GradingPolicy",
    "SeriesAttendance",
    "VIRTUAL_CLASSROOM_ACTIVITY_TYPE",
    "VIRTUAL_CLASSROOM_EXTENSIONS",
    "VIRTUAL_CLASSROOM_PROFILE",
    "VIRTUAL_CLASSROOM_VERBS",
    "VirtualClassroomEvent",
    "attendance_evidence",
    "iso_seconds",
    "score_attendance",
    "series_attendance",
    "virtual_classroom_events",
]

VIRTUAL_CLASSROOM_PROFILE = "https://w3id.org/xapi/virtual-classroom"
VIRTUAL_CLASSROOM_ACTIVITY_TYPE = (
    "https://w3id.org/xapi/virtual-classroom/activity-types/virtual-classroom"
)
VIRTUAL_CLASSROOM_VERBS = {
    "joined": "http://activitystrea.ms/join",
    "left": "http://activitystrea.ms/leave",
    "terminated": "http://adlnet.gov/expapi/verbs/terminated",
}
"""Verb IRIs the xAPI virtual-classroom profile uses for each event kind."""
VIRTUAL_CLASSROOM_EXTENSIONS = {
    "session_id": "https://w3id.org/xapi/cmi5/context/extensions/sessionid",
    "planned_duration": "http://id.tincanapi.com/extension/planned-duration",
}
"""Context-extension IRIs for :attr:`VirtualClassroomEvent.session_id` and ``planned_duration``."""

# Fixed namespace so that ids derived from (session, occurrence, learner) are the same everywhere.
_NAMESPACE = uuid.UUID("8f0c7c8e-4f35-5d1e-9a57-6b6c656e646b")


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    def to_dict(self) -> dict[str, JsonValue]:
        """A JSON-ready plain dict (datetimes as ISO 8601 strings in UTC)."""
        return self.model_dump(mode="json")


# --- progression ---------------------------------------------------------------------------------


class AttendanceEvidence(_Value):
    """One learner's attendance of one occurrence, as progression evidence."""

    kind: Literal["live_session_attendance"] = "live_session_attendance"
    learner_id: str
    session_id: str
    meeting_id: str
    occurrence_index: int
    occurrence_id: str | None
    occurrence_start: UtcDateTime
    occurrence_end: UtcDateTime
    attended: bool
    minutes_present: float = Field(ge=0)
    percent_present: float = Field(ge=0, le=100)


class SeriesAttendance(_Value):
    """One learner's attendance over several occurrences of a session (e.g. a whole term)."""

    kind: Literal["live_session_series_attendance"] = "live_session_series_attendance"
    learner_id: str
    session_id: str
    occurrences: int = Field(ge=1)
    attended: int = Field(ge=0)
    minutes_present: float = Field(ge=0)
    minutes_scheduled: float = Field(gt=0)
    percent_present: float = Field(ge=0, le=100)


def attendance_evidence(
    report: AttendanceReport, *, session_id: str
) -> tuple[AttendanceEvidence, ...]:
    """Evidence for every roster learner of ``report`` (absent learners have ``attended=False``)."""
    occurrence = report.occurrence
    return tuple(
        AttendanceEvidence(
            learner_id=item.learner_id,
            session_id=session_id,
            meeting_id=report.meeting_id,
            occurrence_index=occurrence.index,
            occurrence_id=occurrence.occurrence_id,
            occurrence_start=occurrence.start_utc,
            occurrence_end=occurrence.end_utc,
            attended=item.attended,
            minutes_present=item.minutes_present,
            percent_present=item.percent_present,
        )
        for item in report.attendance
    )


def series_attendance(
    reports: Sequence[AttendanceReport], *, session_id: str
) -> tuple[SeriesAttendance, ...]:
    """Totals per learner over ``reports`` (one per occurrence); percent of scheduled minutes.

    A learner missing from some reports (enrolled late) counts only the occurrences they are in.
    """
    if not reports:
        raise SessionsError("no attendance reports to total; import attendance first")
    totals: dict[str, list[float]] = defaultdict(lambda: [0, 0, 0.0, 0.0])
    for report in reports:
        scheduled = report.occurrence.duration_minutes
        for item in report.attendance:
            total = totals[item.learner_id]
            total[0] += 1
            total[1] += 1 if item.attended else 0
            total[2] += item.minutes_present
            total[3] += scheduled
    return tuple(
        SeriesAttendance(
            learner_id=learner_id,
            session_id=session_id,
            occurrences=int(count),
            attended=int(attended),
            minutes_present=present,
            minutes_scheduled=scheduled,
            percent_present=min(100.0, 100 * present / scheduled),
        )
        for learner_id, (count, attended, present, scheduled) in sorted(totals.items())
    )


# --- xAPI ----------------------------------------------------------------------------------------


def iso_seconds(seconds: float) -> str:
    """An ISO 8601 duration (``PT2700S``, ``PT90.5S``) with at most two decimals, as xAPI wants."""
    text = f"{max(seconds, 0):.2f}".rstrip("0").rstrip(".")
    return f"PT{text}S"


class VirtualClassroomEvent(_Value):
    """A virtual-classroom fact for the xAPI layer (one statement each).

    ``statement_id`` and ``registration`` are derived deterministically, so re-importing the same
    attendance produces the same statements and the LRS stores them once.
    """

    statement_id: uuid.UUID
    event: Literal["joined", "left", "terminated"]
    verb_id: str
    learner_id: str
    session_id: str
    activity_id: str
    activity_type: str = VIRTUAL_CLASSROOM_ACTIVITY_TYPE
    profile_id: str = VIRTUAL_CLASSROOM_PROFILE
    registration: uuid.UUID
    occurrence_id: str | None
    timestamp: UtcDateTime
    duration: str | None = Field(
        default=None, description="ISO 8601: the interval for 'left', all presence for 'terminated'"
    )
    planned_duration: str


def virtual_classroom_events(
    report: AttendanceReport, *, session_id: str, activity_id: str | None = None
) -> tuple[VirtualClassroomEvent, ...]:
    """joined/left per merged interval and one terminated per learner who attended, in order.

    ``activity_id`` is the IRI of the live session (default ``urn:blendkit:live-session:<id>``).
    """
    occurrence = report.occurrence
    occurrence_key = occurrence.occurrence_id or str(occurrence.index)
    activity = activity_id or f"urn:blendkit:live-session:{session_id}"
    planned = iso_seconds(occurrence.duration.total_seconds())
    events: list[VirtualClassroomEvent] = []
    for item in report.attendance:
        if not item.intervals:
            continue
        registration = uuid.uuid5(_NAMESPACE, f"{session_id}\0{occurrence_key}\0{item.learner_id}")
        facts: list[tuple[Literal["joined", "left", "terminated"], datetime, float | None]] = []
        for interval in item.intervals:
            facts.append(("joined", interval.start, None))
            facts.append(("left", interval.end, (interval.end - interval.start).total_seconds()))
        facts.append(("terminated", item.intervals[-1].end, item.minutes_present * 60))
        events.extend(
            VirtualClassroomEvent(
                statement_id=uuid.uuid5(registration, f"{kind}\0{at.isoformat()}"),
                event=kind,
                verb_id=VIRTUAL_CLASSROOM_VERBS[kind],
                learner_id=item.learner_id,
                session_id=session_id,
                activity_id=activity,
                registration=registration,
                occurrence_id=occurrence.occurrence_id,
                timestamp=at,
                duration=None if seconds is None else iso_seconds(seconds),
                planned_duration=planned,
            )
            for kind, at, seconds in facts
        )
    events.sort(key=lambda e: (e.timestamp, e.learner_id, e.event != "left"))
    return tuple(events)


# --- AGS -----------------------------------------------------------------------------------------


class GradingPolicy(enum.StrEnum):
    """How attendance becomes a grade; the instructor chooses."""

    FULL_CREDIT_ON_JOIN = "full_credit_on_join"
    """Full marks for each occurrence the learner joined at all."""

    PROPORTIONAL = "proportional"
    """Marks in proportion to the time present (full marks from ``full_credit_percent``)."""


class AttendanceScore(_Value):
    """An AGS score for one learner; :meth:`to_ags` gives the JSON body for the score service."""

    learner_id: str
    score_given: float = Field(ge=0)
    score_maximum: float = Field(gt=0)
    activity_progress: Literal["Initialized", "Started", "InProgress", "Submitted", "Completed"]
    grading_progress: Literal["FullyGraded", "Pending", "PendingManual", "Failed", "NotReady"]
    timestamp: UtcDateTime
    comment: str = ""

    def to_ags(self) -> dict[str, JsonValue]:
        """The AGS score body (``userId`` is the learner id, i.e. the LTI ``sub``)."""
        return {
            "userId": self.learner_id,
            "scoreGiven": self.score_given,
            "scoreMaximum": self.score_maximum,
            "activityProgress": self.activity_progress,
            "gradingProgress": self.grading_progress,
            "timestamp": self.timestamp.isoformat().replace("+00:00", "Z"),
            "comment": self.comment,
        }


def score_attendance(
    reports: AttendanceReport | Sequence[AttendanceReport],
    policy: GradingPolicy,
    *,
    score_maximum: float = 100.0,
    full_credit_percent: float = 100.0,
    timestamp: datetime | None = None,
) -> tuple[AttendanceScore, ...]:
    """Scores per learner over one occurrence or several (a series graded as one item).

    FULL_CREDIT_ON_JOIN gives ``score_maximum × attended / occurrences``; PROPORTIONAL gives
    ``score_maximum × min(1, percent present / full_credit_percent)``, percent being of all
    scheduled minutes. Learners who attended nothing get 0 with ``activityProgress`` Initialized.
    """
    if not 0 < full_credit_percent <= 100:
        raise SessionsError("full_credit_percent must be in (0, 100], e.g. 80 for 80 %")
    items = [reports] if isinstance(reports, AttendanceReport) else list(reports)
    stamp = timestamp or datetime.now(UTC)
    scores = []
    for total in series_attendance(items, session_id="-"):
        if policy is GradingPolicy.FULL_CREDIT_ON_JOIN:
            share = total.attended / total.occurrences
            comment = f"joined {total.attended} of {total.occurrences} live session(s)"
        else:
            share = min(1.0, total.percent_present / full_credit_percent)
            comment = (
                f"present {total.minutes_present:.0f} of {total.minutes_scheduled:.0f} minutes"
            )
        scores.append(
            AttendanceScore(
                learner_id=total.learner_id,
                score_given=round(score_maximum * share, 2),
                score_maximum=score_maximum,
                activity_progress="Completed" if total.attended else "Initialized",
                grading_progress="FullyGraded",
                timestamp=stamp,
                comment=comment,
            )
        )
    return tuple(scores)
