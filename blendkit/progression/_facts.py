"""The engine's fast, mutable view of one learner's evidence, and the evaluation context.

Pydantic values are for the boundary; the hot loop reads these plain dicts and sets.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from blendkit.progression._evidence import Evidence, EvidencePiece
from blendkit.progression._evidence_records import COMPLETION_RANK, Override

if TYPE_CHECKING:
    from blendkit.progression._conditions import Condition

__all__ = ["EvaluationContext", "Facts", "Gen", "Meta", "NO_WAIVERS"]

NO_WAIVERS: frozenset[str] = frozenset()


class Facts:
    """Per-learner evidence as plain dicts keyed by item id (timestamps as floats)."""

    __slots__ = (
        "active",
        "asked",
        "att_min",
        "att_pct",
        "avg",
        "best",
        "comp",
        "comp_at",
        "count",
        "enrol",
        "enrol_end",
        "ext",
        "groupings",
        "groups",
        "kept",
        "last_activity",
        "latest",
        "latest_at",
        "overrides",
        "polls",
        "profile",
        "rec",
        "rev",
        "roles",
        "total",
        "unlocked",
        "upvoted",
        "vid",
        "views",
        "waived",
    )

    def __init__(self) -> None:
        self.best: dict[str, float] = {}
        self.latest: dict[str, float] = {}
        self.latest_at: dict[str, float] = {}
        self.total: dict[str, float] = {}
        self.count: dict[str, int] = {}
        self.avg: dict[str, float] = {}
        self.comp: dict[str, int] = {}
        self.comp_at: dict[str, float] = {}
        self.att_min: dict[str, float] = {}
        self.att_pct: dict[str, float] = {}
        self.rec: dict[str, float] = {}
        self.vid: dict[str, float] = {}
        self.views: dict[str, float] = {}
        self.rev: dict[str, int] = {}
        self.polls: dict[str, set[str]] = {}
        self.asked: dict[str, set[str]] = {}
        self.upvoted: dict[str, set[str]] = {}
        self.groups: set[str] = set()
        self.groupings: set[str] = set()
        self.roles: set[str] = set()
        self.profile: dict[str, str] = {}
        self.enrol: float | None = None
        self.enrol_end: float | None = None
        self.ext: dict[str, float] = {}
        self.unlocked: set[str] = set()
        self.waived: dict[str, set[str]] = {}
        self.overrides: list[Override] = []
        self.last_activity: float | None = None
        self.active: set[str] = set()
        self.kept: set[str] = set()

    @classmethod
    def from_evidence(cls, evidence: Evidence) -> Facts:
        """The fast view of ``evidence``."""
        facts = cls()
        for item, attempts in evidence.scores.items():
            if not attempts:
                continue
            scores = [attempt.score for attempt in attempts]
            latest_at = float("-inf")
            for attempt in attempts:
                at = attempt.at.timestamp()
                if at >= latest_at:
                    latest_at, facts.latest[item] = at, attempt.score
            facts.latest_at[item] = latest_at
            facts.best[item] = max(scores)
            total = 0.0
            for score in scores:  # the same left-to-right sum as add_score (not math.fsum)
                total += score
            facts.total[item] = total
            facts.count[item] = len(scores)
            facts.avg[item] = total / len(scores)
        facts.comp = {k: COMPLETION_RANK[v.state] for k, v in evidence.completions.items()}
        facts.comp_at = {k: v.at.timestamp() for k, v in evidence.completions.items() if v.at}
        facts.att_min = {k: v.minutes for k, v in evidence.attendance.items()}
        facts.att_pct = {k: v.percent for k, v in evidence.attendance.items()}
        facts.rec = dict(evidence.recordings)
        facts.vid = dict(evidence.videos)
        facts.views = {k: v.timestamp() for k, v in evidence.views.items()}
        facts.rev = dict(evidence.peer_reviews)
        facts.polls = {k: set(v) for k, v in evidence.polls.items()}
        facts.asked = {k: set(v) for k, v in evidence.asked.items()}
        facts.upvoted = {k: set(v) for k, v in evidence.upvoted.items()}
        facts.groups = set(evidence.groups)
        facts.groupings = set(evidence.groupings)
        facts.roles = set(evidence.roles)
        facts.profile = dict(evidence.profile)
        facts.enrol = evidence.enrolled_at.timestamp() if evidence.enrolled_at else None
        end = evidence.enrolment_ends_at
        facts.enrol_end = end.timestamp() if end else None
        facts.ext = {k: v.timestamp() for k, v in evidence.extensions.items()}
        for override in evidence.overrides:
            facts.add_override(override)
        facts.kept = set(evidence.completed_at)
        last = evidence.last_activity_at
        facts.last_activity = last.timestamp() if last else None
        facts.active = (
            set(evidence.scores)
            | set(evidence.completions)
            | set(evidence.attendance)
            | set(evidence.recordings)
            | set(evidence.videos)
            | set(evidence.views)
            | set(evidence.peer_reviews)
            | set(evidence.polls)
            | set(evidence.asked)
            | set(evidence.upvoted)
        )
        return facts

    def add_score(self, item: str, score: float, at: float) -> None:
        """Merge one attempt (best, latest by time, running average)."""
        if score > self.best.get(item, -1.0):
            self.best[item] = score
        if at >= self.latest_at.get(item, float("-inf")):
            self.latest_at[item] = at
            self.latest[item] = score
        self.total[item] = self.total.get(item, 0.0) + score
        self.count[item] = self.count.get(item, 0) + 1
        self.avg[item] = self.total[item] / self.count[item]

    def add_override(self, override: Override) -> None:
        """Merge one instructor override."""
        self.overrides.append(override)
        if override.action == "unlock":
            self.unlocked.add(override.item)
        elif override.condition_id is not None:
            self.waived.setdefault(override.item, set()).add(override.condition_id)

    def apply(self, piece: EvidencePiece) -> None:
        """Merge one piece in place, with the same rules as :meth:`Evidence.apply`."""
        kind = piece.kind
        item: str | None = getattr(piece, "item", None)
        if kind == "score":
            self.add_score(piece.item, piece.score, piece.at.timestamp())  # type: ignore[union-attr]
        elif kind == "completion":
            rank = COMPLETION_RANK[piece.state]  # type: ignore[union-attr]
            i = piece.item  # type: ignore[union-attr]
            if rank > self.comp.get(i, -1):
                self.comp[i] = rank
                at = piece.at  # type: ignore[union-attr]
                if at is not None:
                    self.comp_at[i] = at.timestamp()
                else:
                    self.comp_at.pop(i, None)
        elif kind == "attendance":
            i = piece.item  # type: ignore[union-attr]
            self.att_min[i] = max(self.att_min.get(i, 0.0), piece.minutes)  # type: ignore[union-attr]
            self.att_pct[i] = max(self.att_pct.get(i, 0.0), piece.percent)  # type: ignore[union-attr]
        elif kind in ("recording", "video"):
            target = self.rec if kind == "recording" else self.vid
            i = piece.item  # type: ignore[union-attr]
            target[i] = max(target.get(i, 0.0), piece.percent)  # type: ignore[union-attr]
        elif kind == "view":
            at = piece.at.timestamp()  # type: ignore[union-attr]
            i = piece.item  # type: ignore[union-attr]
            if i not in self.views or at < self.views[i]:
                self.views[i] = at
        elif kind == "peer_review":
            i = piece.item  # type: ignore[union-attr]
            self.rev[i] = self.rev.get(i, 0) + piece.count  # type: ignore[union-attr]
        elif kind == "poll":
            self.polls.setdefault(piece.item, set()).add(piece.poll)  # type: ignore[union-attr]
        elif kind == "question":
            raised = self.asked if piece.action == "asked" else self.upvoted  # type: ignore[union-attr]
            raised.setdefault(piece.item, set()).add(piece.question)  # type: ignore[union-attr]
        elif kind == "group":
            self.groups.add(piece.group)  # type: ignore[union-attr]
        elif kind == "grouping":
            self.groupings.add(piece.grouping)  # type: ignore[union-attr]
        elif kind == "role":
            self.roles.add(piece.role)  # type: ignore[union-attr]
        elif kind == "profile":
            self.profile[piece.field] = piece.value  # type: ignore[union-attr]
        elif kind == "enrolled":
            self.enrol = piece.at.timestamp()  # type: ignore[union-attr]
            ends = piece.ends_at  # type: ignore[union-attr]
            self.enrol_end = ends.timestamp() if ends else None
        elif kind == "extension":
            until = piece.until.timestamp()  # type: ignore[union-attr]
            i = piece.item  # type: ignore[union-attr]
            if until > self.ext.get(i, float("-inf")):
                self.ext[i] = until
        elif kind == "override":
            self.add_override(piece.override)  # type: ignore[union-attr]
        if item is not None and kind not in ("extension",):
            self.active.add(item)
        when = piece.activity_at()
        if when is not None:
            ts = when.timestamp()
            if self.last_activity is None or ts > self.last_activity:
                self.last_activity = ts


@dataclass(frozen=True)
class Meta:
    """What conditions need to know about the path (titles, pass marks, course dates)."""

    titles: dict[str, str] = field(default_factory=dict)
    kinds: dict[str, str] = field(default_factory=dict)
    pass_marks: dict[str, float] = field(default_factory=dict)
    durations: dict[str, float] = field(default_factory=dict)
    course_start: float | None = None
    course_end: float | None = None
    due_at: dict[str, float] = field(default_factory=dict)
    due_after_enrolment: dict[str, float] = field(default_factory=dict)

    def due(self, item: str, facts: Facts) -> float | None:
        """The learner's effective deadline for ``item``: its due date or their later extension."""
        base = self.due_at.get(item)
        if base is None:
            offset = self.due_after_enrolment.get(item)
            if offset is not None and facts.enrol is not None:
                base = facts.enrol + offset
        if base is None:
            return None
        extension = facts.ext.get(item)
        return extension if extension is not None and extension > base else base


