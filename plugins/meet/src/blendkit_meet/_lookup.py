"""Who a Meet participant's Google account is: ``users/{id}`` → e-mail, with a bounded cache.

Meet names a signed-in participant only by account id. :class:`DirectoryLookup` (Admin SDK
Directory ``users.get``, inside the Workspace domain) or :class:`PeopleLookup` (People API
``people.get``, where the directory or the organiser's contacts share the person) turns it into
an e-mail address; :class:`CachedLookup` keeps answers for a while. A missing user (404) or a
refused lookup (401/403) is an answer with a :class:`LookupProblem`, never an error, so one
unknown account cannot stop an attendance import.
"""

from __future__ import annotations

import abc
import enum
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol
from urllib.parse import quote

from blendkit.errors import NotFound, ProviderAuthError
from blendkit_meet._api import DIRECTORY_API, PEOPLE_API, GoogleApi

__all__ = [
    "ADVICE",
    "PEOPLE_SCOPE",
    "CachedLookup",
    "DirectoryLookup",
    "LookupProblem",
    "PeopleLookup",
    "UserEmail",
    "UserLookup",
    "UserLookupKind",
    "user_lookup",
]

PEOPLE_SCOPE = "https://www.googleapis.com/auth/directory.readonly"
"""What :class:`PeopleLookup` needs in the organiser's token to read the domain's profiles."""


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
    :data:`PEOPLE_SCOPE`) and contacts the organiser can see
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


UserLookupKind = Literal["directory", "people", "none"]


def user_lookup(
    kind: UserLookupKind,
    api: GoogleApi,
    *,
    ttl_seconds: float = 6 * 3600,
    capacity: int = 10_000,
) -> UserLookup | None:
    """The cached account lookup ``kind`` names over ``api`` (None for ``"none"``).

    For ``"directory"``, ``api`` acts as a Workspace administrator (``[meet] directory_admin``);
    for ``"people"``, as the organiser.
    """
    if kind == "none":
        return None
    inner = DirectoryLookup(api) if kind == "directory" else PeopleLookup(api)
    return CachedLookup(inner, ttl_seconds=ttl_seconds, capacity=capacity)


ADVICE = {
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
