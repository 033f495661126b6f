"""The demo's peer workshop: an essay, two reviews each, feedback once both are given."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from blendkit.progression import CompletionCondition, Item, Module, PeerReviewsCondition
from blendkit.review import ReviewScores, starter_settings

REVIEW_ITEM = "peer-review"
WRITERS = ("demo-kofi", "demo-mei", "demo-sam", "demo-priya")


def workshop_module() -> Module:
    """Submit an essay, review two classmates, then see the feedback on your own essay."""
    return Module(
        id="peer-workshop",
        title="Peer workshop",
        items=(
            Item(id="essay", title="Submit your reflection essay", kind="assignment"),
            Item(id=REVIEW_ITEM, title="Review 2 classmates", kind="peer_review",
                 conditions=CompletionCondition(item="essay"),
                 complete_when=PeerReviewsCondition(item=REVIEW_ITEM, count=2)),
            Item(id="peer-feedback", title="See your feedback", kind="reading",
                 conditions=PeerReviewsCondition(item=REVIEW_ITEM, count=2)),
        ),
    )  # fmt: skip


def _review(author: str) -> ReviewScores:
    return ReviewScores(
        levels={"clarity": 2, "evidence": 1},
        comments={"clarity": "Easy to follow.", "evidence": f"Cite a source for {author}'s claim."},
        general="A thoughtful essay.",
    )


def seed_reviews(svc: Any, course: Any, now: datetime) -> None:
    """Four essays, Kofi's reviews given and his feedback in, one more review for him to do."""
    settings = starter_settings(course.path, REVIEW_ITEM)
    later = settings.model_copy(update={"submit_by": now + timedelta(hours=1)})
    svc.reviews.configure(course, REVIEW_ITEM, later)
    for sub in WRITERS:
        name = sub.removeprefix("demo-").title()
        svc.reviews.submit(course, sub, REVIEW_ITEM, text=f"{name}'s essay on learning online.")
    # The deadline is lifted: the four essays are allocated together, two reviewers each.
    svc.reviews.configure(course, REVIEW_ITEM, settings.model_copy(update={"submit_by": None}))
    svc.reviews.allocate(course, REVIEW_ITEM)
    kofi = svc.reviews.submission(course, "demo-kofi", REVIEW_ITEM)
    for task in svc.reviews.assignments(course, REVIEW_ITEM):
        if task.reviewer == "demo-kofi" or task.submission_id == kofi.id:
            svc.reviews.give_review(course, task.reviewer, task.id, _review("the author"))
    mine = {a.submission_id for a in svc.reviews.assignments(course, REVIEW_ITEM,
                                                             reviewer="demo-kofi")}  # fmt: skip
    other = next(
        a for a in svc.reviews.assignments(course, REVIEW_ITEM)
        if a.submission_id not in mine | {kofi.id} and a.status == "assigned"
    )  # fmt: skip
    svc.reviews.reassign(course, other.id, by="demo-rivera", to="demo-kofi")
