"""The independent reading of a feed: ``recurring-ical-events`` expands it, as calendar apps do."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events


def occurrences(body: bytes, zone: str, *, uid_prefix: str = "") -> list[tuple[datetime, datetime]]:
    """Every timed occurrence in the feed as (start, end) in ``zone``, in order."""
    calendar = icalendar.Calendar.from_ical(body)
    found = []
    for event in recurring_ical_events.of(calendar).between(date(1990, 1, 1), date(2100, 1, 1)):
        if not str(event["UID"]).startswith(uid_prefix):
            continue
        start, end = event["DTSTART"].dt, event["DTEND"].dt
        assert isinstance(start, datetime), start
        assert start.tzinfo is not None, start
        found.append((start.astimezone(ZoneInfo(zone)), end.astimezone(ZoneInfo(zone))))
    return sorted(found)


def in_zone(moments: list[tuple[datetime, datetime]], zone: str) -> list[tuple[datetime, datetime]]:
    tz = ZoneInfo(zone)
    return sorted(
        (s.astimezone(UTC).astimezone(tz), e.astimezone(UTC).astimezone(tz)) for s, e in moments
    )
