"""xAPI statements of peer review: a learner submitted work, gave a review, received feedback.

Activity ids: ``<tool>/xapi/submission/<course key>:<item>:<submission id>`` for the work and
``<tool>/xapi/peer-review/<course key>:<item>:<assignment id>`` for one review, so two courses
(or two deployments) never share an activity. Verbs: Activity Streams *submit* for the work
and the review (as the Tin Can review profile does), ADL *experienced* for feedback the author
opened.
"""

from __future__ import annotations

from datetime import datetime

from blendkit.xapi import (
    ACTIVITY_STREAMS,
    ADL,
    TINCAN,
    Agent,
    ContextActivities,
    Statement,
    StatementContext,
    StatementFactory,
    statement_id,
)

__all__ = ["feedback_received", "review_given", "work_submitted"]


def _context(factory: StatementFactory, actor: Agent, key: str) -> StatementContext:
    course = factory.activity("course", key, ADL.COURSE_TYPE, None)
    return StatementContext(
        registration=factory.registration(actor, key),
        platform=factory.platform,
        language=factory.language,
        contextActivities=ContextActivities(parent=[course]),
    )


def work_submitted(  # noqa: PLR0917
    factory: StatementFactory,
    actor: Agent,
    key: str,
    item: str,
    submission_id: int,
    title: str,
    at: datetime,
) -> Statement:
    obj = factory.activity(
        "submission", f"{key}:{item}:{submission_id}", ADL.ASSESSMENT_TYPE, title
    )
    return Statement(
        id=statement_id("peer-submission", actor.model_dump_json(), obj.id, at.isoformat()),
        actor=actor,
        verb=ACTIVITY_STREAMS.SUBMIT,
        object=obj,
        context=_context(factory, actor, key),
        timestamp=at,
    )


def review_given(  # noqa: PLR0917
    factory: StatementFactory,
    actor: Agent,
    key: str,
    item: str,
    assignment_id: int,
    submission_id: int,
    points: float,
    max_points: float,
    at: datetime,
) -> Statement:
    return factory.peer_review_submitted(
        actor,
        review_id=f"{key}:{item}:{assignment_id}",
        submission_id=f"{key}:{item}:{submission_id}",
        course_id=key,
        rating=points,
        max_rating=max_points,
        name=f"Peer review on {item}",
        at=at,
    )


def feedback_received(  # noqa: PLR0917
    factory: StatementFactory,
    actor: Agent,
    key: str,
    item: str,
    assignment_id: int,
    at: datetime,
) -> Statement:
    obj = factory.activity(
        "peer-review", f"{key}:{item}:{assignment_id}", TINCAN.REVIEW_TYPE, f"Feedback on {item}"
    )
    return Statement(
        id=statement_id("peer-feedback", actor.model_dump_json(), obj.id),
        actor=actor,
        verb=ADL.EXPERIENCED,
        object=obj,
        context=_context(factory, actor, key),
        timestamp=at,
    )
