"""Peer review: submissions (text, link or file), allocation of reviewers, rubrics, feedback that
opens once the learner gave their reviews, moderation and a weighted grade sent through AGS.

See ``docs/peer-review.md`` for the settings, the allocation rules, blindness, file storage (a
local directory fits one host only) and grades.
"""

from blendkit.review._allocation import Allocation, Assigned, Placed, allocate, drop_reviewer
from blendkit.review._base import check_link
from blendkit.review._files import (
    CONTENT_TYPES,
    LocalDirectoryStorage,
    SubmissionStorage,
    attachment_headers,
    display_name,
    sniff,
)
from blendkit.review._models import (
    Assignment,
    Feedback,
    GradeBreakdown,
    ReceivedReview,
    Submission,
)
from blendkit.review._moderation import PeerReviewService
from blendkit.review._rubric_text import rubric_from_text, rubric_to_text
from blendkit.review._settings import (
    FILE_TYPES,
    Criterion,
    Level,
    PeerReviewSettings,
    ReviewScores,
    Rubric,
    SubmissionKind,
)
from blendkit.review._starter import starter_settings

__all__ = [  # plain sorted(), as tests/test_exported_members.py checks
    "Allocation",
    "Assigned",
    "Assignment",
    "CONTENT_TYPES",
    "Criterion",
    "FILE_TYPES",
    "Feedback",
    "GradeBreakdown",
    "Level",
    "LocalDirectoryStorage",
    "PeerReviewService",
    "PeerReviewSettings",
    "Placed",
    "ReceivedReview",
    "ReviewScores",
    "Rubric",
    "Submission",
    "SubmissionKind",
    "SubmissionStorage",
    "allocate",
    "attachment_headers",
    "check_link",
    "display_name",
    "drop_reviewer",
    "rubric_from_text",
    "rubric_to_text",
    "sniff",
    "starter_settings",
]
