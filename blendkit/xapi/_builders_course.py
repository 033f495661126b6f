"""The builders of course-path events (peer review, modules, milestones) and of voiding."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from blendkit.errors import StatementInvalid
from blendkit.xapi._assembly import _actor_key, statement_id
from blendkit.xapi._factory import _FactoryCore
from blendkit.xapi._models import (
    Agent,
    Statement,
    StatementContext,
    StatementResult,
    StatementScore,
)
from blendkit.xapi._vocab import ACTIVITY_STREAMS, ADL, BLENDKIT, CMI5, TINCAN


class _CourseBuilders(_FactoryCore):
    """The peer-review, module, milestone and voiding builders of :class:`StatementFactory`."""

    # --- peer review, modules ---------------------------------------------------------------

    def peer_review_submitted(
        self,
        actor: Agent,
        *,
        review_id: str,
        submission_id: str,
        course_id: str | None = None,
        rating: float | None = None,
        max_rating: float | None = None,
        comment: str | None = None,
        name: str | None = None,
        at: datetime | None = None,
    ) -> Statement:
        """A learner submitted a peer review of another learner's submission."""
        score = None
        if rating is not None:
            score = (
                StatementScore(raw=rating, min=0, max=max_rating)
                if max_rating
                else StatementScore(raw=rating)
            )
        result = StatementResult(score=score, response=comment) if score or comment else None
        other = (self.activity("submission", submission_id, ADL.ASSESSMENT_TYPE, None),)
        context = StatementContext(
            registration=self.registration(actor, course_id) if course_id else None,
            platform=self.platform,
            language=self.language,
            contextActivities=self._context_activities(course_id, other=other),
        )
        obj = self.activity("peer-review", review_id, TINCAN.REVIEW_TYPE, name)
        return self._statement(
            statement_id("peer-review", _actor_key(actor), obj.id),
            actor,
            ACTIVITY_STREAMS.SUBMIT,
            obj,
            at=at,
            result=result,
            context=context,
        )

    def module(
        self,
        event: Literal["unlocked", "completed"],
        actor: Agent,
        *,
        module_id: str,
        course_id: str,
        reason: str | None = None,
        name: str | None = None,
        at: datetime | None = None,
    ) -> Statement:
        """A module of a course path became available (``unlocked``) or was ``completed``."""
        if event not in ("unlocked", "completed"):
            raise StatementInvalid(f"module event {event!r} is not unlocked/completed")
        verb = BLENDKIT.UNLOCKED if event == "unlocked" else ADL.COMPLETED
        result = StatementResult(completion=True) if event == "completed" else None
        if reason:
            result = StatementResult(
                completion=result.completion if result else None,
                extensions={CMI5.RESULT_REASON: reason},
            )
        context = StatementContext(
            registration=self.registration(actor, course_id),
            platform=self.platform,
            language=self.language,
            contextActivities=self._context_activities(course_id),
        )
        obj = self.activity("module", module_id, ADL.MODULE_TYPE, name)
        return self._statement(
            # The course is part of the identity: one learner completing the same module id in
            # two courses (two deployments) makes two statements, not one deduplicated away.
            statement_id("module", event, _actor_key(actor), course_id, obj.id),
            actor,
            verb,
            obj,
            at=at,
            result=result,
            context=context,
        )

    def milestone(
        self,
        actor: Agent,
        *,
        milestone_id: str,
        course_id: str,
        on_time: bool | None = None,
        name: str | None = None,
        at: datetime | None = None,
    ) -> Statement:
        """A learner completed every item of a course-path milestone (ADL ``completed`` on an
        ADL ``objective``); ``on_time`` (result.success) says whether it was by the milestone's
        date (None: the milestone has no date for this learner yet)."""
        context = StatementContext(
            registration=self.registration(actor, course_id),
            platform=self.platform,
            language=self.language,
            contextActivities=self._context_activities(course_id),
        )
        obj = self.activity("milestone", milestone_id, ADL.OBJECTIVE_TYPE, name)
        return self._statement(
            statement_id("milestone", _actor_key(actor), course_id, obj.id),
            actor,
            ADL.COMPLETED,
            obj,
            at=at,
            result=StatementResult(completion=True, success=on_time),
            context=context,
        )

    def voiding(
        self, actor: Agent, target: uuid.UUID | str, *, at: datetime | None = None
    ) -> Statement:
        """A statement that voids ``target`` (its object is a StatementRef)."""
        return Statement.model_validate(
            {
                "id": statement_id("voided", target),
                "actor": actor,
                "verb": ADL.VOIDED,
                "object": {"objectType": "StatementRef", "id": str(target)},
                "timestamp": at or self.clock(),
            }
        )
