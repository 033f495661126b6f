"""Starting settings for a peer-review item, read from the course path (the instructor edits
them before learners submit)."""

from __future__ import annotations

from blendkit.progression import Path, PeerReviewsCondition
from blendkit.review._settings import Criterion, Level, PeerReviewSettings, Rubric

__all__ = ["starter_settings"]

STARTER_RUBRIC = Rubric(
    criteria=(
        Criterion(id="clarity", title="Clarity", levels=(
            Level(points=0, description="Hard to follow"),
            Level(points=2, description="Mostly clear"),
            Level(points=4, description="Clear throughout"),
        )),
        Criterion(id="evidence", title="Use of evidence", levels=(
            Level(points=0, description="Claims without support"),
            Level(points=2, description="Some claims supported"),
            Level(points=4, description="Every claim supported"),
        )),
    ),
)  # fmt: skip


def starter_settings(path: Path, item: str) -> PeerReviewSettings:
    """Settings for ``item`` that follow its path: as many reviewers as its ``peer_reviews``
    completion asks for, the submission on the ``assignment`` item it waits for (the
    ``peer-workshop`` template's "Submit your work"), that item's due date as the submission
    deadline, ``item``'s own as the review deadline, and a two-criterion starter rubric."""
    found = path.item(item)
    reviewers = 2
    if isinstance(found.complete_when, PeerReviewsCondition):
        reviewers = min(found.complete_when.count, 10)
    refs = found.conditions.refs() if found.conditions is not None else ()
    submit = next((r for r in refs if path.item(r).kind == "assignment"), None)
    submit_by = path.item(submit).due if submit else None
    review_by = found.due if found.due and (submit_by is None or found.due > submit_by) else None
    return PeerReviewSettings(
        reviewers=reviewers,
        rubric=STARTER_RUBRIC,
        submit_item=submit,
        submit_by=submit_by,
        review_by=review_by,
    )