class EvaluationContext:
    """Reference evaluation context: facts, ``now``, path metadata and computed completion."""

    __slots__ = ("done_map", "facts", "item", "meta", "now", "waived")

    def __init__(
        self, facts: Facts, now: float, meta: Meta, done: dict[str, bool], item: str = ""
    ) -> None:
        self.facts = facts
        self.now = now
        self.meta = meta
        self.done_map = done
        self.item = item
        self.waived = facts.waived.get(item, NO_WAIVERS)

    def title(self, item: str) -> str:
        """The item's title (its id when it has none)."""
        return self.meta.titles.get(item, item)

    def check(self, condition: Condition) -> bool:
        """``condition.holds`` unless an override waived it for the current item."""
        if condition.id is not None and condition.id in self.waived:
            return True
        return condition.holds(self)

    def done(self, item: str) -> bool:
        """Whether ``item`` counts as completed (see the engine's sticky rule)."""
        return self.done_map.get(item, False)

    def passed(self, item: str) -> bool:
        """Completion state *passed*, recorded or reached by the item's pass mark."""
        if self.facts.comp.get(item, 0) == 3:
            return True
        mark = self.meta.pass_marks.get(item)
        return mark is not None and self.facts.best.get(item, -1.0) >= mark

    def failed(self, item: str) -> bool:
        """Completion state *failed* (recorded, or attempted below the pass mark) and not passed."""
        if self.passed(item):
            return False
        if self.facts.comp.get(item, 0) == 1:
            return True
        mark = self.meta.pass_marks.get(item)
        return mark is not None and item in self.facts.best


