"""Time and membership conditions: dates, drip, relative dates, deadlines, groups, profile."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, model_validator

from blendkit.progression._conditions import Condition, Reason, register_condition
from blendkit.progression._facts import EvaluationContext, Gen
from blendkit.progression._time import UtcDatetime, from_timestamp, shift

__all__ = [
    "DateCondition",
    "DeadlineCondition",
    "DripCondition",
    "GroupCondition",
    "GroupingCondition",
    "ProfileCondition",
    "RelativeDateCondition",
    "RoleCondition",
]


def when(ts: float | datetime) -> str:
    """A UTC instant as people read it: ``2026-01-10 09:00 UTC``."""
    moment = ts if isinstance(ts, datetime) else from_timestamp(ts)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


@register_condition
class DateCondition(Condition):
    """An absolute window ``from <= now < until`` (either end may be open)."""

    type: Literal["date"] = "date"
    monotone = True
    from_: UtcDatetime | None = Field(default=None, alias="from")
    until: UtcDatetime | None = None

    @model_validator(mode="after")
    def _window(self) -> DateCondition:
        if self.from_ is None and self.until is None:
            raise ValueError("a date condition needs 'from', 'until' or both")
        if self.from_ is not None and self.until is not None and self.from_ >= self.until:
            raise ValueError("'from' must be before 'until'")
        return self

    def deps(self) -> frozenset[str]:
        return frozenset()

    def holds(self, ctx: EvaluationContext) -> bool:
        start = self.from_.timestamp() if self.from_ else None
        end = self.until.timestamp() if self.until else None
        return (start is None or ctx.now >= start) and (end is None or ctx.now < end)

    def expr(self, gen: Gen) -> str:
        now = gen.use("now")
        parts = []
        if self.from_ is not None:
            parts.append(f"{now} >= {gen.const(self.from_.timestamp())}")
        if self.until is not None:
            parts.append(f"{now} < {gen.const(self.until.timestamp())}")
        return "(" + " and ".join(parts) + ")"

    def describe(self, ctx: EvaluationContext) -> Reason:
        if self.from_ is not None and ctx.now < self.from_.timestamp():
            message = f"Available from {when(self.from_)} — it is now {when(ctx.now)}"
        elif self.until is not None:
            message = f"Available until {when(self.until)} — that time has passed"
        else:
            message = f"Available from {when(self.from_ or ctx.now)}"
        return Reason(
            type=self.type,
            message=message,
            target={
                "from": self.from_.isoformat() if self.from_ else None,
                "until": self.until.isoformat() if self.until else None,
            },
            current=from_timestamp(ctx.now).isoformat(),
        )


@register_condition
class DripCondition(Condition):
    """Opens ``days`` after the learner's enrolment."""

    type: Literal["drip"] = "drip"
    days: Annotated[float, Field(ge=0)]

    def deps(self) -> frozenset[str]:
        return frozenset({"enrol"})

    def opens(self, ctx: EvaluationContext) -> float | None:
        """When it opens for this learner (None without an enrolment date)."""
        enrol = ctx.facts.enrol
        return None if enrol is None else enrol + self.days * 86400.0

    def holds(self, ctx: EvaluationContext) -> bool:
        opens = self.opens(ctx)
        return opens is not None and ctx.now >= opens

    def expr(self, gen: Gen) -> str:
        enrol = gen.use("enrol")
        offset = gen.const(self.days * 86400.0)
        return f"({enrol} is not None and {gen.use('now')} >= {enrol} + {offset})"

    def describe(self, ctx: EvaluationContext) -> Reason:
        opens = self.opens(ctx)
        need = f"Opens {self.days:g} day{'s' * (self.days != 1)} after you enrolled"
        if opens is None:
            now = "your enrolment date is not known yet"
        else:
            now = f"that is {when(opens)}, {max(0.0, (opens - ctx.now) / 86400):.1f} days from now"
        return Reason(
            type=self.type,
            message=f"{need} — {now}",
            target={"days": self.days},
            current=None if opens is None else from_timestamp(opens).isoformat(),
        )


Anchor = Literal[
    "course_start",
    "before_course_end",
    "enrolment",
    "enrolment_end",
    "after_course_end",
    "before_course_start",
    "completion",
]
_SIGN = {"before_course_end": -1, "before_course_start": -1}


