"""Course paths: modules of items, their gates, completion criteria and mastery rules."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from blendkit._links import page_link_problem
from blendkit.progression._conditions import (
    AllOf,
    AnyOf,
    Condition,
    ConditionField,
    walk,
)
from blendkit.progression._leaves import PREVIOUS, CompletionCondition, ScoreCondition
from blendkit.progression._time import UtcDatetime
from blendkit.progression._units import Percent

__all__ = [
    "Item",
    "ItemKind",
    "ItemNature",
    "MasteryRange",
    "MasteryRule",
    "Milestone",
    "Module",
    "Path",
    "path_problems",
]

Identifier = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^\s@][^\s]*$")]
ItemKind = Literal[
    "video",
    "reading",
    "quiz",
    "assignment",
    "peer_review",
    "live_session",
    "office_hours",
    "external_link",
    "lti_link",
    "micro",
]
"""``micro``: a short, self-contained piece (a micro-learning unit) with a declared length."""
ItemNature = Literal["conceptual", "emotional", "discussion", "practice", "repetition", "reference"]
"""What an item asks of learners; the course-design advisor reads it (LMS exports ignore it)."""
_FROZEN = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


def _page_link(url: str) -> str:
    problem = page_link_problem(url)
    if problem is not None:
        raise ValueError(f"{problem}: {url[:80]!r}")
    return url


PageLink = Annotated[str, AfterValidator(_page_link)]
"""An item's link: http(s) with a host, or a path on the tool's site (never a script)."""


class Item(BaseModel):
    """One thing a learner opens: its gate (``conditions``) and what completes it."""

    model_config = _FROZEN

    id: Identifier
    title: str = ""
    kind: ItemKind = "reading"
    conditions: ConditionField | None = Field(default=None, description="gate: when it opens")
    complete_when: ConditionField | None = Field(
        default=None, description="criterion; without one, a completion record completes it"
    )
    pass_mark: Percent | None = None
    due: UtcDatetime | None = None
    due_after_enrolment_days: Annotated[float, Field(ge=0)] | None = None
    starts_at: UtcDatetime | None = Field(default=None, description="live sessions: start time")
    duration_minutes: Annotated[float, Field(gt=0)] | None = None
    url: PageLink | None = None
    nature: ItemNature | None = Field(
        default=None, description="what the item asks of learners (course-design advice)"
    )
    expected_minutes: Annotated[float, Field(gt=0)] | None = Field(
        default=None, description="how long a learner is expected to spend on it"
    )
    planned_interactions: Annotated[int, Field(ge=0)] | None = Field(
        default=None, description="live sessions: polls or questions planned in the session"
    )

    @model_validator(mode="after")
    def _one_due(self) -> Item:
        if self.due is not None and self.due_after_enrolment_days is not None:
            raise ValueError("set either 'due' or 'due_after_enrolment_days', not both")
        return self


class Module(BaseModel):
    """A group of items; its gate applies to each item, ``sequential`` chains them in order."""

    model_config = _FROZEN

    id: Identifier
    title: str = ""
    items: tuple[Item, ...] = ()
    conditions: ConditionField | None = None
    sequential: bool = Field(default=False, description="each item needs the previous completed")


class MasteryRange(BaseModel):
    """Scores ``min <= s < max`` on the trigger release ``release`` (``max`` None: no upper end)."""

    model_config = _FROZEN

    label: str
    min: Percent = 0.0
    max: Percent | None = None
    release: tuple[str, ...]

    @model_validator(mode="after")
    def _ordered(self) -> MasteryRange:
        if self.max is not None and self.min >= self.max:
            raise ValueError(f"min ({self.min:g}) must be below max ({self.max:g})")
        return self


class MasteryRule(BaseModel):
    """Mastery path: score ranges on a trigger quiz release different item sets."""

    model_config = _FROZEN

    id: Identifier
    trigger: str
    attempt: Literal["best", "latest", "average"] = "latest"
    ranges: Annotated[tuple[MasteryRange, ...], Field(min_length=1)]

    @model_validator(mode="after")
    def _disjoint(self) -> MasteryRule:
        spans = sorted(self.ranges, key=lambda r: r.min)
        for low, high in itertools.pairwise(spans):
            if low.max is None or low.max > high.min:
                raise ValueError(f"mastery ranges {low.label!r} and {high.label!r} overlap")
        return self


class Milestone(BaseModel):
    """A dated checkpoint over a group of items: the items listed plus every item of the modules.

    Due on a fixed date (``due``) or a number of days after each learner's enrolment
    (``due_after_enrolment_days``): exactly one of the two. Item and module ids are checked
    against the path when the path is built.
    """

    model_config = _FROZEN

    id: Identifier
    title: str = ""
    due: UtcDatetime | None = None
    due_after_enrolment_days: Annotated[float, Field(ge=0)] | None = None
    items: tuple[Identifier, ...] = Field(default=(), description="item ids it covers")
    modules: tuple[Identifier, ...] = Field(
        default=(), description="module ids: every item of each is covered"
    )

    @model_validator(mode="after")
    def _shape(self) -> Milestone:
        if (self.due is None) == (self.due_after_enrolment_days is None):
            raise ValueError(
                f"milestone {self.id!r}: set exactly one of 'due' (a date) or "
                "'due_after_enrolment_days' (days after each learner's enrolment)"
            )
        if not self.items and not self.modules:
            raise ValueError(
                f"milestone {self.id!r} covers nothing: list at least one item or module id"
            )
        return self


class Path(BaseModel):
    """A course path; references and cycles are checked when it is built."""

    model_config = _FROZEN

    id: Identifier
    title: str = ""
    version: int = 1
    course_start: UtcDatetime | None = None
    course_end: UtcDatetime | None = None
    modules: tuple[Module, ...] = ()
    mastery: tuple[MasteryRule, ...] = ()
    milestones: tuple[Milestone, ...] = ()

    @model_validator(mode="after")
    def _references(self) -> Path:
        problems = path_problems(self)
        if problems:
            loc, message = problems[0]
            raise ValueError(f"{loc}: {message}" if loc else message)
        return self

    def items(self) -> Iterator[Item]:
        """Every item in path order."""
        for module in self.modules:
            yield from module.items

    def item(self, item_id: str) -> Item:
        """The item with this id (KeyError when absent)."""
        for candidate in self.items():
            if candidate.id == item_id:
                return candidate
        raise KeyError(item_id)

    def milestone_items(self, milestone: Milestone) -> tuple[str, ...]:
        """The item ids a milestone covers, in path order, each once."""
        listed = set(milestone.items)
        modules = set(milestone.modules)
        return tuple(
            item.id
            for module in self.modules
            for item in module.items
            if item.id in listed or module.id in modules
        )

    def gate(self, item_id: str) -> tuple[Condition, ...]:
        """Every part of an item's gate, resolved: module gate, its own, order, mastery."""
        flat = list(self.items())
        parts: list[Condition] = []
        for module in self.modules:
            for index, item in enumerate(module.items):
                if item.id != item_id:
                    continue
                if module.conditions is not None:
                    parts.append(module.conditions)
                if item.conditions is not None:
                    parts.append(item.conditions)
                if module.sequential and index > 0:
                    parts.append(
                        CompletionCondition(item=module.items[index - 1].id, id="sequential")
                    )
        position = {item.id: i for i, item in enumerate(flat)}
        previous = flat[position[item_id] - 1].id if position.get(item_id, 0) > 0 else None
        for rule in self.mastery:
            spans = [r for r in rule.ranges if item_id in r.release]
            if spans:
                options = tuple(
                    ScoreCondition(
                        item=rule.trigger,
                        min=r.min,
                        max=r.max,
                        attempt=rule.attempt,
                        id=f"mastery:{rule.id}",
                    )
                    for r in spans
                )
                parts.append(options[0] if len(options) == 1 else AnyOf(any=options))
        return tuple(resolve_previous(part, previous) for part in parts)

    def criterion(self, item_id: str) -> Condition | None:
        """The item's completion criterion with ``@previous`` resolved."""
        flat = [item.id for item in self.items()]
        index = flat.index(item_id)
        criterion = self.item(item_id).complete_when
        if criterion is None:
            return None
        return resolve_previous(criterion, flat[index - 1] if index > 0 else None)


