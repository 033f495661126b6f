"""Time-zone-aware cohort scheduling: weekly slots that keep learners inside local waking hours.

A slot is a UTC weekday and a UTC start time on a grid; it recurs on every such date of the term.
Each occurrence is checked for each learner on its own date, because daylight-saving changes
happen on different dates in different regions (Europe and North America weeks apart, the
southern hemisphere the other way round).

Speed comes from grouping: learners are grouped by time zone, and zones whose clocks relate to
UTC identically on every date of the term are grouped again, so the work depends on the number
of distinct clocks (a few dozen), not on the number of learners.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, time, timedelta

from blendkit.errors import ScheduleError
from blendkit.sessions._clocks import (
    DAY,
    Clock,
    ClockGroup,
    fits,
    group_by_clock,
    read_learners,
    split_by_availability,
)
from blendkit.sessions._plan_models import (
    WEEKDAY_NAMES,
    WORKING_DAYS,
    Availability,
    LearnerOutside,
    Recommendation,
    SchedulePlan,
    SlotProposal,
    ZoneCoverage,
)

__all__ = ["plan_slots"]

_WEEK = 7 * DAY


@dataclass(slots=True)
class _Candidate:
    weekday: int
    minute: int
    weeks: int  # bitmask of the term weeks in which the slot has an occurrence
    dates: tuple[date, ...]
    counts: tuple[int, ...]  # learners inside, per occurrence
    inside: tuple[int, ...]  # per group: bitmask of the weeks it is inside
    margin: float  # mean minutes between a session and the nearer edge of local hours

    @property
    def worst(self) -> int:
        return min(self.counts)

    @property
    def average(self) -> float:
        return sum(self.counts) / len(self.counts)


class _Planner:
    """One planning problem: the grouped learners, the term's dates, length and grid.

    Each group carries its learners' windows and allowed weekdays on their local clock.
    """

    def __init__(
        self,
        groups: list[ClockGroup],
        dates: list[date],
        *,
        zones: int,
        length: int,
        grid: int,
    ) -> None:
        self.groups = groups
        self.dates = dates
        self.start = dates[0]
        self.zones = zones
        self.length = length
        self.grid = grid
        self.sizes = [len(g.learners) for g in groups]
        self.total = sum(self.sizes)

    def week_bit(self, day: date) -> int:
        return 1 << ((day - self.start).days // 7)

    def candidates(self, only: tuple[int, int] | None = None) -> list[_Candidate]:
        """Every slot of the grid (or just ``only``, a weekday and minute), best first.

        Ranked by learners inside in the worst week, then on average, then by the mean margin
        to the edges of local hours (a 12:00 session beats one ending at 20:59), then earliest.
        """
        found = []
        for weekday in range(7) if only is None else (only[0],):
            positions = [i for i, day in enumerate(self.dates) if day.weekday() == weekday]
            if not positions:
                continue
            week_bits = [self.week_bit(self.dates[i]) for i in positions]
            # Per group, the distinct clocks of this weekday's dates and where each one applies.
            per_group = []
            for group in self.groups:
                by_clock: dict[Clock, list[int]] = defaultdict(list)
                for j, i in enumerate(positions):
                    by_clock[group.clocks[i]].append(j)
                per_group.append((group, list(by_clock.items())))
            slot_dates = tuple(self.dates[i] for i in positions)
            for minute in range(0, DAY, self.grid) if only is None else (only[1],):
                counts = [0] * len(positions)
                inside = []
                margin = 0
                for group, clocks in per_group:
                    size, mask = len(group.learners), 0
                    for clock, js in clocks:
                        room = fits(clock, minute, weekday, self.length, group)
                        if room is not None:
                            margin += room * size * len(js)
                            for j in js:
                                counts[j] += size
                                mask |= week_bits[j]
                    inside.append(mask)
                found.append(
                    _Candidate(
                        weekday,
                        minute,
                        sum(week_bits),
                        slot_dates,
                        tuple(counts),
                        tuple(inside),
                        margin / max(1, sum(counts)),
                    )
                )
        found.sort(key=lambda c: (-c.worst, -c.average, -c.margin, c.weekday, c.minute))
        return found

    def missed_dates(self, slots: list[_Candidate], mask: int) -> tuple[date, ...]:
        """Dates of ``slots`` in the weeks whose bit is not in ``mask``."""
        return tuple(sorted({d for c in slots for d in c.dates if not mask & self.week_bit(d)}))

    def proposal(self, c: _Candidate) -> SlotProposal:
        outside: list[LearnerOutside] = []
        every_week = 0
        for group, mask in zip(self.groups, c.inside, strict=True):
            if mask == c.weeks:
                every_week += len(group.learners)
                continue
            missed = self.missed_dates([c], mask)
            outside.extend(
                LearnerOutside(learner_id=lid, time_zone=z, dates=missed)
                for lid, z in group.learners
            )
        worst = c.worst
        return SlotProposal(
            weekday=c.weekday,
            weekday_name=WEEKDAY_NAMES[c.weekday],
            utc_start=time(c.minute // 60, c.minute % 60),
            duration_minutes=self.length,
            occurrences=len(c.dates),
            learners=self.total,
            worst_week_inside=worst,
            average_inside=round(c.average, 2),
            inside_every_week=every_week,
            worst_week_dates=tuple(d for d, n in zip(c.dates, c.counts, strict=True) if n == worst),
            outside=tuple(sorted(outside, key=lambda o: o.learner_id)),
            coverage=self.zone_coverage(c),
        )

    def zone_coverage(self, c: _Candidate) -> tuple[ZoneCoverage, ...]:
        """Per zone, the learners inside every occurrence of ``c``."""
        members: dict[str, list[str]] = defaultdict(list)
        attending: dict[str, list[str]] = defaultdict(list)
        for group, mask in zip(self.groups, c.inside, strict=True):
            for lid, zone in group.learners:
                members[zone].append(lid)
                if mask == c.weeks:
                    attending[zone].append(lid)
        return tuple(
            ZoneCoverage(
                time_zone=zone,
                learners=len(members[zone]),
                attending=tuple(sorted(attending[zone])),
            )
            for zone in sorted(members, key=lambda z: (-len(attending[z]), z))
        )

    def overlaps(self, a: _Candidate, b: _Candidate) -> bool:
        gap = (b.weekday * DAY + b.minute - a.weekday * DAY - a.minute) % _WEEK
        return gap < self.length or _WEEK - gap < self.length

    def coverage(self, chosen: list[_Candidate]) -> list[int]:
        """Per group, the weeks (bitmask) in which some chosen slot has them inside."""
        return [_union(c.inside[g] for c in chosen) for g in range(len(self.groups))]

    def covered_learners(self, chosen: list[_Candidate]) -> int:
        """Learners inside at least one chosen slot in every week where a chosen slot happens."""
        weeks = _union(c.weeks for c in chosen)
        masks = self.coverage(chosen)
        return sum(n for n, m in zip(self.sizes, masks, strict=True) if m & weeks == weeks)

    def greedy(self, candidates: list[_Candidate], k: int) -> list[_Candidate]:
        """Pick up to ``k`` non-overlapping slots, each time the one covering most learners.

        Greedy, not exhaustive: fast and good in practice, but not guaranteed optimal (a learner
        counts only when every week is served, so the usual set-cover bound does not apply).
        Ties go to the better-ranked slot, so the first pick is always the top-ranked slot.
        """
        chosen: list[_Candidate] = []
        for _ in range(k):
            best: tuple[int, int] | None = None
            for rank, c in enumerate(candidates):
                if c in chosen or any(self.overlaps(c, other) for other in chosen):
                    continue
                score = self.covered_learners([*chosen, c])
                if best is None or score > best[0]:
                    best = (score, rank)
            if best is None:
                break
            chosen.append(candidates[best[1]])
        return chosen

    def uncovered(self, chosen: list[_Candidate]) -> tuple[LearnerOutside, ...]:
        """Learners no chosen slot serves in some week, with those weeks' session dates."""
        weeks = _union(c.weeks for c in chosen)
        result: list[LearnerOutside] = []
        for group, mask in zip(self.groups, self.coverage(chosen), strict=True):
            if mask & weeks == weeks:
                continue
            missed = self.missed_dates(chosen, mask)
            result.extend(
                LearnerOutside(learner_id=lid, time_zone=z, dates=missed)
                for lid, z in group.learners
            )
        return tuple(sorted(result, key=lambda o: o.learner_id))

    def recommend(
        self, candidates: list[_Candidate], share: float, min_share: float, per_week: int
    ) -> Recommendation:
        if share >= min_share:
            return Recommendation(
                mode="live",
                share=round(share, 4),
                message=(
                    f"{share:.0%} of learners can attend live every week (target {min_share:.0%})."
                ),
            )
        # Office hours: add slots greedily until the target share is met (at most four a week).
        office: list[_Candidate] = []
        for k in range(1, 5):
            office = self.greedy(candidates, k)
            if self.covered_learners(office) / self.total >= min_share:
                break
        return Recommendation(
            mode="asynchronous",
            share=round(share, 4),
            message=(
                f"Only {share:.0%} of learners can attend {per_week} live session(s) a week "
                f"inside local hours (target {min_share:.0%}): deliver the content "
                "asynchronously (recordings, forum) and hold office hours at the listed slots."
            ),
            office_hours=tuple(self.proposal(c) for c in office),
        )


