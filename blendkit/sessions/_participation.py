"""What a meeting provider reports about participation besides attendance: poll answers and
Q&A questions of a past meeting, in provider-neutral values (Zoom has them; Microsoft Graph has
none for Teams meetings). :class:`blendkit.courses.LivePolls` turns them into evidence."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["ParticipationSource", "ProviderPollAnswer", "ProviderQuestion"]

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class ProviderPollAnswer(BaseModel):
    """A poll answer a meeting provider reported (Zoom's poll report), matched by e-mail."""

    model_config = _FROZEN

    email: str | None
    poll_key: str = Field(min_length=1, description="the provider's poll id (or question)")
    answered_at: datetime | None = None


class ProviderQuestion(BaseModel):
    """A question a meeting provider reported from its Q&A (Zoom's Q&A report)."""

    model_config = _FROZEN

    email: str | None
    question: str = Field(min_length=1)


@runtime_checkable
class ParticipationSource(Protocol):
    """A meeting provider that reports poll answers and Q&A of a past meeting (Zoom does;
    Microsoft Graph has no such data for Teams meetings)."""

    def participation(
        self, meeting_id: str, occurrence_id: str | None = None
    ) -> tuple[list[ProviderPollAnswer], list[ProviderQuestion]]:
        """The meeting's poll answers and questions, in blendkit's provider-neutral values."""
        ...
