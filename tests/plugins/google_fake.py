"""A fake Google (token endpoint, Calendar events, Meet spaces) for the Meet plugin's tests.

:class:`GoogleFake` is an ``httpx.MockTransport`` handler with state. It records every request
and, when the discovery documents are present, checks each one with
:func:`tests.plugins.google_discovery.check_request` (a request the documents do not allow fails
the test); answers are built with :func:`~tests.plugins.google_discovery.shaped` where the specs
exist. The token endpoint verifies the JWT bearer grant's signature with the test key, records
its subject and scopes, and refuses scopes that were not delegated, as Google does. More
resources are served by adding routes (:meth:`GoogleFake.route`); faults (429 with
``Retry-After``, 503, …) are scripted with :meth:`GoogleFake.fail`.
"""

from __future__ import annotations

import functools
import itertools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote
from zoneinfo import ZoneInfo

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from dateutil import rrule
from google.auth import jwt

from blendkit.config import Settings
from tests.plugins import google_discovery

TOKEN_URI = "https://oauth2.googleapis.com/token"  # an endpoint
ORGANIZER = "teacher@school.example.edu"
CLIENT_ID = "104857600000000000001"
SERVICE_ACCOUNT = "blendkit-meet@blendkit-test.iam.gserviceaccount.com"

Handler = Callable[[httpx.Request, re.Match[str]], httpx.Response]


