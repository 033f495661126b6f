"""Evidence: the plain value an app assembles about one learner, the pieces that extend it, and
which of those pieces a gate guards (see :mod:`blendkit.progression._replay`).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from blendkit.progression._evidence_pieces import (
    ActivitySeen,
    AttendanceRecorded,
    CompletionRecorded,
    Enrolled,
    ExtensionGranted,
    GroupingJoined,
    GroupJoined,
    ItemViewed,
    OverrideAdded,
    PeerReviewGiven,
    PollAnswered,
    ProfileSet,
    QuestionRaised,
    RecordingWatched,
    RoleGranted,
    ScoreRecorded,
    VideoWatched,
)
from blendkit.progression._evidence_records import (
    _FROZEN,
    Attempt,
    AttendanceRecord,
    CompletionRecord,
    Override,
)
from blendkit.progression._time import UtcDatetime
from blendkit.progression._units import Percent

__all__ = ["GATED_KINDS", "Evidence", "EvidencePiece", "gated_item"]


class Evidence(BaseModel):
    """Everything the engine knows about one learner; all times are UTC."""

    model_config = _FROZEN

    learner: str | None = None
    enrolled_at: UtcDatetime | None = None
    enrolment_ends_at: UtcDatetime | None = None
    scores: dict[str, tuple[Attempt, ...]] = Field(default_factory=dict)
    completions: dict[str, CompletionRecord] = Field(default_factory=dict)
    attendance: dict[str, AttendanceRecord] = Field(default_factory=dict)
    recordings: dict[str, Percent] = Field(default_factory=dict)
    videos: dict[str, Percent] = Field(default_factory=dict)
    views: dict[str, UtcDatetime] = Field(default_factory=dict)
    peer_reviews: dict[str, Annotated[int, Field(ge=0)]] = Field(default_factory=dict)
    polls: dict[str, frozenset[str]] = Field(
        default_factory=dict, description="per live-session item, the polls answered"
    )
    asked: dict[str, frozenset[str]] = Field(
        default_factory=dict, description="per live-session item, the questions asked"
    )
    upvoted: dict[str, frozenset[str]] = Field(
        default_factory=dict, description="per live-session item, the questions upvoted"
    )
    groups: frozenset[str] = frozenset()
    groupings: frozenset[str] = frozenset()
    roles: frozenset[str] = frozenset()
    profile: dict[str, str] = Field(default_factory=dict)
    extensions: dict[str, UtcDatetime] = Field(default_factory=dict)
    last_activity_at: UtcDatetime | None = None
    overrides: tuple[Override, ...] = ()
    completed_at: dict[str, UtcDatetime] = Field(
        default_factory=dict,
        description="items the engine saw completed while open, and when: a completion stays "
        "when the item's gate closes later (filled by replaying time-ordered evidence)",
    )

    def apply(self, piece: EvidencePiece) -> Evidence:
        """A new value with ``piece`` merged in (monotone: nothing is taken away)."""
        update = piece.merge(self)
        when = piece.activity_at()
        if when is not None and (self.last_activity_at is None or when > self.last_activity_at):
            update["last_activity_at"] = when
        return self.model_copy(update=update)

    def apply_all(self, pieces: list[EvidencePiece]) -> Evidence:
        """``apply`` for each piece in order."""
        evidence = self
        for piece in pieces:
            evidence = evidence.apply(piece)
        return evidence


EvidencePiece = Annotated[
    ScoreRecorded
    | CompletionRecorded
    | AttendanceRecorded
    | RecordingWatched
    | VideoWatched
    | ItemViewed
    | PeerReviewGiven
    | PollAnswered
    | QuestionRaised
    | GroupJoined
    | GroupingJoined
    | RoleGranted
    | ProfileSet
    | Enrolled
    | ExtensionGranted
    | OverrideAdded
    | ActivitySeen,
    Field(discriminator="kind"),
]
"""One new piece of evidence (discriminated by ``kind``)."""

GATED_KINDS: frozenset[str] = frozenset(
    {
        "score", "completion", "attendance", "recording", "video", "view", "peer_review",
        "poll", "question",
    }
)  # fmt: skip
"""Kinds of pieces that are the learner's work on one item: admitted only while it is open."""


def gated_item(piece: EvidencePiece) -> str | None:
    """The item whose gate guards ``piece`` (None for enrolment, groups, overrides, …)."""
    if piece.kind in GATED_KINDS:
        item: str = piece.item  # type: ignore[union-attr]
        return item
    return None
