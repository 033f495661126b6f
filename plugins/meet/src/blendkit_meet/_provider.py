"""MeetProvider: blendkit's MeetingProvider on Google Calendar and the Meet REST API.

A session is an event in the calendar of ``[meet] organizer`` created with a Meet conference
request (``conferenceData.createRequest`` of type ``hangoutsMeet``, ``conferenceDataVersion=1``);
the meeting id blendkit keeps is the event id, and the Meet space is found from the event's
``conferenceData.conferenceId`` (the meeting code). After creation the space is configured
through ``spaces.patch`` when ``[meet] access_type`` or ``moderation`` ask for it, and the event
is tagged with the space's name (a private extended property) so a Workspace event about the
space finds its session again.

Meet has no personal join links: :meth:`MeetProvider.join_link` returns the event's Meet link for
every learner and, with ``[meet] invite_roster``, invites the learner to the event, so their
Google account is expected in the meeting. Meet has no polls or Q&A in its API, so this provider
is not a ``ParticipationSource``; use blendkit's built-in polls.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx

from blendkit.errors import BlendkitError, ConfigError, NotFound, ProviderError
from blendkit.http import ClientOwner, Fence
from blendkit.sessions import (
    JoinLink,
    Learner,
    ParticipantRecord,
    ProviderMeeting,
    Recording,
    SessionSpec,
    Transcript,
    WebhookRequest,
    WebhookResult,
    provider_answers,
)
from blendkit_meet._api import CALENDAR_API, GoogleApi
from blendkit_meet._attendance import MeetAttendance
from blendkit_meet._auth import DIRECTORY_SCOPE, FencedRequest, GoogleTokenSource, organizer_scopes
from blendkit_meet._calendar import (
    conference_code,
    event_body,
    join_url,
    parse_instant,
    provider_meeting,
    utc_time,
)
from blendkit_meet._events import MeetEventHandler
from blendkit_meet._lookup import user_lookup
from blendkit_meet._push import PushVerifier
from blendkit_meet._recordings import MeetRecordings, RecordingSharing, ShareResult
from blendkit_meet._settings import MeetSettings
from blendkit_meet._spaces import SPACE_PROPERTY, MeetSpace, MeetSpaces
from blendkit_meet._subscriptions import MeetSubscription, SubscriptionManager

if TYPE_CHECKING:
    from blendkit.config import Settings
    from blendkit.http import RetryPolicy

# SPACE_PROPERTY and MeetSpace are defined in _spaces; this module still exports them.
__all__ = ["SPACE_PROPERTY", "MeetProvider", "MeetSpace"]

_log = logging.getLogger("blendkit_meet")


class MeetProvider(ClientOwner, MeetSpaces):
    """The ``meet`` meeting provider; build it as ``MeetProvider(settings, client=...)``.

    A session's Meet space is found, configured and remembered in :class:`MeetSpaces`.
    """

    name = "meet"

    def __init__(
        self,
        settings: Settings,
        *,
        client: httpx.Client | None = None,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        fence: Fence | None = None,
    ) -> None:
        meet = MeetSettings.of(settings)
        _, organizer = meet.require()
        info = meet.service_account_info()
        self.settings = meet
        super().__init__(client, timeout=meet.timeout_seconds)
        # Every Google call, the token grants included, goes through blendkit's outbound fence.
        fence = fence or Fence.from_settings(settings)

        def tokens(subject: str, scopes: tuple[str, ...]) -> GoogleTokenSource:
            return GoogleTokenSource(
                info,
                scopes=scopes,
                subject=subject,
                client=self._client,
                fence=fence,
                retry=retry,
                sleep=sleep,
                clock=clock,
                timeout=meet.timeout_seconds,
            )

        def api(source: GoogleTokenSource) -> GoogleApi:
            return GoogleApi(
                source,
                self._client,
                retry=retry,
                sleep=sleep,
                fence=fence,
                timeout=meet.timeout_seconds,
            )

        scopes = organizer_scopes(
            share_recordings=meet.share_recordings, people_lookup=meet.user_lookup == "people"
        )
        self.tokens = tokens(organizer, scopes)
        """The organiser's token (Calendar, Meet and, as the settings ask, Drive and People)."""
        self.api = api(self.tokens)
        self.directory_tokens = tokens(meet.directory_admin or organizer, (DIRECTORY_SCOPE,))
        """The token that reads the Workspace directory (``[meet] directory_admin``)."""
        self.directory_api = api(self.directory_tokens)
        self._calendar = f"{CALENDAR_API}/calendars/{quote(organizer, safe='')}/events"
        lookup_api = self.directory_api if meet.user_lookup == "directory" else self.api
        self.attendance = MeetAttendance(self.api, user_lookup(meet.user_lookup, lookup_api))
        self.recordings = MeetRecordings(self.api, self.attendance)
        self.sharing = RecordingSharing(self.api)
        verifier = PushVerifier(
            meet.push_audience,
            meet.push_service_account,
            FencedRequest(
                self._client,
                fence=fence,
                retry=retry,
                sleep=sleep,
                timeout=meet.timeout_seconds,
            ),
        )
        self._events = MeetEventHandler(verifier, meeting_of=self.meeting_of_space)
        self.subscriptions = SubscriptionManager(
            self.api, pubsub_topic=meet.pubsub_topic, sleep=sleep
        )
        """Workspace Events subscriptions of the organiser's Meet spaces (see meet-events.md)."""
        self._lock = threading.Lock()
        self._spaces: dict[str, MeetSpace] = {}
        self._by_space: dict[str, str] = {}
        self._invited: dict[str, set[str]] = {}

    # --- MeetingProvider -------------------------------------------------------------------------

    def create_session(self, spec: SessionSpec) -> ProviderMeeting:
        """Create the event with a Meet conference, configure its space and tag the event."""
        event = self.api.post(self._calendar, event_body(spec, create=True), self._write_params())
        if not join_url(event):  # Google may finish the conference a moment later
            event = self._event(str(event["id"]))
        meeting = provider_meeting(event, spec)
        code = conference_code(event)
        if code is None or not meeting.join_url:
            raise ProviderError(
                f"Google created calendar event {meeting.meeting_id} without a Meet conference "
                f"(status {meeting.extras.get('conference_status', 'unknown')}); check that "
                "Google Meet is on for the organiser's organisational unit and that the "
                "organiser's calendar allows Meet conferences (docs/providers/meet.md)",
                code="sessions.provider_unexpected",
            )
        space = self._configure_space(code, record=spec.record_automatically)
        self.api.patch(
            self._event_url(meeting.meeting_id),
            {"extendedProperties": {"private": {SPACE_PROPERTY: space}}},
            {"sendUpdates": "none"},
        )
        self._remember(MeetSpace(meeting.meeting_id, meeting.join_url, code, space))
        extras: dict[str, Any] = {**meeting.extras, "space": space}
        if self.settings.pubsub_topic:
            extras.update(self._subscribe_new(meeting.meeting_id, space))
        return meeting.model_copy(update={"extras": extras})

    def update_session(self, meeting_id: str, spec: SessionSpec) -> ProviderMeeting:
        """Change title, agenda, start, length or recurrence; the Meet space stays."""
        event = self.api.patch(
            self._event_url(meeting_id), event_body(spec, create=False), self._write_params()
        )
        return provider_meeting(event, spec)

    def cancel_session(self, meeting_id: str, occurrence_id: str | None = None) -> None:
        """Delete the event, or cancel one occurrence of a series.

        ``occurrence_id`` is an instance's event id or the occurrence's original start in ISO
        8601: the instance is found with ``events.instances`` (``originalStart``) and its status
        set to ``cancelled``, which Calendar keeps as an exception of the series.
        """
        params = {"sendUpdates": self._send_updates()}
        if occurrence_id is None:
            space = self.space(meeting_id).space if self.settings.pubsub_topic else None
            self.api.delete(self._event_url(meeting_id), params)
            with self._lock:
                self._spaces.pop(meeting_id, None)
                self._invited.pop(meeting_id, None)
            if space is not None:
                self._unsubscribe_cancelled(meeting_id, space)
            return
        instance = self._instance(meeting_id, occurrence_id)
        self.api.patch(self._event_url(instance), {"status": "cancelled"}, params)

    def move_occurrence(
        self, meeting_id: str, occurrence_id: str, start_utc: datetime, duration_minutes: int
    ) -> str:
        """Give one instance a new start and end; returns the instance's event id.

        Calendar keeps an instance's ``originalStartTime``, so the original start keeps finding
        it after the move too.
        """
        instance = self._instance(meeting_id, occurrence_id)
        end = start_utc + timedelta(minutes=duration_minutes)
        body = {"start": utc_time(start_utc), "end": utc_time(end)}
        self.api.patch(self._event_url(instance), body, {"sendUpdates": self._send_updates()})
        return instance

    def join_link(self, meeting_id: str, learner: Learner) -> JoinLink:
        """The event's Meet link, the same for every learner (Meet has no personal links).

        With ``[meet] invite_roster`` the learner is invited to the event first, when they have
        an e-mail address, so their Google account is an expected guest of the meeting.
        """
        url = self.space(meeting_id).join_url
        if self.settings.invite_roster:
            self.invite(meeting_id, [learner])
        with provider_answers("meet"):
            return JoinLink(meeting_id=meeting_id, learner_id=learner.id, url=url)

    def fetch_attendance(
        self, meeting_id: str, occurrence_id: str | None = None
    ) -> list[ParticipantRecord]:
        """Participant sessions of the space's conference records (see ``MeetAttendance``)."""
        return self.attendance.fetch(self.space(meeting_id).meeting_code, occurrence_id)

    def list_recordings(self, meeting_id: str) -> list[Recording]:
        """Generated recordings and transcripts of every sitting of the session's space."""
        return self.recordings.list_recordings(self.space(meeting_id).meeting_code, meeting_id)

    def fetch_transcript(self, meeting_id: str, recording: Recording) -> Transcript:
        """The entries of a transcript :meth:`list_recordings` listed, as timed cues."""
        del meeting_id  # the recording names its conference record
        return self.recordings.fetch_transcript(recording)

    def handle_webhook(self, request: WebhookRequest) -> WebhookResult:
        """Verify a Pub/Sub push (OIDC token) and map the Workspace event it carries."""
        return self._events.handle(request)

    # --- Meet extras -----------------------------------------------------------------------------

    def subscribe(self, meeting_id: str) -> MeetSubscription:
        """Deliver the Workspace events of the session's space to ``[meet] pubsub_topic``."""
        found = self.space(meeting_id)
        if found.space is None:
            raise NotFound(
                f"calendar event {meeting_id} does not name its Meet space (created before "
                "blendkit tagged events); its events cannot be subscribed to",
                code="sessions.meeting_not_found",
            )
        return self.subscriptions.subscribe(found.space)

    def renew_subscriptions(self, now: datetime) -> int:
        """Renew the Workspace subscriptions that expire soon of spaces whose session has a
        sitting ending after ``now`` less a day (``blendkit sessions import-ended`` calls this);
        nothing without ``[meet] pubsub_topic``."""
        if not self.settings.pubsub_topic:
            return 0
        since = now - timedelta(days=1)
        return len(
            self.subscriptions.renew_due(now, keep=lambda s: self.space_in_use(s.space, since))
        )

    def invite(self, meeting_id: str, learners: Iterable[Learner]) -> tuple[str, ...]:
        """Add the learners' e-mail addresses to the event's guests; returns those added.

        Learners without an address are skipped (Meet admits guests by Google account).
        """
        with self._lock:
            known = set(self._invited.get(meeting_id, set()))
        wanted = {
            learner.email.strip().lower()
            for learner in learners
            if learner.email and learner.email.strip()
        }
        if not wanted - known:
            return ()
        event = self._event(meeting_id)
        guests = [a for a in event.get("attendees") or [] if isinstance(a, dict)]
        present = {str(a.get("email", "")).lower() for a in guests}
        added = sorted(wanted - present)
        if added:
            body = {"attendees": [*guests, *({"email": email} for email in added)]}
            self.api.patch(self._event_url(meeting_id), body, {"sendUpdates": "all"})
        with self._lock:
            self._invited.setdefault(meeting_id, set()).update(present | wanted)
        return tuple(added)

    def share_recording(self, recording: Recording, learners: Iterable[Learner]) -> ShareResult:
        """Share a recording's or transcript's Drive file with the learners (``reader``)."""
        if not self.settings.share_recordings:
            raise ConfigError(
                "sharing Meet recordings needs [meet] share_recordings = true "
                "(BLENDKIT_MEET_SHARE_RECORDINGS) and the Drive scope delegated to the service "
                "account (docs/providers/meet.md)"
            )
        return self.sharing.share_with_learners(recording, learners)

    # --- internals -------------------------------------------------------------------------------

    def _subscribe_new(self, meeting_id: str, space: str) -> dict[str, str]:
        """Subscribe ``[meet] pubsub_topic`` to a new session's space.

        The session exists whatever happens here, so a failure is logged by its code and named
        in the meeting's extras (``subscription_error``) rather than raised; ``blendkit sessions
        import-ended`` still imports the session after it ends.
        """
        try:
            subscription = self.subscriptions.subscribe(space)
        except BlendkitError as exc:
            _log.warning(
                "Meet session %s: events of %s not subscribed (%s); attendance is imported by "
                "blendkit sessions import-ended instead",
                meeting_id,
                space,
                exc.code,
            )
            return {"subscription_error": exc.code}
        return {"subscription": subscription.name}

    def _unsubscribe_cancelled(self, meeting_id: str, space: str) -> None:
        """Delete the cancelled session's subscriptions; a failure is logged (they expire)."""
        try:
            self.subscriptions.unsubscribe_space(space)
        except BlendkitError as exc:
            _log.warning(
                "Meet session %s cancelled; its event subscriptions on %s stay until they "
                "expire (%s)",
                meeting_id,
                space,
                exc.code,
            )

    def _instance(self, meeting_id: str, occurrence_id: str) -> str:
        start = parse_instant(occurrence_id)
        if start is None:  # already an instance's event id
            return occurrence_id
        params = {"originalStart": start.strftime("%Y-%m-%dT%H:%M:%SZ"), "maxResults": "5"}
        url = f"{self._event_url(meeting_id)}/instances"
        for item in self.api.pages(url, params, "items"):
            if isinstance(item.get("id"), str):
                return str(item["id"])
        raise NotFound(
            f"the Meet session {meeting_id} has no occurrence starting at {start.isoformat()}; "
            "list its occurrences and use one of their start times",
            code="sessions.meeting_not_found",
        )

    def _send_updates(self) -> str:
        return "all" if self.settings.invite_roster else "none"

    def _write_params(self) -> dict[str, str]:
        return {"conferenceDataVersion": "1", "sendUpdates": self._send_updates()}
