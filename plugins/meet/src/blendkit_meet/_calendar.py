"""Translations between blendkit sessions and Google Calendar events with a Meet conference.

Events are written in the session's own IANA zone (Calendar accepts every IANA name) with
wall-clock ``dateTime`` values, so a weekly series keeps its local time across daylight-saving
changes like blendkit's own expansion. The series' ``RRULE`` is the one blendkit's calendar feeds
write (:func:`blendkit.calendar.series_rule`), so a session looks the same in Google Calendar and
in the tool's own feed. No I/O here.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from icalendar import vRecur

from blendkit.calendar import CalendarSeries, series_rule
from blendkit.errors import ProviderError
from blendkit.sessions import ProviderMeeting, SessionSpec, expand_occurrences, provider_answers

__all__ = [
    "CONFERENCE_TYPE",
    "conference_code",
    "conference_status",
    "event_body",
    "join_url",
    "parse_instant",
    "provider_meeting",
    "recurrence_lines",
    "utc_time",
]

CONFERENCE_TYPE = "hangoutsMeet"
"""``conferenceSolutionKey.type`` of a Google Meet conference."""


def _local(moment: datetime, spec: SessionSpec) -> dict[str, str]:
    naive = moment.astimezone(spec.zone).replace(tzinfo=None)
    return {"dateTime": naive.isoformat(timespec="seconds"), "timeZone": spec.time_zone}


def utc_time(moment: datetime) -> dict[str, str]:
    """An ``EventDateTime`` in UTC (for moving one occurrence)."""
    stamp = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"dateTime": stamp, "timeZone": "UTC"}


def parse_instant(value: str) -> datetime | None:
    """An ISO 8601 instant (naive taken as UTC) as aware UTC, or None (an occurrence's start)."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def recurrence_lines(spec: SessionSpec) -> list[str]:
    """The event's ``recurrence`` (one ``RRULE`` line); empty for a one-off session."""
    rule = spec.recurrence
    if rule is None:
        return []
    if not expand_occurrences(spec):
        raise ProviderError(
            "the session's recurrence has no occurrence (no chosen weekday falls between the "
            "first start and the end date); pick other weekdays or a later end date",
            code="sessions.provider_unsupported",
        )
    series = CalendarSeries(
        uid="blendkit-meet",
        title=spec.title,
        last_modified=spec.start_utc,
        first_start_utc=spec.start_utc,
        duration_minutes=spec.duration_minutes,
        time_zone=spec.time_zone,
        recurrence=rule,
    )
    rule_value: Any = vRecur(series_rule(series))  # to_ical is untyped in icalendar 7
    return ["RRULE:" + bytes(rule_value.to_ical()).decode("ascii")]


def event_body(spec: SessionSpec, *, create: bool) -> dict[str, Any]:
    """The JSON of ``events.insert`` (``create``: with a Meet conference request) or
    ``events.patch``.

    Each create carries a fresh ``requestId``, so Google makes a new Meet space for it.
    """
    end = spec.start_utc + timedelta(minutes=spec.duration_minutes)
    body: dict[str, Any] = {
        "summary": spec.title,
        "description": spec.agenda,
        "start": _local(spec.start_utc, spec),
        "end": _local(end, spec),
        "recurrence": recurrence_lines(spec),
    }
    if create:
        body["guestsCanInviteOthers"] = False
        body["guestsCanSeeOtherGuests"] = False
        body["conferenceData"] = {
            "createRequest": {
                "requestId": uuid.uuid4().hex,
                "conferenceSolutionKey": {"type": CONFERENCE_TYPE},
            }
        }
    return body


def join_url(event: dict[str, Any]) -> str:
    """The Meet link of an event (its video entry point, else ``hangoutLink``); ``""`` if none."""
    conference = event.get("conferenceData") or {}
    for entry in conference.get("entryPoints") or []:
        if isinstance(entry, dict) and entry.get("entryPointType") == "video" and entry.get("uri"):
            return str(entry["uri"])
    return str(event.get("hangoutLink") or "")


def conference_code(event: dict[str, Any]) -> str | None:
    """The Meet meeting code (``conferenceData.conferenceId``) of a Meet event."""
    conference = event.get("conferenceData") or {}
    solution = ((conference.get("conferenceSolution") or {}).get("key") or {}).get("type")
    code = conference.get("conferenceId")
    if not isinstance(code, str) or not code or solution not in (None, CONFERENCE_TYPE):
        return None
    return code


def conference_status(event: dict[str, Any]) -> str | None:
    """``success``, ``pending`` or ``failure`` of the event's conference create request."""
    request = (event.get("conferenceData") or {}).get("createRequest") or {}
    status = (request.get("status") or {}).get("statusCode")
    return str(status) if status else None


def provider_meeting(event: dict[str, Any], spec: SessionSpec | None) -> ProviderMeeting:
    """A ProviderMeeting from a Calendar event; occurrences come from blendkit's expansion.

    The meeting id is the event id; ``extras`` carry the Meet meeting code, the event's
    Calendar link and iCalendar UID.
    """
    url = join_url(event)
    extras: dict[str, Any] = {
        "meeting_code": conference_code(event),
        "conference_status": conference_status(event),
        "html_link": event.get("htmlLink"),
        "ical_uid": event.get("iCalUID"),
        "registration_required": False,
        "personal_join_links": False,
    }
    with provider_answers("meet"):
        return ProviderMeeting(
            provider="meet",
            meeting_id=str(event["id"]),
            join_url=url,
            start_url=url or None,
            occurrences=tuple(expand_occurrences(spec)) if spec is not None else (),
            extras={k: v for k, v in extras.items() if v is not None},
        )
