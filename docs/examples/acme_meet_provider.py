"""A minimal meeting-provider plugin for a made-up service, "Acme Meet".

It shows everything a real plugin needs: the factory signature, an injected ``httpx.Client``
with timeouts, paging, errors mapped onto blendkit's error tree, and a webhook verified with an
HMAC over the raw body, and its own ``[acme]`` settings section. Register both in your
distribution's pyproject.toml:

    [project.entry-points."blendkit.meeting_providers"]
    acme = "acme_meet_provider:AcmeMeetProvider"

    [project.entry-points."blendkit.settings"]
    acme = "acme_meet_provider:AcmeSettings"

The section is then configured like a built-in one: ``[acme] api_token = "…"`` in the TOML file
or ``BLENDKIT_ACME_API_TOKEN``; an unknown key (``[acme] api_tokn``) stops start-up with one
line naming it.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta
from typing import Any

import httpx
from pydantic import Field, SecretStr

from blendkit.config import Settings, SettingsSection
from blendkit.errors import NotFound, ProviderAuthError, ProviderError, WebhookRejected
from blendkit.sessions import (
    GenericEvent,
    JoinLink,
    Learner,
    MeetingEnded,
    Occurrence,
    ParticipantRecord,
    ProviderMeeting,
    Recording,
    RecordingKind,
    SessionSpec,
    WebhookRequest,
    WebhookResponse,
    WebhookResult,
    find_occurrence,
    original_start,
)


class AcmeSettings(SettingsSection):
    """``[acme]``: the API token and webhook secret of the tool's Acme Meet account."""

    api_token: SecretStr | None = None
    webhook_secret: SecretStr | None = None
    base_url: str = "https://api.acme-meet.example/v1"
    timeout_seconds: float = Field(default=10.0, gt=0, le=120)


