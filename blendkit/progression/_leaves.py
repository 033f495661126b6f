"""Evidence conditions: scores, completion, attendance or recording, videos, views, peer reviews."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from blendkit.progression._conditions import Condition, Reason, register_condition
from blendkit.progression._facts import EvaluationContext, Gen
from blendkit.progression._units import Percent

__all__ = [
    "AttendedCondition",
    "CompletionCondition",
    "PeerReviewsCondition",
    "ScoreCondition",
    "ViewedCondition",
    "WatchedCondition",
]

PREVIOUS = "@previous"
"""Item id meaning "the item before this one in the path" (Moodle's ``cm: -1``)."""


def pct(value: float) -> str:
    """``55.0`` → ``55%``; ``72.5`` → ``72.5%``."""
    return f"{value:g}%"


@register_condition
class ScoreCondition(Condition):
    """A score on an item, ``min <= s < max`` percent, of the best, latest or mean attempt."""

    type: Literal["score"] = "score"
    item: str
    min: Percent | None = None
    max: Percent | None = None
    attempt: Literal["best", "latest", "average"] = "best"

    @model_validator(mode="after")
    def _ordered(self) -> ScoreCondition:
        if self.min is not None and self.max is not None and self.min >= self.max:
            raise ValueError(
                f"min ({self.min:g}) must be below max ({self.max:g}): s < max is excluded"
            )
        return self

    def is_monotone(self) -> bool:
        return self.attempt == "best" and self.max is None

    def refs(self) -> tuple[str, ...]:
        return (self.item,)

    def deps(self) -> frozenset[str]:
        return frozenset({f"score:{self.item}"})

    def value(self, ctx: EvaluationContext) -> float | None:
        """The learner's score that this condition reads."""
        source = {"best": ctx.facts.best, "latest": ctx.facts.latest, "average": ctx.facts.avg}
        return source[self.attempt].get(self.item)

    def holds(self, ctx: EvaluationContext) -> bool:
        score = self.value(ctx)
        if score is None:
            return False
        return (self.min is None or score >= self.min) and (self.max is None or score < self.max)

    def expr(self, gen: Gen) -> str:
        source = gen.use({"best": "best", "latest": "latest", "average": "avg"}[self.attempt])
        key = gen.const(self.item)
        if self.min is None and self.max is None:
            return f"({key} in {source})"
        low = f"{gen.const(self.min)} <= " if self.min is not None else "-1.0 < "
        high = f" < {gen.const(self.max)}" if self.max is not None else ""
        return f"({low}{source}.get({key}, -2.0){high})"

    def describe(self, ctx: EvaluationContext) -> Reason:
        title = ctx.title(self.item)
        if self.min is not None and self.max is not None:
            need = f"Score from {pct(self.min)} up to (not including) {pct(self.max)} on {title}"
        elif self.min is not None:
            need = f"Score at least {pct(self.min)} on {title}"
        elif self.max is not None:
            need = f"Score below {pct(self.max)} on {title}"
        else:
            need = f"Receive a score on {title}"
        score = self.value(ctx)
        label = {"best": "best", "latest": "latest", "average": "average"}[self.attempt]
        now = f"your {label} is {pct(score)}" if score is not None else "you have no score yet"
        return Reason(
            type=self.type,
            message=f"{need} — {now}",
            item=self.item,
            target={"min": self.min, "max": self.max, "attempt": self.attempt},
            current=score,
        )


_STATE_VERB = {
    "complete": "Complete",
    "incomplete": "Do not complete",
    "passed": "Pass",
    "failed": "Fail",
}


@register_condition
class CompletionCondition(Condition):
    """An item's completion state: complete, incomplete, passed or failed."""

    type: Literal["completion"] = "completion"
    item: str
    state: Literal["complete", "incomplete", "passed", "failed"] = "complete"

    def is_monotone(self) -> bool:
        return self.state in ("complete", "passed")

    def refs(self) -> tuple[str, ...]:
        return (self.item,)

    def done_refs(self) -> tuple[str, ...]:
        return (self.item,)

    def deps(self) -> frozenset[str]:
        return frozenset({f"done:{self.item}", f"comp:{self.item}", f"score:{self.item}"})

    def current(self, ctx: EvaluationContext) -> str:
        """The learner's state on the item."""
        if ctx.passed(self.item):
            return "passed"
        if ctx.failed(self.item):
            return "failed"
        return "complete" if ctx.done(self.item) else "incomplete"

    def holds(self, ctx: EvaluationContext) -> bool:
        if self.state == "complete":
            return ctx.done(self.item)
        if self.state == "incomplete":
            return not ctx.done(self.item)
        if self.state == "passed":
            return ctx.passed(self.item)
        return ctx.failed(self.item)

    def expr(self, gen: Gen) -> str:
        if self.state in ("complete", "incomplete"):
            done = f"{gen.use('D')}[{gen.const(self.item)}]"
            return done if self.state == "complete" else f"(not {done})"
        return gen.passed(self.item) if self.state == "passed" else gen.failed(self.item)

    def describe(self, ctx: EvaluationContext) -> Reason:
        current = self.current(ctx)
        shown = {"complete": "completed", "incomplete": "not completed yet"}.get(current, current)
        return Reason(
            type=self.type,
            message=f"{_STATE_VERB[self.state]} {ctx.title(self.item)} — currently {shown}",
            item=self.item,
            target={"state": self.state},
            current=current,
        )


@register_condition
class AttendedCondition(Condition):
    """Attended a live session (minutes or percent of it) — or caught up on its recording."""

    type: Literal["attended"] = "attended"
    monotone = True
    item: str
    minutes: Annotated[float, Field(ge=0)] | None = None
    percent: Percent | None = None
    recording: Percent | None = Field(
        default=None, description="watching this percent of the recording also counts"
    )

    def refs(self) -> tuple[str, ...]:
        return (self.item,)

    def deps(self) -> frozenset[str]:
        return frozenset({f"att:{self.item}", f"rec:{self.item}"})

    def _live(self, minutes: float, percent: float, duration: float | None) -> bool:
        if self.minutes is None and self.percent is None:
            return minutes > 0 or percent > 0
        if self.minutes is not None and minutes >= self.minutes:
            return True
        if self.percent is None:
            return False
        # percent of the scheduled duration: reported directly, or derived from the minutes
        return percent >= self.percent or (
            duration is not None and minutes * 100.0 / duration >= self.percent
        )

    def holds(self, ctx: EvaluationContext) -> bool:
        f = ctx.facts
        duration = ctx.meta.durations.get(self.item)
        if self._live(f.att_min.get(self.item, 0.0), f.att_pct.get(self.item, 0.0), duration):
            return True
        return self.recording is not None and f.rec.get(self.item, 0.0) >= self.recording

    def expr(self, gen: Gen) -> str:
        key = gen.const(self.item)
        att_min, att_pct = gen.use("att_min"), gen.use("att_pct")
        parts = []
        if self.minutes is None and self.percent is None:
            parts.append(f"{att_min}.get({key}, 0.0) > 0 or {att_pct}.get({key}, 0.0) > 0")
        if self.minutes is not None:
            parts.append(f"{att_min}.get({key}, 0.0) >= {gen.const(self.minutes)}")
        if self.percent is not None:
            parts.append(f"{att_pct}.get({key}, 0.0) >= {gen.const(self.percent)}")
            duration = gen.meta.durations.get(self.item)
            if duration is not None:
                parts.append(
                    f"{att_min}.get({key}, 0.0) * 100.0 / {gen.const(duration)}"
                    f" >= {gen.const(self.percent)}"
                )
        if self.recording is not None:
            parts.append(f"{gen.use('rec')}.get({key}, 0.0) >= {gen.const(self.recording)}")
        return "(" + " or ".join(parts) + ")"

    def describe(self, ctx: EvaluationContext) -> Reason:
        f, title = ctx.facts, ctx.title(self.item)
        minutes, percent = f.att_min.get(self.item, 0.0), f.att_pct.get(self.item, 0.0)
        duration = ctx.meta.durations.get(self.item)
        if duration is not None:
            percent = max(percent, round(minutes * 100.0 / duration, 1))
        needs = []
        if self.minutes is not None:
            needs.append(f"for at least {self.minutes:g} minutes")
        if self.percent is not None:
            needs.append(f"for at least {pct(self.percent)} of it")
        need = f"Attend {title}" + (" " + " or ".join(needs) if needs else "")
        now = (
            f"you attended {minutes:g} minutes ({pct(percent)})"
            if minutes or percent
            else ("you have not attended")
        )
        current: dict[str, float] = {"minutes": minutes, "percent": percent}
        if self.recording is not None:
            watched = f.rec.get(self.item, 0.0)
            need += f", or watch at least {pct(self.recording)} of its recording"
            now += f" and watched {pct(watched)} of the recording"
            current["recording"] = watched
        return Reason(
            type=self.type,
            message=f"{need} — {now}",
            item=self.item,
            target={"minutes": self.minutes, "percent": self.percent, "recording": self.recording},
            current=current,
        )


@register_condition
class WatchedCondition(Condition):
    """Watched at least ``percent`` of a video item."""

    type: Literal["watched"] = "watched"
    monotone = True
    item: str
    percent: Percent = 100.0

    def refs(self) -> tuple[str, ...]:
        return (self.item,)

    def deps(self) -> frozenset[str]:
        return frozenset({f"vid:{self.item}"})

    def holds(self, ctx: EvaluationContext) -> bool:
        return ctx.facts.vid.get(self.item, 0.0) >= self.percent

    def expr(self, gen: Gen) -> str:
        return f"({gen.use('vid')}.get({gen.const(self.item)}, 0.0) >= {gen.const(self.percent)})"

    def describe(self, ctx: EvaluationContext) -> Reason:
        watched = ctx.facts.vid.get(self.item, 0.0)
        return Reason(
            type=self.type,
            message=f"Watch at least {pct(self.percent)} of {ctx.title(self.item)} — "
            f"you watched {pct(watched)}",
            item=self.item,
            target={"percent": self.percent},
            current=watched,
        )


@register_condition
class ViewedCondition(Condition):
    """Opened an item at least once (Canvas *must view*)."""

    type: Literal["viewed"] = "viewed"
    monotone = True
    item: str

    def refs(self) -> tuple[str, ...]:
        return (self.item,)

    def deps(self) -> frozenset[str]:
        return frozenset({f"view:{self.item}"})

    def holds(self, ctx: EvaluationContext) -> bool:
        return self.item in ctx.facts.views

    def expr(self, gen: Gen) -> str:
        return f"({gen.const(self.item)} in {gen.use('views')})"

    def describe(self, ctx: EvaluationContext) -> Reason:
        return Reason(
            type=self.type,
            message=f"Open {ctx.title(self.item)} — not opened yet",
            item=self.item,
            current=False,
        )


@register_condition
class PeerReviewsCondition(Condition):
    """Gave at least ``count`` peer reviews on an item."""

    type: Literal["peer_reviews"] = "peer_reviews"
    monotone = True
    item: str
    count: Annotated[int, Field(ge=1)] = 1

    def refs(self) -> tuple[str, ...]:
        return (self.item,)

    def deps(self) -> frozenset[str]:
        return frozenset({f"rev:{self.item}"})

    def holds(self, ctx: EvaluationContext) -> bool:
        return ctx.facts.rev.get(self.item, 0) >= self.count

    def expr(self, gen: Gen) -> str:
        return f"({gen.use('rev')}.get({gen.const(self.item)}, 0) >= {gen.const(self.count)})"

    def describe(self, ctx: EvaluationContext) -> Reason:
        given = ctx.facts.rev.get(self.item, 0)
        return Reason(
            type=self.type,
            message=f"Give at least {self.count} peer review{'s' * (self.count != 1)} on "
            f"{ctx.title(self.item)} — you gave {given}",
            item=self.item,
            target={"count": self.count},
            current=given,
        )
