"""Meet attendance: conference records → participants → participant sessions, tied by account.

A Meet space keeps one *conference record* per sitting (a weekly series reuses its space, so it
has one record a week). Each record lists *participants* (one per person: a signed-in Google
account, an anonymous guest or a phone dial-in) and each participant lists *participant
sessions* (one per device and per rejoin). Every session becomes one
:class:`~blendkit.sessions.ParticipantRecord`; blendkit's attendance merge then unites a person's
sessions, so overlapping devices are never counted twice.

Learners are matched by signed-in Google account only, never by display name: Meet names the
account ``users/{id}``, which a :class:`~blendkit_meet._lookup.UserLookup` (Directory or People
API, cached; re-exported here) turns into an e-mail address. Anonymous and phone participants
carry no account and are reported as unmatched (``anonymous``, ``phone``); an account the
directory does not know or refuses to show keeps its Google id and no e-mail, and is reported as
unmatched (``unknown_account``, ``lookup_denied``) with a warning in the log that says what the
administrator can do.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from blendkit.errors import ProviderError
from blendkit.sessions import ParticipantRecord, UnmatchedReason
from blendkit_meet._api import MEET_API, GoogleApi
from blendkit_meet._lookup import (
    ADVICE,
    CachedLookup,
    DirectoryLookup,
    LookupProblem,
    PeopleLookup,
    UserEmail,
    UserLookup,
    UserLookupKind,
    user_lookup,
)

__all__ = [
    "CachedLookup",
    "ConferenceRecord",
    "DirectoryLookup",
    "LookupProblem",
    "MeetAttendance",
    "PeopleLookup",
    "UserEmail",
    "UserLookup",
    "UserLookupKind",
    "conference_for",
    "display_name",
    "parse_google_time",
    "user_lookup",
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


_LOOKUP_REASONS = {
    LookupProblem.NOT_FOUND: UnmatchedReason.UNKNOWN_ACCOUNT,
    LookupProblem.DENIED: UnmatchedReason.LOOKUP_DENIED,
}


def _unidentified(
    participant: Mapping[str, Any], answer: UserEmail | None
) -> UnmatchedReason | None:
    """Why Meet (or the directory) cannot say who the participant is, if it cannot."""
    if isinstance(participant.get("anonymousUser"), dict):
        return UnmatchedReason.ANONYMOUS
    if isinstance(participant.get("phoneUser"), dict):
        return UnmatchedReason.PHONE
    if answer is not None and answer.problem is not None:
        return _LOOKUP_REASONS[answer.problem]
    return None


def _leave(start: datetime, end: datetime | None, sitting: ConferenceRecord) -> datetime | None:
    """A session's end; one left open in a sitting that has ended ends with the sitting."""
    if end is None:
        end = sitting.end
    return None if end is None else max(end, start)


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
                    ADVICE[answer.problem],
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
        unidentified = _unidentified(participant, emails.get(user_id) if user_id else None)
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
                leave_time=_leave(start, end, sitting),
                provider_user_id=user_id,
                email=email,
                display_name=display_name(participant),
                connection_id=name,
                occurrence_id=tag,
                unidentified=unidentified,
            )
            for start, end in spans
            if start is not None
        ]
