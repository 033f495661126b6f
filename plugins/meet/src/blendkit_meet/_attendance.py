"""Meet attendance: conference records → participants → participant sessions, tied by account.

A Meet space keeps one *conference record* per sitting (a weekly series reuses its space, so it
has one record a week). Each record lists *participants* (one per person: a signed-in Google
account, an anonymous guest or a phone dial-in) and each participant lists *participant
sessions* (one per device and per rejoin). Every session becomes one
:class:`~blendkit.sessions.ParticipantRecord`; blendkit's attendance merge then unites a person's
sessions, so overlapping devices are never counted twice.

Learners are matched by signed-in Google account only, never by display name: Meet names the
account ``users/{id}``, which :class:`DirectoryLookup` (Admin SDK ``users.get``) or
:class:`PeopleLookup` (People API ``people.get``) turns into an e-mail address, through a
:class:`CachedLookup`. Anonymous and phone participants carry no account and are reported as
unmatched (``no_identifier``); an account the directory does not know or refuses to show keeps
its Google id and no e-mail, and is reported as unmatched (``not_in_roster``) with a warning in
the log that says what the administrator can do.
"""

from __future__ import annotations

import abc
import enum
import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from urllib.parse import quote

from blendkit.errors import NotFound, ProviderAuthError, ProviderError
from blendkit.sessions import ParticipantRecord
from blendkit_meet._api import DIRECTORY_API, MEET_API, PEOPLE_API, GoogleApi

__all__ = [
    "CachedLookup",
    "ConferenceRecord",
    "DirectoryLookup",
    "LookupProblem",
    "MeetAttendance",
    "PeopleLookup",
    "UserEmail",
    "UserLookup",
    "conference_for",
    "display_name",
    "parse_google_time",
]

_log = logging.getLogger("blendkit_meet.attendance")

USER_PREFIX = "users/"
_CONFERENCE_MATCH_WINDOW = timedelta(hours=12)
"""How far a sitting may start from the planned occurrence and still be taken as it."""
_FRACTION = re.compile(r"(\.\d{6})\d+")
_INSTANCE_SUFFIX = re.compile(r"_(\d{8}T\d{6}Z)$")


