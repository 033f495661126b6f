"""Allocation rules, checked on random cohorts: on-time groups, late arrivals and drop-outs."""

from __future__ import annotations

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from blendkit.review import Allocation, Assigned, Placed, allocate, drop_reviewer


class Cohort:
    """Submissions and assignments, changed only through what the allocator returns."""

    def __init__(self, n: int, seed: str) -> None:
        self.n = n
        self.seed = seed
        self.submissions: list[Placed] = []
        self.assignments: list[Assigned] = []
        self.inactive: set[str] = set()

    def submit(self, *authors: str) -> None:
        start = len(self.submissions)
        self.submissions += [Placed(start + i, a) for i, a in enumerate(authors)]

    def apply(self, change: Allocation) -> None:
        gone = {(a.submission, a.reviewer) for a in change.dropped}
        self.assignments = [
            Assigned(a.submission, a.reviewer, "dropped") if (a.submission, a.reviewer) in gone
            else a
            for a in self.assignments
        ]  # fmt: skip
        self.assignments += change.added
        placed = set(change.placed)
        self.submissions = [
            Placed(s.id, s.author, s.placed or s.id in placed) for s in self.submissions
        ]

    def run(self) -> Allocation:
        change = allocate(
            self.submissions, self.assignments, self.n, inactive=self.inactive, seed=self.seed
        )
        self.apply(change)
        return change

    def drop(self, who: str) -> Allocation:
        change = drop_reviewer(
            self.submissions, self.assignments, who, self.n, inactive=self.inactive,
            seed=self.seed,
        )  # fmt: skip
        self.inactive.add(who)
        self.apply(change)
        return change

    def live(self) -> list[Assigned]:
        return [a for a in self.assignments if a.status != "dropped"]

    def loads(self) -> dict[str, int]:
        pool = {s.author for s in self.submissions} - self.inactive
        counts = Counter(a.reviewer for a in self.live())
        return {who: counts[who] for who in pool}

    def reviewers_of(self, submission: int) -> int:
        return sum(1 for a in self.live() if a.submission == submission)


def authors(count: int, prefix: str = "p") -> list[str]:
    return [f"{prefix}{i}" for i in range(count)]


cohorts = st.tuples(
    st.integers(1, 4),  # n
    st.integers(0, 14),  # on time (extra above n + 1 when enough is asked for)
    st.integers(0, 6),  # late arrivals
    st.text("abcdef", max_size=4),  # seed
)


@settings(max_examples=300, deadline=None)
@given(cohorts)
def test_on_time_and_late_submitters_balanced(case: tuple[int, int, int, str]) -> None:
    n, extra, late, seed = case
    c = Cohort(n, seed)
    c.submit(*authors(n + 1 + extra))
    c.run()
    on_time = [s.id for s in c.submissions]
    for i in range(late):
        c.submit(f"late{i}")
        c.run()
        loads = c.loads()
        assert max(loads.values()) - min(loads.values()) <= 1, loads
    authored = {s.id: s.author for s in c.submissions}
    assert all(authored[a.submission] != a.reviewer for a in c.assignments)
    pairs = [(a.submission, a.reviewer) for a in c.assignments]
    assert len(pairs) == len(set(pairs))
    assert all(c.reviewers_of(s) >= n for s in on_time), "an on-time submission lacks reviews"
    assert all(c.reviewers_of(s.id) >= n for s in c.submissions)
    loads = c.loads()
    assert max(loads.values()) - min(loads.values()) <= 1, loads
    assert min(loads.values()) >= n, "someone has fewer than n reviews to give"
    if late == 0:  # the on-time ring: exactly n each way
        assert set(loads.values()) == {n}
        assert {c.reviewers_of(s) for s in on_time} == {n}


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 3), st.integers(2, 8), st.integers(0, 50), st.text("xyz", max_size=3))
def test_submissions_arriving_one_by_one(n: int, count: int, pick: int, seed: str) -> None:
    """Allocation runs after every submission (no deadline): nobody reviews themselves, and
    once n + 1 people submitted every submission has n reviewers."""
    c = Cohort(n, seed)
    for who in authors(count):
        c.submit(who)
        c.run()
        authored = {s.id: s.author for s in c.submissions}
        assert all(authored[a.submission] != a.reviewer for a in c.assignments)
    if count > n:
        assert all(c.reviewers_of(s.id) >= n for s in c.submissions)
        assert all(load >= n for load in c.loads().values())


@settings(max_examples=300, deadline=None)
@given(cohorts, st.integers(0, 100), st.integers(0, 100))
def test_dropped_reviewer_work_is_reassigned(
    case: tuple[int, int, int, str], pick: int, done_share: int
) -> None:
    n, extra, late, seed = case
    c = Cohort(n, seed)
    c.submit(*authors(n + 2 + extra))  # enough reviewers to replace one
    c.run()
    for i in range(late):
        c.submit(f"late{i}")
        c.run()
    # some reviews were finished before the drop-out
    c.assignments = [
        Assigned(a.submission, a.reviewer, "done") if (k * 37 + done_share) % 100 < done_share
        else a
        for k, a in enumerate(c.assignments)
    ]  # fmt: skip
    pool = sorted({s.author for s in c.submissions})
    who = pool[pick % len(pool)]
    pending = [a.submission for a in c.assignments if a.reviewer == who and a.status == "assigned"]
    done_before = [a for a in c.assignments if a.reviewer == who and a.status == "done"]
    change = c.drop(who)
    assert sorted(a.submission for a in change.dropped) == sorted(pending)
    assert all(a.reviewer != who for a in change.added), "the dropped reviewer got new work"
    authored = {s.id: s.author for s in c.submissions}
    assert all(authored[a.submission] != a.reviewer for a in change.added)
    for submission in pending:
        assert c.reviewers_of(submission) >= n, "a dropped review was not reassigned"
    # finished reviews stay counted
    assert all(a in c.assignments for a in done_before)
    assert not any(a.reviewer == who and a.status == "assigned" for a in c.assignments)


def test_too_few_submitters_wait() -> None:
    c = Cohort(2, "s")
    c.submit("only")
    assert c.run().added == []
    assert not c.submissions[0].placed
    c.submit("second")
    c.run()
    assert {(a.submission, a.reviewer) for a in c.assignments} == {(0, "second"), (1, "only")}


def test_order_is_not_alphabetical_but_stable() -> None:
    first, again = Cohort(1, "course-1"), Cohort(1, "course-1")
    other = Cohort(1, "course-2")
    for c in (first, again, other):
        c.submit(*authors(8))
        c.run()
    assert first.assignments == again.assignments
    rings = {
        tuple(sorted((a.reviewer, a.submission) for a in c.assignments)) for c in (first, other)
    }
    assert len(rings) == 2