@functools.cache
def _key_pair() -> tuple[str, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode("ascii")
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, public


def service_account_info(**changes: Any) -> dict[str, Any]:
    """A service account key as Google issues it (a fresh test key, never a real one)."""
    private, _ = _key_pair()
    return {
        "type": "service_account",
        "project_id": "blendkit-test",
        "private_key_id": "0123456789abcdef",
        "private_key": private,
        "client_email": SERVICE_ACCOUNT,
        "client_id": CLIENT_ID,
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": TOKEN_URI,
        **changes,
    }


def write_key(directory: Path, **changes: Any) -> Path:
    """A service account key file in ``directory`` (see :func:`service_account_info`)."""
    path = directory / "service-account.json"
    path.write_text(json.dumps(service_account_info(**changes)), encoding="utf-8")
    return path


def meet_settings(key_file: Path | None, **meet: Any) -> Settings:
    """Settings with a ``[meet]`` section for the fake's organiser and ``key_file``."""
    values: dict[str, Any] = {"service_account_file": key_file, "organizer": ORGANIZER, **meet}
    return Settings(
        meet={k: v for k, v in values.items() if v is not None},
        tool={"base_url": "https://tool.example.edu"},
    )


def google_error(status: int, message: str, state: str, reason: str = "") -> httpx.Response:
    """An error answer in Google's JSON error format."""
    errors = [{"reason": reason, "message": message, "domain": "global"}] if reason else []
    body = {"error": {"code": status, "message": message, "status": state, "errors": errors}}
    return httpx.Response(status, json=body)


@dataclass
class Fault:
    method: str
    pattern: re.Pattern[str]
    status: int
    times: int
    headers: dict[str, str]
    body: Any


@dataclass
class GoogleFake:
    """Google's token endpoint, Calendar events and instances, and Meet spaces, in memory."""

    organizer: str = ORGANIZER
    delegated: frozenset[str] | None = None
    """Scopes the admin delegated to the client id; ``None`` delegates every scope asked."""
    token_lifetime: int = 3600
    page_size: int = 2
    check: bool = True
    requests: list[httpx.Request] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    """Discovery method ids of the API calls (``calendar.events.insert``; when specs exist)."""
    grants: list[dict[str, Any]] = field(default_factory=list)
    """Claims of every JWT bearer grant the token endpoint accepted or refused."""
    events: dict[str, dict[str, Any]] = field(default_factory=dict)
    overrides: dict[str, dict[str, Any]] = field(default_factory=dict)
    spaces: dict[str, dict[str, Any]] = field(default_factory=dict)
    faults: list[Fault] = field(default_factory=list)
    valid_tokens: set[str] = field(default_factory=set)
    _routes: list[tuple[str, re.Pattern[str], Handler]] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def __post_init__(self) -> None:
        calendar = r"https://www\.googleapis\.com/calendar/v3/calendars/(?P<cal>[^/]+)/events"
        self.route("POST", TOKEN_URI, self._token)
        self.route("POST", calendar, self._insert)
        self.route("GET", calendar, self._list)
        self.route("GET", calendar + r"/(?P<id>[^/]+)/instances", self._instances)
        self.route("GET", calendar + r"/(?P<id>[^/]+)", self._get)
        self.route("PATCH", calendar + r"/(?P<id>[^/]+)", self._patch)
        self.route("DELETE", calendar + r"/(?P<id>[^/]+)", self._delete)
        self.route("GET", r"https://meet\.googleapis\.com/v2/spaces/(?P<id>[^/:]+)", self._space)
        self.route(
            "PATCH", r"https://meet\.googleapis\.com/v2/spaces/(?P<id>[^/:]+)", self._patch_space
        )

    # --- plumbing --------------------------------------------------------------------------------

    def route(self, method: str, pattern: str, handler: Handler) -> None:
        """Serve ``method`` on URLs (without query) matching ``pattern``; later routes win."""
        self._routes.insert(0, (method, re.compile(pattern + r"\Z"), handler))

    def fail(
        self,
        method: str,
        pattern: str,
        status: int,
        *,
        times: int = 1,
        headers: dict[str, str] | None = None,
        body: Any = None,
    ) -> None:
        """Answer the next ``times`` matching requests with ``status`` (and ``headers``)."""
        self.faults.append(
            Fault(method, re.compile(pattern), status, times, dict(headers or {}), body)
        )

    def revoke_tokens(self) -> None:
        """Every token issued so far stops working (answers 401), as when it expired early."""
        self.valid_tokens.clear()

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self.handler))

    def api_requests(self) -> list[httpx.Request]:
        return [r for r in self.requests if str(r.url) != TOKEN_URI]

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        url = str(request.url.copy_with(query=None))
        if url != TOKEN_URI and self.check and google_discovery.specs_available():
            self.calls.append(google_discovery.check_request(request))
        for fault in self.faults:
            if fault.times > 0 and fault.method == request.method and fault.pattern.search(url):
                fault.times -= 1
                if fault.body is not None:
                    return httpx.Response(fault.status, headers=fault.headers, json=fault.body)
                return httpx.Response(fault.status, headers=fault.headers)
        if url != TOKEN_URI:
            bearer = request.headers.get("authorization", "")
            if bearer.removeprefix("Bearer ") not in self.valid_tokens:
                return google_error(
                    401,
                    "Request had invalid authentication credentials.",
                    "UNAUTHENTICATED",
                    "authError",
                )
        for method, pattern, handler in self._routes:
            match = pattern.match(url)
            if method == request.method and match:
                return handler(request, match)
        return google_error(404, f"no fake for {request.method} {url}", "NOT_FOUND", "notFound")

    # --- token endpoint --------------------------------------------------------------------------

    def _token(self, request: httpx.Request, match: re.Match[str]) -> httpx.Response:
        del match
        form = parse_qs(request.content.decode("ascii"))
        assert form.get("grant_type") == ["urn:ietf:params:oauth:grant-type:jwt-bearer"]
        _, public = _key_pair()
        claims = jwt.decode(form["assertion"][0], certs=public, audience=TOKEN_URI)  # type: ignore[no-untyped-call]
        self.grants.append(claims)
        scopes = set(str(claims.get("scope", "")).split())
        if self.delegated is not None and not scopes <= self.delegated:
            return httpx.Response(
                401,
                json={
                    "error": "unauthorized_client",
                    "error_description": "Client is unauthorized to retrieve access tokens "
                    "using this method, or client not authorized for any of the scopes "
                    "requested.",
                },
            )
        token = f"ya29.fake-{next(self._ids)}"
        self.valid_tokens.add(token)
        return httpx.Response(
            200,
            json={"access_token": token, "expires_in": self.token_lifetime, "token_type": "Bearer"},
        )

    # --- Calendar --------------------------------------------------------------------------------

    def _shaped(self, schema: str, doc: str, body: dict[str, Any]) -> dict[str, Any]:
        if google_discovery.specs_available():
            return google_discovery.shaped(doc, schema, **body)
        return body

    def _event_answer(self, event: dict[str, Any]) -> httpx.Response:
        return httpx.Response(200, json=self._shaped("Event", "calendar", event))

    def _insert(self, request: httpx.Request, match: re.Match[str]) -> httpx.Response:
        body = json.loads(request.content)
        number = next(self._ids)
        event_id = f"evt{number:04d}"
        event: dict[str, Any] = {
            **body,
            "kind": "calendar#event",
            "id": event_id,
            "status": "confirmed",
            "iCalUID": f"{event_id}@google.com",
            "htmlLink": f"https://www.google.com/calendar/event?eid={event_id}",
            "organizer": {"email": unquote(match["cal"]), "self": True},
            "sequence": 0,
        }
        create = (body.get("conferenceData") or {}).get("createRequest")
        if create and request.url.params.get("conferenceDataVersion") == "1":
            code = f"abc-{number:04d}-xyz"
            uri = f"https://meet.google.com/{code}"
            event["conferenceData"] = {
                "conferenceId": code,
                "conferenceSolution": {"key": {"type": "hangoutsMeet"}, "name": "Google Meet"},
                "entryPoints": [{"entryPointType": "video", "uri": uri, "label": uri[8:]}],
                "createRequest": {**create, "status": {"statusCode": "success"}},
            }
            event["hangoutLink"] = uri
            self.spaces[f"space{number:04d}"] = {
                "name": f"spaces/space{number:04d}",
                "meetingCode": code,
                "meetingUri": uri,
                "config": {"accessType": "TRUSTED", "entryPointAccess": "ALL"},
            }
        self.events[event_id] = event
        return self._event_answer(event)

    def _find(self, event_id: str) -> dict[str, Any] | None:
        if event_id in self.events:
            return self.events[event_id]
        base, _, _stamp = event_id.rpartition("_")
        parent = self.events.get(base)
        if parent is None:
            return None
        for instance in self._expand(parent):
            if instance["id"] == event_id:
                return instance
        return None

    def _get(self, request: httpx.Request, match: re.Match[str]) -> httpx.Response:
        del request
        event = self._find(unquote(match["id"]))
        if event is None:
            return google_error(404, "Not Found", "NOT_FOUND", "notFound")
        return self._event_answer(event)

    def _patch(self, request: httpx.Request, match: re.Match[str]) -> httpx.Response:
        event_id = unquote(match["id"])
        event = self._find(event_id)
        if event is None:
            return google_error(404, "Not Found", "NOT_FOUND", "notFound")
        body = json.loads(request.content)
        if event_id in self.events:
            event.update(body)
            event["sequence"] = int(event.get("sequence", 0)) + 1
            return self._event_answer(event)
        self.overrides.setdefault(event_id, {}).update(body)
        return self._event_answer({**event, **body})

    def _delete(self, request: httpx.Request, match: re.Match[str]) -> httpx.Response:
        del request
        event_id = unquote(match["id"])
        event = self._find(event_id)
        if event is None or event.get("status") == "cancelled":
            return google_error(410, "Resource has been deleted", "GONE", "deleted")
        if event_id in self.events:
            event["status"] = "cancelled"
        else:
            self.overrides.setdefault(event_id, {})["status"] = "cancelled"
        return httpx.Response(204)

    def _expand(self, event: dict[str, Any]) -> list[dict[str, Any]]:
        zone = ZoneInfo(event["start"]["timeZone"])
        start = datetime.fromisoformat(event["start"]["dateTime"])
        end = datetime.fromisoformat(event["end"]["dateTime"])
        start = start.replace(tzinfo=zone) if start.tzinfo is None else start.astimezone(zone)
        end = end.replace(tzinfo=zone) if end.tzinfo is None else end.astimezone(zone)
        length = end - start
        rules = [line for line in event.get("recurrence") or [] if line.startswith("RRULE:")]
        starts = list(rrule.rrulestr(rules[0][6:], dtstart=start)) if rules else [start]
        found = []
        for moment in starts:
            utc = moment.astimezone(UTC)
            instance_id = f"{event['id']}_{utc:%Y%m%dT%H%M%SZ}"
            local = moment.replace(tzinfo=None).isoformat(timespec="seconds")
            instance = {
                **{k: v for k, v in event.items() if k != "recurrence"},
                "id": instance_id,
                "recurringEventId": event["id"],
                "originalStartTime": {"dateTime": local, "timeZone": str(zone)},
                "start": {"dateTime": local, "timeZone": str(zone)},
                "end": {
                    "dateTime": (moment + length)
                    .replace(tzinfo=None)
                    .isoformat(timespec="seconds"),
                    "timeZone": str(zone),
                },
            }
            instance.update(self.overrides.get(instance_id, {}))
            found.append(instance)
        return found

    def _list(self, request: httpx.Request, match: re.Match[str]) -> httpx.Response:
        del match
        params = request.url.params
        items = list(self.events.values())
        if params.get("showDeleted") != "true":
            items = [i for i in items if i.get("status") != "cancelled"]
        for wanted in params.get_list("privateExtendedProperty"):
            key, _, value = wanted.partition("=")
            items = [
                i
                for i in items
                if ((i.get("extendedProperties") or {}).get("private") or {}).get(key) == value
            ]
        if params.get("singleEvents") == "true":
            items = [i for event in items for i in self._expand(event)]
        if "timeMin" in params:
            items = [i for i in items if _start_of(i["end"]) > _instant(params["timeMin"])]
        return self._page(request, items)

    def _page(self, request: httpx.Request, items: list[dict[str, Any]]) -> httpx.Response:
        offset = int(request.url.params.get("pageToken", "0"))
        page = items[offset : offset + self.page_size]
        body: dict[str, Any] = {"kind": "calendar#events", "items": page}
        if offset + self.page_size < len(items):
            body["nextPageToken"] = str(offset + self.page_size)
        return httpx.Response(200, json=self._shaped("Events", "calendar", body))

    def _instances(self, request: httpx.Request, match: re.Match[str]) -> httpx.Response:
        event = self.events.get(unquote(match["id"]))
        if event is None:
            return google_error(404, "Not Found", "NOT_FOUND", "notFound")
        params = request.url.params
        items = [i for i in self._expand(event) if i.get("status") != "cancelled"]
        if "originalStart" in params:
            wanted = _instant(params["originalStart"])
            items = [i for i in items if _start_of(i["originalStartTime"]) == wanted]
        if "timeMin" in params:
            items = [i for i in items if _start_of(i["end"]) > _instant(params["timeMin"])]
        if "timeMax" in params:
            items = [i for i in items if _start_of(i["start"]) < _instant(params["timeMax"])]
        return self._page(request, items)

    # --- Meet ------------------------------------------------------------------------------------

    def _space_named(self, key: str) -> dict[str, Any] | None:
        if key in self.spaces:
            return self.spaces[key]
        return next((s for s in self.spaces.values() if s["meetingCode"] == key), None)

    def _space(self, request: httpx.Request, match: re.Match[str]) -> httpx.Response:
        del request
        space = self._space_named(unquote(match["id"]))
        if space is None:
            return google_error(404, "Requested entity was not found.", "NOT_FOUND")
        return httpx.Response(200, json=self._shaped("Space", "meet", space))

    def _patch_space(self, request: httpx.Request, match: re.Match[str]) -> httpx.Response:
        space = self.spaces.get(unquote(match["id"]))
        if space is None:
            return google_error(404, "Requested entity was not found.", "NOT_FOUND")
        body = json.loads(request.content)
        mask = request.url.params.get("updateMask", "")
        for path in filter(None, mask.split(",")):
            source: Any = body
            target = space
            *parents, leaf = path.split(".")
            for part in parents:
                source = source.get(part, {})
                target = target.setdefault(part, {})
            if leaf in source:
                target[leaf] = source[leaf]
        return httpx.Response(200, json=self._shaped("Space", "meet", space))


def _instant(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(UTC)


def _start_of(when: dict[str, Any]) -> datetime:
    moment = datetime.fromisoformat(when["dateTime"])
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(when.get("timeZone") or "UTC"))
    return moment.astimezone(UTC)
