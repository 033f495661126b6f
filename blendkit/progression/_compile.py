"""Compile a path once into plain Python functions over :class:`Facts` (no pydantic in the loop).

Each gate and completion criterion renders itself as an expression (:meth:`Condition.expr`);
values reach the generated code only through the constant table ``K``, never as source text.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from blendkit.progression._conditions import Condition
from blendkit.progression._facts import NO_WAIVERS, EvaluationContext, Facts, Gen, Meta
from blendkit.progression._path import Path
from blendkit.progression._time import as_timestamp

__all__ = [
    "AVAILABLE",
    "COMPLETED",
    "IN_PROGRESS",
    "LOCKED",
    "OVERDUE",
    "STATE_NAMES",
    "CompiledPath",
    "ItemState",
    "compile_path",
]

LOCKED, AVAILABLE, IN_PROGRESS, COMPLETED, OVERDUE = range(5)
ItemState = Literal["locked", "available", "in_progress", "completed", "overdue"]
STATE_NAMES: tuple[ItemState, ...] = ("locked", "available", "in_progress", "completed", "overdue")
_FACT_NAMES = {
    "best", "latest", "avg", "comp", "att_min", "att_pct", "rec", "vid", "views", "rev",
    "polls", "asked", "upvoted",
    "groups", "groupings", "roles", "profile", "enrol", "enrol_end", "ext", "unlocked",
    "waived", "active", "kept",
}  # fmt: skip

Checker = Callable[[Condition, str], bool]
FullFn = Callable[
    [Facts, float, Checker | None, dict[str, bool]], tuple[dict[str, bool], list[int]]
]
ItemFn = Callable[[Facts, dict[str, bool], float, Checker | None], Any]


class CompiledPath:
    """A path turned into functions: whole-learner evaluation and per-item re-evaluation."""

    def __init__(self, path: Path) -> None:
        self.path = path
        items = list(path.items())
        self.ids: list[str] = [item.id for item in items]
        self.meta = Meta(
            titles={item.id: item.title or item.id for item in items},
            kinds={item.id: item.kind for item in items},
            pass_marks={item.id: item.pass_mark for item in items if item.pass_mark is not None},
            durations={i.id: i.duration_minutes for i in items if i.duration_minutes is not None},
            course_start=as_timestamp(path.course_start) if path.course_start else None,
            course_end=as_timestamp(path.course_end) if path.course_end else None,
            due_at={item.id: as_timestamp(item.due) for item in items if item.due},
            due_after_enrolment={
                item.id: item.due_after_enrolment_days * 86400.0
                for item in items
                if item.due_after_enrolment_days is not None
            },
        )
        self.gates: dict[str, tuple[Condition, ...]] = {i: path.gate(i) for i in self.ids}
        self.criteria: dict[str, Condition | None] = {i: path.criterion(i) for i in self.ids}
        self.order = self._topological()
        self.position = {item_id: n for n, item_id in enumerate(self.order)}
        self._index_dependencies()
        self._generate()

    # --- structure ---------------------------------------------------------------------------

    def _refs(self, item_id: str) -> set[str]:
        refs: set[str] = set()
        for part in (*self.gates[item_id], self.criteria[item_id]):
            if part is not None:
                refs.update(part.done_refs())
        refs.discard(item_id)
        return refs

    def _topological(self) -> list[str]:
        order: list[str] = []
        seen: set[str] = set()

        def visit(item_id: str) -> None:
            if item_id in seen:
                return
            seen.add(item_id)
            for ref in sorted(self._refs(item_id)):
                visit(ref)
            order.append(item_id)

        for item_id in self.ids:
            visit(item_id)
        return order

    def _index_dependencies(self) -> None:
        self.index: dict[str, set[str]] = {}
        self.any_evidence: set[str] = set()
        self.dependents: dict[str, set[str]] = {i: set() for i in self.ids}
        for item_id in self.ids:
            keys = {f"comp:{item_id}", f"active:{item_id}", f"override:{item_id}"}
            keys |= (
                {f"ext:{item_id}", "enrol"}
                if item_id in self.meta.due_after_enrolment
                else {f"ext:{item_id}"}
            )
            for part in (*self.gates[item_id], self.criteria[item_id]):
                if part is not None:
                    keys |= part.deps()
            for key in keys:
                if key == "*":
                    self.any_evidence.add(item_id)
                elif key.startswith("done:"):
                    self.dependents.setdefault(key[5:], set()).add(item_id)
                else:
                    self.index.setdefault(key, set()).add(item_id)

    # --- code generation ---------------------------------------------------------------------

    def _blocks(self, gen: Gen) -> tuple[dict[str, str], dict[str, str], dict[str, set[str]]]:
        done_src: dict[str, str] = {}
        state_src: dict[str, str] = {}
        needs: dict[str, set[str]] = {}
        for item_id in self.order:
            gen.needs = set()
            gen.item = item_id
            key = gen.const(item_id)
            criterion = self.criteria[item_id]
            met = f"{gen.use('comp')}.get({key}, 0) >= 1"
            if criterion is not None:
                met = f"{met} or {gen.node(criterion)}"
            gate = " and ".join(gen.node(part) for part in self.gates[item_id]) or "True"
            is_open = f"{key} in {gen.use('unlocked')} or {gate}"
            # Never completed while locked: what completes an item counts only while it is
            # open (or once it was seen completed while open: ``kept``, so completion sticks).
            waivers = [f"W = {gen.use('waived')}.get({key}, E)"] if "W" in gen.needs else []
            done = f"D[{key}] = {key} in {gen.use('kept')} or (({met}) and ({is_open}))"
            done_src[item_id] = "\n".join([*waivers, done])
            lines = [*waivers, f"if D[{key}]: s = 3", f"elif not ({is_open}): s = 0", "else:"]
            lines.extend("    " + line for line in self._due_lines(gen, item_id, key))
            lines.append(
                f"    s = 4 if due is not None and now >= due else "
                f"(2 if {key} in {gen.use('active')} else 1)"
            )
            state_src[item_id] = "\n".join(lines)
            needs[item_id] = set(gen.needs)
        return done_src, state_src, needs

    def _due_lines(self, gen: Gen, item_id: str, key: str) -> list[str]:
        ext = gen.use("ext")
        if item_id in self.meta.due_at:
            fixed = gen.const(self.meta.due_at[item_id])
            return [
                f"e = {ext}.get({key})",
                f"due = e if e is not None and e > {fixed} else {fixed}",
            ]
        if item_id in self.meta.due_after_enrolment:
            enrol, offset = gen.use("enrol"), gen.const(self.meta.due_after_enrolment[item_id])
            return [
                f"due = None if {enrol} is None else {enrol} + {offset}",
                f"e = {ext}.get({key})",
                "if due is not None and e is not None and e > due: due = e",
            ]
        return ["due = None"]

    @staticmethod
    def _header(needs: set[str]) -> list[str]:
        return [f"    {name} = F.{name}" for name in sorted(needs & _FACT_NAMES)]

    def _generate(self) -> None:
        gen = Gen(self.meta)
        done_src, state_src, needs = self._blocks(gen)
        every: set[str] = set().union(*needs.values()) if needs else set()
        self.has_fallback = "X" in every
        lines = ["def _full(F, now, X, D):", *self._header(every)]
        lines += ["    " + line for i in self.order for line in done_src[i].splitlines()]
        lines.append(f"    S = [0] * {len(self.ids)}")
        for n, item_id in enumerate(self.ids):
            lines += ["    " + line for line in state_src[item_id].splitlines()]
            lines.append(f"    S[{n}] = s")
        lines.append("    return D, S")
        for n, item_id in enumerate(self.ids):
            lines += [f"def _done_{n}(F, D, now, X):", *self._header(needs[item_id])]
            lines += ["    " + line for line in done_src[item_id].splitlines()]
            lines.append(f"    return D[{gen.const(item_id)}]")
            lines += [f"def _state_{n}(F, D, now, X):", *self._header(needs[item_id])]
            lines += ["    " + line for line in state_src[item_id].splitlines()]
            lines.append("    return s")
        namespace: dict[str, Any] = {"K": tuple(gen.consts), "E": NO_WAIVERS}
        self.source = "\n".join(lines) + "\n"
        code = compile(self.source, f"<blendkit path {self.path.id}>", "exec")
        exec(code, namespace)  # noqa: S102 - source built above from fixed templates; values via K
        self._full: FullFn = namespace["_full"]
        self.done_fns: dict[str, ItemFn] = {
            i: namespace[f"_done_{n}"] for n, i in enumerate(self.ids)
        }
        self.state_fns: dict[str, ItemFn] = {
            i: namespace[f"_state_{n}"] for n, i in enumerate(self.ids)
        }

    # --- running -----------------------------------------------------------------------------

    def checker(self, facts: Facts, now: float, done: dict[str, bool]) -> Checker:
        """Reference-semantics hook the generated code calls for uncompiled conditions."""

        def check(condition: Condition, item_id: str) -> bool:
            return condition.holds(EvaluationContext(facts, now, self.meta, done, item_id))

        return check

    def run(self, facts: Facts, now: float) -> tuple[dict[str, bool], list[int]]:
        """Completion map and state codes (in path order) for one learner."""
        done: dict[str, bool] = {}
        check = self.checker(facts, now, done) if self.has_fallback else None
        return self._full(facts, now, check, done)


def compile_path(path: Path) -> CompiledPath:
    """Compile ``path`` (cached for the most recent paths by identity)."""
    cached = _CACHE.get(id(path))
    if cached is not None and cached.path is path:
        return cached
    compiled = CompiledPath(path)
    if len(_CACHE) >= 64:
        _CACHE.pop(next(iter(_CACHE)))
    _CACHE[id(path)] = compiled
    return compiled


_CACHE: dict[int, CompiledPath] = {}
