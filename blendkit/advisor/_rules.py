"""The delivery rules, in the order they are tried: the first that applies decides.

They write out the decision framework "conceptual or emotional → synchronous; skill
acquisition and repetition → asynchronous; globally distributed audience → lean asynchronous
with one or two office hours", refined by item length, cohort size and pace spread.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from blendkit.advisor._models import AdvisorThresholds, DeliveryMode
from blendkit.progression import ItemNature

__all__ = ["ADVISOR_RULES", "AdviceRule", "Context", "Subject", "evidence_of", "first_rule"]

_LIVE_NATURES: frozenset[ItemNature] = frozenset({"conceptual", "emotional", "discussion"})
_SKILL_NATURES: frozenset[ItemNature] = frozenset({"practice", "repetition"})


@dataclass(frozen=True, slots=True)
class Subject:
    """An item or a live session as the rules see it."""

    kind: str
    nature: ItemNature | None
    minutes: float | None


@dataclass(frozen=True, slots=True)
class Context:
    """The cohort figures the rules read."""

    thresholds: AdvisorThresholds
    learners: int
    global_cohort: bool
    live_share: float | None
    pace_spread: float | None

    @property
    def pace_wide(self) -> bool:
        return self.pace_spread is not None and self.pace_spread > self.thresholds.pace_spread

    @property
    def groups(self) -> int:
        return max(1, math.ceil(self.learners / self.thresholds.group_size))


@dataclass(frozen=True, slots=True)
class AdviceRule:
    """One row of the decision table: when it applies, what it recommends and why."""

    id: str
    condition: str
    mode: DeliveryMode
    why: str
    applies: Callable[[Subject, Context], bool]
    detail: Callable[[Context], str] | None = None

    def reason(self, ctx: Context) -> str:
        """The one-line reason shown with a recommendation of this rule."""
        return self.why if self.detail is None else f"{self.why} {self.detail(ctx)}"


def _short(subject: Subject, ctx: Context) -> bool:
    return subject.minutes is not None and subject.minutes <= ctx.thresholds.micro_minutes


def _live_nature(subject: Subject) -> bool:
    return subject.nature in _LIVE_NATURES


ADVISOR_RULES: tuple[AdviceRule, ...] = (
    AdviceRule(
        "micro.kind",
        "the item is a micro-learning unit (kind micro)",
        "micro_learning",
        "Declared as micro-learning: a short self-paced unit learners fit between other work.",
        lambda s, c: s.kind == "micro",
    ),
    AdviceRule(
        "skill.micro",
        "nature practice or repetition, and expected length within the micro-learning limit",
        "micro_learning",
        "Skill acquisition and repetition work best asynchronously, and a short unit "
        "repeated at the learner's pace is micro-learning.",
        lambda s, c: s.nature in _SKILL_NATURES and _short(s, c),
    ),
    AdviceRule(
        "skill.async",
        "nature practice or repetition",
        "asynchronous",
        "Skill acquisition and repetition work best asynchronously: each learner practises "
        "at their own pace and repeats as often as needed.",
        lambda s, c: s.nature in _SKILL_NATURES,
    ),
    AdviceRule(
        "reference.async",
        "nature reference",
        "asynchronous",
        "Reference material is looked up when needed, not taught at a set time.",
        lambda s, c: s.nature == "reference",
    ),
    AdviceRule(
        "global.office_hours",
        "nature conceptual, emotional or discussion, and the cohort is globally distributed "
        "(one weekly slot serves fewer than the target share)",
        "office_hours",
        "A globally distributed cohort cannot meet at one time: lean asynchronous and "
        "discuss this in one or two office hours at the planner's slots.",
        lambda s, c: _live_nature(s) and c.global_cohort,
    ),
    AdviceRule(
        "pace.office_hours",
        "nature conceptual, emotional or discussion, and learners' pace is spread wide",
        "office_hours",
        "Learners reach this item weeks apart: a fixed session meets most of them at the "
        "wrong moment, office hours meet each one when they get there.",
        lambda s, c: _live_nature(s) and c.pace_wide,
    ),
    AdviceRule(
        "conceptual.groups",
        "nature conceptual, emotional or discussion, and the cohort is larger than a group",
        "synchronous",
        "Conceptual and emotional content needs live conversation, which works in small groups.",
        lambda s, c: _live_nature(s) and c.learners > c.thresholds.group_size,
        lambda c: f"Split the {c.learners} learners into {c.groups} groups.",
    ),
    AdviceRule(
        "conceptual.sync",
        "nature conceptual, emotional or discussion",
        "synchronous",
        "Conceptual and emotional content needs live conversation: questions, "
        "disagreement and reactions in the moment.",
        lambda s, c: _live_nature(s),
    ),
    AdviceRule(
        "office_hours.kind",
        "the item is office hours",
        "office_hours",
        "Declared as office hours: learners book or drop in when they need help.",
        lambda s, c: s.kind == "office_hours",
    ),
    AdviceRule(
        "live.global",
        "a live session without a declared nature, and the cohort is globally distributed",
        "recording",
        "Most of a globally distributed cohort cannot attend: record the session, publish "
        "it with captions and hold one or two office hours for questions.",
        lambda s, c: s.kind == "live_session" and c.global_cohort,
    ),
    AdviceRule(
        "live.sync",
        "a live session without a declared nature",
        "synchronous",
        "The cohort can meet at one time: keep the session live (and record it for "
        "those who miss it).",
        lambda s, c: s.kind == "live_session",
    ),
    AdviceRule(
        "material.async",
        "any other item (videos, readings, quizzes, assignments, links)",
        "asynchronous",
        "Self-paced material: learners open it when it suits them.",
        lambda s, c: True,
    ),
)
"""The decision table, in the order rules are tried (the last one always applies)."""


def first_rule(subject: Subject, ctx: Context) -> AdviceRule:
    """The first rule of the table that applies to ``subject``."""
    return next(rule for rule in ADVISOR_RULES if rule.applies(subject, ctx))


def evidence_of(subject: Subject, ctx: Context) -> dict[str, Any]:
    """The facts a recommendation rests on."""
    facts: dict[str, Any] = {"kind": subject.kind, "learners": ctx.learners}
    if subject.nature is not None:
        facts["nature"] = subject.nature
    if subject.minutes is not None:
        facts["minutes"] = subject.minutes
    if ctx.live_share is not None:
        facts["live_share"] = ctx.live_share
    if ctx.pace_spread is not None:
        facts["pace_spread"] = ctx.pace_spread
    return facts
