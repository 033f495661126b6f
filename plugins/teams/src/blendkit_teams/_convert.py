"""Translations between blendkit values and Microsoft Graph JSON (no I/O).

Events are written in the session's own time zone (by its Windows name, which Outlook always
accepts), so a recurring series keeps its local wall-clock time across daylight-saving changes,
like blendkit's own recurrence expansion. Graph reports times as ``dateTime`` + ``timeZone``
pairs or as UTC strings with up to seven fractional digits; both are parsed here.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ValidationError
from tzlocal.windows_tz import tz_win, win_tz

from blendkit.errors import ProviderError
from blendkit.sessions import (
    ParticipantRecord,
    ProviderMeeting,
    Recording,
    RecordingKind,
    SessionSpec,
    expand_occurrences,
    provider_answers,
)

__all__ = [
    "WEEKDAYS",
    "attendance_records",
    "call_artifacts",
    "event_body",
    "graph_zone",
    "parse_time",
    "provider_meeting",
    "utc_time",
]

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
"""Graph's dayOfWeek names, indexed like blendkit weekdays (0 = Monday)."""

_FRACTION = re.compile(r"(\.\d{6})\d+")


def parse_time(value: object, zone: object = None) -> datetime | None:
    """A Graph timestamp as aware UTC; ``zone`` names the zone of a naive ``dateTime``."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)  # 3.11+: "Z" and 7 fractional digits included
    except ValueError:
        try:
            moment = datetime.fromisoformat(_FRACTION.sub(r"\1", value.strip()))
        except ValueError:
            return None
    if moment.tzinfo is None:
        tz: Any = UTC
        if isinstance(zone, str) and zone and zone.upper() != "UTC":
            try:
                tz = ZoneInfo(zone)
            except (ZoneInfoNotFoundError, ValueError):
                tz = UTC
        moment = moment.replace(tzinfo=tz)
    return moment.astimezone(UTC)


def graph_zone(spec: SessionSpec) -> str:
    """The zone name to write for ``spec``: its Windows name when that keeps every start right.

    Outlook accepts every Windows zone but only about a hundred IANA names, so the Windows name
    from CLDR's mapping is used (``Europe/Vienna`` → ``W. Europe Standard Time``) when Windows'
    representative zone gives the same UTC offset at every occurrence; otherwise (a zone whose
    rules changed since the mapping) the IANA name is written as is.
    """
    windows = tz_win.get(spec.time_zone)
    if windows is None or windows not in win_tz:
        return spec.time_zone
    representative = ZoneInfo(win_tz[windows])
    for occurrence in expand_occurrences(spec):
        start = occurrence.start_utc
        if start.astimezone(representative).utcoffset() != start.astimezone(spec.zone).utcoffset():
            return spec.time_zone
    return windows


def _local(moment: datetime, spec: SessionSpec, zone: str) -> dict[str, str]:
    naive = moment.astimezone(spec.zone).replace(tzinfo=None)
    return {"dateTime": naive.isoformat(timespec="seconds"), "timeZone": zone}


def utc_time(moment: datetime) -> dict[str, str]:
    """A ``dateTime`` + ``timeZone`` pair in UTC (for moving one occurrence)."""
    naive = moment.astimezone(UTC).replace(tzinfo=None)
    return {"dateTime": naive.isoformat(timespec="seconds"), "timeZone": "UTC"}


def event_body(spec: SessionSpec) -> dict[str, Any]:
    """The JSON of *Create event* / *Update event*: a Teams online meeting in the calendar."""
    end = spec.start_utc + timedelta(minutes=spec.duration_minutes)
    zone = graph_zone(spec)
    body: dict[str, Any] = {
        "subject": spec.title,
        "body": {"contentType": "text", "content": spec.agenda},
        "start": _local(spec.start_utc, spec, zone),
        "end": _local(end, spec, zone),
        "isOnlineMeeting": True,
        "onlineMeetingProvider": "teamsForBusiness",
        "allowNewTimeProposals": False,
        "responseRequested": False,
    }
    rule = spec.recurrence
    if rule is None:
        return body
    if not expand_occurrences(spec):
        raise ProviderError(
            "the session's recurrence has no occurrence (no chosen weekday falls between the "
            "first start and the end date); pick other weekdays or a later end date",
            code="sessions.provider_unsupported",
        )
    first = spec.start_local.date()
    pattern: dict[str, Any] = {"type": rule.frequency, "interval": rule.interval}
    if rule.frequency == "weekly":
        days = rule.weekdays or (first.weekday(),)
        pattern["daysOfWeek"] = [WEEKDAYS[d] for d in sorted(days)]
        pattern["firstDayOfWeek"] = "monday"
    recurrence_range: dict[str, Any] = {
        "startDate": first.isoformat(),
        "recurrenceTimeZone": zone,
    }
    if rule.count is not None:
        recurrence_range["type"] = "numbered"
        recurrence_range["numberOfOccurrences"] = rule.count
    elif rule.until is not None:
        recurrence_range["type"] = "endDate"
        recurrence_range["endDate"] = rule.until.isoformat()
    body["recurrence"] = {"pattern": pattern, "range": recurrence_range}
    return body


def provider_meeting(event: dict[str, Any], spec: SessionSpec | None) -> ProviderMeeting:
    """A ProviderMeeting from a Graph event; occurrences come from blendkit's expansion."""
    online = event.get("onlineMeeting") or {}
    join_url = str(online.get("joinUrl") or event.get("onlineMeetingUrl") or "")
    occurrences = expand_occurrences(spec) if spec is not None else ()
    extras: dict[str, Any] = {
        "web_link": event.get("webLink"),
        "ical_uid": event.get("iCalUId"),
        "event_type": event.get("type"),
        "registration_required": False,
    }
    with provider_answers("teams"):
        return ProviderMeeting(
            provider="teams",
            meeting_id=str(event["id"]),
            join_url=join_url,
            start_url=join_url or None,
            occurrences=tuple(occurrences),
            extras={k: v for k, v in extras.items() if v is not None},
        )


