"""The typed result of a validated launch: who, where, what for, and which services."""

from __future__ import annotations

from enum import StrEnum
from functools import cached_property
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from blendkit.lti._claims import (
    AGSClaim,
    DeepLinkingSettings,
    LaunchContext,
    LaunchPresentation,
    LISClaim,
    NRPSClaim,
    ResourceLink,
    ToolPlatform,
    UserIdentity,
)
from blendkit.lti._roles import RoleSummary, summarize_roles
from blendkit.lti._tenant import Tenant

__all__ = ["Launch", "MessageType"]


class MessageType(StrEnum):
    """The LTI message types a tool accepts."""

    RESOURCE_LINK = "LtiResourceLinkRequest"
    DEEP_LINKING = "LtiDeepLinkingRequest"
    SUBMISSION_REVIEW = "LtiSubmissionReviewRequest"


def _text_values(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            str(k): v if isinstance(v, str) else ("" if v is None else str(v))
            for k, v in value.items()
        }
    return value


class Launch(BaseModel):
    """A launch that passed every check. ``claims`` keeps the raw, verified id_token payload."""

    model_config = ConfigDict(frozen=True, ignored_types=(cached_property,))

    message_type: MessageType
    version: str
    issuer: str
    client_id: str
    deployment_id: str
    user: UserIdentity
    roles: tuple[str, ...] = ()
    role_scope_mentor: tuple[str, ...] = ()
    context: LaunchContext | None = None
    resource_link: ResourceLink | None = None
    target_link_uri: str
    launch_presentation: LaunchPresentation | None = None
    custom: dict[str, str] = Field(default_factory=dict)
    lis: LISClaim | None = None
    ags: AGSClaim | None = None
    nrps: NRPSClaim | None = None
    deep_linking_settings: DeepLinkingSettings | None = None
    tool_platform: ToolPlatform | None = None
    claims: dict[str, Any] = Field(default_factory=dict, repr=False)

    _custom_text = field_validator("custom", mode="before")(_text_values)

    @cached_property
    def _roles(self) -> RoleSummary:
        return summarize_roles(self.roles)

    @property
    def tenant(self) -> Tenant:
        """The deployment this launch came through: the boundary of an institution's data.

        Built on each use (not cached), so a ``model_copy`` of the launch can never carry the
        tenant of the launch it was copied from."""
        return Tenant(
            issuer=self.issuer, client_id=self.client_id, deployment_id=self.deployment_id
        )

    @property
    def is_learner(self) -> bool:
        """A learner in this context (institution ``Student`` alone does not count)."""
        return self._roles.is_learner

    @property
    def is_instructor(self) -> bool:
        """An instructor in this context: ``membership#Instructor`` or one of its sub-roles
        other than the TeachingAssistant ones, or a context ``membership#Administrator`` (who runs
        this course in the LMS and is an instructor of it, never an administrator of the tool)."""
        return self._roles.is_instructor

    @property
    def is_teaching_assistant(self) -> bool:
        """A teaching assistant in this context (``membership/Instructor#TeachingAssistant``,
        ``…#TeachingAssistantSection`` and the other LIS assistant sub-roles)."""
        return self._roles.is_teaching_assistant

    @property
    def is_institution_admin(self) -> bool:
        """An institution or system administrator of the platform that sent the launch
        (``institution/person#Administrator``, ``system/person#Administrator`` or ``#SysAdmin``).

        It entitles to that registration's own settings at most, never to the tool's: see
        :func:`blendkit.lti.administrator_for`. Context administrators are instructors.
        """
        return self._roles.is_institution_admin

    @property
    def is_content_developer(self) -> bool:
        """A content developer in this context."""
        return self._roles.is_content_developer

    @property
    def is_mentor(self) -> bool:
        """A mentor in this context (see ``role_scope_mentor`` for whom they mentor)."""
        return self._roles.is_mentor

    @property
    def is_deep_linking(self) -> bool:
        """True for an ``LtiDeepLinkingRequest``: answer with a deep-linking response."""
        return self.message_type is MessageType.DEEP_LINKING