class AcmeMeetProvider:
    """Acme Meet over its REST API; settings come from the ``[acme]`` section."""

    name = "acme"

    def __init__(
        self,
        settings: Settings,
        *,
        client: httpx.Client | None = None,
    ) -> None:
        acme = settings.plugin("acme", AcmeSettings)
        token = acme.api_token.get_secret_value() if acme.api_token else ""
        secret = acme.webhook_secret.get_secret_value() if acme.webhook_secret else ""
        self._secret = secret.encode()
        self._timeout = acme.timeout_seconds
        self._http = client or httpx.Client(timeout=httpx.Timeout(acme.timeout_seconds))
        self._base = acme.base_url.rstrip("/")
        self._headers = {"authorization": f"Bearer {token}"}

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self._http.request(
                method, self._base + path, headers=self._headers, timeout=self._timeout, **kwargs
            )
        except httpx.HTTPError as exc:
            raise ProviderError(f"Acme Meet is unreachable ({type(exc).__name__})") from exc
        if response.status_code in (401, 403):
            raise ProviderAuthError("Acme Meet refused the API token; check [acme] api_token")
        if response.status_code == 404:
            raise NotFound(f"Acme Meet has no {path}")
        if response.status_code >= 400:
            raise ProviderError(f"Acme Meet answered {response.status_code} to {method} {path}")
        return response.json() if response.content else None

    def _meeting(self, body: dict[str, Any]) -> ProviderMeeting:
        length = timedelta(minutes=body["duration"])
        occurrences = tuple(
            Occurrence(
                index=i,
                occurrence_id=o["id"],
                start_utc=datetime.fromisoformat(o["start"]),
                end_utc=datetime.fromisoformat(o["start"]) + length,
            )
            for i, o in enumerate(body.get("occurrences", []))
        )
        return ProviderMeeting(
            provider=self.name,
            meeting_id=str(body["id"]),
            join_url=body["join_url"],
            start_url=body.get("start_url"),
            occurrences=occurrences,
        )

    @staticmethod
    def _payload(spec: SessionSpec) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "title": spec.title,
            "start": spec.start_utc.isoformat(),
            "timezone": spec.time_zone,
            "duration": spec.duration_minutes,
        }
        if spec.recurrence is not None:
            payload["recurrence"] = spec.recurrence.model_dump(mode="json")
        return payload

    def create_session(self, spec: SessionSpec) -> ProviderMeeting:
        return self._meeting(self._call("POST", "/meetings", json=self._payload(spec)))

    def update_session(self, meeting_id: str, spec: SessionSpec) -> ProviderMeeting:
        return self._meeting(
            self._call("PATCH", f"/meetings/{meeting_id}", json=self._payload(spec))
        )

    def cancel_session(self, meeting_id: str, occurrence_id: str | None = None) -> None:
        params = {"occurrence_id": occurrence_id} if occurrence_id else {}
        self._call("DELETE", f"/meetings/{meeting_id}", params=params)

    def move_occurrence(
        self, meeting_id: str, occurrence_id: str, start_utc: datetime, duration_minutes: int
    ) -> str:
        # Acme Meet names occurrences by id only: an original start is looked up first.
        wanted = occurrence_id
        start = original_start(occurrence_id)
        if start is not None:
            listed = self._meeting(self._call("GET", f"/meetings/{meeting_id}")).occurrences
            found = find_occurrence(listed, occurrence_id)
            if found is None or found.occurrence_id is None:
                raise NotFound(f"Acme Meet meeting {meeting_id} has no occurrence at {start}")
            wanted = found.occurrence_id
        body = {"start": start_utc.isoformat(), "duration": duration_minutes}
        self._call("PATCH", f"/meetings/{meeting_id}/occurrences/{wanted}", json=body)
        return wanted

    def join_link(self, meeting_id: str, learner: Learner) -> JoinLink:
        body = self._call(
            "POST",
            f"/meetings/{meeting_id}/registrants",
            json={"name": learner.name, "email": learner.email},
        )
        return JoinLink(
            meeting_id=meeting_id,
            learner_id=learner.id,
            url=body["join_url"],
            registrant_id=body["registrant_id"],
        )

    def fetch_attendance(
        self, meeting_id: str, occurrence_id: str | None = None
    ) -> list[ParticipantRecord]:
        records: list[ParticipantRecord] = []
        params: dict[str, str] = {"occurrence_id": occurrence_id} if occurrence_id else {}
        while True:
            page = self._call("GET", f"/meetings/{meeting_id}/participants", params=params)
            records.extend(
                ParticipantRecord(
                    join_time=datetime.fromisoformat(p["joined"]),
                    leave_time=datetime.fromisoformat(p["left"]) if p.get("left") else None,
                    registrant_id=p.get("registrant_id"),
                    provider_user_id=p.get("user_id"),
                    email=p.get("email"),
                    display_name=p.get("name", ""),
                    connection_id=p.get("device"),
                    occurrence_id=occurrence_id,
                )
                for p in page["participants"]
            )
            if not page.get("next_page_token"):
                return records
            params = {**params, "page_token": page["next_page_token"]}

    def list_recordings(self, meeting_id: str) -> list[Recording]:
        body = self._call("GET", f"/meetings/{meeting_id}/recordings")
        kinds = {
            "mp4": RecordingKind.VIDEO,
            "m4a": RecordingKind.AUDIO,
            "vtt": RecordingKind.TRANSCRIPT,
        }
        return [
            Recording(
                provider_id=f["id"],
                meeting_id=meeting_id,
                kind=kinds.get(f["type"], RecordingKind.OTHER),
                play_url=f.get("play_url"),
                download_url=f.get("download_url"),
                duration_seconds=f.get("seconds"),
            )
            for f in body["files"]
        ]

    def handle_webhook(self, request: WebhookRequest) -> WebhookResult:
        expected = hmac.new(self._secret, request.body, hashlib.sha256).hexdigest()
        given = request.header("x-acme-signature") or ""
        if not self._secret or not hmac.compare_digest(expected, given):
            raise WebhookRejected(
                "Acme Meet webhook signature does not match; check [acme] webhook_secret",
                code="sessions.webhook_bad_signature",
            )
        try:
            body = request.parsed_json()
            if not isinstance(body, dict):
                raise TypeError("not a JSON object")
            event_id, kind = str(body["id"]), str(body["type"])
        except (ValueError, KeyError, TypeError) as exc:
            raise WebhookRejected(
                "Acme Meet webhook body is not the expected JSON", code="sessions.webhook_malformed"
            ) from exc
        common = {"event_id": event_id, "provider": self.name, "meeting_id": body.get("meeting_id")}
        event = (
            MeetingEnded(**common)
            if kind == "meeting.ended"
            else GenericEvent(**common, name=kind, payload=body)
        )
        return WebhookResult(response=WebhookResponse.empty(), events=(event,))
