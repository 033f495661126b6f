"""Zoom's OAuth and Meetings API as an ``httpx.MockTransport`` handler, for tests.

State is kept (meetings, registrants, held instances, participants, recordings, polls, Q&A) and
answers are shaped after the response schemas of Zoom's published spec, which the contract tests
also validate them against. Paths are decoded the way Zoom's edge does: once for routing (so a
single-encoded ``%2F`` becomes a path separator and misses the route) and once more for the id.
Occurrences are computed here independently of blendkit's recurrence code.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, unquote
from zoneinfo import ZoneInfo

import httpx

ACCOUNT_ID = "acc-123"
CLIENT_ID = "client-abc"
CLIENT_SECRET = "secret-xyz"  # test credentials
API_HOST = "api.zoom.us"
TOKEN_URL = "https://zoom.us/oauth/token"


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(
        status,
        content=json.dumps(body).encode(),
        headers={"content-type": "application/json;charset=UTF-8", **(headers or {})},
    )


def _error(status: int, code: int, message: str) -> httpx.Response:
    return _json(status, {"code": code, "message": message})


@dataclass
class ZoomFake:
    """The vendor side. ``faults`` are answered, in order, to the next API calls."""

    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    token_lifetime: int = 3599
    report_allowed: bool = True
    report_pending: set[str] = field(default_factory=set)
    """Instance UUIDs whose participants report Zoom has not generated yet (404)."""
    meetings: dict[int, dict[str, Any]] = field(default_factory=dict)
    registrants: dict[int, dict[str, dict[str, Any]]] = field(default_factory=dict)
    instances: dict[int, list[dict[str, str]]] = field(default_factory=dict)
    participants: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    recordings: dict[str, dict[str, Any]] = field(default_factory=dict)
    polls: dict[str, dict[str, Any]] = field(default_factory=dict)
    qa: dict[str, dict[str, Any]] = field(default_factory=dict)
    faults: list[httpx.Response] = field(default_factory=list)
    downloads: dict[str, bytes] = field(default_factory=dict)
    """Recording file contents by file id, served at ``https://*.zoom.us/rec/download/{id}``."""
    redirect_downloads: bool = True
    """Answer a download URL with a 302 to the file on ``ssrweb.zoom.us``, as Zoom does."""
    tokens: dict[str, datetime] = field(default_factory=dict)
    page_tokens: dict[str, tuple[str, int, datetime]] = field(default_factory=dict)
    token_requests: int = 0
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(85746065001))

    # --- scripting ------------------------------------------------------------------------------

    def revoke_tokens(self) -> None:
        """Every issued access token stops working (Zoom answers 401 code 124)."""
        self.tokens.clear()

    def hold(self, meeting_id: int, uuid: str, start: datetime, rows: list[dict[str, Any]]) -> None:
        """Record a held instance of ``meeting_id`` with its participants-report rows."""
        self.instances.setdefault(meeting_id, []).append({"uuid": uuid, "start_time": stamp(start)})
        self.participants[uuid] = rows

    # --- transport ------------------------------------------------------------------------------

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if str(request.url.copy_with(query=None)) == TOKEN_URL:
            return self._token(request)
        if self.faults:
            return self.faults.pop(0)
        if request.url.host != API_HOST and not request.url.host.endswith(".zoom.us"):
            return _error(404, 404, "unknown host")
        auth = request.headers.get("authorization", "")
        token = auth.removeprefix("Bearer ")
        expiry = self.tokens.get(token)
        if not auth.startswith("Bearer ") or expiry is None or expiry <= self.now():
            return _error(401, 124, "Invalid access token.")
        if request.url.host != API_HOST:
            return self._download(request)
        # Zoom's edge decodes the path once and folds repeated slashes; a UUID route takes the
        # rest of the path as the UUID and decodes it again.
        routed = re.sub(r"/{2,}", "/", unquote(request.url.raw_path.decode().split("?", 1)[0]))
        path = routed.removeprefix("/v2/")
        uuid_route = re.fullmatch(
            r"(report/meetings|past_meetings|meetings)/(.+)/(participants|recordings|polls|qa)",
            path,
        )
        if uuid_route:
            prefix, target, leaf = uuid_route.groups()
            parts = [*prefix.split("/"), unquote(target), leaf]
        else:
            parts = [unquote(p) for p in path.split("/")]
        body = json.loads(request.content) if request.content else None
        query = dict(request.url.params)
        return self._route(request.method, parts, query, body)

    def _token(self, request: httpx.Request) -> httpx.Response:
        self.token_requests += 1
        expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        if request.headers.get("authorization") != f"Basic {expected}":
            return _json(
                401, {"reason": "Invalid client_id or client_secret", "error": "invalid_client"}
            )
        if form != {"grant_type": "account_credentials", "account_id": ACCOUNT_ID}:
            return _json(
                400,
                {"reason": "Invalid request : Unsupported grant type", "error": "invalid_request"},
            )
        token = f"tok-{self.token_requests}"
        self.tokens[token] = self.now() + timedelta(seconds=self.token_lifetime)
        return _json(
            200,
            {
                "access_token": token,
                "token_type": "bearer",
                "expires_in": self.token_lifetime,
                "scope": "meeting:write:admin report:read:admin recording:read:admin",
                "api_url": "https://api.zoom.us",
            },
        )

    def _route(
        self, method: str, parts: list[str], query: dict[str, str], body: Any
    ) -> httpx.Response:
        match method, parts:
            case "POST", ["users", _user, "meetings"]:
                return self._create(body)
            case "GET", ["meetings", mid] if mid.isdigit():
                return self._get(int(mid), query)
            case "PATCH", ["meetings", mid] if mid.isdigit():
                if "occurrence_id" in query:
                    return self._move(int(mid), query["occurrence_id"], body)
                return self._patch(int(mid), body)
            case "DELETE", ["meetings", mid] if mid.isdigit():
                return self._delete(int(mid), query)
            case "POST", ["meetings", mid, "registrants"] if mid.isdigit():
                return self._register(int(mid), body)
            case "GET", ["past_meetings", mid, "instances"] if mid.isdigit():
                if int(mid) not in self.meetings:
                    return _error(404, 3001, f"Meeting {mid} is not found or has expired.")
                return _json(200, {"meetings": self.instances.get(int(mid), [])})
            case "GET", ["report", "meetings", target, "participants"]:
                if not self.report_allowed:
                    return _error(
                        400,
                        4711,
                        "Invalid access token, does not contain scopes:[report:read:admin].",
                    )
                if self._uuid(target) in self.report_pending:
                    return _error(404, 3001, "Meeting does not exist.")
                return self._participants(target, query, report=True)
            case "GET", ["past_meetings", target, "participants"]:
                return self._participants(target, query, report=False)
            case "GET", ["meetings", target, "recordings"]:
                found = self.recordings.get(self._uuid(target))
                if found is None:
                    return _error(404, 3301, "This recording does not exist.")
                return _json(200, found)
            case "GET", ["past_meetings", target, "polls"]:
                found = self.polls.get(self._uuid(target))
                return _json(200, found) if found else _error(404, 3001, "Meeting does not exist.")
            case "GET", ["past_meetings", target, "qa"]:
                found = self.qa.get(self._uuid(target))
                return _json(200, found) if found else _error(404, 3001, "Meeting does not exist.")
        return _error(404, 404, f"No route for {method} /{'/'.join(parts)}")

    # --- recording files ------------------------------------------------------------------------

    def _download(self, request: httpx.Request) -> httpx.Response:
        match request.url.path.split("/"):
            case ["", "rec", "download", file_id] if self.redirect_downloads:
                return httpx.Response(
                    302, headers={"location": f"https://ssrweb.zoom.us/file/{file_id}?sig=x"}
                )
            case ["", "rec", "download", file_id] | ["", "file", file_id]:
                if file_id in self.downloads:
                    return httpx.Response(
                        200,
                        content=self.downloads[file_id],
                        headers={"content-type": "text/vtt; charset=utf-8"},
                    )
        return _error(404, 3301, "This recording does not exist.")

    # --- meetings -------------------------------------------------------------------------------

    def _create(self, body: dict[str, Any]) -> httpx.Response:
        meeting_id = next(self._ids)
        uuid = base64.b64encode(meeting_id.to_bytes(16, "big")).decode()
        settings = {"approval_type": 2, "auto_recording": "none", **body.get("settings", {})}
        meeting: dict[str, Any] = {
            "id": meeting_id,
            "uuid": uuid,
            "host_id": "KDcuGIm1QgePTO8WbOqwIQ",
            "host_email": "host@example.edu",
            "topic": body["topic"],
            "type": body["type"],
            "start_time": body["start_time"],
            "duration": body["duration"],
            "timezone": body["timezone"],
            "agenda": body.get("agenda", ""),
            "created_at": stamp(self.now()),
            "join_url": f"https://us02web.zoom.us/j/{meeting_id}?pwd=abc",
            "start_url": f"https://us02web.zoom.us/s/{meeting_id}?zak=host-secret",
            "password": "abc123",
            "settings": settings,
        }
        if "recurrence" in body:
            meeting["recurrence"] = body["recurrence"]
        self.meetings[meeting_id] = meeting
        return _json(201, self._view(meeting))

    def _view(self, meeting: dict[str, Any], *, previous: bool = False) -> dict[str, Any]:
        hidden = ("deleted_occurrences", "moved_occurrences")
        view = {k: v for k, v in meeting.items() if k not in hidden}
        if meeting["type"] == 8:
            deleted = meeting.get("deleted_occurrences", set())
            moved = meeting.get("moved_occurrences", {})
            occurrences = [
                {
                    "occurrence_id": occurrence_id,
                    "start_time": stamp(start),
                    "duration": meeting["duration"],
                    **moved.get(occurrence_id, {}),
                    "status": "deleted" if occurrence_id in deleted else "available",
                }
                for start in _zoom_occurrences(meeting)
                if previous or start >= self.now() - timedelta(days=36500)
                for occurrence_id in [str(int(start.timestamp() * 1000))]
            ]
            view["occurrences"] = occurrences
        if meeting["settings"].get("approval_type") in (0, 1):
            view["registration_url"] = f"https://us02web.zoom.us/meeting/register/{meeting['id']}"
        return view

    def _get(self, meeting_id: int, query: dict[str, str]) -> httpx.Response:
        meeting = self.meetings.get(meeting_id)
        if meeting is None:
            return _error(404, 3001, f"Meeting {meeting_id} is not found or has expired.")
        return _json(
            200, self._view(meeting, previous=query.get("show_previous_occurrences") == "true")
        )

    def _patch(self, meeting_id: int, body: dict[str, Any]) -> httpx.Response:
        meeting = self.meetings.get(meeting_id)
        if meeting is None:
            return _error(404, 3001, f"Meeting {meeting_id} is not found or has expired.")
        settings = {**meeting["settings"], **body.pop("settings", {})}
        meeting.update(body)
        meeting["settings"] = settings
        if "recurrence" not in body and body.get("type") == 2:
            meeting.pop("recurrence", None)
        return httpx.Response(204)

    def _move(self, meeting_id: int, occurrence_id: str, body: dict[str, Any]) -> httpx.Response:
        """One occurrence changes start and length; Zoom keeps its occurrence id."""
        meeting = self.meetings.get(meeting_id)
        if meeting is None:
            return _error(404, 3001, f"Meeting {meeting_id} is not found or has expired.")
        ids = {str(int(start.timestamp() * 1000)) for start in _zoom_occurrences(meeting)}
        if occurrence_id not in ids:
            return _error(400, 3000, "Invalid occurrence_id.")
        changed = {k: body[k] for k in ("start_time", "duration") if k in body}
        meeting.setdefault("moved_occurrences", {}).setdefault(occurrence_id, {}).update(changed)
        return httpx.Response(204)

    def _delete(self, meeting_id: int, query: dict[str, str]) -> httpx.Response:
        meeting = self.meetings.get(meeting_id)
        if meeting is None:
            return _error(404, 3001, f"Meeting {meeting_id} is not found or has expired.")
        occurrence = query.get("occurrence_id")
        if occurrence:
            meeting.setdefault("deleted_occurrences", set()).add(occurrence)
        else:
            del self.meetings[meeting_id]
        return httpx.Response(204)

    def _register(self, meeting_id: int, body: dict[str, Any]) -> httpx.Response:
        meeting = self.meetings.get(meeting_id)
        if meeting is None:
            return _error(404, 3001, f"Meeting {meeting_id} is not found or has expired.")
        if meeting["settings"].get("approval_type") == 2:
            return _error(
                400, 3000, f"Registration has not been enabled for this meeting: {meeting_id}."
            )
        known = self.registrants.setdefault(meeting_id, {})
        email = body["email"].lower()
        if email not in known:
            registrant_id = f"reg{len(known) + 1:03d}{meeting_id % 1000:03d}"
            known[email] = {
                "registrant_id": registrant_id,
                "join_url": f"https://us02web.zoom.us/w/{meeting_id}?tk={registrant_id}-personal",
                "first_name": body["first_name"],
                "last_name": body.get("last_name", ""),
            }
        entry = known[email]
        return _json(
            201,
            {
                "id": meeting_id,
                "join_url": entry["join_url"],
                "registrant_id": entry["registrant_id"],
                "start_time": meeting["start_time"],
                "topic": meeting["topic"],
                "participant_pin_code": 380112,
            },
        )

    # --- past meetings --------------------------------------------------------------------------

    def _uuid(self, target: str) -> str:
        if target.isdigit():
            held = self.instances.get(int(target)) or []
            return held[-1]["uuid"] if held else target
        return target

    def _participants(self, target: str, query: dict[str, str], *, report: bool) -> httpx.Response:
        uuid = self._uuid(target)
        rows = self.participants.get(uuid)
        if rows is None:
            return _error(404, 3001, "Meeting does not exist.")
        size = int(query.get("page_size", "30"))
        if size > 300:
            return _error(400, 300, "Invalid page_size.")
        start = 0
        token = query.get("next_page_token")
        if token:
            known = self.page_tokens.get(token)
            if known is None or known[0] != uuid or known[2] <= self.now():
                return _error(400, 300, "The next page token is invalid or expired.")
            start = known[1]
        page = rows[start : start + size]
        next_token = ""
        if start + size < len(rows):
            next_token = f"npt{len(self.page_tokens) + 1:04d}"
            self.page_tokens[next_token] = (uuid, start + size, self.now() + timedelta(minutes=15))
        shaped = [self._row(row, report=report) for row in page]
        return _json(
            200,
            {
                "page_count": (len(rows) + size - 1) // size,
                "page_size": size,
                "total_records": len(rows),
                "next_page_token": next_token,
                "participants": shaped,
            },
        )

    @staticmethod
    def _row(row: dict[str, Any], *, report: bool) -> dict[str, Any]:
        if report:
            return row
        keep = (
            "id",
            "name",
            "user_id",
            "registrant_id",
            "user_email",
            "join_time",
            "leave_time",
            "duration",
            "failover",
            "status",
            "internal_user",
        )
        return {k: v for k, v in row.items() if k in keep}


