"""ZoomProvider: blendkit's MeetingProvider on the Zoom Meetings API (Server-to-Server OAuth).

Meetings are created for the host ``[zoom] user_id``. With ``personal_join_links`` the meeting
requires registration with automatic approval, so each learner registered through
:meth:`ZoomProvider.join_link` gets a join URL of their own and a ``registrant_id`` that Zoom
repeats in the participants report: the strongest key for matching attendance to learners.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
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
    ProviderMeeting,
    SessionSpec,
    WebhookRequest,
    WebhookResult,
    find_occurrence,
    original_start,
    provider_answers,
)
from blendkit_zoom._api import ZoomApi, _object
from blendkit_zoom._auth import ZoomTokenSource
from blendkit_zoom._convert import (
    APPROVAL_NO_REGISTRATION,
    meeting_body,
    provider_meeting,
    zoom_time,
)
from blendkit_zoom._held import HeldMeetingReads, PastInstance
from blendkit_zoom._ids import _numeric
from blendkit_zoom._settings import ZoomSettings
from blendkit_zoom._webhook import ZoomWebhookVerifier

if TYPE_CHECKING:
    from blendkit.config import Settings
    from blendkit.http import RetryPolicy

__all__ = ["PastInstance", "ZoomProvider"]


class ZoomProvider(ClientOwner, HeldMeetingReads):
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


def _split_name(learner: Learner) -> tuple[str, str]:
    name = " ".join(learner.name.split())
    if not name:
        local = (learner.email or learner.id).split("@", 1)[0]
        return local[:64] or "Learner", ""
    first, _, last = name.rpartition(" ")
    if not first:
        return last[:64], ""
    return first[:64], last[:64]
