"""Names and Role Provisioning Services 2.0: the roster of a course, read lazily page by page.

``GET context_memberships_url`` (media type
``application/vnd.ims.lti-nrps.v2.membershipcontainer+json``) returns the context and a page of
members; ``Link: rel="next"`` leads to the next page and ``rel="differences"`` to the changes
since this read. ``rlid`` restricts the roster to the users who can access one resource link,
and then each member carries the message claims that a launch of that link would send them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from blendkit.errors import ServiceError
from blendkit.lti._claims import NRPSClaim
from blendkit.lti._service_calls import ServiceCall
from blendkit.lti._services import ServiceSession, next_page_url, response_json
from blendkit.lti._tool_config import NRPS_SCOPE

__all__ = [
    "Member",
    "MembershipContext",
    "NamesRoleService",
    "Roster",
    "RosterPage",
    "memberships_url",
    "roster_call",
]

MEMBERSHIP_MEDIA_TYPE: Final = "application/vnd.ims.lti-nrps.v2.membershipcontainer+json"


def _text(value: Any) -> Any:
    return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


class MembershipContext(BaseModel):
    """The course (or group) the roster belongs to."""

    model_config = ConfigDict(frozen=True, extra="allow")

    id: str
    label: str | None = None
    title: str | None = None

    _text_id = field_validator("id", mode="before")(_text)


class Member(BaseModel):
    """One member of the context; personal fields appear only when the platform shares them."""

    model_config = ConfigDict(frozen=True, extra="allow")

    user_id: str
    roles: tuple[str, ...] = ()
    status: str = Field(default="Active", description="Active, Inactive or Deleted")
    name: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    middle_name: str | None = None
    email: str | None = None
    picture: str | None = None
    lis_person_sourcedid: str | None = None
    lti11_legacy_user_id: str | None = None
    message: tuple[dict[str, Any], ...] = Field(
        default=(), description="Launch claims for the resource link, present when rlid is given"
    )

    _text_ids = field_validator("user_id", "lis_person_sourcedid", mode="before")(_text)

    @field_validator("message", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, dict) else value

    @property
    def active(self) -> bool:
        """True unless the platform marked the membership inactive or deleted."""
        return self.status == "Active"


class Roster(Iterator[Member]):
    """Members of one roster read, fetched page by page as iteration goes.

    ``context`` is known after the first page; ``differences_url`` (for a later
    :meth:`NamesRoleService.differences` call) once the platform has sent it.
    """

    def __init__(self, session: ServiceSession, url: str, params: dict[str, str | int]) -> None:
        self._session = session
        self._url = url
        self._params = params
        self._buffer: list[Member] = []
        self._pages: Iterator[Any] | None = None
        self.context: MembershipContext | None = None
        self.differences_url: str | None = None
        self.pages_read = 0

    def _page_iterator(self) -> Iterator[Any]:
        call = roster_call(self._url, self._params)
        for response in self._session.pages_of(call):
            self.pages_read += 1
            page = RosterPage.of(response, call)
            if page.differences_url:
                self.differences_url = page.differences_url
            yield page.context, page.members

    def __iter__(self) -> Roster:
        return self

    def __next__(self) -> Member:
        if self._pages is None:
            self._pages = self._page_iterator()
        while not self._buffer:
            context, members = next(self._pages)
            if self.context is None and context is not None:
                self.context = context
            self._buffer = list(reversed(members))
        return self._buffer.pop()


def roster_call(url: str, params: dict[str, str | int] | None = None) -> ServiceCall:
    """The GET of the first roster page at ``url`` (sans-IO: sync and async rosters share it)."""
    return ServiceCall(
        "GET",
        url,
        (NRPS_SCOPE,),
        (NRPS_SCOPE,),
        MEMBERSHIP_MEDIA_TYPE,
        "reading the NRPS roster",
        params=params,
    )


@dataclass(frozen=True)
class RosterPage:
    """One page of a roster read: its members, the context, and the ``differences`` link."""

    context: MembershipContext | None
    members: list[Member]
    differences_url: str | None

    @classmethod
    def of(cls, response: httpx.Response, call: ServiceCall) -> RosterPage:
        """Parse one membership-container answer to ``call``."""
        context, members = _parse_container(response_json(response, call.what), call.what)
        return cls(context, members, next_page_url(response, "differences"))


def _parse_container(payload: Any, what: str) -> tuple[MembershipContext | None, list[Member]]:
    if not isinstance(payload, dict) or not isinstance(payload.get("members", []), list):
        raise ServiceError(
            f"{what}: the platform's answer is not a membership container "
            "(a JSON object with a `members` array).",
            code="lti.service_response_invalid",
        )
    try:
        context = (
            MembershipContext.model_validate(payload["context"])
            if isinstance(payload.get("context"), dict)
            else None
        )
        members = [Member.model_validate(item) for item in payload.get("members", [])]
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ServiceError(
            f"{what}: the platform sent a member the NRPS specification does not allow: "
            f"{first['loc']}: {first['msg']}",
            code="lti.service_response_invalid",
        ) from exc
    return context, members


class NamesRoleService:
    """NRPS calls for one context: built from a launch's NRPS claim or from the plain URL."""

    def __init__(self, session: ServiceSession, context_memberships_url: str) -> None:
        self.session = session
        self.context_memberships_url = context_memberships_url

    @classmethod
    def from_claim(cls, session: ServiceSession, claim: NRPSClaim) -> NamesRoleService:
        """Use the memberships URL the platform put in the launch."""
        return cls(session, memberships_url(claim))

    def members(
        self, *, role: str | None = None, limit: int | None = None, rlid: str | None = None
    ) -> Roster:
        """The roster (optionally one role, or the users of resource link ``rlid``), lazily."""
        params: dict[str, str | int] = {}
        if role is not None:
            params["role"] = role
        if limit is not None:
            params["limit"] = limit
        if rlid is not None:
            params["rlid"] = rlid
        return Roster(self.session, self.context_memberships_url, params)

    def differences(self, differences_url: str) -> Roster:
        """Members changed since the read that produced ``differences_url``."""
        return Roster(self.session, differences_url, {})


def memberships_url(claim: NRPSClaim) -> str:
    """The roster URL of an NRPS claim; ``lti.nrps_version`` unless the platform speaks 2.0."""
    if "2.0" not in claim.service_versions:
        raise ServiceError(
            f"the platform offers NRPS versions {', '.join(claim.service_versions)}, and "
            "blendkit speaks 2.0 only.",
            code="lti.nrps_version",
        )
    return claim.context_memberships_url
