"""Values of peer review read from the store: submissions, assignments, feedback and grades."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from blendkit.review._settings import ReviewScores

__all__ = ["Assignment", "Feedback", "GradeBreakdown", "ReceivedReview", "Submission"]

_FROZEN = ConfigDict(frozen=True)


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


class Submission(BaseModel):
    """One learner's work on a peer-review item: text, a link or a stored file."""

    model_config = _FROZEN
    id: int
    item: str
    sub: str
    kind: Literal["text", "link", "file"]
    body: str | None = None
    """The text, or the link (http or https)."""
    file_name: str | None = None
    """A safe display name chosen by the server (never used as a path)."""
    file_type: str | None = None
    file_size: int | None = None
    submitted_at: datetime
    late: bool = False
    placed: bool = False
    instructor_points: float | None = None
    instructor_note: str | None = None

    @classmethod
    def of(cls, row: Any) -> Submission:
        return cls(
            id=row.id, item=row.item, sub=row.sub, kind=row.kind, body=row.body,
            file_name=row.file_name, file_type=row.file_type, file_size=row.file_size,
            submitted_at=_aware(row.submitted_at), late=row.late, placed=row.placed,
            instructor_points=row.instructor_points, instructor_note=row.instructor_note,
        )  # fmt: skip


class Assignment(BaseModel):
    """One reviewer's task on one submission, and the review once given."""

    model_config = _FROZEN
    id: int
    submission_id: int
    item: str
    reviewer: str
    status: Literal["assigned", "done", "dropped"]
    assigned_at: datetime
    scores: ReviewScores | None = None
    points: float | None = None
    reviewed_at: datetime | None = None
    seen_at: datetime | None = None
    """When the author first saw this review."""
    flagged: bool = False
    flag_note: str | None = None
    override_points: float | None = None
    override_note: str | None = None

    @property
    def counted_points(self) -> float | None:
        """The points that count: the instructor's override, else the reviewer's."""
        return self.override_points if self.override_points is not None else self.points

    @classmethod
    def of(cls, row: Any) -> Assignment:
        return cls(
            id=row.id, submission_id=row.submission_id, item=row.item, reviewer=row.reviewer,
            status=row.status, assigned_at=_aware(row.assigned_at),
            scores=ReviewScores.model_validate(json.loads(row.review)) if row.review else None,
            points=row.points, reviewed_at=_aware(row.reviewed_at), seen_at=_aware(row.seen_at),
            flagged=row.flagged,
            flag_note=row.flag_note, override_points=row.override_points,
            override_note=row.override_note,
        )  # fmt: skip


class ReceivedReview(BaseModel):
    """A review as its author's reader sees it: numbered, never named (authors never see who
    reviewed them; ``blind`` only decides whether reviewers see the author)."""

    model_config = _FROZEN
    number: int
    scores: ReviewScores
    points: float
    max_points: float
    overridden: bool = False


class Feedback(BaseModel):
    """What a learner sees of the reviews of their submission."""

    model_config = _FROZEN
    submission: Submission
    reviews: tuple[ReceivedReview, ...]
    waiting: int
    """Reviews still to come."""


class GradeBreakdown(BaseModel):
    """A learner's grade on a peer-review item: peer part, instructor part and their weights."""

    model_config = _FROZEN
    peer_percent: float | None
    instructor_percent: float | None
    peer_weight: float
    instructor_weight: float

    @property
    def final_percent(self) -> float | None:
        """The weighted grade; None until every weighted part is known."""
        parts = [
            (self.peer_percent, self.peer_weight),
            (self.instructor_percent, self.instructor_weight),
        ]
        if any(value is None for value, weight in parts if weight > 0):
            return None
        return round(sum((value or 0.0) * weight for value, weight in parts), 2)
