"""The xAPI values a statement points at: actors (Agent, Group and their Account), verbs,
activities with their definitions, and references to other statements.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal, Self
from uuid import UUID

from pydantic import Discriminator, Field, Tag, model_validator

from blendkit.xapi._models_base import IRI, Extensions, LanguageMap, _kind, _Value

__all__ = [
    "Account",
    "Activity",
    "ActivityDefinition",
    "ActorField",
    "Agent",
    "Group",
    "InteractionComponent",
    "StatementRef",
    "Verb",
]

_MBOX = re.compile(r"^mailto:[^@\s]+@[^@\s]+$")
_SHA1 = re.compile(r"^[0-9a-fA-F]{40}$")


class Account(_Value):
    """A user account on an existing system (for LTI: the platform issuer and the user's sub)."""

    homePage: IRI
    name: str = Field(min_length=1)


class Agent(_Value):
    """One person or system, identified by exactly one inverse functional identifier."""

    objectType: Literal["Agent"] | None = None
    name: str | None = None
    mbox: str | None = Field(default=None, pattern=_MBOX.pattern)
    mbox_sha1sum: str | None = Field(default=None, pattern=_SHA1.pattern)
    openid: IRI | None = None
    account: Account | None = None

    @model_validator(mode="after")
    def _one_identifier(self) -> Self:
        found = [k for k in ("mbox", "mbox_sha1sum", "openid", "account") if getattr(self, k)]
        if len(found) != 1:
            raise ValueError(
                "an Agent needs exactly one of mbox, mbox_sha1sum, openid, account "
                f"(found {found or 'none'})"
            )
        return self


class Group(_Value):
    """A set of Agents; identified (one IFI) or anonymous (members only)."""

    objectType: Literal["Group"]
    name: str | None = None
    member: list[Agent] | None = None
    mbox: str | None = Field(default=None, pattern=_MBOX.pattern)
    mbox_sha1sum: str | None = Field(default=None, pattern=_SHA1.pattern)
    openid: IRI | None = None
    account: Account | None = None

    @model_validator(mode="after")
    def _identified_or_members(self) -> Self:
        found = [k for k in ("mbox", "mbox_sha1sum", "openid", "account") if getattr(self, k)]
        if len(found) > 1:
            raise ValueError(f"a Group has at most one identifier (found {found})")
        if not found and not self.member:
            raise ValueError("an anonymous Group (no identifier) must list its member Agents")
        return self


ActorField = Annotated[
    Annotated[Agent, Tag("Agent")] | Annotated[Group, Tag("Group")],
    Discriminator(_kind("Agent")),
]


class Verb(_Value):
    """What the actor did: an IRI plus an optional display name per language."""

    id: IRI
    display: LanguageMap | None = None


class InteractionComponent(_Value):
    """One choice, scale point, source, target or step of an interaction activity."""

    id: str = Field(min_length=1)
    description: LanguageMap | None = None


class ActivityDefinition(_Value):
    """Metadata about an Activity."""

    name: LanguageMap | None = None
    description: LanguageMap | None = None
    type: IRI | None = None
    moreInfo: IRI | None = None
    extensions: Extensions | None = None
    interactionType: (
        Literal[
            "true-false",
            "choice",
            "fill-in",
            "long-fill-in",
            "matching",
            "performance",
            "sequencing",
            "likert",
            "numeric",
            "other",
        ]
        | None
    ) = None
    correctResponsesPattern: list[str] | None = None
    choices: list[InteractionComponent] | None = None
    scale: list[InteractionComponent] | None = None
    source: list[InteractionComponent] | None = None
    target: list[InteractionComponent] | None = None
    steps: list[InteractionComponent] | None = None


class Activity(_Value):
    """A thing the actor interacted with, identified by an IRI."""

    objectType: Literal["Activity"] | None = None
    id: IRI
    definition: ActivityDefinition | None = None


class StatementRef(_Value):
    """A pointer to another statement (used by voiding)."""

    objectType: Literal["StatementRef"]
    id: UUID
