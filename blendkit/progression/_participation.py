"""Participation conditions: what a learner did during a live session besides being there.

``polls_answered`` counts the distinct polls of a session item the learner answered (in the
tool or, matched by e-mail, in the provider's poll report); ``asked_question`` holds once the
learner asked a question on the session's Q&A board or, unless ``upvotes`` is off, upvoted one.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from blendkit.progression._conditions import Condition, Reason, register_condition
from blendkit.progression._facts import EvaluationContext, Gen

__all__ = ["AskedQuestionCondition", "PollsAnsweredCondition"]


@register_condition
class PollsAnsweredCondition(Condition):
    """Answered at least ``count`` of a live session item's polls."""

    type: Literal["polls_answered"] = "polls_answered"
    monotone = True
    item: str
    count: Annotated[int, Field(ge=1, le=1000)] = 1

    def refs(self) -> tuple[str, ...]:
        return (self.item,)

    def deps(self) -> frozenset[str]:
        return frozenset({f"poll:{self.item}"})

    def holds(self, ctx: EvaluationContext) -> bool:
        return len(ctx.facts.polls.get(self.item, ())) >= self.count

    def expr(self, gen: Gen) -> str:
        polls, key = gen.use("polls"), gen.const(self.item)
        return f"(len({polls}.get({key}, ())) >= {gen.const(self.count)})"

    def describe(self, ctx: EvaluationContext) -> Reason:
        answered = len(ctx.facts.polls.get(self.item, ()))
        polls = "poll" if self.count == 1 else "polls"
        return Reason(
            type=self.type,
            message=f"Answer at least {self.count} {polls} in {ctx.title(self.item)} — "
            f"you answered {answered}",
            item=self.item,
            target={"count": self.count},
            current=answered,
        )


@register_condition
class AskedQuestionCondition(Condition):
    """Asked a question on a live session item's Q&A board (or upvoted one, by default)."""

    type: Literal["asked_question"] = "asked_question"
    monotone = True
    item: str
    upvotes: bool = Field(default=True, description="upvoting a question also counts")

    def refs(self) -> tuple[str, ...]:
        return (self.item,)

    def deps(self) -> frozenset[str]:
        return frozenset({f"qa:{self.item}"})

    def _counts(self, ctx: EvaluationContext) -> tuple[int, int]:
        f = ctx.facts
        return len(f.asked.get(self.item, ())), len(f.upvoted.get(self.item, ()))

    def holds(self, ctx: EvaluationContext) -> bool:
        asked, upvoted = self._counts(ctx)
        return asked > 0 or (self.upvotes and upvoted > 0)

    def expr(self, gen: Gen) -> str:
        key = gen.const(self.item)
        asked = f"bool({gen.use('asked')}.get({key}))"
        if not self.upvotes:
            return f"({asked})"
        return f"({asked} or bool({gen.use('upvoted')}.get({key})))"

    def describe(self, ctx: EvaluationContext) -> Reason:
        asked, upvoted = self._counts(ctx)
        title = ctx.title(self.item)
        need = f"Ask a question in {title}" + (" or upvote one" if self.upvotes else "")
        now = f"you asked {asked}" + (f" and upvoted {upvoted}" if self.upvotes else "")
        return Reason(
            type=self.type,
            message=f"{need} — {now}",
            item=self.item,
            target={"upvotes": self.upvotes},
            current={"asked": asked, "upvoted": upvoted},
        )
