"""Evaluation: item states with explanations, incremental re-evaluation and change events.

States: ``locked``, ``available``, ``in_progress``, ``completed``, ``overdue``.

*Never completed while locked.* An item is completed when the evidence holds a completion record
for it (complete, passed or failed) or its ``complete_when`` criterion is met, *and* it is open
(its gate holds or an instructor unlocked it) — so no evidence, and no replay of stored evidence,
completes an item the learner cannot open. The :class:`IncrementalEvaluator` holds back pieces
about a locked item (:data:`GATED_KINDS`) instead of merging them: evidence captured while an
item is locked never counts for it.

*Completed is sticky.* Once seen completed while open, an item is kept completed
(``Evidence.completed_at``) even when its gate closes later; records never fall back (see
:data:`COMPLETION_RANK`) and criteria may only use conditions that new evidence can only satisfy.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from blendkit.progression._compile import (
    COMPLETED,
    LOCKED,
    OVERDUE,
    STATE_NAMES,
    CompiledPath,
    ItemState,
    compile_path,
)
from blendkit.progression._conditions import AllOf, AnyOf, Condition, Not, Reason
from blendkit.progression._context_conditions import when
from blendkit.progression._evidence import Evidence, EvidencePiece, gated_item
from blendkit.progression._evidence_records import Override
from blendkit.progression._facts import EvaluationContext, Facts
from blendkit.progression._path import Path
from blendkit.progression._time import UtcDatetime, ensure_utc, from_timestamp

__all__ = [
    "ChangeEvent",
    "IncrementalEvaluator",
    "ItemState",
    "ItemStatus",
    "PathResult",
    "changes",
    "evaluate",
]

_FROZEN = ConfigDict(frozen=True)


class ItemStatus(BaseModel):
    """One item's state for one learner, with the reasons a learner or instructor reads."""

    model_config = _FROZEN

    id: str
    title: str
    kind: str
    state: ItemState
    reasons: tuple[Reason, ...] = ()
    visible: bool = True
    due: UtcDatetime | None = None
    overrides: tuple[Override, ...] = ()


class PathResult(BaseModel):
    """Every item's status for one learner at one instant."""

    model_config = _FROZEN

    path: str
    learner: str | None
    at: UtcDatetime
    items: tuple[ItemStatus, ...]

    def state(self, item_id: str) -> ItemState:
        """The state of one item (KeyError when absent)."""
        for status in self.items:
            if status.id == item_id:
                return status.state
        raise KeyError(item_id)

    def states(self) -> dict[str, ItemState]:
        """Item id → state, in path order."""
        return {status.id: status.state for status in self.items}

    def to_json(self) -> dict[str, Any]:
        """``{"items": [{"id", "state", "reasons": [...]}]}`` as the CLI prints it."""
        return {
            "items": [
                {"id": s.id, "state": s.state, "reasons": [r.message for r in s.reasons]}
                for s in self.items
            ]
        }


class ChangeEvent(BaseModel):
    """An item's state changed for a learner (notify, record xAPI, push grades on these)."""

    model_config = _FROZEN

    kind: ItemState
    item: str
    learner: str | None
    previous: ItemState
    state: ItemState
    at: UtcDatetime


def _now(now: datetime) -> float:
    return ensure_utc(now, "evaluation time").timestamp()


def _explain(
    compiled: CompiledPath,
    facts: Facts,
    now: float,
    done: dict[str, bool],
    *,
    item_id: str,
    code: int,
) -> tuple[tuple[Reason, ...], bool]:
    if code == OVERDUE:
        due = compiled.meta.due(item_id, facts)
        text = f"Was due {when(due)} — not completed yet" if due is not None else "Overdue"
        return (Reason(type="overdue", message=text, item=item_id),), True
    if code != LOCKED:
        return (), True
    ctx = EvaluationContext(facts, now, compiled.meta, done, item_id)
    reasons: list[Reason] = []
    hide = False
    for part in compiled.gates[item_id]:
        if ctx.check(part):
            continue
        hide = hide or _hides(part, ctx)
        if isinstance(part, AllOf) and not part.hidden and part.id is None:
            reasons.extend(child.explain(ctx) for child in part.all if not ctx.check(child))
        else:
            reasons.append(part.explain(ctx))
    return tuple(reasons), not hide