def attendance_records(
    record: dict[str, Any], occurrence_id: str | None
) -> list[ParticipantRecord]:
    """One attendanceRecord (a person) as one ParticipantRecord per attendance interval."""
    identity = record.get("identity") or {}
    user_id = identity.get("id") if isinstance(identity, dict) else None
    name = identity.get("displayName") if isinstance(identity, dict) else None
    email = record.get("emailAddress") or None
    found: list[ParticipantRecord] = []
    for index, interval in enumerate(record.get("attendanceIntervals") or []):
        if not isinstance(interval, dict):
            continue
        join = parse_time(interval.get("joinDateTime"))
        if join is None:
            continue
        leave = parse_time(interval.get("leaveDateTime"))
        try:
            found.append(
                ParticipantRecord(
                    join_time=join,
                    leave_time=leave if leave is None or leave >= join else join,
                    provider_user_id=str(user_id) if user_id else None,
                    registrant_id=record.get("registrationId") or None,
                    email=str(email) if email else None,
                    display_name=str(name or ""),
                    connection_id=f"{record.get('id', '')}#{index}",
                    occurrence_id=occurrence_id,
                )
            )
        except ValidationError:
            continue
    return found


def call_artifacts(
    items: list[dict[str, Any]], meeting_id: str, kind: RecordingKind, title: str = ""
) -> list[Recording]:
    """callRecording / callTranscript items as Recordings (content is fetched through Graph)."""
    found: list[Recording] = []
    for item in items:
        start = parse_time(item.get("createdDateTime"))
        end = parse_time(item.get("endDateTime"))
        duration = int((end - start).total_seconds()) if start and end and end >= start else None
        url = item.get("recordingContentUrl") or item.get("transcriptContentUrl")
        found.append(
            Recording(
                provider_id=str(item.get("id", "")),
                meeting_id=meeting_id,
                kind=kind,
                download_url=str(url) if url else None,
                duration_seconds=duration,
                start_utc=start,
                end_utc=end if duration is not None else None,
                title=title,
                extras={
                    k: v
                    for k, v in {
                        "online_meeting_id": item.get("meetingId"),
                        "call_id": item.get("callId"),
                        "content_correlation_id": item.get("contentCorrelationId"),
                    }.items()
                    if v
                },
            )
        )
    return found
