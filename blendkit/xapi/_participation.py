"""Statements of live-session participation, in the Virtual Classroom profile's shapes: a poll
answered is its "answered poll" (``answered`` a ``cmi.interaction`` activity, the answer in
``result.response``), a question on the board its "posted public message" (acrossx ``posted`` a
``message``). The profile's poll activity carries no interaction fields (ralph's models refuse
them), so the poll's kind and options travel in blendkit's ``urn:blendkit:xapi:extension:poll``
and the response names the chosen options by their ids there. An upvote has no published verb
and uses blendkit's own ``urn:blendkit:xapi:verb:upvoted`` on the question. Each statement is
categorised with the profile, names its live session in ``contextActivities.parent`` and the
course in ``grouping``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from blendkit.xapi._assembly import statement_id
from blendkit.xapi._builders import StatementFactory
from blendkit.xapi._models import (
    Activity,
    ActivityDefinition,
    Agent,
    ContextActivities,
    Statement,
    StatementContext,
    StatementResult,
)
from blendkit.xapi._vocab import ADL, BLENDKIT, VIRTUAL_CLASSROOM, profile_category

__all__ = ["poll_answered", "question_posted"]


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
            category=[profile_category(VIRTUAL_CLASSROOM.PROFILE)],
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
    shape: dict[str, object] = {"kind": kind}
    if kind in ("single", "multi"):
        shape["options"] = [{"id": str(n), "label": label} for n, label in enumerate(options)]
    elif kind == "rating":
        shape["options"] = [{"id": str(n), "label": str(n)} for n in range(1, 6)]
    poll = Activity(
        id=factory.activity_iri("poll", poll_id),
        definition=ActivityDefinition(
            type=ADL.INTERACTION_TYPE,
            name={language: question},
            extensions={BLENDKIT.POLL: shape},
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
            type=VIRTUAL_CLASSROOM.MESSAGE_TYPE,
            name={language: text} if text else None,
        ),
    )
    session = _session(factory, session_id, session_name)
    verb = VIRTUAL_CLASSROOM.POSTED if action == "asked" else BLENDKIT.UPVOTED
    return Statement(
        id=statement_id("question", action, actor.model_dump_json(), question.id),
        actor=actor,
        verb=verb,
        object=question,
        context=_context(factory, actor, course_id, session),
        timestamp=at,
    )
