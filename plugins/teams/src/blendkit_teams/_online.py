"""The online meeting behind a Teams session and what Graph keeps of it: join URL, attendance
reports, recordings and transcripts (TeamsProvider's reads, as a base class)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict

from blendkit.errors import NotFound, ProviderError
from blendkit.sessions import (
    ParticipantRecord,
    ProviderMeeting,
    Recording,
    RecordingKind,
    Transcript,
)
from blendkit_teams._api import GraphApi
from blendkit_teams._convert import attendance_records, call_artifacts, parse_time

__all__ = ["MAX_TRANSCRIPT_BYTES", "AttendanceReportInfo", "OnlineMeetingReads"]

_REPORT_MATCH_WINDOW = timedelta(hours=12)
MAX_TRANSCRIPT_BYTES = 5_000_000
"""A larger transcript is refused (a day-long meeting's transcript is about 2 MB)."""


class AttendanceReportInfo(BaseModel):
    """One attendance report of an online meeting: one per time the meeting was held."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    meeting_start: datetime | None = None
    meeting_end: datetime | None = None
    total_participants: int | None = None


class OnlineMeetingReads:
    """Graph reads of a session's online meeting, found by the join URL of its event.

    A base of :class:`~blendkit_teams.TeamsProvider`, whose ``__init__`` sets the attributes
    declared here.
    """

    _api: GraphApi
    organizer: str
    """``[teams] organizer``: whose calendar new sessions are created in."""
    former_organizers: tuple[str, ...]
    """``[teams] former_organizers``: earlier organizers whose calendars still hold sessions."""
    _lock: threading.Lock
    _join_urls: dict[str, str]
    _online_ids: dict[str, str]
    _owners: dict[str, str]

    # --- MeetingProvider -------------------------------------------------------------------------

    def fetch_attendance(
        self, meeting_id: str, occurrence_id: str | None = None
    ) -> list[ParticipantRecord]:
        """Attendance intervals from the meeting's attendance reports, all pages read.

        ``occurrence_id`` is an attendance report id, or an ISO start time (the report of the
        sitting that started nearest to it); records are tagged with the report id. Without it,
        every report is read.
        """
        online = self.online_meeting_id(meeting_id)
        reports = self.attendance_reports(meeting_id)
        if occurrence_id is not None:
            chosen = _report_for(reports, occurrence_id)
            reports = [chosen] if chosen else []
        records: list[ParticipantRecord] = []
        for report in reports:
            path = (
                f"{self._meetings(online, meeting_id)}/attendanceReports/"
                f"{quote(report.id, safe='')}"
                "/attendanceRecords"
            )
            for record in self._api.pages(path):
                records.extend(attendance_records(record, report.id))
        return records

    def list_recordings(self, meeting_id: str) -> list[Recording]:
        """Recordings (video) and transcripts of the meeting's online meeting."""
        online = self.online_meeting_id(meeting_id)
        found: list[Recording] = []
        for leaf, kind in (
            ("recordings", RecordingKind.VIDEO),
            ("transcripts", RecordingKind.TRANSCRIPT),
        ):
            items = list(self._api.pages(f"{self._meetings(online, meeting_id)}/{leaf}"))
            found.extend(call_artifacts(items, meeting_id, kind))
        return found

    def fetch_transcript(self, meeting_id: str, recording: Recording) -> Transcript:
        """Download a transcript Graph listed (``GET …/transcripts/{id}/content`` with
        ``$format=text/vtt``) and read its WebVTT (speakers as ``<v Name>`` voice spans)."""
        if recording.kind is not RecordingKind.TRANSCRIPT or not recording.provider_id:
            raise ProviderError(
                f"recording {recording.provider_id!r} is a {recording.kind.value} file, not a "
                "Teams transcript",
                code="sessions.provider_rejected",
            )
        online = recording.extras.get("online_meeting_id")
        if not isinstance(online, str) or not online:
            online = self.online_meeting_id(meeting_id)
        transcript = quote(recording.provider_id, safe="")
        path = f"{self._meetings(online, meeting_id)}/transcripts/{transcript}"
        response = self._api.request(
            "GET",
            f"{path}/content",
            params={"$format": "text/vtt"},
            accept="text/vtt",
            max_bytes=MAX_TRANSCRIPT_BYTES,
        )
        # WebVTT is UTF-8 by definition; a stray byte becomes U+FFFD rather than losing the file.
        return Transcript.from_webvtt(response.content.decode("utf-8-sig", errors="replace"))

    # --- Teams extras ----------------------------------------------------------------------------

    def join_url(self, meeting_id: str) -> str:
        """The Teams join URL of a session (read once from the event, then cached)."""
        with self._lock:
            known = self._join_urls.get(meeting_id)
        if known:
            return known
        event = self._event(meeting_id)
        url = str((event.get("onlineMeeting") or {}).get("joinUrl") or "")
        if not url:
            raise NotFound(
                f"calendar event {meeting_id} has no Teams meeting; it was created without "
                "isOnlineMeeting, so recordings and attendance are unavailable for it",
                code="sessions.meeting_not_found",
            )
        with self._lock:
            self._join_urls[meeting_id] = url
        return url

    def online_meeting_id(self, meeting_id: str) -> str:
        """The onlineMeeting id behind a session, found by its join URL (cached)."""
        with self._lock:
            known = self._online_ids.get(meeting_id)
        if known:
            return known
        url = self.join_url(meeting_id).replace("'", "''")
        body = self._api.get(
            f"{self._calendar(meeting_id)}/onlineMeetings", {"$filter": f"JoinWebUrl eq '{url}'"}
        )
        found = [m for m in body.get("value") or [] if isinstance(m, dict) and m.get("id")]
        if not found:
            raise NotFound(
                f"Graph lists no online meeting for the join URL of event {meeting_id}; grant "
                "the app an application access policy for the organizer "
                "(Grant-CsApplicationAccessPolicy, see docs/providers/teams.md)",
                code="sessions.meeting_not_found",
            )
        online = str(found[0]["id"])
        with self._lock:
            self._online_ids[meeting_id] = online
        return online

    def attendance_reports(self, meeting_id: str) -> list[AttendanceReportInfo]:
        """Every attendance report of the session's online meeting, oldest first."""
        online = self.online_meeting_id(meeting_id)
        reports = [
            AttendanceReportInfo(
                id=str(item["id"]),
                meeting_start=parse_time(item.get("meetingStartDateTime")),
                meeting_end=parse_time(item.get("meetingEndDateTime")),
                total_participants=item.get("totalParticipantCount"),
            )
            for item in self._api.pages(f"{self._meetings(online, meeting_id)}/attendanceReports")
            if item.get("id")
        ]
        far_past = datetime.min.replace(tzinfo=UTC)
        return sorted(reports, key=lambda r: r.meeting_start or far_past)

    # --- internals -------------------------------------------------------------------------------

    def _owner(self, meeting_id: str) -> str:
        """The organizer whose calendar holds a session's event: ``[teams] organizer``, or, with
        ``former_organizers`` set, the first of it and them whose calendar has the event (asked
        once per session and process). When none has it, ``[teams] organizer``: the call that
        follows gets Graph's 404 and says so."""
        if not self.former_organizers:
            return self.organizer
        with self._lock:
            known = self._owners.get(meeting_id)
        if known:
            return known
        for candidate in (self.organizer, *self.former_organizers):
            path = f"{_user(candidate)}/events/{quote(meeting_id, safe='')}"
            try:
                self._api.get(path, {"$select": "id"})
            except NotFound:
                continue
            with self._lock:
                self._owners[meeting_id] = candidate
            return candidate
        return self.organizer

    def _calendar(self, meeting_id: str | None) -> str:
        """``/users/{organizer}`` of a session (new sessions: ``[teams] organizer``)."""
        return _user(self.organizer if meeting_id is None else self._owner(meeting_id))

    def _events(self, event_id: str | None = None, *, session: str | None = None) -> str:
        """The events path of the organizer of ``session`` (default: ``event_id`` itself; an
        occurrence's own event id lives in its series' calendar)."""
        base = f"{self._calendar(session or event_id)}/events"
        return base if event_id is None else f"{base}/{quote(event_id, safe='')}"

    def _meetings(self, online_id: str, meeting_id: str) -> str:
        online = quote(online_id, safe="")
        return f"{self._calendar(meeting_id)}/onlineMeetings/{online}"

    def _event(self, meeting_id: str) -> dict[str, Any]:
        return self._api.get(
            self._events(meeting_id), {"$select": "id,subject,onlineMeeting,webLink,type"}
        )

    def _remember_join_url(self, meeting: ProviderMeeting) -> None:
        if meeting.join_url:
            with self._lock:
                self._join_urls[meeting.meeting_id] = meeting.join_url


def _user(organizer: str) -> str:
    return f"/users/{quote(organizer, safe='@')}"


def _report_for(
    reports: list[AttendanceReportInfo], occurrence_id: str
) -> AttendanceReportInfo | None:
    for report in reports:
        if report.id == occurrence_id:
            return report
    moment = parse_time(occurrence_id)
    if moment is None:
        return None
    near = [
        (abs(r.meeting_start - moment), r)
        for r in reports
        if r.meeting_start is not None and abs(r.meeting_start - moment) <= _REPORT_MATCH_WINDOW
    ]
    return min(near, key=lambda pair: pair[0])[1] if near else None
