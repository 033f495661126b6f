"""Typed LTI 1.3 claims: the pieces of a validated id_token that tools and services read.

Each model mirrors one claim of the LTI 1.3 Core, Assignment and Grade Services, Names and Role
Provisioning Services and Deep Linking specifications. Models are frozen and ignore members they
do not know, because platforms add vendor extensions freely.
"""

from __future__ import annotations

from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = [
    "AGSClaim",
    "AGS_CLAIM",
    "CONTEXT_CLAIM",
    "CUSTOM_CLAIM",
    "DEEP_LINKING_SETTINGS_CLAIM",
    "DEPLOYMENT_ID_CLAIM",
    "DeepLinkingSettings",
    "LAUNCH_PRESENTATION_CLAIM",
    "LISClaim",
    "LIS_CLAIM",
    "LaunchContext",
    "LaunchPresentation",
    "MESSAGE_TYPE_CLAIM",
    "NRPSClaim",
    "NRPS_CLAIM",
    "RESOURCE_LINK_CLAIM",
    "ROLES_CLAIM",
    "ROLE_SCOPE_MENTOR_CLAIM",
    "ResourceLink",
    "TARGET_LINK_URI_CLAIM",
    "TOOL_PLATFORM_CLAIM",
    "ToolPlatform",
    "UserIdentity",
    "VERSION_CLAIM",
]

_LTI: Final = "https://purl.imsglobal.org/spec/lti/claim/"
MESSAGE_TYPE_CLAIM: Final = _LTI + "message_type"
VERSION_CLAIM: Final = _LTI + "version"
DEPLOYMENT_ID_CLAIM: Final = _LTI + "deployment_id"
TARGET_LINK_URI_CLAIM: Final = _LTI + "target_link_uri"
RESOURCE_LINK_CLAIM: Final = _LTI + "resource_link"
ROLES_CLAIM: Final = _LTI + "roles"
ROLE_SCOPE_MENTOR_CLAIM: Final = _LTI + "role_scope_mentor"
CONTEXT_CLAIM: Final = _LTI + "context"
LAUNCH_PRESENTATION_CLAIM: Final = _LTI + "launch_presentation"
CUSTOM_CLAIM: Final = _LTI + "custom"
LIS_CLAIM: Final = _LTI + "lis"
TOOL_PLATFORM_CLAIM: Final = _LTI + "tool_platform"
AGS_CLAIM: Final = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"
NRPS_CLAIM: Final = "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice"
DEEP_LINKING_SETTINGS_CLAIM: Final = (
    "https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings"
)


class _Claim(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)


def _as_text(value: Any) -> Any:
    """Platforms send numbers where the spec says string (ids, sizes): keep them as text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value


class UserIdentity(_Claim):
    """Who launched: ``sub`` is the stable platform user id; everything else is optional."""

    sub: str
    name: str | None = None
    given_name: str | None = None
    family_name: str | None = None
    middle_name: str | None = None
    email: str | None = None
    picture: str | None = None
    locale: str | None = None


class LaunchContext(_Claim):
    """The course (or group) the launch happens in."""

    id: str
    label: str | None = None
    title: str | None = None
    type: tuple[str, ...] = ()

    _text_id = field_validator("id", mode="before")(_as_text)


class ResourceLink(_Claim):
    """The placement of the tool inside the context."""

    id: str
    title: str | None = None
    description: str | None = None

    _text_id = field_validator("id", mode="before")(_as_text)


class LaunchPresentation(_Claim):
    """How the platform shows the tool and where to send the user back."""

    document_target: str | None = None
    return_url: str | None = None
    locale: str | None = None
    width: int | None = None
    height: int | None = None


class LISClaim(_Claim):
    """Student-information-system identifiers for the user and the course section."""

    person_sourcedid: str | None = None
    course_offering_sourcedid: str | None = None
    course_section_sourcedid: str | None = None

    _text = field_validator("*", mode="before")(_as_text)


class ToolPlatform(_Claim):
    """The platform instance that sent the launch."""

    guid: str | None = None
    name: str | None = None
    contact_email: str | None = None
    description: str | None = None
    url: str | None = None
    product_family_code: str | None = None
    version: str | None = None

    _text = field_validator("*", mode="before")(_as_text)


class AGSClaim(_Claim):
    """Assignment and Grade Services endpoint claim: what the tool may do with grades."""

    scope: tuple[str, ...] = ()
    lineitems: str | None = None
    lineitem: str | None = None


class NRPSClaim(_Claim):
    """Names and Role Provisioning Services claim: where the roster of the context lives."""

    context_memberships_url: str
    service_versions: tuple[str, ...] = ("2.0",)


class DeepLinkingSettings(_Claim):
    """Deep Linking request settings: what content the platform accepts and where to return it.

    ``data`` stays ``None`` when the platform sent none; a response must then omit the claim.
    """

    deep_link_return_url: str
    accept_types: tuple[str, ...] = Field(min_length=1)
    accept_presentation_document_targets: tuple[str, ...] = Field(min_length=1)
    accept_media_types: str | None = None
    accept_multiple: bool | None = None
    accept_lineitem: bool | None = None
    auto_create: bool | None = None
    title: str | None = None
    text: str | None = None
    data: str | None = None
