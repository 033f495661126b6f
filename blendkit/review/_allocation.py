"""Who reviews whose work: a pure function of the submissions and the assignments so far (no I/O).

The rules (written out in ``docs/peer-review.md``):

1. the pool of reviewers is everyone who submitted and has not dropped out; nobody ever
   reviews their own submission, nor one they were already assigned (or dropped) on;
2. submissions not yet placed when allocation first runs (the on-time group, at the submission
   deadline) are placed together on a ring in a shuffled order: each author reviews the ``n``
   authors after them, so every submission gets exactly ``n`` reviewers and every reviewer
   exactly ``n`` reviews (when at least ``n + 1`` people submitted);
3. a submission that arrives later (or a first group too small for the ring) is placed on its
   own: it gets the ``n`` least-loaded reviewers, then its author gets reviews of the
   submissions with the fewest reviewers until their load reaches ``max(n, highest load - 1)``;
4. when a reviewer drops out (inactive, or the review deadline passed with work undone), their
   unfinished reviews are dropped and each of those submissions is topped up to ``n`` from the
   least-loaded reviewers;
5. ties are broken by a hash of the seed and the learner, so the order is not alphabetical and
   the same state always gives the same answer.

A reviewer's load is their assignments that are not dropped. Under rules 2 and 3 the loads of
the pool differ by at most one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

__all__ = ["Allocation", "Assigned", "Placed", "allocate", "drop_reviewer"]

Status = Literal["assigned", "done", "dropped"]


@dataclass(frozen=True)
class Placed:
    """One submission: its id, its author and whether allocation has placed it yet."""

    id: int
    author: str
    placed: bool = False


@dataclass(frozen=True)
class Assigned:
    """One assignment: ``reviewer`` reviews submission ``submission``."""

    submission: int
    reviewer: str
    status: Status = "assigned"


@dataclass
class Allocation:
    """What to change: assignments to add, submissions now placed, assignments to drop."""

    added: list[Assigned] = field(default_factory=list)
    placed: list[int] = field(default_factory=list)
    dropped: list[Assigned] = field(default_factory=list)


def _order(seed: str, who: str) -> str:
    return hashlib.sha256(f"{seed}\x1f{who}".encode()).hexdigest()


class _State:
    def __init__(
        self, submissions: Sequence[Placed], assignments: Iterable[Assigned], inactive: set[str]
    ) -> None:
        self.author = {s.id: s.author for s in submissions}
        self.pool = {s.author for s in submissions} - inactive
        self.taken: dict[int, set[str]] = {s.id: set() for s in submissions}
        self.reviewers: dict[int, int] = {s.id: 0 for s in submissions}
        self.load: dict[str, int] = dict.fromkeys(self.pool, 0)
        for a in assignments:
            self.taken.setdefault(a.submission, set()).add(a.reviewer)
            if a.status != "dropped":
                self.reviewers[a.submission] = self.reviewers.get(a.submission, 0) + 1
                if a.reviewer in self.load:
                    self.load[a.reviewer] += 1

    def can(self, reviewer: str, submission: int) -> bool:
        return (
            reviewer in self.pool
            and self.author[submission] != reviewer
            and reviewer not in self.taken[submission]
        )

    def assign(self, out: Allocation, submission: int, reviewer: str) -> None:
        self.taken[submission].add(reviewer)
        self.reviewers[submission] += 1
        self.load[reviewer] += 1
        out.added.append(Assigned(submission, reviewer))

    def top_up(self, out: Allocation, submission: int, n: int, seed: str) -> None:
        while self.reviewers[submission] < n:
            options = [r for r in self.pool if self.can(r, submission)]
            if not options:
                return
            self.assign(
                out, submission, min(options, key=lambda r: (self.load[r], _order(seed, r)))
            )


def _ring(state: _State, out: Allocation, group: list[Placed], n: int, seed: str) -> None:
    ring = sorted(group, key=lambda s: _order(seed, s.author))
    for i, reviewer in enumerate(ring):
        for step in range(1, n + 1):
            target = ring[(i + step) % len(ring)]
            if state.can(reviewer.author, target.id):
                state.assign(out, target.id, reviewer.author)


def _place_one(state: _State, out: Allocation, new: Placed, n: int, seed: str) -> None:
    state.top_up(out, new.id, n, seed)
    others = [state.load[r] for r in state.pool if r != new.author]
    target = max(n, max(others, default=0) - 1)
    while new.author in state.pool and state.load[new.author] < target:
        options = [s for s in state.author if state.can(new.author, s)]
        if not options:
            return
        pick = min(options, key=lambda s: (state.reviewers[s], _order(seed, str(s))))
        state.assign(out, pick, new.author)


def allocate(
    submissions: Sequence[Placed],
    assignments: Iterable[Assigned],
    n: int,
    *,
    inactive: Iterable[str] = (),
    seed: str = "",
) -> Allocation:
    """The assignments that place every unplaced submission (rules 1–3 and 5 above).

    ``submissions`` in arrival order; ``inactive``: learners who dropped out (never given work).
    Unplaced submissions stay unplaced while fewer than two people submitted.
    """
    if n < 1:
        raise ValueError("each submission needs at least one reviewer")
    state = _State(submissions, assignments, set(inactive))
    out = Allocation()
    waiting = [s for s in submissions if not s.placed]
    if len(state.pool) >= 2 and waiting:
        if not any(s.placed for s in submissions) and len(waiting) > n:
            _ring(state, out, waiting, n, seed)
        else:
            for s in waiting:
                _place_one(state, out, s, n, seed)
        out.placed = [s.id for s in waiting]
    # Submissions left short (they arrived when few had submitted, or lost a reviewer) are
    # topped up.
    for s in submissions:
        state.top_up(out, s.id, n, seed)
    return out


def drop_reviewer(
    submissions: Sequence[Placed],
    assignments: Sequence[Assigned],
    reviewer: str,
    n: int,
    *,
    inactive: Iterable[str] = (),
    seed: str = "",
) -> Allocation:
    """Drop ``reviewer``'s unfinished reviews and top each of those submissions up to ``n``
    from the least-loaded reviewers still in the pool (rule 4)."""
    gone = {*inactive, reviewer}
    out = Allocation()
    kept = []
    for a in assignments:
        if a.reviewer == reviewer and a.status == "assigned":
            out.dropped.append(a)
            kept.append(Assigned(a.submission, a.reviewer, "dropped"))
        else:
            kept.append(a)
    state = _State(submissions, kept, gone)
    for a in out.dropped:
        state.top_up(out, a.submission, n, seed)
    return out