@register_condition
class RelativeDateCondition(Condition):
    """Opens ``amount`` units after (or before) an anchor: course dates, enrolment, a completion."""

    type: Literal["relative_date"] = "relative_date"
    amount: Annotated[int, Field(ge=0)] = 1
    unit: Literal["minutes", "hours", "days", "weeks", "months"] = "days"
    anchor: Anchor = "course_start"
    item: str | None = Field(default=None, description="the item whose completion anchors it")

    @model_validator(mode="after")
    def _item_for_completion(self) -> RelativeDateCondition:
        if self.anchor == "completion" and not self.item:
            raise ValueError(
                "anchor 'completion' needs the 'item' whose completion starts the clock"
            )
        return self

    def refs(self) -> tuple[str, ...]:
        return (self.item,) if self.anchor == "completion" and self.item else ()

    def deps(self) -> frozenset[str]:
        if self.anchor == "completion":
            return frozenset({f"comp:{self.item}"})
        if self.anchor in ("enrolment", "enrolment_end"):
            return frozenset({"enrol"})
        return frozenset()

    def opens(self, ctx: EvaluationContext) -> float | None:
        """When it opens for this learner (None when the anchor is unknown)."""
        anchor: float | None
        if self.anchor in ("course_start", "before_course_start"):
            anchor = ctx.meta.course_start
        elif self.anchor in ("before_course_end", "after_course_end"):
            anchor = ctx.meta.course_end
        elif self.anchor == "enrolment":
            anchor = ctx.facts.enrol
        elif self.anchor == "enrolment_end":
            anchor = ctx.facts.enrol_end
        else:
            anchor = ctx.facts.comp_at.get(self.item or "")
        if anchor is None:
            return None
        return shift(anchor, _SIGN.get(self.anchor, 1) * self.amount, self.unit)

    def holds(self, ctx: EvaluationContext) -> bool:
        opens = self.opens(ctx)
        return opens is not None and ctx.now >= opens

    def describe(self, ctx: EvaluationContext) -> Reason:
        opens = self.opens(ctx)
        place = self.anchor.replace("_", " ")
        if self.anchor == "completion":
            place = f"completing {ctx.title(self.item or '')}"
        need = f"Opens {self.amount} {self.unit} relative to {place}"
        now = "that date is not known yet" if opens is None else f"that is {when(opens)}"
        return Reason(
            type=self.type,
            message=f"{need} — {now}",
            item=self.item,
            target={"amount": self.amount, "unit": self.unit, "anchor": self.anchor},
            current=None if opens is None else from_timestamp(opens).isoformat(),
        )


@register_condition
class DeadlineCondition(Condition):
    """Holds until a deadline: ``at``, or the item's due date; a learner's extension moves it."""

    type: Literal["deadline"] = "deadline"
    item: str | None = None
    at: UtcDatetime | None = None

    @model_validator(mode="after")
    def _has_deadline(self) -> DeadlineCondition:
        if self.item is None and self.at is None:
            raise ValueError("a deadline needs 'at', an 'item' with a due date, or both")
        return self

    def refs(self) -> tuple[str, ...]:
        return (self.item,) if self.item else ()

    def deps(self) -> frozenset[str]:
        return frozenset({f"ext:{self.item}", "enrol"}) if self.item else frozenset()

    def deadline(self, ctx: EvaluationContext) -> float | None:
        """The learner's effective deadline."""
        if self.item is None:
            return self.at.timestamp() if self.at else None
        due = ctx.meta.due(self.item, ctx.facts)
        if self.at is not None:
            base = self.at.timestamp()
            ext = ctx.facts.ext.get(self.item)
            due = max(base, ext) if ext is not None else base
        return due

    def holds(self, ctx: EvaluationContext) -> bool:
        deadline = self.deadline(ctx)
        return deadline is None or ctx.now < deadline

    def describe(self, ctx: EvaluationContext) -> Reason:
        deadline = self.deadline(ctx)
        what = f"the deadline of {ctx.title(self.item)}" if self.item else "the deadline"
        shown = when(deadline) if deadline is not None else "none"
        return Reason(
            type=self.type,
            message=f"Only before {what} ({shown}) — the deadline has passed",
            item=self.item,
            target={"at": self.at.isoformat() if self.at else None},
            current=None if deadline is None else from_timestamp(deadline).isoformat(),
        )


class _Membership(Condition):
    monotone = True

    def deps(self) -> frozenset[str]:
        return frozenset({self.type + "s"})


