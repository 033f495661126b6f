"""Google's conference records, directory, People and Drive for the Meet attendance tests.

:class:`MeetRecordsFake` adds routes to :class:`tests.plugins.google_fake.GoogleFake`, whose
token endpoint checks the service account's JWT grants and whose handler checks every request
against Google's discovery documents (``check_request``). Answers are built with ``shaped`` from
the same documents' schemas; lists are served in pages of ``page_size`` items chained with
``nextPageToken``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from blendkit_meet._api import GoogleApi
from blendkit_meet._auth import DIRECTORY_SCOPE, DRIVE_SCOPE, MEET_READ_SCOPE, GoogleTokenSource

from blendkit.http import RetryPolicy
from tests.fence import public_fence
from tests.plugins import google_fake
from tests.plugins.google_discovery import shaped

MEET = "meet.v2.json"
START = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
CODE = "abc-mnop-xyz"
RECORD = "conferenceRecords/rec-1"

Answer = Callable[[httpx.Request], httpx.Response | None]
_HOSTS = (
    r"https://meet\.googleapis\.com/v2/(?!spaces/).*",  # spaces: GoogleFake's own routes
    r"https://admin\.googleapis\.com/.*",
    r"https://people\.googleapis\.com/.*",
    r"https://www\.googleapis\.com/drive/.*",
)


def at(minutes: float) -> str:
    """A Google timestamp ``minutes`` after START, with nanoseconds as Google writes them."""
    moment = START + timedelta(minutes=minutes)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%f") + "123Z"


class MeetRecordsFake:
    """Serves paged lists and single objects by path; scripted answers (``failures``) first."""

    def __init__(self, page_size: int = 2) -> None:
        self.google = google_fake.GoogleFake(page_size=page_size)
        self.page_size = page_size
        self.lists: dict[str, tuple[str, list[dict[str, Any]]]] = {}
        self.objects: dict[str, dict[str, Any]] = {}
        self.failures: list[Answer] = []
        self.sleeps: list[float] = []
        self.created: list[tuple[str, dict[str, Any], dict[str, str]]] = []
        self.reject_create: dict[str, int] = {}
        self.expire_after: dict[str, int] = {}
        """Path → page number after which every issued token stops working (expiry)."""
        for host in _HOSTS:
            for method in ("GET", "POST"):
                self.google.route(method, host, self._answer)

    @property
    def requests(self) -> list[httpx.Request]:
        """The API requests (token grants left out)."""
        return self.google.api_requests()

    def serve_list(self, path: str, key: str, items: Sequence[dict[str, Any]]) -> None:
        self.lists[path] = (key, list(items))

    def _answer(self, request: httpx.Request, match: re.Match[str]) -> httpx.Response:
        del match
        for failure in list(self.failures):
            answer = failure(request)
            if answer is not None:
                self.failures.remove(failure)
                return answer
        path = request.url.path
        if request.method == "POST":
            return self._create(request)
        if path in self.objects:
            return httpx.Response(200, json=self.objects[path])
        if path not in self.lists:
            return google_fake.google_error(404, "Requested entity was not found.", "NOT_FOUND")
        key, items = self.lists[path]
        offset = int(request.url.params.get("pageToken") or 0)
        body: dict[str, Any] = {key: items[offset : offset + self.page_size]}
        if offset + self.page_size < len(items):
            body["nextPageToken"] = str(offset + self.page_size)
        if self.expire_after.get(path) == offset // self.page_size + 1:
            self.google.revoke_tokens()
        return httpx.Response(200, json=body)

    def _create(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        status = self.reject_create.get(body.get("emailAddress", ""))
        if status is not None:
            return google_fake.google_error(
                status, "The user does not have sufficient permissions.", "PERMISSION_DENIED"
            )
        self.created.append((request.url.path, body, dict(request.url.params)))
        return httpx.Response(200, json=shaped("drive.v3.json", "Permission", id="p9", **body))

    def api(self, subject: str = google_fake.ORGANIZER) -> GoogleApi:
        """A GoogleApi acting as ``subject`` with the read, directory and Drive scopes."""
        client = self.google.client()
        tokens = GoogleTokenSource(
            google_fake.service_account_info(),
            scopes=(MEET_READ_SCOPE, DIRECTORY_SCOPE, DRIVE_SCOPE),
            subject=subject,
            client=client,
            fence=public_fence(),
            sleep=self.sleeps.append,
        )
        return GoogleApi(
            tokens,
            client,
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
    fake: MeetRecordsFake,
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
