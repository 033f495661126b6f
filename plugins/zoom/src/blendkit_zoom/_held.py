"""What Zoom keeps of a held meeting: its past instances, attendance, cloud recordings,
transcripts, poll answers and Q&A (ZoomProvider's reads, as a base class)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from blendkit.errors import NotFound, ProviderAuthError, ProviderError
from blendkit.sessions import (
    ParticipantRecord,
    ProviderPollAnswer,
    ProviderQuestion,
    Recording,
    RecordingKind,
    Transcript,
)
from blendkit_zoom._api import ZoomApi, _object
from blendkit_zoom._convert import parse_time, participant_record, recording_files
from blendkit_zoom._ids import _numeric, is_numeric_meeting_id, meeting_path_segment
from blendkit_zoom._polls import (
    PollAnswer,
    QuestionAsked,
    as_participation,
    poll_answers,
    questions_asked,
)

__all__ = ["MAX_TRANSCRIPT_BYTES", "HeldMeetingReads", "PastInstance"]

MAX_TRANSCRIPT_BYTES = 5_000_000
"""A larger transcript file is refused (a day-long meeting's transcript is about 2 MB)."""

_INSTANCE_MATCH_WINDOW = timedelta(hours=12)
"""A past instance belongs to a scheduled occurrence when it started within this distance."""


class PastInstance(tuple[str, datetime | None]):
    """A held instance of a meeting: ``(uuid, start)`` as Zoom lists it."""

    __slots__ = ()

    @property
    def uuid(self) -> str:
        return self[0]

    @property
    def start(self) -> datetime | None:
        return self[1]


class HeldMeetingReads:
    """Zoom reads of a meeting's held instances, by meeting id or instance UUID.

    A base of :class:`~blendkit_zoom.ZoomProvider`, whose ``__init__`` sets ``_api``.
    """

    _api: ZoomApi

    # --- MeetingProvider -------------------------------------------------------------------------

    def fetch_attendance(
        self, meeting_id: str, occurrence_id: str | None = None
    ) -> list[ParticipantRecord]:
        """Every participant interval of a held meeting, all pages read, waiting room left out.

        ``occurrence_id`` may be a Zoom occurrence id (from :class:`ProviderMeeting`) or an
        instance UUID (from webhook events); records are tagged with it. Without it, every held
        instance is read and records are tagged with their instance UUID.
        """
        if occurrence_id is not None and not is_numeric_meeting_id(occurrence_id):
            return self._participants(occurrence_id, occurrence_id)
        if not is_numeric_meeting_id(meeting_id):
            return self._participants(meeting_id, occurrence_id or meeting_id)
        instances = self.past_instances(meeting_id)
        if occurrence_id is not None:
            instance = _instance_for(instances, occurrence_id)
            return self._participants(instance.uuid, occurrence_id) if instance else []
        records: list[ParticipantRecord] = []
        for instance in instances:
            records.extend(self._participants(instance.uuid, instance.uuid))
        return records

    def list_recordings(self, meeting_id: str) -> list[Recording]:
        """Every completed cloud-recording file of every held instance of the meeting."""
        found: list[Recording] = []
        for target in self._targets(meeting_id):
            response = self._api.request(
                "GET", f"/meetings/{meeting_path_segment(target)}/recordings", allow_404=True
            )
            if response.status_code != 404:
                found.extend(recording_files(_object(response)))
        return found

    def fetch_transcript(self, meeting_id: str, recording: Recording) -> Transcript:
        """Download a transcript (or closed-caption) file Zoom listed and read its WebVTT.

        The file is fetched from its ``download_url`` with the account's token; that URL must
        be on a Zoom host (``sessions.provider_unexpected`` otherwise).
        """
        if recording.kind not in (RecordingKind.TRANSCRIPT, RecordingKind.CAPTIONS):
            raise ProviderError(
                f"recording file {recording.provider_id!r} is a {recording.kind.value} file, "
                "not a transcript",
                code="sessions.provider_rejected",
            )
        if not recording.download_url:
            raise ProviderError(
                f"Zoom listed transcript file {recording.provider_id!r} of meeting "
                f"{meeting_id!r} without a download URL; check that the app has the "
                "cloud_recording:read scopes",
                code="sessions.provider_unexpected",
            )
        response = self._api.download(recording.download_url, max_bytes=MAX_TRANSCRIPT_BYTES)
        # WebVTT is UTF-8 by definition; a stray byte becomes U+FFFD rather than losing the file.
        return Transcript.from_webvtt(response.content.decode("utf-8-sig", errors="replace"))

    # --- Zoom extras -----------------------------------------------------------------------------

    def past_instances(self, meeting_id: str) -> list[PastInstance]:
        """Held instances of a meeting (uuid and start), oldest first, without duplicates."""
        response = self._api.request(
            "GET", f"/past_meetings/{_numeric(meeting_id)}/instances", allow_404=True
        )
        if response.status_code == 404:
            return []
        seen: dict[str, PastInstance] = {}
        for raw in _object(response).get("meetings") or []:
            if isinstance(raw, dict) and isinstance(raw.get("uuid"), str) and raw["uuid"]:
                seen.setdefault(
                    raw["uuid"], PastInstance((raw["uuid"], parse_time(raw.get("start_time"))))
                )
        far_past = datetime.min.replace(tzinfo=UTC)
        return sorted(seen.values(), key=lambda i: i.start or far_past)

    def poll_answers(self, meeting_id: str, occurrence_id: str | None = None) -> list[PollAnswer]:
        """Live-poll answers per participant and question, of one instance or all held ones."""
        found: list[PollAnswer] = []
        for target in self._targets(meeting_id, occurrence_id):
            body = self._optional(f"/past_meetings/{meeting_path_segment(target)}/polls")
            if body is not None:
                found.extend(poll_answers(meeting_id, body))
        return found

    def questions_asked(
        self, meeting_id: str, occurrence_id: str | None = None
    ) -> list[QuestionAsked]:
        """Q&A questions per participant, of one instance or all held ones."""
        found: list[QuestionAsked] = []
        for target in self._targets(meeting_id, occurrence_id):
            body = self._optional(f"/past_meetings/{meeting_path_segment(target)}/qa")
            if body is not None:
                found.extend(questions_asked(meeting_id, body))
        return found

    def participation(
        self, meeting_id: str, occurrence_id: str | None = None
    ) -> tuple[list[ProviderPollAnswer], list[ProviderQuestion]]:
        """Poll answers and Q&A questions as blendkit's provider-neutral values, for
        :meth:`blendkit.courses.LivePolls.import_provider` (the ``ParticipationSource`` hook)."""
        return as_participation(
            self.poll_answers(meeting_id, occurrence_id),
            self.questions_asked(meeting_id, occurrence_id),
        )

    # --- internals -------------------------------------------------------------------------------

    def _targets(self, meeting_id: str, occurrence_id: str | None = None) -> list[str]:
        """Meeting UUIDs to read per-instance data from (the id itself when none are listed)."""
        if occurrence_id is not None and not is_numeric_meeting_id(occurrence_id):
            return [occurrence_id]
        if not is_numeric_meeting_id(meeting_id):
            return [meeting_id]
        instances = self.past_instances(meeting_id)
        if occurrence_id is not None:
            instance = _instance_for(instances, occurrence_id)
            return [instance.uuid] if instance else []
        return [i.uuid for i in instances] or [meeting_id]

    def _participants(self, target: str, tag: str | None) -> list[ParticipantRecord]:
        seg = meeting_path_segment(target)
        try:
            rows = list(
                self._api.pages(
                    f"/report/meetings/{seg}/participants",
                    {"include_fields": "registrant_id"},
                    "participants",
                )
            )
        except (ProviderAuthError, NotFound):
            # The report needs a paid plan and its scope, and appears some time after the
            # meeting; the past-meeting list carries the same intervals.
            rows = list(self._api.pages(f"/past_meetings/{seg}/participants", None, "participants"))
        records = (participant_record(row, tag) for row in rows)
        return [r for r in records if r is not None]

    def _optional(self, path: str) -> dict[str, Any] | None:
        response = self._api.request("GET", path, allow_404=True)
        return None if response.status_code == 404 else _object(response)


def _instance_for(instances: list[PastInstance], occurrence_id: str) -> PastInstance | None:
    """The held instance nearest to the scheduled start an occurrence id encodes (epoch ms)."""
    try:
        scheduled = datetime.fromtimestamp(int(occurrence_id) / 1000, UTC)
    except (ValueError, OverflowError, OSError):
        return None
    near = [
        (abs(i.start - scheduled), i)
        for i in instances
        if i.start is not None and abs(i.start - scheduled) <= _INSTANCE_MATCH_WINDOW
    ]
    return min(near, key=lambda pair: pair[0])[1] if near else None
