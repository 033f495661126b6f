"""The pieces of evidence that extend an Evidence value: graded attempts, completions, attendance,
views, polls … about one item, and group, role, profile, enrolment and override changes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, Field

from blendkit.progression._evidence_records import (
    _FROZEN,
    COMPLETION_RANK,
    Attempt,
    AttendanceRecord,
    CompletionRecord,
    CompletionState,
    Override,
)
from blendkit.progression._time import UtcDatetime
from blendkit.progression._units import Percent

if TYPE_CHECKING:
    from blendkit.progression._evidence import Evidence

__all__ = [
    "ActivitySeen",
    "AttendanceRecorded",
    "CompletionRecorded",
    "Enrolled",
    "ExtensionGranted",
    "GroupJoined",
    "GroupingJoined",
    "ItemViewed",
    "OverrideAdded",
    "PeerReviewGiven",
    "PollAnswered",
    "ProfileSet",
    "QuestionRaised",
    "RecordingWatched",
    "RoleGranted",
    "ScoreRecorded",
    "VideoWatched",
]


# Merging is monotone on purpose: a new piece of evidence never takes anything away (best scores
# only rise, watch and attendance figures keep their maximum, a completion never falls back to
# incomplete, extensions only extend). Retracting evidence means building a new value.
class _Piece(BaseModel):
    model_config = _FROZEN

    def index_keys(self) -> tuple[str, ...]:
        """Evidence keys this piece changes (the incremental evaluator's index keys)."""
        return ()

    def merge(self, evidence: Evidence) -> dict[str, object]:
        """Fields of ``evidence`` to replace."""
        return {}

    def activity_at(self) -> UtcDatetime | None:
        """When the learner was active, if this piece says so."""
        return None


class ScoreRecorded(_Piece):
    """A graded attempt arrived (quiz, assignment, AGS score)."""

    kind: Literal["score"] = "score"
    item: str
    score: Percent
    at: UtcDatetime

    def index_keys(self) -> tuple[str, ...]:
        return (f"score:{self.item}", f"active:{self.item}")

    def merge(self, evidence: Evidence) -> dict[str, object]:
        attempts = (*evidence.scores.get(self.item, ()), Attempt(score=self.score, at=self.at))
        return {"scores": {**evidence.scores, self.item: attempts}}

    def activity_at(self) -> UtcDatetime | None:
        return self.at


class CompletionRecorded(_Piece):
    """The platform reported a completion state; it only ever moves up (see COMPLETION_RANK)."""

    kind: Literal["completion"] = "completion"
    item: str
    state: CompletionState
    at: UtcDatetime | None = None

    def index_keys(self) -> tuple[str, ...]:
        return (f"comp:{self.item}", f"active:{self.item}")

    def merge(self, evidence: Evidence) -> dict[str, object]:
        old = evidence.completions.get(self.item)
        if old is not None and COMPLETION_RANK[old.state] >= COMPLETION_RANK[self.state]:
            return {}
        record = CompletionRecord(state=self.state, at=self.at)
        return {"completions": {**evidence.completions, self.item: record}}

    def activity_at(self) -> UtcDatetime | None:
        return self.at


class AttendanceRecorded(_Piece):
    """Live attendance for a session (the larger minutes and percent are kept)."""

    kind: Literal["attendance"] = "attendance"
    item: str
    minutes: Annotated[float, Field(ge=0)] = 0.0
    percent: Percent = 0.0
    at: UtcDatetime | None = None

    def index_keys(self) -> tuple[str, ...]:
        return (f"att:{self.item}", f"active:{self.item}")

    def merge(self, evidence: Evidence) -> dict[str, object]:
        old = evidence.attendance.get(self.item, AttendanceRecord())
        new = AttendanceRecord(
            minutes=max(old.minutes, self.minutes), percent=max(old.percent, self.percent)
        )
        return {"attendance": {**evidence.attendance, self.item: new}}

    def activity_at(self) -> UtcDatetime | None:
        return self.at


class _Percentage(_Piece):
    item: str
    percent: Percent
    at: UtcDatetime | None = None

    def activity_at(self) -> UtcDatetime | None:
        return self.at


class RecordingWatched(_Percentage):
    """How much of a live session's recording the learner watched (the maximum is kept)."""

    kind: Literal["recording"] = "recording"

    def index_keys(self) -> tuple[str, ...]:
        return (f"rec:{self.item}", f"active:{self.item}")

    def merge(self, evidence: Evidence) -> dict[str, object]:
        best = max(self.percent, evidence.recordings.get(self.item, 0.0))
        return {"recordings": {**evidence.recordings, self.item: best}}


class VideoWatched(_Percentage):
    """How much of a video item the learner watched (the maximum is kept)."""

    kind: Literal["video"] = "video"

    def index_keys(self) -> tuple[str, ...]:
        return (f"vid:{self.item}", f"active:{self.item}")

    def merge(self, evidence: Evidence) -> dict[str, object]:
        best = max(self.percent, evidence.videos.get(self.item, 0.0))
        return {"videos": {**evidence.videos, self.item: best}}


class ItemViewed(_Piece):
    """The learner opened an item (the first view is kept)."""

    kind: Literal["view"] = "view"
    item: str
    at: UtcDatetime

    def index_keys(self) -> tuple[str, ...]:
        return (f"view:{self.item}", f"active:{self.item}")

    def merge(self, evidence: Evidence) -> dict[str, object]:
        old = evidence.views.get(self.item)
        if old is not None and old <= self.at:
            return {}
        return {"views": {**evidence.views, self.item: self.at}}

    def activity_at(self) -> UtcDatetime | None:
        return self.at


class PeerReviewGiven(_Piece):
    """The learner gave ``count`` more peer reviews on an item."""

    kind: Literal["peer_review"] = "peer_review"
    item: str
    count: Annotated[int, Field(ge=1)] = 1
    at: UtcDatetime | None = None

    def index_keys(self) -> tuple[str, ...]:
        return (f"rev:{self.item}", f"active:{self.item}")

    def merge(self, evidence: Evidence) -> dict[str, object]:
        total = evidence.peer_reviews.get(self.item, 0) + self.count
        return {"peer_reviews": {**evidence.peer_reviews, self.item: total}}

    def activity_at(self) -> UtcDatetime | None:
        return self.at


class PollAnswered(_Piece):
    """The learner answered a poll of a live session (each poll counts once, however often the
    answer is changed)."""

    kind: Literal["poll"] = "poll"
    item: str
    poll: str = Field(min_length=1)
    at: UtcDatetime | None = None

    def index_keys(self) -> tuple[str, ...]:
        return (f"poll:{self.item}", f"active:{self.item}")

    def merge(self, evidence: Evidence) -> dict[str, object]:
        old = evidence.polls.get(self.item, frozenset())
        if self.poll in old:
            return {}
        return {"polls": {**evidence.polls, self.item: old | {self.poll}}}

    def activity_at(self) -> UtcDatetime | None:
        return self.at


class QuestionRaised(_Piece):
    """The learner asked a question on a live session's Q&A board, or upvoted one (each
    question counts once per action)."""

    kind: Literal["question"] = "question"
    item: str
    question: str = Field(min_length=1)
    action: Literal["asked", "upvoted"] = "asked"
    at: UtcDatetime | None = None

    def index_keys(self) -> tuple[str, ...]:
        return (f"qa:{self.item}", f"active:{self.item}")

    def merge(self, evidence: Evidence) -> dict[str, object]:
        field = "asked" if self.action == "asked" else "upvoted"
        current: dict[str, frozenset[str]] = getattr(evidence, field)
        old = current.get(self.item, frozenset())
        if self.question in old:
            return {}
        return {field: {**current, self.item: old | {self.question}}}

    def activity_at(self) -> UtcDatetime | None:
        return self.at


class GroupJoined(_Piece):
    """The learner joined a group."""

    kind: Literal["group"] = "group"
    group: str

    def index_keys(self) -> tuple[str, ...]:
        return ("groups",)

    def merge(self, evidence: Evidence) -> dict[str, object]:
        return {"groups": evidence.groups | {self.group}}


class GroupingJoined(_Piece):
    """The learner belongs to a grouping (a set of groups, in Moodle's sense)."""

    kind: Literal["grouping"] = "grouping"
    grouping: str

    def index_keys(self) -> tuple[str, ...]:
        return ("groupings",)

    def merge(self, evidence: Evidence) -> dict[str, object]:
        return {"groupings": evidence.groupings | {self.grouping}}


class RoleGranted(_Piece):
    """The learner holds a role in the course."""

    kind: Literal["role"] = "role"
    role: str

    def index_keys(self) -> tuple[str, ...]:
        return ("roles",)

    def merge(self, evidence: Evidence) -> dict[str, object]:
        return {"roles": evidence.roles | {self.role}}


class ProfileSet(_Piece):
    """A user-profile field value (replaces the previous value)."""

    kind: Literal["profile"] = "profile"
    field: str
    value: str

    def index_keys(self) -> tuple[str, ...]:
        return ("profile",)

    def merge(self, evidence: Evidence) -> dict[str, object]:
        return {"profile": {**evidence.profile, self.field: self.value}}


class Enrolled(_Piece):
    """When the learner's enrolment starts (and ends, if it does)."""

    kind: Literal["enrolled"] = "enrolled"
    at: UtcDatetime
    ends_at: UtcDatetime | None = None

    def index_keys(self) -> tuple[str, ...]:
        return ("enrol",)

    def merge(self, evidence: Evidence) -> dict[str, object]:
        return {"enrolled_at": self.at, "enrolment_ends_at": self.ends_at}


class ExtensionGranted(_Piece):
    """A per-learner deadline for an item; only a later deadline replaces an earlier one."""

    kind: Literal["extension"] = "extension"
    item: str
    until: UtcDatetime

    def index_keys(self) -> tuple[str, ...]:
        return (f"ext:{self.item}",)

    def merge(self, evidence: Evidence) -> dict[str, object]:
        old = evidence.extensions.get(self.item)
        if old is not None and old >= self.until:
            return {}
        return {"extensions": {**evidence.extensions, self.item: self.until}}


class OverrideAdded(_Piece):
    """An instructor override for this learner."""

    kind: Literal["override"] = "override"
    override: Override

    def index_keys(self) -> tuple[str, ...]:
        return (f"override:{self.override.item}",)

    def merge(self, evidence: Evidence) -> dict[str, object]:
        return {"overrides": (*evidence.overrides, self.override)}


class ActivitySeen(_Piece):
    """The learner did something in the course (feeds the no-activity signal)."""

    kind: Literal["activity"] = "activity"
    at: UtcDatetime

    def index_keys(self) -> tuple[str, ...]:
        return ("activity",)

    def activity_at(self) -> UtcDatetime | None:
        return self.at
