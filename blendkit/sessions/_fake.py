"""An in-memory meeting provider that behaves like a real one, for the demo and for tests.

It keeps meetings, registrants, participants and recordings in memory. Meeting ids are random
(64 bits: a meeting cannot be guessed from another's id), and the webhook secret is random unless
given (the example app passes one secret generated once per install and shared by its workers).
Tests and the demo script what happens in a meeting (:meth:`FakeMeetingProvider.join`,
:meth:`~FakeMeetingProvider.leave`, :meth:`~FakeMeetingProvider.end` …); every such step also
queues a webhook request signed like Zoom's (HMAC-SHA256 over ``v0:<timestamp>:<body>``), so the
whole webhook path can be exercised with :meth:`~FakeMeetingProvider.pending_webhooks`.
"""

from __future__ import annotations

import hashlib
import hmac
import html
import json
import secrets
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from pydantic import TypeAdapter, ValidationError

from blendkit.errors import NotFound, ProviderError, WebhookRejected
from blendkit.sessions._answers import provider_answers
from blendkit.sessions._events import (
    SessionEvent,
    WebhookRequest,
    WebhookResponse,
    WebhookResult,
)
from blendkit.sessions._models import (
    JoinLink,
    Learner,
    Occurrence,
    ParticipantRecord,
    ProviderMeeting,
    Recording,
    RecordingKind,
    SessionSpec,
)
from blendkit.sessions._recurrence import expand_occurrences, find_occurrence
from blendkit.sessions._transcripts import Transcript

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    import httpx

    from blendkit.config import Settings

__all__ = ["FakeMeetingProvider"]

_EVENTS: TypeAdapter[SessionEvent] = TypeAdapter(SessionEvent)
SIGNATURE_HEADER = "x-fake-signature"
TIMESTAMP_HEADER = "x-fake-request-timestamp"


def _sign(secret: bytes, message: str) -> str:
    return hmac.new(secret, message.encode("utf-8"), hashlib.sha256).hexdigest()


@dataclass
class _Meeting:
    spec: SessionSpec
    occurrences: list[Occurrence]
    registrants: dict[str, Learner] = field(default_factory=dict)
    participants: dict[str, ParticipantRecord] = field(default_factory=dict)
    recordings: list[Recording] = field(default_factory=list)
    transcripts: dict[str, str] = field(default_factory=dict)


class FakeMeetingProvider:
    """A :class:`~blendkit.sessions.MeetingProvider` kept in memory; safe to share across threads.

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

    def handle_webhook(self, request: WebhookRequest) -> WebhookResult:
        token = request.query.get("validationToken")
        if request.method == "POST" and token is not None and not request.body:
            return WebhookResult(response=WebhookResponse.text(token))
        self._verify(request)
        try:
            document = request.parsed_json()
            if not isinstance(document, dict):
                raise TypeError("the body is not a JSON object")
            kind = document.get("event")
            if kind == "endpoint.url_validation":
                plain = str(document["payload"]["plainToken"])
                answer = {"plainToken": plain, "encryptedToken": _sign(self._secret, plain)}
                return WebhookResult(response=WebhookResponse.from_json(answer))
            event = _EVENTS.validate_python(document["payload"])
        except (ValueError, TypeError, KeyError, ValidationError) as exc:
            raise WebhookRejected(
                f"fake webhook body is malformed ({type(exc).__name__}); the sender must post "
                "the JSON documents FakeMeetingProvider produces",
                code="sessions.webhook_malformed",
            ) from exc
        if event.type != kind or event.provider != self.name:
            raise WebhookRejected(
                "fake webhook names a different event or provider than its payload",
                code="sessions.webhook_malformed",
            )
        return WebhookResult(response=WebhookResponse.empty(), events=(event,))

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

    def signed_request(self, document: Mapping[str, object], *, at: datetime) -> WebhookRequest:
        """A POST carrying ``document`` signed with the webhook secret at ``at``."""
        body = json.dumps(document, separators=(",", ":"))
        stamp = str(int(at.timestamp()))
        signature = "v0=" + _sign(self._secret, f"v0:{stamp}:{body}")
        return WebhookRequest(
            method="POST",
            path="/webhooks/fake",
            headers={
                "content-type": "application/json",
                TIMESTAMP_HEADER: stamp,
                SIGNATURE_HEADER: signature,
            },
            body=body.encode("utf-8"),
            received_at=at,
        )

    # --- internals -------------------------------------------------------------------------------

    def _meeting(self, meeting_id: str) -> _Meeting:
        meeting = self._meetings.get(meeting_id)
        if meeting is None:
            raise NotFound(
                f"fake meeting {meeting_id!r} does not exist (cancelled, or created by another "
                "FakeMeetingProvider instance)"
            )
        return meeting

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

    def _verify(self, request: WebhookRequest) -> None:
        stamp = request.header(TIMESTAMP_HEADER)
        signature = request.header(SIGNATURE_HEADER)
        if not stamp or not signature:
            raise WebhookRejected(
                f"fake webhook lacks {TIMESTAMP_HEADER} or {SIGNATURE_HEADER}; only signed "
                "deliveries are accepted",
                code="sessions.webhook_unsigned",
            )
        try:
            sent = datetime.fromtimestamp(int(stamp), UTC)
        except (ValueError, OverflowError, OSError) as exc:
            raise WebhookRejected(
                f"fake webhook {TIMESTAMP_HEADER} is not a Unix time in seconds",
                code="sessions.webhook_malformed",
            ) from exc
        message = b"v0:" + stamp.encode("ascii", "replace") + b":" + request.body
        expected = "v0=" + hmac.new(self._secret, message, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
            raise WebhookRejected(
                "fake webhook signature does not match; check that sender and receiver share "
                "the same webhook secret and that the body is passed on unchanged",
                code="sessions.webhook_bad_signature",
            )
        if abs(request.received_at - sent) > self._max_age:
            raise WebhookRejected(
                f"fake webhook timestamp is more than {self._max_age} away from its arrival; "
                "check the server clock (a replayed delivery also looks like this)",
                code="sessions.webhook_stale",
            )


def _sample_transcript(title: str) -> str:
    """What the fake's transcript file says when a test or the demo gives no text."""
    lines = [
        ("00:00:01.000 --> 00:00:06.000", "Host", f"Welcome to {title}."),
        ("00:00:06.500 --> 00:00:12.000", "Host", "Today we work through the pre-work together."),
        ("00:00:12.500 --> 00:00:18.000", "Learner", "Could you repeat the last example?"),
    ]
    blocks = [f"{when}\n<v {who}>{html.escape(text, quote=False)}" for when, who, text in lines]
    return "WEBVTT\n\n" + "\n\n".join(blocks) + "\n"
