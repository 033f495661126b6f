"""Translations between blendkit values and Zoom JSON (no I/O).

Zoom numbers weekdays 1 = Sunday … 7 = Saturday; blendkit 0 = Monday … 6 = Sunday. Times are
sent in UTC (``…Z``) together with the session's IANA zone, which Zoom uses for recurrence and
for what it shows to people.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from pydantic import ValidationError

from blendkit.errors import ProviderError
from blendkit.sessions import (
    Occurrence,
    ParticipantRecord,
    ProviderMeeting,
    Recording,
    RecordingKind,
    SessionSpec,
    expand_occurrences,
    provider_answers,
)

__all__ = [
    "MAX_OCCURRENCES",
    "meeting_body",
    "parse_time",
    "participant_record",
    "provider_meeting",
    "recording_files",
    "zoom_time",
    "zoom_weekday",
]

MAX_OCCURRENCES = 60
"""Zoom refuses recurring meetings with more occurrences than this."""

MAX_WEEKLY_INTERVAL = 50
"""Zoom's largest ``repeat_interval`` for weekly recurrence (daily allows 99, above ours)."""

MEETING_SCHEDULED = 2
MEETING_RECURRING_FIXED = 8
APPROVAL_AUTOMATIC = 0
APPROVAL_NO_REGISTRATION = 2

_FILE_KINDS: dict[str, RecordingKind] = {
    "MP4": RecordingKind.VIDEO,
    "M4A": RecordingKind.AUDIO,
    "TRANSCRIPT": RecordingKind.TRANSCRIPT,
    "CHAT": RecordingKind.CHAT,
    "CHAT_MESSAGE": RecordingKind.CHAT,
    "CC": RecordingKind.CAPTIONS,
    "TIMELINE": RecordingKind.TIMELINE,
    "TB": RecordingKind.TIMELINE,
    "SUMMARY": RecordingKind.SUMMARY,
}


def zoom_time(moment: datetime) -> str:
    """A UTC timestamp in the form Zoom documents (``2026-03-02T16:00:00Z``)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value: object) -> datetime | None:
    """A Zoom timestamp (``…Z`` or with offset) as an aware UTC datetime, None when absent."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)  # Python 3.11+ reads the trailing "Z"
    except ValueError:
        try:
            moment = datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def zoom_weekday(weekday: int) -> int:
    """blendkit weekday (0 = Monday) → Zoom weekday (1 = Sunday)."""
    return (weekday + 1) % 7 + 1


def meeting_body(spec: SessionSpec) -> dict[str, Any]:
    """The JSON body of *Create a meeting* / *Update a meeting* for ``spec``."""
    settings: dict[str, Any] = {
        "approval_type": APPROVAL_AUTOMATIC
        if spec.personal_join_links
        else APPROVAL_NO_REGISTRATION,
        "auto_recording": "cloud" if spec.record_automatically else "none",
        "registrants_confirmation_email": False,
        "registrants_email_notification": False,
    }
    body: dict[str, Any] = {
        "topic": spec.title,
        "type": MEETING_SCHEDULED,
        "start_time": zoom_time(spec.start_utc),
        "timezone": spec.time_zone,
        "duration": spec.duration_minutes,
        "agenda": spec.agenda,
        "settings": settings,
    }
    rule = spec.recurrence
    if rule is None:
        return body
    count = len(expand_occurrences(spec))
    if count == 0:
        raise ProviderError(
            "the session's recurrence has no occurrence (no chosen weekday falls between the "
            "first start and the end date); pick other weekdays or a later end date",
            code="sessions.provider_unsupported",
        )
    if count > MAX_OCCURRENCES:
        raise ProviderError(
            f"the session repeats {count} times but Zoom allows at most {MAX_OCCURRENCES} "
            "occurrences per recurring meeting; split the term into several sessions",
            code="sessions.provider_unsupported",
        )
    if rule.frequency == "weekly" and rule.interval > MAX_WEEKLY_INTERVAL:
        raise ProviderError(
            f"Zoom repeats weekly meetings at most every {MAX_WEEKLY_INTERVAL} weeks, not every "
            f"{rule.interval}; create separate sessions instead",
            code="sessions.provider_unsupported",
        )
    body["type"] = MEETING_RECURRING_FIXED
    settings["registration_type"] = 1  # register once, attend every occurrence
    recurrence: dict[str, Any] = {"repeat_interval": rule.interval}
    if rule.frequency == "daily":
        recurrence["type"] = 1
    else:
        recurrence["type"] = 2
        days = rule.weekdays or (spec.start_local.weekday(),)
        recurrence["weekly_days"] = ",".join(str(zoom_weekday(d)) for d in sorted(days))
    if rule.count is not None:
        recurrence["end_times"] = rule.count
    elif rule.until is not None:
        last_local = datetime.combine(rule.until, time(23, 59, 59), tzinfo=spec.zone)
        recurrence["end_date_time"] = zoom_time(last_local)
    body["recurrence"] = recurrence
    return body


