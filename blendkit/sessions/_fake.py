"""The in-memory meeting provider for the demo and for tests: its constructor and the
MeetingProvider calls (scripting meetings is in _fake_meetings, webhooks in _fake_webhooks)."""

from __future__ import annotations

import hashlib
import secrets
import threading
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from blendkit.errors import NotFound, ProviderError
from blendkit.sessions._answers import provider_answers
from blendkit.sessions._fake_meetings import FakeMeetings, _Meeting
from blendkit.sessions._models import (
    JoinLink,
    Learner,
    Occurrence,
    ParticipantRecord,
    ProviderMeeting,
    Recording,
    SessionSpec,
)
from blendkit.sessions._recurrence import expand_occurrences, find_occurrence
from blendkit.sessions._transcripts import Transcript

if TYPE_CHECKING:
    from collections.abc import Callable

    import httpx

    from blendkit.config import Settings
    from blendkit.sessions._events import WebhookRequest

__all__ = ["FakeMeetingProvider"]


class FakeMeetingProvider(FakeMeetings):
    """A :class:`~blendkit.sessions.MeetingProvider` kept in memory; safe to share across threads.

    It keeps meetings, registrants, participants and recordings in memory. Meeting ids are random
    (64 bits: a meeting cannot be guessed from another's id), and the webhook secret is random
    unless given (the example app passes one secret generated once per install and shared by its
    workers). Tests and the demo script what happens in a meeting (:meth:`join`, :meth:`leave`,
    :meth:`end` …); every such step also queues a webhook request signed like Zoom's
    (HMAC-SHA256 over ``v0:<timestamp>:<body>``), so the whole webhook path can be exercised
    with :meth:`pending_webhooks`.

    ``settings`` and ``client`` are accepted to match the factory contract; the fake does no I/O.
    """

    name = "fake"

    def __init__(
        self,
        settings: Settings | None = None,
        *,
        client: httpx.Client | None = None,
        webhook_secret: str | None = None,
        base_url: str = "https://meet.example.invalid",
        max_webhook_age: timedelta = timedelta(minutes=5),
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        del settings, client  # nothing to configure and nothing to call
        self._secret = (webhook_secret or secrets.token_urlsafe(32)).encode("utf-8")
        self._base_url = base_url.rstrip("/")
        self._max_age = max_webhook_age
        self._clock = clock or (lambda: datetime.now(UTC))
        self._lock = threading.RLock()
        self._meetings: dict[str, _Meeting] = {}
        self._counter = 0
        self._outbox: list[WebhookRequest] = []
        self._failing_downloads = 0

    # --- MeetingProvider -------------------------------------------------------------------------

    def create_session(self, spec: SessionSpec) -> ProviderMeeting:
        with self._lock:
            meeting_id = f"fm{secrets.token_hex(8)}"
            self._meetings[meeting_id] = _Meeting(spec, self._occurrences(meeting_id, spec))
            return self._describe(meeting_id)

    def update_session(self, meeting_id: str, spec: SessionSpec) -> ProviderMeeting:
        with self._lock:
            meeting = self._meeting(meeting_id)
            meeting.spec = spec
            meeting.occurrences = self._occurrences(meeting_id, spec)
            return self._describe(meeting_id)

    def cancel_session(self, meeting_id: str, occurrence_id: str | None = None) -> None:
        with self._lock:
            meeting = self._meeting(meeting_id)
            if occurrence_id is None:
                del self._meetings[meeting_id]
                return
            kept = [o for o in meeting.occurrences if o.occurrence_id != occurrence_id]
            if len(kept) == len(meeting.occurrences):
                raise NotFound(
                    f"fake meeting {meeting_id} has no occurrence {occurrence_id!r}; list its "
                    "occurrences from the ProviderMeeting returned at creation"
                )
            meeting.occurrences = kept

    def move_occurrence(
        self, meeting_id: str, occurrence_id: str, start_utc: datetime, duration_minutes: int
    ) -> str:
        """Move one occurrence (by its id or original start); its id stays the same."""
        with self._lock:
            meeting = self._meeting(meeting_id)
            known = find_occurrence(meeting.occurrences, occurrence_id)
            if known is None:  # named by an original start it has since been moved from
                original = find_occurrence(
                    self._occurrences(meeting_id, meeting.spec), occurrence_id
                )
                ids = {o.occurrence_id for o in meeting.occurrences}
                known = original if original is not None and original.occurrence_id in ids else None
            if known is None:
                raise NotFound(
                    f"fake meeting {meeting_id} has no occurrence {occurrence_id!r} (cancelled, "
                    "or not one of its occurrences); use an id or start from its occurrences"
                )
            moved = Occurrence(
                index=known.index,
                start_utc=start_utc,
                end_utc=start_utc + timedelta(minutes=duration_minutes),
                occurrence_id=known.occurrence_id,
            )
            meeting.occurrences = [
                moved if o.occurrence_id == known.occurrence_id else o for o in meeting.occurrences
            ]
            return f"{meeting_id}.{known.index}"

    def join_link(self, meeting_id: str, learner: Learner) -> JoinLink:
        with self._lock:
            meeting = self._meeting(meeting_id)
            digest = hashlib.sha256(f"{meeting_id}\0{learner.id}".encode()).hexdigest()
            registrant_id = f"fr{digest[:16]}"
            meeting.registrants[registrant_id] = learner
            with provider_answers(self.name):
                return JoinLink(
                    meeting_id=meeting_id,
                    learner_id=learner.id,
                    url=f"{self._base_url}/j/{meeting_id}?tk={registrant_id}",
                    registrant_id=registrant_id,
                )

    def fetch_attendance(
        self, meeting_id: str, occurrence_id: str | None = None
    ) -> list[ParticipantRecord]:
        """Participant intervals of one occurrence, or of every occurrence when None."""
        with self._lock:
            meeting = self._meeting(meeting_id)
            return [
                record
                for record in meeting.participants.values()
                if occurrence_id is None or record.occurrence_id == occurrence_id
            ]

    def list_recordings(self, meeting_id: str) -> list[Recording]:
        with self._lock:
            return list(self._meeting(meeting_id).recordings)

    def fetch_transcript(self, meeting_id: str, recording: Recording) -> Transcript:
        """The transcript file's WebVTT read into a :class:`~blendkit.sessions.Transcript`
        (``NotFound`` for a file of the meeting that is not a transcript)."""
        with self._lock:
            meeting = self._meeting(meeting_id)
            if self._failing_downloads:
                self._failing_downloads -= 1
                raise ProviderError(
                    "the fake provider answered 503 to the transcript download; retry later",
                    code="sessions.provider_unavailable",
                )
            vtt = meeting.transcripts.get(recording.provider_id)
        if vtt is None:
            raise NotFound(
                f"recording file {recording.provider_id!r} of meeting {meeting_id!r} has no "
                "transcript to download"
            )
        return Transcript.from_webvtt(vtt)

    # --- internals -------------------------------------------------------------------------------

    def _describe(self, meeting_id: str) -> ProviderMeeting:
        meeting = self._meetings[meeting_id]
        with provider_answers(self.name):
            return ProviderMeeting(
                provider=self.name,
                meeting_id=meeting_id,
                join_url=f"{self._base_url}/j/{meeting_id}",
                start_url=f"{self._base_url}/s/{meeting_id}",
                occurrences=tuple(meeting.occurrences),
                extras={"registration_required": meeting.spec.personal_join_links},
            )

    def _occurrences(self, meeting_id: str, spec: SessionSpec) -> list[Occurrence]:
        return [
            o.model_copy(update={"occurrence_id": f"{meeting_id}.{o.index}"})
            for o in expand_occurrences(spec)
        ]
