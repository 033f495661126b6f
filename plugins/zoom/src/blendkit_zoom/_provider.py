"""ZoomProvider: blendkit's MeetingProvider on the Zoom Meetings API (Server-to-Server OAuth).

Meetings are created for the host ``[zoom] user_id``. With ``personal_join_links`` the meeting
requires registration with automatic approval, so each learner registered through
:meth:`ZoomProvider.join_link` gets a join URL of their own and a ``registrant_id`` that Zoom
repeats in the participants report: the strongest key for matching attendance to learners.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx

from blendkit.errors import ConfigError, NotFound, ProviderAuthError, ProviderError
from blendkit.http import ClientOwner, Fence
from blendkit.sessions import (
    EventLedger,
    JoinLink,
    Learner,
    Occurrence,
    ParticipantRecord,
    ProviderMeeting,
    ProviderPollAnswer,
    ProviderQuestion,
    Recording,
    RecordingKind,
    SessionSpec,
    Transcript,
    WebhookRequest,
    WebhookResult,
    find_occurrence,
    original_start,
    provider_answers,
)
from blendkit_zoom._api import ZoomApi
from blendkit_zoom._auth import ZoomTokenSource
from blendkit_zoom._convert import (
    APPROVAL_NO_REGISTRATION,
    meeting_body,
    parse_time,
    participant_record,
    provider_meeting,
    recording_files,
    zoom_time,
)
from blendkit_zoom._ids import is_numeric_meeting_id, meeting_path_segment
from blendkit_zoom._polls import (
    PollAnswer,
    QuestionAsked,
    as_participation,
    poll_answers,
    questions_asked,
)
from blendkit_zoom._settings import ZoomSettings
from blendkit_zoom._webhook import ZoomWebhookVerifier

if TYPE_CHECKING:
    from blendkit.config import Settings
    from blendkit.http import RetryPolicy

__all__ = ["PastInstance", "ZoomProvider"]

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


class ZoomProvider(ClientOwner):
    """The ``zoom`` meeting provider; build it as ``ZoomProvider(settings, client=...)``.

    ``sleep`` and ``clock`` are injectable so rate-limit waits and token expiry can be tested
    without waiting. When no ``client`` is given the provider opens its own and :meth:`close`
    closes it.
    """

    name = "zoom"

    def __init__(
        self,
        settings: Settings,
        *,
        client: httpx.Client | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        replay_ledger: EventLedger | None = None,
        fence: Fence | None = None,
    ) -> None:
        zoom = ZoomSettings.of(settings)
        missing = [
            f"[zoom] {key}"
            for key in ("account_id", "client_id", "client_secret")
            if not getattr(zoom, key)
        ]
        if missing:
            raise ConfigError(
                f"the Zoom provider needs {', '.join(missing)} (BLENDKIT_ZOOM_ACCOUNT_ID, "
                "BLENDKIT_ZOOM_CLIENT_ID, BLENDKIT_ZOOM_CLIENT_SECRET) from a Server-to-Server "
                "OAuth app; see docs/providers/zoom.md"
            )
        assert zoom.account_id is not None  # narrowed above, for the type checker
        assert zoom.client_id is not None
        assert zoom.client_secret is not None
        super().__init__(client, timeout=zoom.timeout_seconds)
        self._user = zoom.user_id
        # Every Zoom call, the token request included, goes through blendkit's outbound fence.
        fence = fence or Fence.from_settings(settings)
        self._tokens = ZoomTokenSource(
            account_id=zoom.account_id,
            client_id=zoom.client_id,
            client_secret=zoom.client_secret.get_secret_value(),
            client=self._client,
            clock=clock,
            timeout=zoom.timeout_seconds,
            fence=fence,
        )
        self._api = ZoomApi(
            self._tokens,
            self._client,
            retry=retry,
            sleep=sleep,
            timeout=zoom.timeout_seconds,
            fence=fence,
        )
        secret = zoom.webhook_secret.get_secret_value() if zoom.webhook_secret else None
        self._webhooks = ZoomWebhookVerifier(secret, replay_ledger=replay_ledger)

    # --- MeetingProvider -------------------------------------------------------------------------

    def create_session(self, spec: SessionSpec) -> ProviderMeeting:
        user = quote(self._user, safe="@")
        response = self._api.request("POST", f"/users/{user}/meetings", json=meeting_body(spec))
        return provider_meeting(_object(response), spec)

    def update_session(self, meeting_id: str, spec: SessionSpec) -> ProviderMeeting:
        seg = _numeric(meeting_id)
        self._api.request("PATCH", f"/meetings/{seg}", json=meeting_body(spec))
        return self.meeting(meeting_id)

    def cancel_session(self, meeting_id: str, occurrence_id: str | None = None) -> None:
        params = {"occurrence_id": occurrence_id} if occurrence_id else None
        self._api.request("DELETE", f"/meetings/{_numeric(meeting_id)}", params=params)

    def move_occurrence(
        self, meeting_id: str, occurrence_id: str, start_utc: datetime, duration_minutes: int
    ) -> str:
        """``PATCH /meetings/{id}?occurrence_id=…`` with the new start (UTC) and duration.

        ``occurrence_id`` is Zoom's occurrence id, or the occurrence's original start: Zoom
        numbers an occurrence by its original start in epoch milliseconds and keeps that number
        when the occurrence moves, so the start is looked up among the listed occurrences.
        """
        wanted = self._occurrence_id(meeting_id, occurrence_id)
        body = {"start_time": zoom_time(start_utc), "duration": duration_minutes}
        self._api.request(
            "PATCH",
            f"/meetings/{_numeric(meeting_id)}",
            params={"occurrence_id": wanted},
            json=body,
        )
        return wanted

    def join_link(self, meeting_id: str, learner: Learner) -> JoinLink:
        seg = _numeric(meeting_id)
        if learner.email:
            first, last = _split_name(learner)
            body: dict[str, Any] = {"email": learner.email, "first_name": first}
            if last:
                body["last_name"] = last
            body["auto_approve"] = True
            try:
                response = self._api.request("POST", f"/meetings/{seg}/registrants", json=body)
            except ProviderError as exc:
                if isinstance(exc, ProviderAuthError) or exc.code != "sessions.provider_rejected":
                    raise
                return self._shared_link(meeting_id, learner, exc)
            registered = _object(response)
            with provider_answers("zoom"):
                return JoinLink(
                    meeting_id=meeting_id,
                    learner_id=learner.id,
                    url=str(registered["join_url"]),
                    registrant_id=str(registered.get("registrant_id") or "") or None,
                )
        return self._shared_link(meeting_id, learner, None)

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

    def handle_webhook(self, request: WebhookRequest) -> WebhookResult:
        return self._webhooks.handle(request)

    # --- Zoom extras -----------------------------------------------------------------------------

    def meeting(self, meeting_id: str) -> ProviderMeeting:
        """The meeting as Zoom has it now, with its upcoming occurrences."""
        body = self._api.get(f"/meetings/{_numeric(meeting_id)}")
        return provider_meeting(body)

    def occurrences(self, meeting_id: str) -> tuple[Occurrence, ...]:
        """Scheduled occurrences, past ones included."""
        body = self._api.get(
            f"/meetings/{_numeric(meeting_id)}", {"show_previous_occurrences": True}
        )
        return provider_meeting(body).occurrences

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

    def _occurrence_id(self, meeting_id: str, ref: str) -> str:
        start = original_start(ref)
        if start is None:
            return ref
        listed = self.occurrences(meeting_id)
        by_start = find_occurrence(listed, ref)
        if by_start is not None and by_start.occurrence_id:
            return by_start.occurrence_id
        numbered = str(int(start.timestamp() * 1000))
        if any(o.occurrence_id == numbered for o in listed):
            return numbered
        raise NotFound(
            f"the Zoom meeting {meeting_id} has no occurrence starting at {start.isoformat()}; "
            "list its occurrences and use one of their ids or start times"
        )

    def _shared_link(
        self, meeting_id: str, learner: Learner, cause: ProviderError | None
    ) -> JoinLink:
        body = self._api.get(f"/meetings/{_numeric(meeting_id)}")
        settings = body.get("settings") or {}
        if settings.get("approval_type", APPROVAL_NO_REGISTRATION) != APPROVAL_NO_REGISTRATION:
            reason = (
                "Zoom refused to register them"
                if cause is not None
                else "they have no email address in the roster"
            )
            raise ProviderError(
                f"no personal Zoom link for learner {learner.id}: the meeting requires "
                f"registration and {reason}; add their email in the LMS or create the session "
                "without personal join links",
                code="sessions.join_link_unavailable",
            ) from cause
        with provider_answers("zoom"):
            return JoinLink(meeting_id=meeting_id, learner_id=learner.id, url=str(body["join_url"]))

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


def _numeric(meeting_id: str) -> str:
    if not is_numeric_meeting_id(meeting_id):
        raise ProviderError(
            f"{meeting_id!r} is not a Zoom meeting id (a number such as 85746065432); pass the "
            "meeting_id returned by create_session",
            code="sessions.provider_rejected",
        )
    return meeting_id


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


def _split_name(learner: Learner) -> tuple[str, str]:
    name = " ".join(learner.name.split())
    if not name:
        local = (learner.email or learner.id).split("@", 1)[0]
        return local[:64] or "Learner", ""
    first, _, last = name.rpartition(" ")
    if not first:
        return last[:64], ""
    return first[:64], last[:64]


def _object(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError as exc:
        raise ProviderError(
            f"Zoom answered {response.request.method} {response.request.url.path} with a body "
            "that is not JSON",
            code="sessions.provider_unexpected",
        ) from exc
    if not isinstance(body, dict):
        raise ProviderError(
            "Zoom answered with JSON that is not an object", code="sessions.provider_unexpected"
        )
    return body
