"""Microsoft Graph (events, onlineMeetings, attendance, artifacts, subscriptions) for tests.

An ``httpx.MockTransport`` handler with state. Answers are shaped after the Graph v1.0 schemas
the contract tests validate them against; collections are paged with absolute
``@odata.nextLink`` URLs carrying a ``$skiptoken``, as Graph does. Creating a subscription runs
the ``validationToken`` handshake against the notification endpoint the test plugs in.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, quote, unquote

import httpx

from blendkit.config import Settings
from blendkit.sessions import Recurrence, SessionSpec, WebhookRequest, WebhookResult

TENANT = "7f3a2b1c-0000-4000-8000-0000000000aa"
CLIENT_ID = "11111111-2222-4333-8444-555555555555"
CLIENT_SECRET = "graph-secret-value"  # test credentials
ORGANIZER = "teacher@contoso.edu"
CLIENT_STATE = "client-state-9f8e7d"
GRAPH = "https://graph.microsoft.com/v1.0"
TOKEN_URL = f"https://login.microsoftonline.com/{TENANT}/oauth2/v2.0/token"
START = datetime(2026, 3, 3, 9, 0, tzinfo=UTC)  # a Tuesday, 10:00 in Berlin


def teams_settings(**teams: Any) -> Settings:
    values = {
        "tenant_id": TENANT,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "organizer": ORGANIZER,
        "client_state": CLIENT_STATE,
        **teams,
    }
    return Settings(teams=values, tool={"base_url": "https://tool.example.edu"})


def spec(**changes: Any) -> SessionSpec:
    base: dict[str, Any] = {
        "title": "Design studio",
        "start_utc": START,
        "time_zone": "Europe/Berlin",
        "duration_minutes": 60,
        "recurrence": Recurrence(frequency="weekly", weekdays=(1, 3), count=12),
        "agenda": "Critique and studio time",
    }
    return SessionSpec(**{**base, **changes})


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f0Z")


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(
        status,
        content=json.dumps(body).encode(),
        headers={
            "content-type": "application/json;odata.metadata=minimal;charset=utf-8",
            **(headers or {}),
        },
    )


def graph_error(status: int, code: str, message: str) -> httpx.Response:
    return _json(status, {"error": {"code": code, "message": message}})


def attendance_record(
    record_id: str,
    *,
    name: str,
    intervals: list[tuple[datetime, datetime]],
    email: str | None = None,
    user_id: str | None = None,
    role: str = "Attendee",
) -> dict[str, Any]:
    """An attendanceRecord as Graph sends it (guests have no identity id)."""
    return {
        "id": record_id,
        "emailAddress": email,
        "totalAttendanceInSeconds": int(sum((b - a).total_seconds() for a, b in intervals)),
        "role": role,
        "registrationId": None,
        "identity": {"id": user_id, "displayName": name, "tenantId": TENANT if user_id else None},
        "attendanceIntervals": [
            {
                "joinDateTime": stamp(a),
                "leaveDateTime": stamp(b),
                "durationInSeconds": int((b - a).total_seconds()),
            }
            for a, b in intervals
        ],
    }


@dataclass
class GraphFake:
    """The vendor side. ``faults`` are answered, in order, to the next Graph API calls."""

    page_size: int = 2
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    meetings: dict[str, dict[str, Any]] = field(default_factory=dict)
    reports: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    records: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    recordings: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    transcripts: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    transcript_content: dict[str, str] = field(default_factory=dict)
    """WebVTT of each transcript id, answered to ``…/transcripts/{id}/content``."""
    subscriptions: dict[str, dict[str, Any]] = field(default_factory=dict)
    instances: dict[str, dict[str, datetime]] = field(default_factory=dict)
    faults: list[httpx.Response] = field(default_factory=list)
    tokens: set[str] = field(default_factory=set)
    token_requests: int = 0
    notification_endpoint: Callable[[WebhookRequest], WebhookResult] | None = None
    validations: list[str] = field(default_factory=list)
    reauthorized: list[str] = field(default_factory=list)
    organizers: set[str] = field(default_factory=lambda: {ORGANIZER})
    """The users with a calendar here; another user's path answers ``ErrorInvalidUser``."""
    owners: dict[str, str] = field(default_factory=dict)
    """Whose calendar each event (and the online meeting of its id) is in."""
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def revoke_tokens(self) -> None:
        self.tokens.clear()

    def hold(
        self, online_id: str, start: datetime, end: datetime, people: list[dict[str, Any]]
    ) -> str:
        """Record one sitting of an online meeting: an attendance report with its records."""
        report_id = f"ar-{len(self.records) + 1:03d}-c0ffee"
        self.reports.setdefault(online_id, []).append(
            {
                "id": report_id,
                "totalParticipantCount": len(people),
                "meetingStartDateTime": stamp(start),
                "meetingEndDateTime": stamp(end),
                "externalEventInformation": [],
            }
        )
        self.records[report_id] = people
        return report_id

    # --- transport ------------------------------------------------------------------------------

    def __call__(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url.copy_with(query=None))
        if url == TOKEN_URL:
            return self._token(request)
        if request.url.host != "graph.microsoft.com":
            return graph_error(404, "NotFound", "unknown host")
        if request.headers.get("authorization", "").removeprefix("Bearer ") not in self.tokens:
            return graph_error(
                401, "InvalidAuthenticationToken", "Access token has expired or is not yet valid."
            )
        if self.faults:
            return self.faults.pop(0)
        path = unquote(request.url.path.removeprefix("/v1.0"))
        body = json.loads(request.content) if request.content else None
        return self._route(request.method, path, request.url.params, body)

    def _token(self, request: httpx.Request) -> httpx.Response:
        self.token_requests += 1
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        if form.get("client_secret") != CLIENT_SECRET or form.get("client_id") != CLIENT_ID:
            return _json(
                401,
                {
                    "error": "invalid_client",
                    "error_description": "AADSTS7000215: Invalid client secret provided.",
                    "error_codes": [7000215],
                },
            )
        if (
            form.get("grant_type") != "client_credentials"
            or form.get("scope") != "https://graph.microsoft.com/.default"
        ):
            return _json(400, {"error": "invalid_request", "error_codes": [900144]})
        token = f"eyJ0eXAi.graph-{self.token_requests}"
        self.tokens.add(token)
        return _json(
            200,
            {
                "token_type": "Bearer",
                "expires_in": 3599,
                "ext_expires_in": 3599,
                "access_token": token,
            },
        )

    def _route(
        self, method: str, path: str, params: httpx.QueryParams, body: Any
    ) -> httpx.Response:
        if method == "POST" and path == "/subscriptions":
            return self._subscribe(body)
        if method == "GET" and path == "/subscriptions":
            return self._page(list(self.subscriptions.values()), params, path)
        if method == "POST" and (
            match := re.fullmatch(r"/subscriptions/([^/]+)/reauthorize", path)
        ):
            self.reauthorized.append(match.group(1))
            if match.group(1) not in self.subscriptions:
                return graph_error(404, "ResourceNotFound", "The object was not found.")
            return httpx.Response(204)
        if match := re.fullmatch(r"/subscriptions/([^/]+)", path):
            return self._subscription(method, match.group(1), body)
        user_path = re.fullmatch(r"/users/([^/]+)(/.*)", path)
        if user_path is None or user_path.group(1) not in self.organizers:
            return graph_error(404, "ErrorInvalidUser", "The requested user is invalid.")
        user, rest = user_path.groups()
        if rest == "/events" and method == "POST":
            return self._create(body, user)
        event_path = re.fullmatch(r"/events/([^/]+)(/instances)?", rest)
        if event_path and self.owners.get(event_path.group(1), user) != user:
            return graph_error(  # another organizer's event: not in this calendar
                404, "ErrorItemNotFound", "The specified object was not found in the store."
            )
        if event_path and not event_path.group(2):
            return self._event(method, event_path.group(1), body)
        if method == "GET" and event_path:
            return self._instances(event_path.group(1), params)
        if rest == "/onlineMeetings" and method == "GET":
            return self._find_meeting(params.get("$filter", ""), user)
        meeting_path = re.fullmatch(r"/onlineMeetings/([^/]+)/.*", rest)
        if meeting_path and self.owners.get(meeting_path.group(1), user) != user:
            return graph_error(404, "NotFound", "Online meeting not found.")
        if match := re.fullmatch(r"/onlineMeetings/([^/]+)/attendanceReports", rest):
            return self._page(self.reports.get(match.group(1)), params, path)
        if match := re.fullmatch(
            r"/onlineMeetings/([^/]+)/attendanceReports/([^/]+)/attendanceRecords", rest
        ):
            return self._page(self.records.get(match.group(2)), params, path)
        if match := re.fullmatch(r"/onlineMeetings/([^/]+)/transcripts/([^/]+)/content", rest):
            return self._transcript_content(match.group(1), match.group(2), params)
        if match := re.fullmatch(r"/onlineMeetings/([^/]+)/(recordings|transcripts)", rest):
            store = self.recordings if match.group(2) == "recordings" else self.transcripts
            if match.group(1) not in self.meetings:
                return graph_error(404, "NotFound", "Online meeting not found.")
            return self._page(store.get(match.group(1), []), params, path)
        return graph_error(404, "UnknownPath", f"No route for {method} {path}")

    def _page(
        self, items: list[dict[str, Any]] | None, params: httpx.QueryParams, path: str
    ) -> httpx.Response:
        if items is None:
            return graph_error(404, "NotFound", "The resource was not found.")
        skip = int(params.get("$skiptoken", "0") or 0)
        page = items[skip : skip + self.page_size]
        body: dict[str, Any] = {"value": page}
        if skip + self.page_size < len(items):
            body["@odata.nextLink"] = f"{GRAPH}{quote(path)}?$skiptoken={skip + self.page_size}"
        return _json(200, body)

    def _transcript_content(
        self, online_id: str, transcript_id: str, params: httpx.QueryParams
    ) -> httpx.Response:
        listed = {t.get("id") for t in self.transcripts.get(online_id, [])}
        if transcript_id not in listed or transcript_id not in self.transcript_content:
            return graph_error(404, "NotFound", "The transcript was not found.")
        if params.get("$format") != "text/vtt":
            # Without $format Graph answers the Word document form (text/vtt is asked by name).
            return graph_error(400, "BadRequest", "Only $format=text/vtt is served here.")
        return httpx.Response(
            200,
            content=self.transcript_content[transcript_id].encode(),
            headers={"content-type": "text/vtt"},
        )

    # --- events and online meetings -------------------------------------------------------------

    def _create(self, body: dict[str, Any], user: str = ORGANIZER) -> httpx.Response:
        n = next(self._ids)
        event_id = f"AAMkAGI2TG93AAA{n:04d}="
        event = {
            "id": event_id,
            "iCalUId": f"040000008200E00074C5B7101A82E008{n:08d}",
            "webLink": f"https://outlook.office365.com/owa/?itemid={event_id}",
            "type": "seriesMaster" if body.get("recurrence") else "singleInstance",
            "isOrganizer": True,
            "isCancelled": False,
            **body,
            "onlineMeeting": None,
        }
        if body.get("isOnlineMeeting") and body.get("onlineMeetingProvider") == "teamsForBusiness":
            online_id = base64.b64encode(
                f"1*{ORGANIZER}*0**19:meeting_{n:04d}@thread.v2".encode()
            ).decode()
            join = (
                f"https://teams.microsoft.com/l/meetup-join/19%3ameeting_{n:04d}%40thread.v2/0"
                f"?context=%7b%22Tid%22%3a%22{TENANT}%22%7d"
            )
            event["onlineMeeting"] = {"joinUrl": join, "conferenceId": f"{n:09d}"}
            self.meetings[online_id] = {
                "id": online_id,
                "joinWebUrl": join,
                "subject": body["subject"],
            }
        self.events[event_id] = event
        self.owners[event_id] = user
        for online_id, meeting in self.meetings.items():
            if meeting["joinWebUrl"] == (event["onlineMeeting"] or {}).get("joinUrl"):
                self.owners[online_id] = user
        return _json(201, event)

    def _event(self, method: str, event_id: str, body: Any) -> httpx.Response:
        event = self.events.get(event_id)
        if event is None:
            return graph_error(
                404, "ErrorItemNotFound", "The specified object was not found in the store."
            )
        if method == "GET":
            return _json(200, event)
        if method == "PATCH":
            event.update(body)
            if "recurrence" not in body:
                event.pop("recurrence", None)
            if event.get("type") in ("occurrence", "exception") and "start" in body:
                # A changed instance becomes an exception, listed at its new start.
                event["type"] = "exception"
                if body["start"].get("timeZone") != "UTC":
                    return graph_error(400, "ErrorInvalidParameter", "this fake reads UTC only")
                moved = datetime.fromisoformat(body["start"]["dateTime"]).replace(tzinfo=UTC)
                for series in self.instances.values():
                    if event_id in series:
                        series[event_id] = moved
            return httpx.Response(204)
        if method == "DELETE":
            del self.events[event_id]
            return httpx.Response(204)
        return graph_error(405, "MethodNotAllowed", method)

    def _instances(self, master_id: str, params: httpx.QueryParams) -> httpx.Response:
        """Occurrences of a series inside [startDateTime, endDateTime] (``hold_instance``)."""
        master = self.events.get(master_id)
        if master is None or master.get("type") != "seriesMaster":
            return graph_error(404, "ErrorItemNotFound", "The series master was not found.")
        if "startDateTime" not in params or "endDateTime" not in params:
            return graph_error(400, "ErrorInvalidParameter", "startDateTime and endDateTime")
        low = datetime.fromisoformat(params["startDateTime"])
        high = datetime.fromisoformat(params["endDateTime"])
        inside = [
            {"id": iid, "type": "occurrence", "seriesMasterId": master_id,
             "start": {"dateTime": at.strftime("%Y-%m-%dT%H:%M:%S.0000000"), "timeZone": "UTC"}}
            for iid, at in self.instances.get(master_id, {}).items()
            if low <= at <= high
        ]  # fmt: skip
        return _json(200, {"value": inside})

    def hold_instance(self, master_id: str, start: datetime) -> str:
        """Give a series an occurrence at ``start`` that Graph can list and delete."""
        instance_id = f"{master_id}-{start:%Y%m%dT%H%M}"
        self.instances.setdefault(master_id, {})[instance_id] = start
        self.events[instance_id] = {"id": instance_id, "type": "occurrence"}
        return instance_id

    def _find_meeting(self, odata_filter: str, user: str = ORGANIZER) -> httpx.Response:
        match = re.fullmatch(r"JoinWebUrl eq '((?:[^']|'')*)'", odata_filter)
        if match is None:
            return graph_error(400, "BadRequest", "Filter is required.")
        url = match.group(1).replace("''", "'")
        found = [
            m
            for m in self.meetings.values()
            if m["joinWebUrl"] == url and self.owners.get(m["id"], user) == user
        ]
        return _json(200, {"value": found})

    # --- subscriptions --------------------------------------------------------------------------

    def _subscribe(self, body: dict[str, Any]) -> httpx.Response:
        if self.notification_endpoint is None:
            return graph_error(
                400, "ValidationError", "Notification endpoint must respond with 200 OK."
            )
        token = (
            "Validation: Testing client application reachability for subscription "
            f"Request-Id: {len(self.validations) + 1}"
        )
        target = httpx.URL(body["notificationUrl"])
        answer = self.notification_endpoint(
            WebhookRequest(
                method="POST",
                path=target.path,
                query={**dict(target.params), "validationToken": token},
                headers={"content-type": "text/plain; charset=utf-8"},
            )
        ).response
        if (
            answer.status != 200
            or answer.body.decode() != token
            or not answer.headers.get("content-type", "").startswith("text/plain")
        ):
            return graph_error(400, "ValidationError", "Subscription validation request failed.")
        self.validations.append(token)
        sub_id = f"7f105c7d-2dc5-4530-97cd-4e7a{next(self._ids):08d}"
        created = {
            "id": sub_id,
            "resource": body["resource"],
            "applicationId": CLIENT_ID,
            "changeType": body["changeType"],
            "clientState": body.get("clientState"),
            "notificationUrl": body["notificationUrl"],
            "lifecycleNotificationUrl": body.get("lifecycleNotificationUrl"),
            "expirationDateTime": body["expirationDateTime"],
            "creatorId": "8ee44408-0679-472c-bc2a-692812af3437",
            "latestSupportedTlsVersion": body.get("latestSupportedTlsVersion", "v1_2"),
            "encryptionCertificate": None,
            "encryptionCertificateId": None,
            "includeResourceData": False,
            "notificationQueryOptions": None,
        }
        self.subscriptions[sub_id] = created
        return _json(201, created)

    def add_subscription(
        self,
        resource: str,
        expires: datetime,
        *,
        url: str = "https://tool.example.edu/webhooks/teams",
        sub_id: str | None = None,
    ) -> str:
        """A subscription made earlier (by another process, or another app's tool)."""
        sub_id = sub_id or f"0a1b2c3d-0000-4000-8000-{next(self._ids):012d}"
        self.subscriptions[sub_id] = {
            "id": sub_id,
            "resource": resource,
            "applicationId": CLIENT_ID,
            "changeType": "created",
            "clientState": None,
            "notificationUrl": url,
            "lifecycleNotificationUrl": url,
            "expirationDateTime": stamp(expires),
            "creatorId": "8ee44408-0679-472c-bc2a-692812af3437",
            "latestSupportedTlsVersion": "v1_2",
            "encryptionCertificate": None,
            "encryptionCertificateId": None,
            "includeResourceData": False,
            "notificationQueryOptions": None,
        }
        return sub_id

    def _subscription(self, method: str, sub_id: str, body: Any) -> httpx.Response:
        known = self.subscriptions.get(sub_id)
        if known is None:
            return graph_error(404, "ResourceNotFound", "The object was not found.")
        if method == "PATCH":
            known["expirationDateTime"] = body["expirationDateTime"]
            return httpx.Response(204)
        if method == "DELETE":
            del self.subscriptions[sub_id]
            return httpx.Response(204)
        return _json(200, known)


def notification(
    resource: str, *, change: str = "created", state: str = CLIENT_STATE, sub: str = "sub-1"
) -> dict[str, Any]:
    """One change notification as Graph posts it (without resource data)."""
    resource_id = re.findall(r"'([^']+)'\)?$|/([^/]+)$", resource)
    last = next((a or b for a, b in resource_id), "x")
    return {
        "subscriptionId": sub,
        "subscriptionExpirationDateTime": "2026-03-05T09:00:00.0000000Z",
        "changeType": change,
        "resource": resource,
        "resourceData": {
            "@odata.type": "#Microsoft.Graph.callRecording",
            "@odata.id": resource,
            "id": last,
        },
        "clientState": state,
        "tenantId": TENANT,
    }


def posted(items: list[dict[str, Any]] | bytes, **query: str) -> WebhookRequest:
    body = items if isinstance(items, bytes) else json.dumps({"value": items}).encode()
    return WebhookRequest(
        method="POST",
        path="/webhooks/teams",
        query=query,
        headers={"content-type": "application/json; charset=utf-8"},
        body=body,
        received_at=datetime(2026, 3, 3, 11, 0, tzinfo=UTC) + timedelta(seconds=1),
    )
