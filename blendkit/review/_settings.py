"""What an instructor sets for a peer-review item: reviewers, rubric, blindness, deadlines."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

__all__ = [
    "FILE_TYPES",
    "Criterion",
    "Level",
    "PeerReviewSettings",
    "ReviewScores",
    "Rubric",
    "SubmissionKind",
]

_FROZEN = ConfigDict(frozen=True, extra="forbid")
SubmissionKind = Literal["text", "link", "file"]
FileType = Literal["pdf", "png", "jpeg", "txt", "docx"]
FILE_TYPES: tuple[FileType, ...] = ("pdf", "png", "jpeg", "txt", "docx")
"""The file types a submission may be, recognised from the bytes (never from the name)."""
_Text = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=500),
    Field(pattern=r"^[^\x00-\x1f\x7f-\x9f\u2028\u2029]*$"),  # one line, no control characters
]
_Id = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$")]


class Level(BaseModel):
    """One level of a criterion: the points it gives and what work at that level looks like."""

    model_config = _FROZEN
    points: Annotated[float, Field(ge=0, le=1000)]
    description: _Text


class Criterion(BaseModel):
    """One thing reviewers judge, with its levels (lowest first) and an optional comment."""

    model_config = _FROZEN
    id: _Id
    title: _Text
    levels: Annotated[tuple[Level, ...], Field(min_length=2, max_length=10)]
    comment: bool = True
    """Whether reviewers write a comment on this criterion (required when asked for)."""

    @property
    def max_points(self) -> float:
        return max(level.points for level in self.levels)


class Rubric(BaseModel):
    """The criteria of a review and whether a general comment is asked for."""

    model_config = _FROZEN
    criteria: Annotated[tuple[Criterion, ...], Field(min_length=1, max_length=20)]
    general_comment: bool = True

    @field_validator("criteria")
    @classmethod
    def _unique(cls, criteria: tuple[Criterion, ...]) -> tuple[Criterion, ...]:
        ids = [c.id for c in criteria]
        if len(ids) != len(set(ids)):
            raise ValueError("two criteria share an id: give each criterion its own id")
        return criteria

    @property
    def max_points(self) -> float:
        return sum(c.max_points for c in self.criteria)

    def score(self, levels: dict[str, int]) -> float:
        """The points of chosen levels (criterion id → level index)."""
        return sum(c.levels[levels[c.id]].points for c in self.criteria)


class ReviewScores(BaseModel):
    """One filled-in review: a level per criterion, comments per criterion and in general."""

    model_config = _FROZEN
    levels: dict[str, Annotated[int, Field(ge=0)]]
    comments: dict[str, Annotated[str, Field(max_length=5000)]] = Field(default_factory=dict)
    general: Annotated[str, Field(max_length=10000)] = ""

    def check(self, rubric: Rubric) -> list[str]:
        """What is missing or wrong against ``rubric`` (empty when the review is complete)."""
        problems = []
        for c in rubric.criteria:
            chosen = self.levels.get(c.id)
            if chosen is None or chosen >= len(c.levels):
                problems.append(f"choose a level for “{c.title}”")
            if c.comment and not self.comments.get(c.id, "").strip():
                problems.append(f"write a comment on “{c.title}”")
        extra = set(self.levels) - {c.id for c in rubric.criteria}
        if extra:
            problems.append(f"the rubric has no criterion {sorted(extra)[0]!r}")
        if rubric.general_comment and not self.general.strip():
            problems.append("write a general comment")
        return problems


class PeerReviewSettings(BaseModel):
    """The settings of one ``peer_review`` item (see ``docs/peer-review.md``)."""

    model_config = _FROZEN
    reviewers: Annotated[int, Field(ge=1, le=10)] = 2
    """Reviewers per submission, and reviews each learner gives before seeing feedback."""
    rubric: Rubric
    blind: Literal["single", "double"] = "double"
    """``double``: neither side sees the other's name; ``single``: reviewers see the author."""
    kinds: Annotated[tuple[SubmissionKind, ...], Field(min_length=1)] = ("text", "link", "file")
    file_types: Annotated[tuple[FileType, ...], Field(min_length=1)] = FILE_TYPES
    max_file_bytes: Annotated[int, Field(ge=1024, le=900_000)] = 512_000
    """Largest file; at most 900 kB so a file and its form fit the 1 MiB request cap."""
    submit_by: datetime | None = None
    """Submission deadline: allocation starts then; later submissions are late, placed as
    they arrive. None: allocation runs after every submission."""
    review_by: datetime | None = None
    """Review deadline: unfinished reviews are reassigned after it."""
    peer_weight: Annotated[float, Field(ge=0, le=1)] = 0.5
    instructor_weight: Annotated[float, Field(ge=0, le=1)] = 0.5
    submit_item: str | None = None
    """The path item whose page takes the submission and is completed by it (default: the
    peer-review item itself)."""

    @model_validator(mode="after")
    def _consistent(self) -> PeerReviewSettings:
        if abs(self.peer_weight + self.instructor_weight - 1) > 1e-9:
            raise ValueError("peer_weight and instructor_weight must add up to 1")
        if self.submit_by and self.submit_by.tzinfo is None:
            raise ValueError("submit_by needs a time zone")
        if self.review_by and self.review_by.tzinfo is None:
            raise ValueError("review_by needs a time zone")
        if self.submit_by and self.review_by and self.review_by <= self.submit_by:
            raise ValueError("review_by must come after submit_by")
        return self
