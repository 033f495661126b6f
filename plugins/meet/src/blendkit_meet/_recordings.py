"""Meet recordings and transcripts as blendkit recordings, transcripts for captions, and sharing.

Each sitting (conference record) of a space may have recordings (an MP4 in the organiser's
Drive) and transcripts (a Google Doc), each with a state: only ``FILE_GENERATED`` ones have a
file, so the others are left out until Meet finishes them. A transcript's *entries* (one per
spoken passage, with the speaking participant) become caption cues. Sharing gives the course's
learners reader access to the Drive file through ``permissions.create``, once per learner.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from urllib.parse import quote

from blendkit.errors import BlendkitError, NotFound
from blendkit.sessions import (
    Learner,
    Recording,
    RecordingKind,
    Transcript,
    TranscriptCue,
    normalise_email,
    provider_answers,
)
from blendkit_meet._api import DRIVE_API, MEET_API, GoogleApi
from blendkit_meet._attendance import MeetAttendance, display_name, parse_google_time

__all__ = [
    "MeetRecordings",
    "RecordingSharing",
    "ShareFailure",
    "ShareResult",
    "drive_file_id",
]

FILE_GENERATED = "FILE_GENERATED"


def _seconds(start: datetime | None, end: datetime | None) -> int | None:
    if start is None or end is None or end < start:
        return None
    return int((end - start).total_seconds())


_ARTIFACTS = {
    "recordings": (RecordingKind.VIDEO, "driveDestination", "file", "Meet recording"),
    "transcripts": (RecordingKind.TRANSCRIPT, "docsDestination", "document", "Meet transcript"),
}
"""Per list: the blendkit kind, where Meet puts the Drive file, its id field, and a title."""


def _artifact(
    leaf: str, item: Mapping[str, Any], meeting_id: str, sitting: str
) -> Recording | None:
    """A recording (MP4) or transcript (Doc) whose file exists; None while Meet still writes it."""
    kind, destination, id_field, title = _ARTIFACTS[leaf]
    where = item.get(destination) or {}
    file_id, link = str(where.get(id_field) or ""), str(where.get("exportUri") or "")
    if item.get("state") != FILE_GENERATED or not (file_id or link):
        return None
    start, end = parse_google_time(item.get("startTime")), parse_google_time(item.get("endTime"))
    with provider_answers("meet"):
        return Recording(
            provider_id=str(item["name"]),
            meeting_id=meeting_id,
            kind=kind,
            play_url=link or None,
            duration_seconds=_seconds(start, end),
            start_utc=start,
            end_utc=end,
            occurrence_id=sitting,
            title=title,
            extras={"drive_file_id": file_id, "conference_record": sitting},
        )


def drive_file_id(recording: Recording) -> str | None:
    """The Drive file id behind a Meet recording or transcript (None when Meet gave none)."""
    value = recording.extras.get("drive_file_id")
    return value if isinstance(value, str) and value else None


class MeetRecordings:
    """Lists a space's finished recordings and transcripts and reads transcripts as cues.

    ``api`` carries the organiser's token (scope ``…/auth/meetings.space.readonly``);
    ``attendance`` finds the space's sittings and the speakers' names.
    """

    def __init__(self, api: GoogleApi, attendance: MeetAttendance) -> None:
        self._api = api
        self._attendance = attendance

    def list_recordings(self, meeting_code: str, meeting_id: str) -> list[Recording]:
        """Every ``FILE_GENERATED`` recording (VIDEO) and transcript (TRANSCRIPT) of the space."""
        found: list[Recording] = []
        for sitting in self._attendance.conference_records(meeting_code):
            for leaf in _ARTIFACTS:
                for item in self._api.pages(f"{MEET_API}/{sitting.name}/{leaf}", None, leaf):
                    made = (
                        _artifact(leaf, item, meeting_id, sitting.name)
                        if item.get("name")
                        else None
                    )
                    if made is not None:
                        found.append(made)
        return found

    def fetch_transcript(self, recording: Recording) -> Transcript:
        """The transcript's entries as cues, timed from the start of ``recording``.

        Times are seconds from ``recording.start_utc`` (the transcript's own start), or from
        the sitting's start when the recording has none; speakers are the participants'
        display names (None for an entry whose participant is not listed).
        """
        if recording.kind is not RecordingKind.TRANSCRIPT or "/transcripts/" not in (
            recording.provider_id
        ):
            raise NotFound(
                f"{recording.provider_id} is not a Meet transcript; pass a recording of kind "
                "transcript from list_recordings",
                code="sessions.meeting_not_found",
            )
        sitting = recording.provider_id.split("/transcripts/", 1)[0]
        origin = recording.start_utc or self._sitting_start(sitting)
        speakers = {
            str(p.get("name")): display_name(p) or None
            for p in self._attendance.participants(sitting)
        }
        entries = self._api.pages(
            f"{MEET_API}/{recording.provider_id}/entries", None, "transcriptEntries"
        )
        cues: list[TranscriptCue] = []
        languages: Counter[str] = Counter()
        for entry in entries:
            start = parse_google_time(entry.get("startTime"))
            end = parse_google_time(entry.get("endTime"))
            text = str(entry.get("text") or "").strip()
            if start is None or not text:
                continue
            zero = origin or start
            begin = max((start - zero).total_seconds(), 0.0)
            finish = max(((end or start) - zero).total_seconds(), begin)
            cues.append(
                TranscriptCue(
                    start=begin,
                    end=finish,
                    text=text,
                    speaker=speakers.get(str(entry.get("participant") or "")),
                )
            )
            if isinstance(entry.get("languageCode"), str) and entry["languageCode"]:
                languages[entry["languageCode"]] += 1
        cues.sort(key=lambda cue: (cue.start, cue.end))
        language = languages.most_common(1)[0][0] if languages else None
        return Transcript(cues=tuple(cues), language=language)

    def _sitting_start(self, sitting: str) -> datetime | None:
        body = self._api.get(f"{MEET_API}/{sitting}")
        return parse_google_time(body.get("startTime"))


@dataclass(frozen=True)
class ShareFailure:
    """One learner the file could not be shared with, and why."""

    email: str
    reason: str
    learner_id: str | None = None


@dataclass(frozen=True)
class ShareResult:
    """What sharing one file did: newly shared, already able to read it, and failures."""

    file_id: str
    shared: tuple[str, ...] = ()
    already: tuple[str, ...] = ()
    failed: tuple[ShareFailure, ...] = ()


class RecordingSharing:
    """Gives learners reader access to a recording's Drive file, skipping who already has it.

    ``api`` carries the file owner's (the organiser's) token with the scope
    ``https://www.googleapis.com/auth/drive``. No notification e-mail is sent: the course page
    links the recording. A failure for one learner is reported in the result, not raised.
    """

    def __init__(self, api: GoogleApi) -> None:
        self._api = api

    def share(self, recording: Recording, emails: Iterable[str]) -> ShareResult:
        """Share ``recording``'s file with every address in ``emails`` (blank ones ignored)."""
        file_id = drive_file_id(recording)
        if file_id is None:
            raise NotFound(
                f"Meet gave no Drive file for {recording.provider_id}; it cannot be shared until "
                "its file is generated",
                code="sessions.meeting_not_found",
            )
        wanted: dict[str, str] = {}
        for email in emails:
            key = normalise_email(email)
            if key is not None:
                wanted.setdefault(key, email.strip())
        url = f"{DRIVE_API}/files/{quote(file_id, safe='')}/permissions"
        have = {
            normalise_email(str(p.get("emailAddress") or ""))
            for p in self._api.pages(
                url,
                {"supportsAllDrives": "true", "fields": "nextPageToken,permissions(emailAddress)"},
                "permissions",
            )
        }
        shared: list[str] = []
        already: list[str] = []
        failed: list[ShareFailure] = []
        for key, email in sorted(wanted.items()):
            if key in have:
                already.append(email)
                continue
            try:
                self._api.post(
                    url,
                    {"role": "reader", "type": "user", "emailAddress": email},
                    {"sendNotificationEmail": "false", "supportsAllDrives": "true"},
                )
            except BlendkitError as exc:
                failed.append(ShareFailure(email=email, reason=exc.message))
                continue
            shared.append(email)
        return ShareResult(
            file_id=file_id, shared=tuple(shared), already=tuple(already), failed=tuple(failed)
        )

    def share_with_learners(self, recording: Recording, learners: Iterable[Learner]) -> ShareResult:
        """:meth:`share` with the learners' roster addresses; one without any is a failure."""
        learners = list(learners)
        result = self.share(recording, [learner.email or "" for learner in learners])
        missing = tuple(
            ShareFailure(
                email="",
                learner_id=learner.id,
                reason=f"learner {learner.id} has no e-mail address on the roster; the LMS must "
                "share it (names and roles provisioning with e-mail) for recordings to be shared",
            )
            for learner in learners
            if normalise_email(learner.email) is None
        )
        return replace(result, failed=result.failed + missing)