@register_condition
class GroupCondition(_Membership):
    """Member of ``group`` (or, without one, of any group)."""

    type: Literal["group"] = "group"
    group: str | None = None

    def holds(self, ctx: EvaluationContext) -> bool:
        groups = ctx.facts.groups
        return bool(groups) if self.group is None else self.group in groups

    def expr(self, gen: Gen) -> str:
        groups = gen.use("groups")
        return f"bool({groups})" if self.group is None else f"({gen.const(self.group)} in {groups})"

    def describe(self, ctx: EvaluationContext) -> Reason:
        need = f"Be in the group {self.group}" if self.group else "Be in a group"
        groups = sorted(ctx.facts.groups)
        now = f"your groups: {', '.join(groups)}" if groups else "you are in no group"
        return Reason(
            type=self.type, message=f"{need} — {now}", target={"group": self.group}, current=groups
        )


@register_condition
class GroupingCondition(_Membership):
    """Member of a group in ``grouping``."""

    type: Literal["grouping"] = "grouping"
    grouping: str

    def holds(self, ctx: EvaluationContext) -> bool:
        return self.grouping in ctx.facts.groupings

    def expr(self, gen: Gen) -> str:
        return f"({gen.const(self.grouping)} in {gen.use('groupings')})"

    def describe(self, ctx: EvaluationContext) -> Reason:
        current = sorted(ctx.facts.groupings)
        return Reason(
            type=self.type,
            message=f"Be in a group of the grouping {self.grouping} — "
            + (f"your groupings: {', '.join(current)}" if current else "you are in none"),
            target={"grouping": self.grouping},
            current=current,
        )


@register_condition
class RoleCondition(_Membership):
    """Holds one of ``roles`` in the course."""

    type: Literal["role"] = "role"
    roles: Annotated[tuple[str, ...], Field(min_length=1)]

    def holds(self, ctx: EvaluationContext) -> bool:
        return not ctx.facts.roles.isdisjoint(self.roles)

    def expr(self, gen: Gen) -> str:
        return f"(not {gen.use('roles')}.isdisjoint({gen.const(frozenset(self.roles))}))"

    def describe(self, ctx: EvaluationContext) -> Reason:
        current = sorted(ctx.facts.roles)
        return Reason(
            type=self.type,
            message=f"Have the role {' or '.join(self.roles)} — "
            + (f"your roles: {', '.join(current)}" if current else "you have no role listed"),
            target={"roles": list(self.roles)},
            current=current,
        )


ProfileOp = Literal[
    "isequalto", "contains", "doesnotcontain", "startswith", "endswith", "isempty", "isnotempty"
]
_NO_VALUE = ("isempty", "isnotempty")
_OP_TEXT = {
    "isequalto": "is",
    "contains": "contains",
    "doesnotcontain": "does not contain",
    "startswith": "starts with",
    "endswith": "ends with",
    "isempty": "is empty",
    "isnotempty": "is not empty",
}


def profile_matches(op: str, actual: str | None, value: str) -> bool:
    """Moodle's profile comparison; a missing field never matches."""
    if actual is None:
        return False
    if op == "isequalto":
        return actual == value
    if op == "contains":
        return value in actual
    if op == "doesnotcontain":
        return not value or value not in actual
    if op == "startswith":
        return actual.startswith(value)
    if op == "endswith":
        return actual.endswith(value)
    if op == "isempty":
        return not actual
    return bool(actual)


@register_condition
class ProfileCondition(Condition):
    """A user-profile field compared with a value (Moodle's operators)."""

    type: Literal["profile"] = "profile"
    field: str
    custom: bool = False
    op: ProfileOp = "isequalto"
    value: str | None = None

    @model_validator(mode="after")
    def _value_matches_op(self) -> ProfileCondition:
        if self.op in _NO_VALUE and self.value is not None:
            raise ValueError(f"operator {self.op!r} takes no value")
        if self.op not in _NO_VALUE and self.value is None:
            raise ValueError(f"operator {self.op!r} needs a value")
        return self

    def deps(self) -> frozenset[str]:
        return frozenset({"profile"})

    def holds(self, ctx: EvaluationContext) -> bool:
        return profile_matches(self.op, ctx.facts.profile.get(self.field), self.value or "")

    def expr(self, gen: Gen) -> str:
        match = gen.const(profile_matches)
        field = gen.const(self.field)
        op, value = gen.const(self.op), gen.const(self.value or "")
        return f"{match}({op}, {gen.use('profile')}.get({field}), {value})"

    def describe(self, ctx: EvaluationContext) -> Reason:
        actual = ctx.facts.profile.get(self.field)
        value = f" {self.value!r}" if self.value is not None else ""
        now = f"yours is {actual!r}" if actual is not None else "yours is not set"
        return Reason(
            type=self.type,
            message=f"Your profile field {self.field} {_OP_TEXT[self.op]}{value} — {now}",
            target={"field": self.field, "op": self.op, "value": self.value},
            current=actual,
        )