def _hides(part: Condition, ctx: EvaluationContext) -> bool:
    """Moodle's display rule for an unmet gate part: hidden if a failing ``hidden`` child is."""
    if part.hidden:
        return True
    if isinstance(part, AllOf):
        return any(child.hidden and not ctx.check(child) for child in part.all)
    if isinstance(part, Not) and isinstance(part.not_, AnyOf):
        # NOT(a OR b) fails through the children that hold
        return any(child.hidden and ctx.check(child) for child in part.not_.any)
    return False


def _statuses(
    compiled: CompiledPath, facts: Facts, now: float, done: dict[str, bool], codes: list[int]
) -> tuple[ItemStatus, ...]:
    out = []
    for item_id, code in zip(compiled.ids, codes, strict=True):
        reasons, visible = _explain(compiled, facts, now, done, item_id=item_id, code=code)
        due = compiled.meta.due(item_id, facts)
        out.append(
            ItemStatus(
                id=item_id,
                title=compiled.meta.titles[item_id],
                kind=compiled.meta.kinds[item_id],
                state=STATE_NAMES[code],
                reasons=reasons,
                visible=visible,
                due=from_timestamp(due) if due is not None else None,
                overrides=tuple(o for o in facts.overrides if o.item == item_id),
            )
        )
    return tuple(out)


def evaluate(path: Path | CompiledPath, evidence: Evidence, now: datetime) -> PathResult:
    """Every item's state for this learner at ``now`` (aware UTC), with explanations."""
    compiled = path if isinstance(path, CompiledPath) else compile_path(path)
    at = _now(now)
    facts = Facts.from_evidence(evidence)
    done, codes = compiled.run(facts, at)
    return PathResult(
        path=compiled.path.id,
        learner=evidence.learner,
        at=from_timestamp(at),
        items=_statuses(compiled, facts, at, done, codes),
    )


def changes(before: PathResult, after: PathResult) -> tuple[ChangeEvent, ...]:
    """Events for every item whose state differs between two results (path order)."""
    old = before.states()
    return tuple(
        ChangeEvent(
            kind=status.state,
            item=status.id,
            learner=after.learner,
            previous=old[status.id],
            state=status.state,
            at=after.at,
        )
        for status in after.items
        if old.get(status.id, status.state) != status.state
    )


