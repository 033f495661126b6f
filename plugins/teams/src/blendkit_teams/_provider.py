"""TeamsProvider: blendkit's MeetingProvider on Microsoft Graph (Teams meetings as Outlook events).

A session is a calendar event of ``[teams] organizer`` created with ``isOnlineMeeting`` and the
``teamsForBusiness`` provider, so Teams attaches an online meeting to it (recordings and
transcripts exist only for meetings created this way). The online meeting is found by its join
URL (``$filter=JoinWebUrl eq '…'``); attendance comes from its attendance reports.

Teams has a single join URL per meeting: :meth:`TeamsProvider.join_link` returns that URL for
every learner, and attendance is matched to learners by Entra user id or email address.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import quote

import httpx

from blendkit.errors import BlendkitError, ConfigError, NotFound
from blendkit.http import ClientOwner, Fence
from blendkit.sessions import (
    JoinLink,
    Learner,
    ProviderMeeting,
    SessionSpec,
    WebhookRequest,
    WebhookResult,
    provider_answers,
)
from blendkit_teams._api import GraphApi, json_object
from blendkit_teams._auth import GraphTokenSource
from blendkit_teams._convert import event_body, parse_time, provider_meeting, utc_time
from blendkit_teams._coverage import Coverage
from blendkit_teams._lifecycle import LifecycleResponder
from blendkit_teams._notifications import GraphNotificationHandler
from blendkit_teams._online import AttendanceReportInfo, OnlineMeetingReads
from blendkit_teams._settings import TeamsSettings
from blendkit_teams._sittings import (
    AFTER_LAST_SITTING,
    SessionState,
    fate_by_session,
    session_state,
)
from blendkit_teams._subscriptions import Artifact, Subscription, SubscriptionManager

if TYPE_CHECKING:
    from blendkit.config import Settings
    from blendkit.http import RetryPolicy

# AttendanceReportInfo is defined in _online; this module still exports it.
__all__ = ["AttendanceReportInfo", "TeamsProvider"]

_log = logging.getLogger("blendkit_teams")


class TeamsProvider(ClientOwner, OnlineMeetingReads):
    """The ``teams`` meeting provider; build it as ``TeamsProvider(settings, client=...)``.

    Attendance, recordings, transcripts and the join URL are read in :class:`OnlineMeetingReads`.
    """

    name = "teams"

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
        teams = TeamsSettings.of(settings)
        keys = ("tenant_id", "client_id", "client_secret", "organizer")
        missing = [f"[teams] {key}" for key in keys if not getattr(teams, key)]
        if missing:
            raise ConfigError(
                f"the Teams provider needs {', '.join(missing)} (BLENDKIT_TEAMS_TENANT_ID, "
                "BLENDKIT_TEAMS_CLIENT_ID, BLENDKIT_TEAMS_CLIENT_SECRET, "
                "BLENDKIT_TEAMS_ORGANIZER) from an Entra app registration; see "
                "docs/providers/teams.md"
            )
        assert teams.tenant_id is not None  # narrowed above, for the type checker
        assert teams.client_id is not None
        assert teams.client_secret is not None
        assert teams.organizer is not None
        super().__init__(client, timeout=teams.timeout_seconds)
        self.organizer = teams.organizer
        self.former_organizers = tuple(
            o for o in teams.former_organizers if o.casefold() != teams.organizer.casefold()
        )
        # Every Graph call, the token request included, goes through blendkit's outbound fence.
        fence = fence or Fence.from_settings(settings)
        tokens = GraphTokenSource(
            tenant_id=teams.tenant_id,
            client_id=teams.client_id,
            client_secret=teams.client_secret.get_secret_value(),
            client=self._client,
            clock=clock,
            timeout=teams.timeout_seconds,
            fence=fence,
        )
        self._api = GraphApi(
            tokens,
            self._client,
            retry=retry,
            sleep=sleep,
            timeout=teams.timeout_seconds,
            fence=fence,
        )
        state = teams.client_state.get_secret_value() if teams.client_state else None
        self.notification_url = settings.tool.base_url.rstrip("/") + "/webhooks/teams"
        self.subscriptions = (
            SubscriptionManager(self._api, client_state=state, webhook_url=self.notification_url)
            if state is not None
            else None
        )
        self._notifications = GraphNotificationHandler(
            state,
            teams.tenant_id,
            known_expiry=self._known_expiry if self.subscriptions is not None else None,
        )
        self._coverage = (
            Coverage(
                self.subscriptions,
                lambda meeting, artifact: self.subscribe(meeting, artifact=artifact),
            )
            if self.subscriptions is not None
            else None
        )
        self._lifecycle = (
            LifecycleResponder(
                self.subscriptions,
                state=self.session_state,
                subscribe=lambda meeting, artifact: self.subscribe(meeting, artifact=artifact),
                recordings=self.list_recordings,
                clock=lambda: datetime.now(UTC),
            )
            if self.subscriptions is not None
            else None
        )
        self._lock = threading.Lock()
        self._join_urls: dict[str, str] = {}
        self._online_ids: dict[str, str] = {}
        self._owners: dict[str, str] = {}

    # --- MeetingProvider -------------------------------------------------------------------------

    def create_session(self, spec: SessionSpec) -> ProviderMeeting:
        """Create the calendar event with its Teams meeting, then, with ``[teams]
        client_state``, subscribe to the meeting's recordings and transcripts.

        The session exists whatever the subscribing does: a failure is logged (one WARNING)
        and named in the meeting's extras (``subscription_error``), and ``blendkit sessions
        import-ended`` subscribes the session on its next run.
        """
        meeting = provider_meeting(self._api.post(self._events(), event_body(spec)), spec)
        self._remember_join_url(meeting)
        if self.former_organizers:  # made in today's calendar: nothing to look up
            with self._lock:
                self._owners[meeting.meeting_id] = self.organizer
        if self._coverage is None:
            return meeting
        done = self._coverage.subscribe_new(meeting.meeting_id)
        extras = {**meeting.extras, "subscriptions": [s.id for s in done.created]}
        if done.failed:
            extras["subscription_error"] = done.failed[0].code
        return meeting.model_copy(update={"extras": extras})

    def update_session(self, meeting_id: str, spec: SessionSpec) -> ProviderMeeting:
        path = self._events(meeting_id)
        response = self._api.request("PATCH", path, json=event_body(spec))
        event = json_object(response) if response.content else self._event(meeting_id)
        meeting = provider_meeting(event, spec)
        self._remember_join_url(meeting)
        return meeting

    def cancel_session(self, meeting_id: str, occurrence_id: str | None = None) -> None:
        """Delete the event, or one occurrence of a series.

        ``occurrence_id`` is the occurrence's own event id, or its ISO start time (the
        occurrences blendkit lists carry their start): the instance starting then is looked up
        with ``GET /events/{id}/instances`` and deleted.
        """
        target = meeting_id if occurrence_id is None else self._instance(meeting_id, occurrence_id)
        self._api.request("DELETE", self._events(target, session=meeting_id))
        if occurrence_id is None:
            with self._lock:
                self._join_urls.pop(meeting_id, None)
                self._online_ids.pop(meeting_id, None)
                self._owners.pop(meeting_id, None)
            self._unsubscribe_session(meeting_id)

    def _unsubscribe_session(self, meeting_id: str) -> None:
        """Delete the subscriptions made for a cancelled session (listed from Graph, so those
        another process made go too). A failure is one WARNING: the event is gone, and the
        renewal deletes what is left when it next finds them."""
        if self.subscriptions is None:
            return
        try:
            for made in self.subscriptions.list_subscriptions():
                if made.meeting_id == meeting_id:
                    self.subscriptions.unsubscribe(made.id)
        except BlendkitError as exc:
            _log.warning(
                "Teams: the subscriptions of cancelled session %s were not all deleted (%s); "
                "the next subscription renewal deletes them",
                meeting_id,
                exc.code,
            )

    def move_occurrence(
        self, meeting_id: str, occurrence_id: str, start_utc: datetime, duration_minutes: int
    ) -> str:
        """Move one occurrence: ``PATCH`` its instance event, which Graph keeps as an exception.

        ``occurrence_id`` is the instance's event id, or its original start (looked up with
        ``GET /events/{id}/instances`` like :meth:`cancel_session`). Returns the instance's
        event id: after the move only that id (not the original start) finds it again.
        """
        instance = self._instance(meeting_id, occurrence_id)
        end = start_utc + timedelta(minutes=duration_minutes)
        body = {"start": utc_time(start_utc), "end": utc_time(end)}
        self._api.request("PATCH", self._events(instance, session=meeting_id), json=body)
        return instance

    def join_link(self, meeting_id: str, learner: Learner) -> JoinLink:
        """The meeting's join URL: Teams has one per meeting, the same for every learner."""
        with provider_answers("teams"):
            return JoinLink(
                meeting_id=meeting_id, learner_id=learner.id, url=self.join_url(meeting_id)
            )

    def handle_webhook(self, request: WebhookRequest) -> WebhookResult:
        """Verify a delivery and map it to events; lifecycle notifications are acted on
        (reauthorize, subscribe again, resynchronise: see ``_lifecycle``)."""
        result = self._notifications.handle(request)
        if self._lifecycle is None or not result.events:
            return result
        found = self._lifecycle.respond(result.events, request.query)
        if not found:
            return result
        return result.model_copy(update={"events": (*result.events, *found)})

    # --- SubscriptionRenewer ---------------------------------------------------------------------

    def renew_subscriptions(self, now: datetime) -> int:
        """Renew the due subscriptions Graph lists for this tool's webhook; return how many.

        ``blendkit sessions import-ended`` calls this. A session's subscriptions are renewed while
        it has a sitting ending after ``now`` less a day, left to expire after that, and deleted
        once its calendar event is cancelled, or answers 404 in the calendar of the organizer the
        subscription was made under (``?organizer=`` of its notification URL; one made before
        blendkit recorded it is left to expire instead). Each subscription is handled on its own;
        when any failed, ProviderError (``sessions.subscriptions_not_renewed``) names them after
        the others were handled. Nothing without ``[teams] client_state``.
        """
        if self.subscriptions is None:
            return 0
        since = now - AFTER_LAST_SITTING

        def state(meeting: str, organizer: str | None) -> SessionState:
            if organizer is None:  # made before the organizer was recorded: 404 proves nothing
                found = self._event_state(meeting, since, self._owner(meeting))
                return "unknown" if found is None else found
            return self.session_state(meeting, since, organizer=organizer)

        outcome = self.subscriptions.renew_due(now, fate=fate_by_session(state))
        if outcome.failed:
            raise outcome.error()
        return len(outcome.renewed)

    def subscribe_missing(self, meeting_ids: Sequence[str], now: datetime) -> int:
        """Subscribe the recordings and transcripts of each session of ``meeting_ids`` that
        Graph lists no live subscription for; return how many subscriptions were made.

        ``blendkit sessions import-ended`` calls this after the renewal with the sessions that
        have a sitting left (the ``blendkit.sessions.SessionSubscriber`` protocol). Each session
        is handled on its own; when any failed, ProviderError
        (``sessions.subscriptions_not_created``) names them after the others were handled.
        Nothing without ``[teams] client_state``.
        """
        if self._coverage is None:
            return 0
        done = self._coverage.subscribe_missing(meeting_ids, now)
        if done.failed:
            raise done.error()
        return len(done.created)

    def session_state(
        self, meeting_id: str, since: datetime, *, organizer: str | None = None
    ) -> SessionState:
        """``active`` when the session's event has a sitting ending after ``since``, ``over``
        when not, ``gone`` when the event was cancelled or is not in ``organizer``'s calendar
        (default: the session's, ``[teams] organizer`` or one of ``former_organizers``)."""
        found = self._event_state(meeting_id, since, organizer or self._owner(meeting_id))
        return "gone" if found is None else found

    def _event_state(self, meeting_id: str, since: datetime, organizer: str) -> SessionState | None:
        """The event's state read from ``organizer``'s calendar; None when Graph answers 404."""
        path = f"/users/{quote(organizer, safe='@')}/events/{quote(meeting_id, safe='')}"
        try:
            event = self._api.get(path, {"$select": "id,type,end,recurrence,isCancelled"})
        except NotFound:
            return None
        return session_state(event, since)

    # --- Teams extras ----------------------------------------------------------------------------

    def subscribe(self, meeting_id: str, *, artifact: Artifact = "recordings") -> Subscription:
        """Subscribe :attr:`notification_url` to new recordings (or transcripts) of a session."""
        if self.subscriptions is None:
            raise ConfigError(
                "subscriptions need [teams] client_state (BLENDKIT_TEAMS_CLIENT_STATE), the "
                "secret Graph repeats in every notification"
            )
        online = self.online_meeting_id(meeting_id)
        return self.subscriptions.subscribe(
            online,
            self.notification_url,
            artifact=artifact,
            meeting_id=meeting_id,
            organizer=self._owner(meeting_id),
        )

    # --- internals -------------------------------------------------------------------------------

    def _known_expiry(self, subscription_id: str) -> datetime | None:
        """The expiry bounding a notification's claimed one: asked from Graph when this process
        knows the subscription (another process may have renewed it since), else None."""
        assert self.subscriptions is not None  # only installed with a manager
        known = self.subscriptions.expiry(subscription_id)
        if known is None:
            return None
        try:
            current = self.subscriptions.current(subscription_id)
        except BlendkitError:
            return known
        return current.expires_at if current is not None else known

    def _instance(self, meeting_id: str, occurrence_id: str) -> str:
        start = parse_time(occurrence_id)
        if start is None:  # already an instance's event id
            return occurrence_id
        window = {
            "startDateTime": (start - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "endDateTime": (start + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        found = [
            str(item["id"])
            for item in self._api.pages(f"{self._events(meeting_id)}/instances", window)
            if isinstance(item.get("id"), str)
        ]
        if not found:
            raise NotFound(
                f"the Teams meeting {meeting_id} has no occurrence starting at "
                f"{start.isoformat()}; list its occurrences and use one of their start times"
            )
        return found[0]