def _union(masks: Iterable[int]) -> int:
    result = 0
    for mask in masks:
        result |= mask
    return result


def _planner(
    learners: Mapping[str, str] | Iterable[tuple[str, str]],
    *,
    term_start: date,
    term_end: date,
    duration_minutes: int,
    grid_minutes: int,
    window: tuple[time, time],
    weekdays: Iterable[int],
    availability: Mapping[str, Availability] | None,
) -> _Planner:
    first, last = (t.hour * 60 + t.minute for t in window)
    days = tuple(weekdays)
    if not days or not set(days) <= set(range(7)):
        raise ScheduleError("weekdays must name local weekdays 0 (Monday) to 6 (Sunday)")
    if first >= last:
        raise ScheduleError(
            f"local hours {window[0]:%H:%M}-{window[1]:%H:%M} end before they start"
        )
    default = Availability(windows=(window,), weekdays=days)
    chosen = dict(availability or {})
    if term_end < term_start:
        raise ScheduleError(f"the term ends ({term_end}) before it starts ({term_start})")
    if (term_end - term_start).days > 366:
        raise ScheduleError("the term is longer than a year; plan one term at a time")
    if not 1 <= duration_minutes <= last - first:
        raise ScheduleError(
            f"a {duration_minutes}-minute session cannot fit in local hours "
            f"{window[0]:%H:%M}-{window[1]:%H:%M}; shorten it or widen the window"
        )
    if grid_minutes not in (5, 10, 15, 20, 30, 60):
        raise ScheduleError("grid_minutes must divide an hour: 5, 10, 15, 20, 30 or 60")
    by_zone = read_learners(learners)
    known = {lid for ids in by_zone.values() for lid in ids}
    strangers = sorted(set(chosen) - known)
    if strangers:
        raise ScheduleError(
            f"availability is given for {strangers[0]!r}, who is not among the learners planned for"
        )
    dates = [term_start + timedelta(days=n) for n in range((term_end - term_start).days + 1)]
    groups = group_by_clock(by_zone, dates, duration_minutes)
    return _Planner(
        split_by_availability(groups, lambda lid: chosen.get(lid, default)),
        dates,
        zones=len(by_zone),
        length=duration_minutes,
        grid=grid_minutes,
    )