def parse_google_time(value: object) -> datetime | None:
    """An RFC 3339 timestamp from a Google API (nanoseconds allowed) as aware UTC, or None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(_FRACTION.sub(r"\1", value.strip()))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _occurrence_moment(occurrence_id: str) -> datetime | None:
    """The start an occurrence id names: ISO 8601, or a Calendar instance id's ``_…Z`` suffix."""
    suffix = _INSTANCE_SUFFIX.search(occurrence_id)
    if suffix is not None:
        return datetime.strptime(suffix.group(1), "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    return parse_google_time(occurrence_id)


# --- who a Google account is ---------------------------------------------------------------------


class LookupProblem(enum.StrEnum):
    """Why a ``users/{id}`` could not be turned into an e-mail address."""

    NOT_FOUND = "not_found"
    """The directory has no such user: an account outside the Workspace domain."""
    DENIED = "denied"
    """The lookup was refused: the scope is not granted to the service account's client."""


@dataclass(frozen=True)
class UserEmail:
    """The e-mail address of one Google account, or the problem that kept it unknown."""

    user_id: str
    email: str | None = None
    problem: LookupProblem | None = None
    detail: str = ""


class UserLookup(Protocol):
    """Turns a Google user id (the ``{id}`` of ``users/{id}``) into an e-mail address."""

    def email_for(self, user_id: str) -> UserEmail: ...


class _AccountLookup(abc.ABC):
    """One GET per account; a 404 or a refusal (401/403) becomes a problem, never an error."""

    service = ""
    """The API's name in log lines."""

    def __init__(self, api: GoogleApi) -> None:
        self._api = api

    @abc.abstractmethod
    def _request(self, user_id: str) -> tuple[str, dict[str, str]]:
        """The URL and query that look the (URL-quoted) user id up."""

    @abc.abstractmethod
    def _addresses(self, body: Mapping[str, Any]) -> list[object]:
        """The answer's candidate e-mail addresses, best first."""

    def email_for(self, user_id: str) -> UserEmail:
        url, params = self._request(quote(user_id, safe=""))
        try:
            body = self._api.get(url, params)
        except NotFound:
            detail = f"{self.service} has no such user"
            return UserEmail(user_id, problem=LookupProblem.NOT_FOUND, detail=detail)
        except ProviderAuthError:
            detail = f"{self.service} refused the lookup"
            return UserEmail(user_id, problem=LookupProblem.DENIED, detail=detail)
        for value in self._addresses(body):
            if isinstance(value, str) and value.strip():
                return UserEmail(user_id, email=value.strip())
        detail = f"{self.service} knows no e-mail address for the user"
        return UserEmail(user_id, problem=LookupProblem.NOT_FOUND, detail=detail)


class DirectoryLookup(_AccountLookup):
    """Admin SDK Directory ``users.get``: any account of the Workspace domain.

    ``api`` must carry a token for a domain administrator (delegated subject) with the scope
    ``https://www.googleapis.com/auth/admin.directory.user.readonly``.
    """

    service = "the Workspace directory"

    def _request(self, user_id: str) -> tuple[str, dict[str, str]]:
        return f"{DIRECTORY_API}/users/{user_id}", {"projection": "basic"}

    def _addresses(self, body: Mapping[str, Any]) -> list[object]:
        return [body.get("primaryEmail")]


class PeopleLookup(_AccountLookup):
    """People API ``people.get`` with ``personFields=emailAddresses``.

    Reaches accounts the domain's directory shares with the caller (scope
    ``https://www.googleapis.com/auth/directory.readonly``) and contacts the organiser can see
    (``…/auth/contacts.readonly``); the primary address is taken when there are several.
    """

    service = "the People API"

    def _request(self, user_id: str) -> tuple[str, dict[str, str]]:
        return f"{PEOPLE_API}/people/{user_id}", {"personFields": "emailAddresses"}

    def _addresses(self, body: Mapping[str, Any]) -> list[object]:
        found = [e for e in body.get("emailAddresses") or [] if isinstance(e, dict)]
        found.sort(key=lambda e: not (e.get("metadata") or {}).get("primary", False))
        return [entry.get("value") for entry in found]


class CachedLookup:
    """A bounded, time-limited cache in front of a :class:`UserLookup` (thread-safe).

    Found addresses and "no such user" answers are kept ``ttl_seconds``; refusals are not kept,
    so granting the missing scope takes effect on the next import.
    """

    def __init__(
        self,
        inner: UserLookup,
        *,
        ttl_seconds: float = 6 * 3600,
        capacity: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if capacity < 1 or ttl_seconds <= 0:
            raise ValueError("capacity and ttl_seconds must be positive")
        self._inner = inner
        self._ttl = ttl_seconds
        self._capacity = capacity
        self._clock = clock
        self._entries: OrderedDict[str, tuple[float, UserEmail]] = OrderedDict()
        self._lock = threading.Lock()

    def email_for(self, user_id: str) -> UserEmail:
        now = self._clock()
        with self._lock:
            cached = self._entries.get(user_id)
            if cached is not None and cached[0] > now:
                self._entries.move_to_end(user_id)
                return cached[1]
        answer = self._inner.email_for(user_id)
        if answer.problem is LookupProblem.DENIED:
            return answer
        with self._lock:
            self._entries[user_id] = (now + self._ttl, answer)
            self._entries.move_to_end(user_id)
            while len(self._entries) > self._capacity:
                self._entries.popitem(last=False)
        return answer


# --- conference records --------------------------------------------------------------------------


@dataclass(frozen=True)
class ConferenceRecord:
    """One sitting in a Meet space: ``name`` is ``conferenceRecords/{id}``."""

    name: str
    start: datetime | None
    end: datetime | None

    @classmethod
    def from_api(cls, body: Mapping[str, Any]) -> ConferenceRecord:
        return cls(
            name=str(body.get("name") or ""),
            start=parse_google_time(body.get("startTime")),
            end=parse_google_time(body.get("endTime")),
        )


def conference_for(
    records: Iterable[ConferenceRecord], occurrence_id: str
) -> ConferenceRecord | None:
    """The sitting an occurrence id names: a record name, or the start nearest to its time.

    The occurrence id may be ``conferenceRecords/{id}``, an ISO 8601 start, or a Calendar
    instance id (``{event}_20261207T100000Z``); a sitting more than 12 hours away never counts.
    """
    records = list(records)
    for record in records:
        if record.name == occurrence_id:
            return record
    moment = _occurrence_moment(occurrence_id)
    if moment is None:
        return None
    near = [
        (abs(r.start - moment), r.name, r)
        for r in records
        if r.start is not None and abs(r.start - moment) <= _CONFERENCE_MATCH_WINDOW
    ]
    return min(near, key=lambda item: (item[0], item[1]))[2] if near else None


def display_name(participant: Mapping[str, Any]) -> str:
    """The name Meet shows for a participant, whichever kind of user they are."""
    for key in ("signedinUser", "anonymousUser", "phoneUser"):
        who = participant.get(key)
        if isinstance(who, dict) and isinstance(who.get("displayName"), str):
            return str(who["displayName"])
    return ""


def _user_id(participant: Mapping[str, Any]) -> str | None:
    who = participant.get("signedinUser")
    if not isinstance(who, dict):
        return None
    user = who.get("user")
    if not isinstance(user, str) or not user.startswith(USER_PREFIX):
        return None
    return user.removeprefix(USER_PREFIX).strip() or None


class MeetAttendance:
    """Reads a Meet space's sittings and their participants (all pages) as blendkit records.

    ``api`` carries the organiser's token (scope
    ``https://www.googleapis.com/auth/meetings.space.readonly``); ``users`` resolves accounts
    to e-mail addresses (a :class:`CachedLookup` over :class:`DirectoryLookup` or
    :class:`PeopleLookup`), or None to match by Google user id only.
    """

    def __init__(self, api: GoogleApi, users: UserLookup | None) -> None:
        self._api = api
        self._users = users

    def conference_records(self, meeting_code: str) -> list[ConferenceRecord]:
        """Every sitting of the space with ``meeting_code`` (``abc-mnop-xyz``), oldest first."""
        code = meeting_code.strip().replace('"', "")
        items = self._api.pages(
            f"{MEET_API}/conferenceRecords",
            {"filter": f'space.meeting_code = "{code}"'},
            "conferenceRecords",
        )
        found = [ConferenceRecord.from_api(item) for item in items if item.get("name")]
        far_future = datetime.max.replace(tzinfo=UTC)
        found.sort(key=lambda r: (r.start or far_future, r.name))
        return found

    def participants(self, conference: str) -> list[dict[str, Any]]:
        """Every participant of one sitting (``conferenceRecords/{id}``)."""
        return list(self._api.pages(f"{MEET_API}/{conference}/participants", None, "participants"))

    def fetch(self, meeting_code: str, occurrence_id: str | None = None) -> list[ParticipantRecord]:
        """Every participant session of the space's sittings, or of the one ``occurrence_id`` names.

        Records are tagged with ``occurrence_id`` when it is given, otherwise with the name of
        their conference record. A space nobody joined yet has no sittings and gives no records.
        """
        sittings = self.conference_records(meeting_code)
        if occurrence_id is not None:
            chosen = conference_for(sittings, occurrence_id)
            sittings = [chosen] if chosen is not None else []
        records: list[ParticipantRecord] = []
        emails: dict[str, UserEmail] = {}
        for sitting in sittings:
            tag = occurrence_id or sitting.name
            for participant in self.participants(sitting.name):
                records.extend(self._records(participant, tag, sitting, emails))
        return records

    def _email(self, user_id: str, seen: dict[str, UserEmail]) -> str | None:
        if self._users is None:
            return None
        if user_id not in seen:
            answer = self._users.email_for(user_id)
            seen[user_id] = answer
            if answer.problem is not None:
                _log.warning(
                    "Meet participant users/%s is left unmatched: %s (%s); %s",
                    user_id,
                    answer.detail,
                    answer.problem.value,
                    _ADVICE[answer.problem],
                )
        return seen[user_id].email

    def _records(
        self,
        participant: Mapping[str, Any],
        tag: str,
        sitting: ConferenceRecord,
        emails: dict[str, UserEmail],
    ) -> list[ParticipantRecord]:
        name = str(participant.get("name") or "")
        if not name:
            raise ProviderError(
                f"Google Meet listed a participant of {sitting.name} without a name",
                code="sessions.provider_unexpected",
            )
        user_id = _user_id(participant)
        email = self._email(user_id, emails) if user_id is not None else None
        spans = [
            (parse_google_time(s.get("startTime")), parse_google_time(s.get("endTime")))
            for s in self._api.pages(
                f"{MEET_API}/{name}/participantSessions", None, "participantSessions"
            )
        ]
        if not spans:  # sessions not listed (yet): the participant's own first/last times
            spans = [
                (
                    parse_google_time(participant.get("earliestStartTime")),
                    parse_google_time(participant.get("latestEndTime")),
                )
            ]
        return [
            ParticipantRecord(
                join_time=start,
                leave_time=end if end is None or end >= start else start,
                provider_user_id=user_id,
                email=email,
                display_name=display_name(participant),
                connection_id=name,
                occurrence_id=tag,
            )
            for start, end in spans
            if start is not None
        ]


_ADVICE = {
    LookupProblem.NOT_FOUND: (
        "the account is outside the Workspace domain; ask the learner to join with their "
        "institutional account, or look accounts up with the People API where it may see them "
        "(docs/providers/meet-attendance.md)"
    ),
    LookupProblem.DENIED: (
        "grant the service account's client the scope "
        "https://www.googleapis.com/auth/admin.directory.user.readonly (or, for the People API, "
        "https://www.googleapis.com/auth/directory.readonly) in the Admin console's domain-wide "
        "delegation, and check the lookup subject is an administrator "
        "(docs/providers/meet-attendance.md)"
    ),
}