def resolve_previous(condition: Condition, previous: str | None) -> Condition:
    """``condition`` with the item id ``@previous`` replaced by the actual previous item."""
    if not any(getattr(node, "item", None) == PREVIOUS for node in walk(condition)):
        return condition
    update: dict[str, object] = {}
    if getattr(condition, "item", None) == PREVIOUS:
        update["item"] = previous
    if isinstance(condition, AllOf):
        update["all"] = tuple(resolve_previous(c, previous) for c in condition.all)
    elif isinstance(condition, AnyOf):
        update["any"] = tuple(resolve_previous(c, previous) for c in condition.any)
    elif condition.children():
        update["not_"] = resolve_previous(condition.children()[0], previous)
    return condition.model_copy(update=update)


def _walk_located(condition: Condition, loc: str) -> Iterator[tuple[Condition, str]]:
    yield condition, loc
    if isinstance(condition, AllOf):
        for i, child in enumerate(condition.all):
            yield from _walk_located(child, f"{loc}.all[{i}]")
    elif isinstance(condition, AnyOf):
        for i, child in enumerate(condition.any):
            yield from _walk_located(child, f"{loc}.any[{i}]")
    else:
        for child in condition.children():
            yield from _walk_located(child, f"{loc}.not")


def path_problems(path: Path) -> list[tuple[str, str]]:
    """Unknown item ids, duplicates, non-monotone criteria and dependency cycles, located."""
    problems: list[tuple[str, str]] = []
    ids: dict[str, str] = {}
    for m, module in enumerate(path.modules):
        for i, item in enumerate(module.items):
            loc = f"modules[{m}].items[{i}]"
            if item.id in ids:
                problems.append(
                    (f"{loc}.id", f"duplicate item id {item.id!r} (also {ids[item.id]})")
                )
            ids.setdefault(item.id, loc)
    order = list(ids)
    edges: dict[str, set[str]] = {item_id: set() for item_id in order}

    def check(condition: Condition | None, loc: str, owner: str | None) -> None:
        if condition is None:
            return
        for node, node_loc in _walk_located(condition, loc):
            for ref in node.refs():
                if ref == PREVIOUS:
                    if owner is None or order.index(owner) == 0:
                        problems.append((f"{node_loc}.item", "'@previous' has no previous item"))
                elif ref not in ids:
                    problems.append((f"{node_loc}.item", f"unknown item id {ref!r}"))
            if owner is not None:
                for ref in node.done_refs():
                    target = ref
                    if ref == PREVIOUS and order.index(owner) > 0:
                        target = order[order.index(owner) - 1]
                    if target in ids:
                        edges[owner].add(target)

    for m, module in enumerate(path.modules):
        for i, item in enumerate(module.items):
            loc = f"modules[{m}].items[{i}]"
            check(module.conditions, f"modules[{m}].conditions", item.id)
            check(item.conditions, f"{loc}.conditions", item.id)
            check(item.complete_when, f"{loc}.complete_when", item.id)
            if item.complete_when is not None and not item.complete_when.is_monotone():
                problems.append(
                    (
                        f"{loc}.complete_when",
                        "a completion criterion may only use conditions that new evidence can "
                        "only satisfy (best-attempt scores without max, complete/passed, attended, "
                        "watched, viewed, peer reviews, dates, membership): completed is sticky",
                    )
                )
            if module.sequential and i > 0:
                edges[item.id].add(module.items[i - 1].id)
    for r, rule in enumerate(path.mastery):
        if rule.trigger not in ids:
            problems.append((f"mastery[{r}].trigger", f"unknown item id {rule.trigger!r}"))
        for s, span in enumerate(rule.ranges):
            for k, released in enumerate(span.release):
                if released not in ids:
                    problems.append(
                        (
                            f"mastery[{r}].ranges[{s}].release[{k}]",
                            f"unknown item id {released!r}",
                        )
                    )
    module_ids = {module.id for module in path.modules}
    milestone_ids: dict[str, int] = {}
    for n, milestone in enumerate(path.milestones):
        loc = f"milestones[{n}]"
        if milestone.id in milestone_ids:
            problems.append(
                (
                    f"{loc}.id",
                    f"duplicate milestone id {milestone.id!r} "
                    f"(also milestones[{milestone_ids[milestone.id]}])",
                )
            )
        milestone_ids.setdefault(milestone.id, n)
        for k, item_id in enumerate(milestone.items):
            if item_id not in ids:
                problems.append(
                    (
                        f"{loc}.items[{k}]",
                        f"milestone {milestone.id!r} names unknown item id {item_id!r}",
                    )
                )
        for k, module_id in enumerate(milestone.modules):
            if module_id not in module_ids:
                problems.append(
                    (
                        f"{loc}.modules[{k}]",
                        f"milestone {milestone.id!r} names unknown module id {module_id!r}",
                    )
                )
        if not path.milestone_items(milestone):
            problems.append(
                (
                    loc,
                    f"milestone {milestone.id!r} covers no items: its modules are empty",
                )
            )
    cycle = find_cycle(edges)
    if cycle:
        problems.append(
            ("", "dependency cycle: " + " → ".join(cycle) + " (each needs the next completed)")
        )
    return problems


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """A cycle in ``edges`` as a list of nodes (first repeated at the end), or None."""
    colour: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        colour[node] = 1
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if colour.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in colour:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        colour[node] = 2
        return None

    for node in edges:
        if node not in colour:
            found = visit(node)
            if found:
                return found
    return None