def plan_slots(
    learners: Mapping[str, str] | Iterable[tuple[str, str]],
    *,
    term_start: date,
    term_end: date,
    duration_minutes: int,
    per_week: int = 1,
    min_share: float = 0.8,
    grid_minutes: int = 30,
    local_start: time = time(8, 0),
    local_end: time = time(21, 0),
    top: int = 5,
    weekdays: Iterable[int] = WORKING_DAYS,
    availability: Mapping[str, Availability] | None = None,
) -> SchedulePlan:
    """Rank weekly UTC slots for ``learners`` (id → IANA zone) over the term (dates inclusive).

    A learner is *inside* an occurrence when, on their own clock on that date, it starts on one
    of ``weekdays`` (0 = Monday; Monday to Friday by default) at or after ``local_start`` and
    ends at or before ``local_end``. ``availability`` replaces these rules for the learners it
    names (e.g. evenings only). Slots rank by the number of learners inside in their worst
    week, then on average; each slot reports its coverage per zone. ``per_week`` slots are
    chosen greedily so that as many learners as possible can attend at least one session every
    week; when they serve less than ``min_share``, asynchronous delivery with office hours is
    recommended.
    Raises :class:`ScheduleError` for an unknown zone, an empty cohort or an impossible request.
    """
    if not 1 <= per_week <= 14:
        raise ScheduleError("per_week must be between 1 and 14 sessions")
    if not 0 < min_share <= 1:
        raise ScheduleError("min_share must be a share of learners in (0, 1], e.g. 0.8")
    days = tuple(sorted(set(weekdays)))
    if top < 1:
        raise ScheduleError("top must be at least 1")
    planner = _planner(
        learners,
        term_start=term_start,
        term_end=term_end,
        duration_minutes=duration_minutes,
        grid_minutes=grid_minutes,
        window=(local_start, local_end),
        weekdays=days,
        availability=availability,
    )
    candidates = [c for c in planner.candidates() if c.average > 0]
    if not candidates:
        raise ScheduleError(
            "no slot of the term suits any learner on an allowed weekday inside their hours; "
            "allow more weekdays or widen the hours"
        )
    chosen = planner.greedy(candidates, per_week)
    uncovered = planner.uncovered(chosen)
    covered = planner.total - len(uncovered)
    return SchedulePlan(
        learners=planner.total,
        time_zones=planner.zones,
        term_start=term_start,
        term_end=term_end,
        duration_minutes=duration_minutes,
        per_week=per_week,
        grid_minutes=grid_minutes,
        local_start=local_start,
        local_end=local_end,
        weekdays=days,
        min_share=min_share,
        slots=tuple(planner.proposal(c) for c in candidates[:top]),
        chosen=tuple(planner.proposal(c) for c in chosen),
        covered=covered,
        uncovered=uncovered,
        recommendation=planner.recommend(candidates, covered / planner.total, min_share, per_week),
    )
