"""Expanding a session's recurrence into dated occurrences (no I/O).

A recurring session keeps its local wall-clock time across daylight-saving changes, the way Zoom,
Outlook and every calendar do: a 10:00 Berlin seminar stays at 10:00 in Berlin, so its UTC start
moves by an hour twice a year.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from blendkit.sessions._models import Occurrence, SessionSpec

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = [
    "MAX_OCCURRENCES",
    "expand_occurrences",
    "find_occurrence",
    "occurrence_ref",
    "original_start",
]

MAX_OCCURRENCES = 1000
"""Upper bound on an expanded series, so that an ``until`` far in the future stays cheap."""


def _local_dates(spec: SessionSpec) -> list[date]:
    first = spec.start_local.date()
    rule = spec.recurrence
    if rule is None:
        return [first]
    limit = min(rule.count or MAX_OCCURRENCES, MAX_OCCURRENCES)
    dates: list[date] = []
    if rule.frequency == "daily":
        day = first
        while len(dates) < limit and (rule.until is None or day <= rule.until):
            dates.append(day)
            day += timedelta(days=rule.interval)
        return dates
    weekdays = sorted(rule.weekdays or (first.weekday(),))
    week_start = first - timedelta(days=first.weekday())
    while len(dates) < limit:
        for weekday in weekdays:
            day = week_start + timedelta(days=weekday)
            if day < first:
                continue
            if rule.until is not None and day > rule.until:
                return dates
            dates.append(day)
            if len(dates) == limit:
                break
        week_start += timedelta(weeks=rule.interval)
    return dates


def expand_occurrences(
    spec: SessionSpec, *, session_id: str | None = None
) -> tuple[Occurrence, ...]:
    """Every occurrence of ``spec`` in order, each at the same local time in ``spec.time_zone``.

    A local start that falls into a spring-forward gap is resolved the way :mod:`zoneinfo` does
    (the wall-clock time before the change, so it lands an hour later in local terms).
    """
    zone = spec.zone
    local_time = spec.start_local.time().replace(tzinfo=None)
    length = timedelta(minutes=spec.duration_minutes)
    occurrences = []
    for index, day in enumerate(_local_dates(spec)):
        start = datetime.combine(day, local_time, tzinfo=zone).astimezone(UTC)
        occurrences.append(
            Occurrence(index=index, start_utc=start, end_utc=start + length, session_id=session_id)
        )
    return tuple(occurrences)


def occurrence_ref(occurrence: Occurrence) -> str:
    """How to name ``occurrence`` to a provider: its provider id, else its start in ISO 8601."""
    return occurrence.occurrence_id or occurrence.start_utc.isoformat()


def original_start(ref: str) -> datetime | None:
    """The start an occurrence reference names (ISO 8601 with an offset), or None for an id."""
    if "-" not in ref or ":" not in ref:
        return None
    try:
        moment = datetime.fromisoformat(ref.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return moment.astimezone(UTC)


def find_occurrence(occurrences: Iterable[Occurrence], ref: str) -> Occurrence | None:
    """The occurrence named by ``ref``: its provider id, or its start in ISO 8601."""
    start = original_start(ref)
    for occurrence in occurrences:
        if occurrence.occurrence_id == ref or (start is not None and occurrence.start_utc == start):
            return occurrence
    return None
