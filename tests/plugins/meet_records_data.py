"""A scripted Google for the Meet attendance and recordings tests.

Every request is checked against Google's discovery documents (``check_request``) before it is
answered; answers are built with ``shaped`` from the same documents' schemas. Lists are served
in pages of ``page_size`` items chained with ``nextPageToken``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from blendkit.http import RetryPolicy
from tests.fence import public_fence
from tests.plugins.google_discovery import check_request, shaped

MEET = "meet.v2.json"
START = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
CODE = "abc-mnop-xyz"
RECORD = "conferenceRecords/rec-1"

Answer = Callable[[httpx.Request], httpx.Response | None]


def at(minutes: float) -> str:
    """A Google timestamp ``minutes`` after START, with nanoseconds as Google writes them."""
    moment = START + timedelta(minutes=minutes)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + "123Z"


class Tokens:
    """A token source: ``t1``, then ``t2`` after the first is refused, and so on."""

    def __init__(self) -> None:
        self.issued = 1
        self.refused: list[str] = []

    def token(self) -> str:
        return f"t{self.issued}"

    def invalidate(self, token: str) -> None:
        self.refused.append(token)
        self.issued += 1


class FakeGoogle:
    """Serves paged lists and single objects by path; scripted failures come first."""

    def __init__(self, page_size: int = 2) -> None:
        self.page_size = page_size
        self.lists: dict[str, tuple[str, list[dict[str, Any]]]] = {}
        self.objects: dict[str, dict[str, Any]] = {}
        self.failures: list[Answer] = []
        self.requests: list[httpx.Request] = []
        self.sleeps: list[float] = []
        self.created: list[tuple[str, dict[str, Any], dict[str, str]]] = []
        self.reject_create: dict[str, int] = {}

    def serve_list(self, path: str, key: str, items: Sequence[dict[str, Any]]) -> None:
        self.lists[path] = (key, list(items))

    def handler(self, request: httpx.Request) -> httpx.Response:
        check_request(request)
        self.requests.append(request)
        for failure in list(self.failures):
            answer = failure(request)
            if answer is not None:
                self.failures.remove(failure)
                return answer
        path = request.url.path
        if request.method == "POST":
            body = json.loads(request.content)
            status = self.reject_create.get(body.get("emailAddress", ""))
            if status is not None:
                error = {"code": status, "message": "The user cannot be shared with"}
                return httpx.Response(status, json={"error": error})
            self.created.append((path, body, dict(request.url.params)))
            return httpx.Response(200, json=shaped("drive.v3.json", "Permission", id="p9", **body))
        if path in self.objects:
            return httpx.Response(200, json=self.objects[path])
        if path in self.lists:
            key, items = self.lists[path]
            offset = int(request.url.params.get("pageToken") or 0)
            body: dict[str, Any] = {key: items[offset : offset + self.page_size]}
            if offset + self.page_size < len(items):
                body["nextPageToken"] = str(offset + self.page_size)
            return httpx.Response(200, json=body)
        return httpx.Response(404, json={"error": {"code": 404, "message": "Not found"}})

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self.handler))

    def api(self, tokens: Tokens | None = None) -> Any:
        from blendkit_meet._api import GoogleApi

        return GoogleApi(
            tokens or Tokens(),
            self.client(),
            retry=RetryPolicy(max_retries=3, backoff_seconds=0.5),
            sleep=self.sleeps.append,
            fence=public_fence(),
        )

    def paths(self) -> list[str]:
        return [r.url.path for r in self.requests]


def conference(name: str = RECORD, start: float = 0, end: float | None = 90) -> dict[str, Any]:
    fields: dict[str, Any] = {"name": name, "startTime": at(start), "space": "spaces/s1"}
    if end is not None:
        fields["endTime"] = at(end)
    return shaped(MEET, "ConferenceRecord", **fields)


def signed_in(pid: str, user_id: str, name: str, record: str = RECORD) -> dict[str, Any]:
    who = shaped(MEET, "SignedinUser", user=f"users/{user_id}", displayName=name)
    return shaped(MEET, "Participant", name=f"{record}/participants/{pid}", signedinUser=who)


def anonymous(pid: str, name: str, record: str = RECORD) -> dict[str, Any]:
    who = shaped(MEET, "AnonymousUser", displayName=name)
    return shaped(MEET, "Participant", name=f"{record}/participants/{pid}", anonymousUser=who)


def phone(pid: str, name: str, record: str = RECORD) -> dict[str, Any]:
    who = shaped(MEET, "PhoneUser", displayName=name)
    return shaped(MEET, "Participant", name=f"{record}/participants/{pid}", phoneUser=who)


def sessions(participant: dict[str, Any], *spans: tuple[float, float | None]) -> list[Any]:
    """Participant sessions, one per (start, end) in minutes after START (end None: still in)."""
    made = []
    for index, (start, end) in enumerate(spans):
        fields: dict[str, Any] = {
            "name": f"{participant['name']}/participantSessions/s{index}",
            "startTime": at(start),
        }
        if end is not None:
            fields["endTime"] = at(end)
        made.append(shaped(MEET, "ParticipantSession", **fields))
    return made


def directory_user(email: str, user_id: str) -> dict[str, Any]:
    return shaped("admin.directory_v1.json", "User", id=user_id, primaryEmail=email)


def serve_meeting(
    fake: FakeGoogle,
    people: Sequence[tuple[dict[str, Any], Sequence[tuple[float, float | None]]]],
    records: Sequence[dict[str, Any]] | None = None,
) -> None:
    """The space's conference records and, for RECORD, its participants and their sessions."""
    fake.serve_list("/v2/conferenceRecords", "conferenceRecords", records or [conference()])
    fake.serve_list(f"/v2/{RECORD}/participants", "participants", [p for p, _ in people])
    for participant, spans in people:
        fake.serve_list(
            f"/v2/{participant['name']}/participantSessions",
            "participantSessions",
            sessions(participant, *spans),
        )