def _zoom_occurrences(meeting: dict[str, Any]) -> list[datetime]:
    """Occurrences the way Zoom lays them out: local wall-clock time kept in ``timezone``."""
    rule = meeting["recurrence"]
    zone = ZoneInfo(meeting["timezone"])
    first = datetime.fromisoformat(meeting["start_time"].replace("Z", "+00:00")).astimezone(zone)
    clock = first.time().replace(tzinfo=None)
    interval = int(rule.get("repeat_interval", 1))
    count = rule.get("end_times")
    until = rule.get("end_date_time")
    until_utc = datetime.fromisoformat(until.replace("Z", "+00:00")) if until else None
    # Zoom numbers days 1 = Sunday … 7 = Saturday; Python's weekday() has 0 = Monday.
    if rule["type"] == 2:
        wanted = {(int(d) - 2) % 7 for d in str(rule["weekly_days"]).split(",")}
    else:
        wanted = set(range(7))
    found: list[datetime] = []
    day: date = first.date()
    week_anchor = first.date() - timedelta(days=first.weekday())
    while len(found) < min(int(count or 60), 60):
        if rule["type"] == 1:
            offset_ok = (day - first.date()).days % interval == 0
        else:
            offset_ok = ((day - week_anchor).days // 7) % interval == 0
        if day.weekday() in wanted and offset_ok:
            start = datetime.combine(day, clock, tzinfo=zone).astimezone(UTC)
            if until_utc is not None and start > until_utc:
                break
            found.append(start)
        day += timedelta(days=1)
    return found
