"""The fake provider's meetings in memory and what tests and the demo script happen in them
(joins, leaves, recordings), each step queued as a signed webhook; a base class."""

from __future__ import annotations

import html
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from blendkit.errors import NotFound
from blendkit.sessions._answers import provider_answers
from blendkit.sessions._events import WebhookRequest
from blendkit.sessions._fake_webhooks import _EVENTS, FakeWebhooks
from blendkit.sessions._models import (
    JoinLink,
    Learner,
    Occurrence,
    ParticipantRecord,
    Recording,
    RecordingKind,
    SessionSpec,
)

__all__ = ["FakeMeetings"]


@dataclass
class _Meeting:
    spec: SessionSpec
    occurrences: list[Occurrence]
    registrants: dict[str, Learner] = field(default_factory=dict)
    participants: dict[str, ParticipantRecord] = field(default_factory=dict)
    recordings: list[Recording] = field(default_factory=list)
    transcripts: dict[str, str] = field(default_factory=dict)


class FakeMeetings(FakeWebhooks):
    """The meetings kept in memory, scripting what happens in them and queueing its webhooks.

    A base of :class:`~blendkit.sessions.FakeMeetingProvider`, whose ``__init__`` sets the
    attributes declared here.
    """

    _base_url: str
    _lock: threading.RLock
    _meetings: dict[str, _Meeting]
    _counter: int
    _outbox: list[WebhookRequest]
    _failing_downloads: int

    # --- scripting what happens in a meeting -----------------------------------------------------

    def join(
        self,
        meeting_id: str,
        *,
        at: datetime,
        display_name: str = "",
        link: JoinLink | None = None,
        email: str | None = None,
        provider_user_id: str | None = None,
        occurrence_id: str | None = None,
    ) -> str:
        """A participant joins (through ``link`` when given); returns the connection id."""
        with self._lock:
            meeting = self._meeting(meeting_id)
            if link is not None and link.meeting_id != meeting_id:
                raise NotFound(
                    f"the join link is for fake meeting {link.meeting_id}, not {meeting_id}"
                )
            registrant_id = link.registrant_id if link is not None else None
            if registrant_id is not None and registrant_id in meeting.registrants:
                registered = meeting.registrants[registrant_id]
                email = email or registered.email
                display_name = display_name or registered.name
            occurrence = self._occurrence_at(meeting_id, at, occurrence_id)
            self._counter += 1
            connection_id = f"fc{self._counter:06d}"
            record = ParticipantRecord(
                join_time=at,
                provider_user_id=provider_user_id,
                registrant_id=registrant_id,
                email=email,
                display_name=display_name,
                connection_id=connection_id,
                occurrence_id=occurrence.occurrence_id,
            )
            meeting.participants[connection_id] = record
            self._queue("participant.joined", meeting_id, occurrence, at, participant=record)
            return connection_id

    def leave(self, meeting_id: str, connection_id: str, *, at: datetime) -> ParticipantRecord:
        """The participant on ``connection_id`` leaves at ``at``."""
        with self._lock:
            meeting = self._meeting(meeting_id)
            record = meeting.participants.get(connection_id)
            if record is None or record.leave_time is not None:
                raise NotFound(f"no open connection {connection_id!r} in fake meeting {meeting_id}")
            closed = record.model_copy(update={"leave_time": max(at, record.join_time)})
            meeting.participants[connection_id] = closed
            occurrence = self._occurrence_by_id(meeting_id, closed.occurrence_id)
            self._queue("participant.left", meeting_id, occurrence, at, participant=closed)
            return closed

    def start(self, meeting_id: str, *, at: datetime, occurrence_id: str | None = None) -> None:
        """The host starts the meeting (queues ``meeting.started``)."""
        with self._lock:
            occurrence = self._occurrence_at(meeting_id, at, occurrence_id)
            self._queue("meeting.started", meeting_id, occurrence, at)

    def end(self, meeting_id: str, *, at: datetime, occurrence_id: str | None = None) -> None:
        """The meeting ends: whoever is still in leaves at ``at``; queues ``meeting.ended``."""
        with self._lock:
            meeting = self._meeting(meeting_id)
            occurrence = self._occurrence_at(meeting_id, at, occurrence_id)
            for connection_id, record in list(meeting.participants.items()):
                if record.leave_time is None and record.occurrence_id == occurrence.occurrence_id:
                    self.leave(meeting_id, connection_id, at=at)
            self._queue("meeting.ended", meeting_id, occurrence, at)

    def add_recording(
        self,
        meeting_id: str,
        kind: RecordingKind,
        *,
        start: datetime,
        duration_seconds: int,
        occurrence_id: str | None = None,
        transcript: str | None = None,
    ) -> Recording:
        """A recording file becomes available (queues ``recording.completed``); a
        ``transcript`` file holds the WebVTT text ``transcript`` (a short sample when None)."""
        with self._lock:
            meeting = self._meeting(meeting_id)
            occurrence = self._occurrence_at(meeting_id, start, occurrence_id)
            file_id = f"fr-{meeting_id}-{len(meeting.recordings) + 1}"
            with provider_answers(self.name):
                recording = Recording(
                    provider_id=file_id,
                    meeting_id=meeting_id,
                    kind=kind,
                    play_url=f"{self._base_url}/rec/play/{file_id}",
                    download_url=f"{self._base_url}/rec/download/{file_id}",
                    duration_seconds=duration_seconds,
                    start_utc=start,
                    end_utc=start + timedelta(seconds=duration_seconds),
                    occurrence_id=occurrence.occurrence_id,
                    title=f"{meeting.spec.title} ({kind.value})",
                )
            meeting.recordings.append(recording)
            if kind is RecordingKind.TRANSCRIPT:
                meeting.transcripts[file_id] = transcript or _sample_transcript(meeting.spec.title)
            self._queue(
                "recording.completed", meeting_id, occurrence, start, recordings=(recording,)
            )
            return recording

    def fail_downloads(self, count: int) -> None:
        """The next ``count`` transcript downloads answer like a provider outage (503)."""
        with self._lock:
            self._failing_downloads = count

    def pending_webhooks(self) -> list[WebhookRequest]:
        """Signed webhook requests queued since the last call, oldest first."""
        with self._lock:
            queued, self._outbox = self._outbox, []
            return queued

    # --- internals -------------------------------------------------------------------------------

    def _meeting(self, meeting_id: str) -> _Meeting:
        meeting = self._meetings.get(meeting_id)
        if meeting is None:
            raise NotFound(
                f"fake meeting {meeting_id!r} does not exist (cancelled, or created by another "
                "FakeMeetingProvider instance)"
            )
        return meeting

    def _occurrence_by_id(self, meeting_id: str, occurrence_id: str | None) -> Occurrence:
        for occurrence in self._meeting(meeting_id).occurrences:
            if occurrence.occurrence_id == occurrence_id:
                return occurrence
        raise NotFound(f"fake meeting {meeting_id} has no occurrence {occurrence_id!r}")

    def _occurrence_at(
        self, meeting_id: str, at: datetime, occurrence_id: str | None
    ) -> Occurrence:
        if occurrence_id is not None:
            return self._occurrence_by_id(meeting_id, occurrence_id)
        occurrences = self._meeting(meeting_id).occurrences
        if not occurrences:
            raise NotFound(f"fake meeting {meeting_id} has no occurrence left")
        return min(occurrences, key=lambda o: abs((o.start_utc - at).total_seconds()))

    def _queue(
        self,
        event_type: str,
        meeting_id: str,
        occurrence: Occurrence,
        at: datetime,
        **fields: object,
    ) -> None:
        self._counter += 1
        event = _EVENTS.validate_python(
            {
                "type": event_type,
                "event_id": f"fe{self._counter:06d}",
                "provider": self.name,
                "meeting_id": meeting_id,
                "occurrence_id": occurrence.occurrence_id,
                "occurred_at": at,
                **fields,
            }
        )
        document = {"event": event.type, "payload": event.model_dump(mode="json")}
        self._outbox.append(self.signed_request(document, at=at))


def _sample_transcript(title: str) -> str:
    """What the fake's transcript file says when a test or the demo gives no text."""
    lines = [
        ("00:00:01.000 --> 00:00:06.000", "Host", f"Welcome to {title}."),
        ("00:00:06.500 --> 00:00:12.000", "Host", "Today we work through the pre-work together."),
        ("00:00:12.500 --> 00:00:18.000", "Learner", "Could you repeat the last example?"),
    ]
    blocks = [f"{when}\n<v {who}>{html.escape(text, quote=False)}" for when, who, text in lines]
    return "WEBVTT\n\n" + "\n\n".join(blocks) + "\n"
