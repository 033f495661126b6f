"""How a zone's wall clock relates to UTC, date by date, for the scheduler (no I/O).

Offsets are read from :mod:`zoneinfo` at every 00:00 UTC of the term; a day whose offset differs
from the next one holds a transition, found to the minute by bisection.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

__all__ = ["DAY", "Clock", "clocks_for_dates", "inside_window", "offset_minutes"]

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