def provider_meeting(body: dict[str, Any], spec: SessionSpec | None = None) -> ProviderMeeting:
    """A ProviderMeeting from Zoom's meeting object (create or get answer)."""
    meeting_id = str(body.get("id", ""))
    duration = int(body.get("duration") or (spec.duration_minutes if spec else 60))
    occurrences: list[Occurrence] = []
    for raw in body.get("occurrences") or []:
        start = parse_time(raw.get("start_time"))
        if start is None or raw.get("status") == "deleted":
            continue
        length = int(raw.get("duration") or duration)
        occurrences.append(
            Occurrence(
                index=len(occurrences),
                start_utc=start,
                end_utc=start + timedelta(minutes=length),
                occurrence_id=str(raw.get("occurrence_id") or "") or None,
            )
        )
    start = parse_time(body.get("start_time"))
    if not occurrences and start is not None and body.get("type") != MEETING_RECURRING_FIXED:
        occurrences.append(
            Occurrence(index=0, start_utc=start, end_utc=start + timedelta(minutes=duration))
        )
    approval = (body.get("settings") or {}).get("approval_type")
    extras: dict[str, Any] = {
        "uuid": body.get("uuid"),
        "type": body.get("type"),
        "timezone": body.get("timezone"),
        "registration_required": approval in (0, 1),
    }
    with provider_answers("zoom"):
        return ProviderMeeting(
            provider="zoom",
            meeting_id=meeting_id,
            join_url=str(body.get("join_url", "")),
            start_url=body.get("start_url"),
            occurrences=tuple(occurrences),
            extras={k: v for k, v in extras.items() if v is not None},
        )


def participant_record(raw: dict[str, Any], occurrence_id: str | None) -> ParticipantRecord | None:
    """One participants-report row as a ParticipantRecord (None for waiting-room rows)."""
    if raw.get("status") == "in_waiting_room":
        return None
    join = parse_time(raw.get("join_time"))
    if join is None:
        return None
    leave = parse_time(raw.get("leave_time"))
    user = raw.get("participant_user_id") or raw.get("id") or None
    try:
        return ParticipantRecord(
            join_time=join,
            leave_time=leave if leave is None or leave >= join else join,
            provider_user_id=str(user) if user else None,
            registrant_id=raw.get("registrant_id") or None,
            email=raw.get("user_email") or raw.get("email") or None,
            display_name=str(raw.get("name") or raw.get("user_name") or ""),
            connection_id=str(raw.get("user_id") or "") or None,
            occurrence_id=occurrence_id,
        )
    except ValidationError:
        return None


def recording_files(meeting: dict[str, Any]) -> list[Recording]:
    """Every completed file of a Zoom recording object (API answer or recording.completed)."""
    meeting_id = str(meeting.get("id", ""))
    uuid = meeting.get("uuid")
    topic = str(meeting.get("topic") or "")
    found: list[Recording] = []
    for raw in meeting.get("recording_files") or []:
        if not isinstance(raw, dict) or raw.get("status", "completed") != "completed":
            continue
        if raw.get("deleted_time"):
            continue
        file_type = str(raw.get("file_type") or "").upper()
        kind = _FILE_KINDS.get(file_type, RecordingKind.OTHER)
        if raw.get("recording_type") == "audio_only":
            kind = RecordingKind.AUDIO
        start = parse_time(raw.get("recording_start"))
        end = parse_time(raw.get("recording_end"))
        duration = int((end - start).total_seconds()) if start and end and end >= start else None
        extras = {
            "recording_type": raw.get("recording_type"),
            "file_type": raw.get("file_type"),
            "file_extension": raw.get("file_extension"),
            "file_size": raw.get("file_size"),
            "play_passcode": meeting.get("recording_play_passcode"),
        }
        with provider_answers("zoom"):
            recording = Recording(
                provider_id=str(raw.get("id") or f"{uuid}:{len(found)}"),
                meeting_id=meeting_id,
                kind=kind,
                play_url=raw.get("play_url") or None,
                download_url=raw.get("download_url") or None,
                duration_seconds=duration,
                start_utc=start,
                end_utc=end if start is None or (end is not None and end >= start) else None,
                occurrence_id=str(uuid) if uuid else None,
                title=topic,
                extras={k: v for k, v in extras.items() if v is not None},
            )
        found.append(recording)
    return found
