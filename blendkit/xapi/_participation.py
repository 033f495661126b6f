"""Statements of live-session participation: a poll answered, a question asked or upvoted.

The Virtual Classroom profile defines no poll or Q&A templates, so these follow the ADL
vocabulary: a poll is a ``cmi.interaction`` activity (``choice`` for single and multiple choice,
``likert`` for ratings, ``fill-in`` for short text) answered with ``answered``; a question on the
board is an activity asked with ``asked``. An upvote has no published verb and uses blendkit's
own ``urn:blendkit:xapi:verb:upvoted``. Each statement names its live session in
``contextActivities.parent`` (a virtual-classroom activity) and the course in ``grouping``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from blendkit.xapi._builders import StatementFactory, statement_id
from blendkit.xapi._models import (
    Activity,
    ActivityDefinition,
    Agent,
    ContextActivities,
    InteractionComponent,
    Statement,
    StatementContext,
    StatementResult,
)
from blendkit.xapi._vocab import ADL, BLENDKIT, VIRTUAL_CLASSROOM

__all__ = ["poll_answered", "question_posted"]

_INTERACTION = {"single": "choice", "multi": "choice", "rating": "likert", "text": "fill-in"}


def _context(
    factory: StatementFactory, actor: Agent, course_id: str, session: Activity
) -> StatementContext:
    return StatementContext(
        registration=factory.registration(actor, course_id),
        platform=factory.platform,
        language=factory.language,
        contextActivities=ContextActivities(
            parent=[session],
            grouping=[factory.activity("course", course_id, ADL.COURSE_TYPE, None)],
        ),
        extensions={VIRTUAL_CLASSROOM.SESSION_ID: session.id},
    )


def _session(factory: StatementFactory, session_id: str, name: str | None) -> Activity:
    return factory.activity("live-session", session_id, VIRTUAL_CLASSROOM.CLASSROOM_TYPE, name)


def poll_answered(
    factory: StatementFactory,
    actor: Agent,
    *,
    course_id: str,
    session_id: str,
    poll_id: str,
    question: str,
    kind: Literal["single", "multi", "rating", "text"],
    options: Sequence[str] = (),
    response: str,
    at: datetime,
    session_name: str | None = None,
) -> Statement:
    """``answered`` a poll; ``response`` in the cmi.interaction format (choice ids joined by
    ``[,]``, the rating as ``1``–``5``, or the text)."""
    language = factory.language or "en"
    components: dict[str, list[InteractionComponent]] = {}
    if kind in ("single", "multi"):
        components["choices"] = [
            InteractionComponent(id=str(n), description={language: label})
            for n, label in enumerate(options)
        ]
    elif kind == "rating":
        components["scale"] = [InteractionComponent(id=str(n)) for n in range(1, 6)]
    poll = Activity(
        id=factory.activity_iri("poll", poll_id),
        definition=ActivityDefinition(
            type=ADL.INTERACTION_TYPE,
            name={language: question},
            interactionType=_INTERACTION[kind],
            **components,
        ),
    )
    session = _session(factory, session_id, session_name)
    return Statement(
        id=statement_id(
            "poll-answered", actor.model_dump_json(), poll.id, at.isoformat(), response
        ),
        actor=actor,
        verb=ADL.ANSWERED,
        object=poll,
        result=StatementResult(response=response),
        context=_context(factory, actor, course_id, session),
        timestamp=at,
    )


def question_posted(
    factory: StatementFactory,
    actor: Agent,
    *,
    action: Literal["asked", "upvoted"],
    course_id: str,
    session_id: str,
    question_id: str,
    at: datetime,
    text: str | None = None,
    session_name: str | None = None,
) -> Statement:
    """``asked`` a question on the session's Q&A board (its text as the activity name), or
    upvoted one (no text: a peer's anonymous question stays anonymous in the record)."""
    language = factory.language or "en"
    question = Activity(
        id=factory.activity_iri("question", question_id),
        definition=ActivityDefinition(
            type=ADL.INTERACTION_TYPE,
            interactionType="long-fill-in",
            name={language: text} if text else None,
        ),
    )
    session = _session(factory, session_id, session_name)
    verb = ADL.ASKED if action == "asked" else BLENDKIT.UPVOTED
    return Statement(
        id=statement_id("question", action, actor.model_dump_json(), question.id),
        actor=actor,
        verb=verb,
        object=question,
        context=_context(factory, actor, course_id, session),
        timestamp=at,
    )