class Gen:
    """Collects constants and fallbacks while conditions render themselves as expressions."""

    def __init__(self, meta: Meta) -> None:
        self.meta = meta
        self.consts: list[object] = []
        self._seen: dict[tuple[type, object], int] = {}
        self.needs: set[str] = set()

    def const(self, value: object) -> str:
        """A reference to ``value`` in the generated code (never inlined as source text)."""
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            key = (type(value), value)
            if key not in self._seen:
                self._seen[key] = len(self.consts)
                self.consts.append(value)
            return f"K[{self._seen[key]}]"
        self.consts.append(value)
        return f"K[{len(self.consts) - 1}]"

    def use(self, name: str) -> str:
        """A local bound to ``F.<name>`` (or ``now``/``D``) at the top of the function."""
        self.needs.add(name)
        return name

    def node(self, condition: Condition) -> str:
        """A child's expression, guarded by its waiver when it has an id."""
        inner = condition.expr(self)
        if condition.id is None:
            return inner
        self.needs.add("W")
        return f"({self.const(condition.id)} in W or {inner})"

    item: str = ""

    def fallback(self, condition: Condition) -> str:
        """Call the reference semantics (for conditions without a compiled form)."""
        self.needs.add("X")
        return f"X({self.const(condition)}, {self.const(self.item)})"

    def passed(self, item: str) -> str:
        """Expression: the item counts as passed."""
        comp, key = self.use("comp"), self.const(item)
        mark = self.meta.pass_marks.get(item)
        if mark is None:
            return f"({comp}.get({key}, 0) == 3)"
        best = self.use("best")
        return f"({comp}.get({key}, 0) == 3 or {best}.get({key}, -1.0) >= {self.const(mark)})"

    def failed(self, item: str) -> str:
        """Expression: the item counts as failed."""
        comp, key = self.use("comp"), self.const(item)
        recorded = f"{comp}.get({key}, 0) == 1"
        if self.meta.pass_marks.get(item) is not None:
            recorded = f"({recorded} or {key} in {self.use('best')})"
        return f"(not {self.passed(item)} and {recorded})"
