"""How a zone's wall clock relates to UTC, date by date, and learners grouped by clock (no I/O).

Offsets are read from :mod:`zoneinfo` at every 00:00 UTC of the term; a day whose offset differs
from the next one holds a transition, found to the minute by bisection.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from blendkit.errors import ScheduleError
from blendkit.sessions._plan_models import Availability

__all__ = [
    "DAY",
    "Clock",
    "ClockGroup",
    "clocks_for_dates",
    "fits",
    "group_by_clock",
    "inside_window",
    "split_by_availability",
    "offset_minutes",
    "read_learners",
]

DAY = 1440
"""Minutes in a day."""


@dataclass(frozen=True, slots=True)
class Clock:
    """How one zone's wall clock relates to UTC during one UTC date (plus a session length).

    ``switch`` is the minute after the date's 00:00 UTC at which the offset changes from
    ``before`` to ``after`` (None on the usual days without a change).
    """

    before: int
    after: int
    switch: int | None

    def offset(self, minute: int) -> int:
        return self.before if self.switch is None or minute < self.switch else self.after


def offset_minutes(zone: ZoneInfo, instant: datetime) -> int:
    delta = instant.astimezone(zone).utcoffset()
    return int(delta.total_seconds() // 60) if delta is not None else 0


def clocks_for_dates(zone: ZoneInfo, dates: list[date], length: int) -> tuple[Clock, ...]:
    """The zone's clock on each date: offsets at every 00:00 UTC, transitions found by bisection."""
    base = datetime.combine(dates[0], time(), UTC)
    days = len(dates) + length // DAY + 2
    offsets = [offset_minutes(zone, base + timedelta(days=k)) for k in range(days)]
    transitions: list[tuple[int, int, int]] = []  # (first minute of the new offset, before, after)
    for k in range(days - 1):
        if offsets[k] == offsets[k + 1]:
            continue
        lo, hi = k * DAY, (k + 1) * DAY  # offset(lo) is the old one, offset(hi) the new one
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if offset_minutes(zone, base + timedelta(minutes=mid)) == offsets[k]:
                lo = mid
            else:
                hi = mid
        transitions.append((hi, offsets[k], offsets[k + 1]))
    clocks = []
    for i in range(len(dates)):
        first, horizon = i * DAY, (i + 1) * DAY + length
        change = next((t for t in transitions if first < t[0] < horizon), None)
        if change is None:
            clocks.append(Clock(offsets[i], offsets[i], None))
        else:
            clocks.append(Clock(change[1], change[2], change[0] - first))
    return tuple(clocks)


def inside_window(clock: Clock, minute: int, length: int, first: int, last: int) -> int | None:
    """How far inside local [first, last] a session starting ``minute`` after 00:00 UTC is.

    Returns the margin in minutes to the nearer edge of the window (0 when it touches one), or
    None when the session does not fit.
    """
    start_offset = clock.offset(minute)
    local_start = (minute + start_offset) % DAY
    local_end = local_start + length + clock.offset(minute + length) - start_offset
    if local_start < first or local_end > last:
        return None
    return min(local_start - first, last - local_end)


def fits(clock: Clock, minute: int, utc_weekday: int, length: int, group: ClockGroup) -> int | None:
    """The margin of the best of the group's windows a session fits in, or None.

    The session must start on one of the group's weekdays on the local clock: ``minute`` after
    00:00 UTC of a date with ``utc_weekday`` may be the day before or after locally.
    """
    local_day = (utc_weekday + (minute + clock.offset(minute)) // DAY) % 7
    if local_day not in group.weekdays:
        return None
    best = None
    for first, last in group.windows:
        room = inside_window(clock, minute, length, first, last)
        if room is not None and (best is None or room > best):
            best = room
    return best


@dataclass(slots=True)
class ClockGroup:
    """Learners whose zones keep the same clock on every date of the term.

    After :func:`split_by_availability` they also share their windows (local minutes after
    midnight) and allowed local weekdays.
    """

    zones: tuple[str, ...]
    learners: tuple[tuple[str, str], ...]  # (learner id, zone), sorted
    clocks: tuple[Clock, ...]
    windows: tuple[tuple[int, int], ...] = ((0, DAY),)
    weekdays: frozenset[int] = frozenset(range(7))


def _minutes(value: time) -> int:
    return value.hour * 60 + value.minute


def split_by_availability(
    groups: list[ClockGroup], availability_of: Callable[[str], Availability]
) -> list[ClockGroup]:
    """Each group split into learners sharing the same availability."""
    result = []
    for group in groups:
        by_rule: dict[Availability, list[tuple[str, str]]] = defaultdict(list)
        for member in group.learners:
            by_rule[availability_of(member[0])].append(member)
        for rule, members in by_rule.items():
            windows = tuple((_minutes(a), _minutes(b)) for a, b in rule.windows)
            zones = tuple(sorted({z for _, z in members}))
            result.append(
                replace(
                    group,
                    zones=zones,
                    learners=tuple(members),
                    windows=windows,
                    weekdays=frozenset(rule.weekdays),
                )
            )
    return result


def read_learners(
    learners: Mapping[str, str] | Iterable[tuple[str, str]],
) -> dict[str, list[str]]:
    """Learner ids by zone name; each distinct zone is checked once."""
    pairs = learners.items() if isinstance(learners, Mapping) else learners
    by_zone: dict[str, list[str]] = defaultdict(list)
    seen: set[str] = set()
    for learner_id, zone_name in pairs:
        if learner_id in seen:
            raise ScheduleError(f"learner {learner_id!r} is listed twice; list each learner once")
        seen.add(learner_id)
        key = zone_name.strip()
        if key in by_zone:
            by_zone[key].append(learner_id)
            continue
        try:
            ZoneInfo(key)
        except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
            raise ScheduleError(
                f"learner {learner_id!r} has time zone {zone_name!r}, which is not an IANA time "
                "zone (use names like Europe/Berlin or America/New_York)"
            ) from exc
        by_zone[key].append(learner_id)
    if not by_zone:
        raise ScheduleError("no learners to plan for; the zone list is empty")
    return by_zone


def group_by_clock(
    by_zone: dict[str, list[str]], dates: list[date], length: int
) -> list[ClockGroup]:
    by_clocks: dict[tuple[Clock, ...], list[str]] = defaultdict(list)
    for zone_name in sorted(by_zone):
        zone = ZoneInfo(zone_name)
        by_clocks[clocks_for_dates(zone, dates, length)].append(zone_name)
    groups = []
    for clocks, zones in by_clocks.items():
        members = sorted((learner, z) for z in zones for learner in by_zone[z])
        groups.append(ClockGroup(tuple(zones), tuple(members), clocks))
    return groups
