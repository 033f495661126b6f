"""Wall-clock windows in a learner's own zone, correct across daylight-saving changes.

Quiet hours (``22:00``–``07:00``) and the digest hour are wall-clock times in the learner's
zone. A wall-clock time may not exist on a spring-forward day (02:30 in New York) or exist twice
on a fall-back day (01:30): :func:`first_instant_at` answers the first instant whose local time
has reached it — the transition itself when the time was skipped, the earlier of the two
otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from blendkit.errors import NotificationInvalid

__all__ = ["QuietHours", "first_instant_at", "instants_at", "next_wall_time", "parse_clock"]


def parse_clock(text: str) -> time:
    """``"22:00"`` → 22:00; :class:`~blendkit.NotificationInvalid` (a ``ValueError``) with the
    expected form otherwise."""
    try:
        hours, minutes = text.strip().split(":")
        if len(minutes) != 2 or not hours.isdigit() or not minutes.isdigit():
            raise ValueError
        return time(int(hours), int(minutes))
    except ValueError:
        raise NotificationInvalid(
            f"{text!r} is not a time of day: write HH:MM, e.g. 22:00",
            code="notify.quiet_hours_invalid",
        ) from None


def first_instant_at(day: date, wall: time, zone: ZoneInfo) -> datetime:
    """The first instant (UTC) at which the local time on ``day`` has reached ``wall``."""
    return instants_at(day, wall, zone)[0]


def instants_at(day: date, wall: time, zone: ZoneInfo) -> list[datetime]:
    """The instants (UTC) at which the local clock on ``day`` reaches ``wall``, in order: one,
    two on a fall-back day, the transition itself when a spring-forward change skips it."""
    earlier = datetime.combine(day, wall, tzinfo=zone).astimezone(UTC)
    if _local_wall(earlier, zone) == (day, wall):
        later = datetime.combine(day, wall, tzinfo=zone).replace(fold=1).astimezone(UTC)
        return sorted({earlier, later})
    # Skipped by a spring-forward change: the transition is the first instant past it. Local
    # time runs monotonically between the two readings of the gap, so bisect to the second.
    low = datetime.combine(day, wall, tzinfo=zone).replace(fold=1).astimezone(UTC)
    high = earlier
    low, high = min(low, high), max(low, high)
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        if _local_wall(middle, zone) >= (day, wall):
            high = middle
        else:
            low = middle
    return [high.replace(microsecond=0)]


def _local_wall(moment: datetime, zone: ZoneInfo) -> tuple[date, time]:
    local = moment.astimezone(zone)
    return local.date(), local.time().replace(tzinfo=None)


def next_wall_time(now: datetime, wall: time, zone: ZoneInfo) -> datetime:
    """The first instant after ``now`` at which the local clock reads ``wall`` (or passes it,
    on a day it is skipped)."""
    day = now.astimezone(zone).date()
    for offset in range(3):
        moment = first_instant_at(day + timedelta(days=offset), wall, zone)
        if moment > now:
            return moment
    raise AssertionError("a wall-clock time recurs within three days")  # pragma: no cover


@dataclass(frozen=True, slots=True)
class QuietHours:
    """A daily window of local time in which nothing is sent; ``start`` after ``end`` spans
    midnight (``22:00``–``07:00``)."""

    start: time
    end: time

    def __post_init__(self) -> None:
        if self.start == self.end:
            raise NotificationInvalid(
                "quiet hours need a start and an end that differ (e.g. 22:00 to 07:00)",
                code="notify.quiet_hours_invalid",
            )

    def contains(self, wall: time) -> bool:
        """Whether the local time ``wall`` is quiet."""
        if self.start < self.end:
            return self.start <= wall < self.end
        return wall >= self.start or wall < self.end

    def ends_after(self, now: datetime, zone: ZoneInfo) -> datetime | None:
        """None when ``now`` is not quiet in ``zone``; else the first instant (UTC) after
        ``now`` at which the local time is out of the window."""
        if not self.contains(_local_wall(now, zone)[1]):
            return None
        for _ in range(3):
            end = self._stretch_end(now, zone)
            if not self.contains(_local_wall(end, zone)[1]):
                return end
            # A spring-forward change skipped every waking minute of that day (awake only
            # 00:00-00:15, clocks jump 00:00 -> 01:00): quiet until the next day's end.
            now = end
        raise AssertionError("quiet hours end within three days")  # pragma: no cover

    def _stretch_end(self, now: datetime, zone: ZoneInfo) -> datetime:
        local = now.astimezone(zone)
        wall = local.time().replace(tzinfo=None)
        day = local.date()
        if self.start > self.end and wall >= self.start:
            day += timedelta(days=1)
        # On a fall-back day the end's wall time comes twice: the quiet stretch ``now`` is in
        # ends at the first of them still ahead.
        ahead = [
            moment
            for offset in (0, 1)
            for moment in instants_at(day + timedelta(days=offset), self.end, zone)
            if moment > now
        ]
        end = ahead[0]
        # A fall-back change inside the stretch can turn the clock back out of the window
        # (quiet from 02:15, clocks go from 03:00 back to 02:00): the stretch ends there.
        change = _offset_change(now, end, zone)
        if change is not None and not self.contains(_local_wall(change, zone)[1]):
            return change
        return end


def _offset_change(after: datetime, before: datetime, zone: ZoneInfo) -> datetime | None:
    """The first instant in (``after``, ``before``) with the zone's offset at ``before``, when
    the offset changes between them (at most once: no zone changes twice in a day)."""
    if after.astimezone(zone).utcoffset() == before.astimezone(zone).utcoffset():
        return None
    old = after.astimezone(zone).utcoffset()
    low, high = after, before
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(zone).utcoffset() == old:
            low = middle
        else:
            high = middle
    return high.replace(microsecond=0)