class IncrementalEvaluator:
    """One learner's states kept current as evidence arrives, re-evaluating only what it touches.

    The dependency index (evidence key → items, item → items reading its completion) is built
    once per compiled path; :meth:`apply` re-evaluates the indexed items and their transitive
    dependents in dependency order, and returns the change events. The result always equals
    :func:`evaluate` on the accumulated evidence (a property test checks it).
    """

    def __init__(self, path: Path | CompiledPath, evidence: Evidence, now: datetime) -> None:
        self.compiled = path if isinstance(path, CompiledPath) else compile_path(path)
        self._evidence = evidence
        self._pending: list[EvidencePiece] = []
        self._kept: dict[str, float] = {}
        self.held: list[EvidencePiece] = []
        self.facts = Facts.from_evidence(evidence)
        self.learner = evidence.learner
        self._set_now(now)
        self._keep(self.compiled.ids)

    def _set_now(self, now: datetime) -> None:
        self.now = _now(now)
        self.done, codes = self.compiled.run(self.facts, self.now)
        self.codes = dict(zip(self.compiled.ids, codes, strict=True))

    def _keep(self, items: Iterable[str]) -> None:
        """Latch items now completed (they were open: the engine completes nothing locked)."""
        kept = self.facts.kept
        for item_id in items:
            if self.codes[item_id] == COMPLETED and item_id not in kept:
                kept.add(item_id)
                self._kept[item_id] = self.now

    @property
    def evidence(self) -> Evidence:
        """The accumulated (admitted) evidence as a value, built lazily from applied pieces."""
        if self._pending:
            self._evidence = self._evidence.apply_all(self._pending)
            self._pending = []
        if self._kept:
            kept = {i: from_timestamp(at) for i, at in self._kept.items()}
            self._evidence = self._evidence.model_copy(
                update={"completed_at": {**self._evidence.completed_at, **kept}}
            )
            self._kept = {}
        return self._evidence

    def locked(self, item_id: str) -> bool:
        """Whether ``item_id`` is locked for the learner now."""
        return self.codes.get(item_id) == LOCKED

    def admits(self, piece: EvidencePiece) -> bool:
        """False for a piece about an item that is locked now (it would be held back)."""
        item = gated_item(piece)
        return item is None or not self.locked(item)

    def advance(self, now: datetime) -> tuple[ChangeEvent, ...]:
        """Move the clock (dates, drips, deadlines) and return what changed."""
        before = dict(self.codes)
        self._set_now(now)
        self._keep(self.compiled.ids)
        return self._events(before, self.compiled.ids)

    def apply(self, piece: EvidencePiece) -> tuple[ChangeEvent, ...]:
        """Merge one piece of evidence; re-evaluate only the items that depend on it.

        A piece about a locked item is held back (appended to :attr:`held`), not merged: it
        changes nothing, now or later.
        """
        if not self.admits(piece):
            self.held.append(piece)
            return ()
        self.facts.apply(piece)
        self._pending.append(piece)
        compiled = self.compiled
        touched: set[str] = set(compiled.any_evidence)
        for key in piece.index_keys():
            touched |= compiled.index.get(key, set())
        if not touched:
            return ()
        position = compiled.position
        heap = [(position[i], i) for i in touched]
        heapq.heapify(heap)
        seen = set(touched)
        before: dict[str, int] = {}
        check = compiled.checker(self.facts, self.now, self.done) if compiled.has_fallback else None
        while heap:
            _, item_id = heapq.heappop(heap)
            was_done = self.done.get(item_id)
            if compiled.done_fns[item_id](self.facts, self.done, self.now, check) != was_done:
                for dependent in compiled.dependents.get(item_id, ()):
                    if dependent not in seen:
                        seen.add(dependent)
                        heapq.heappush(heap, (position[dependent], dependent))
            code = compiled.state_fns[item_id](self.facts, self.done, self.now, check)
            if code != self.codes[item_id]:
                before[item_id] = self.codes[item_id]
                self.codes[item_id] = code
        self._keep(before)
        return self._events(before, before)

    def _events(self, before: dict[str, int], items: Iterable[str]) -> tuple[ChangeEvent, ...]:
        at = from_timestamp(self.now)
        out = []
        for item_id in items:
            old, new = before.get(item_id), self.codes[item_id]
            if old is None or old == new:
                continue
            # built from values the engine produced itself: no validation needed in this loop
            out.append(
                ChangeEvent.model_construct(
                    kind=STATE_NAMES[new],
                    item=item_id,
                    learner=self.learner,
                    previous=STATE_NAMES[old],
                    state=STATE_NAMES[new],
                    at=at,
                )
            )
        order = self.compiled.ids
        out.sort(key=lambda event: order.index(event.item))
        return tuple(out)

    def states(self) -> dict[str, ItemState]:
        """Item id → state, in path order (cheap: no explanations)."""
        return {i: STATE_NAMES[self.codes[i]] for i in self.compiled.ids}

    def result(self) -> PathResult:
        """The full result with explanations, equal to :func:`evaluate` on :attr:`evidence`."""
        codes = [self.codes[i] for i in self.compiled.ids]
        return PathResult(
            path=self.compiled.path.id,
            learner=self.learner,
            at=from_timestamp(self.now),
            items=_statuses(self.compiled, self.facts, self.now, self.done, codes),
        )


def condition_holds(
    condition: Condition, evidence: Evidence, now: datetime, path: Path | None = None
) -> bool:
    """Reference check of one condition for one learner (handy in tests and tools)."""
    compiled = compile_path(path) if path is not None else None
    facts = Facts.from_evidence(evidence)
    at = _now(now)
    if compiled is None:
        from blendkit.progression._facts import Meta

        return EvaluationContext(facts, at, Meta(), {}).check(condition)
    done, _ = compiled.run(facts, at)
    return EvaluationContext(facts, at, compiled.meta, done).check(condition)
