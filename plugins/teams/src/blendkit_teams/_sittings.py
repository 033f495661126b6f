"""Whether a session (a calendar event) still has a sitting: decides a subscription's renewal.

Read from the event Graph returns (no I/O here). A single event is over once its ``end`` has
passed. A series is over once its recurrence range has: ``noEnd`` never is, ``endDate`` after
that day, ``numbered`` after a bound on its last day computed from the pattern (at most a week
late for a weekly series, never early). Occurrences moved past the end of their series are not
seen. Times come as ``dateTime`` + ``timeZone`` (UTC unless asked otherwise, a Windows or IANA
zone name otherwise).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tzlocal.windows_tz import win_tz

from blendkit_teams._convert import parse_time
from blendkit_teams._subscriptions import Fate, Subscription

__all__ = ["AFTER_LAST_SITTING", "SessionState", "fate_by_session", "last_day", "session_state"]

AFTER_LAST_SITTING = timedelta(days=1)
"""A session's subscriptions are renewed this long after its last sitting ends (a recording or
transcript can be ready hours after the meeting)."""

SessionState = Literal["active", "over", "gone", "unknown"]
"""``active``: a sitting ends after the cut-off; ``over``: none does; ``gone``: cancelled or
deleted; ``unknown``: the event could not be read where the subscription says it lives."""

_PERIOD_DAYS = {
    "daily": 1,
    "weekly": 7,
    "absoluteMonthly": 31,
    "relativeMonthly": 31,
    "absoluteYearly": 366,
    "relativeYearly": 366,
}


def session_state(event: dict[str, Any], since: datetime) -> SessionState:
    """``active`` when the event has a sitting that ends after ``since`` (aware UTC)."""
    if event.get("isCancelled") is True:
        return "gone"
    recurrence = event.get("recurrence")
    if event.get("type") == "seriesMaster" and isinstance(recurrence, dict):
        last = last_day(recurrence)
        if last is None:
            return "active"
        # A day of slack: the range's dates are local to the series' zone.
        return "active" if last + timedelta(days=1) >= since.astimezone(UTC).date() else "over"
    end = _moment(event.get("end"))
    if end is None:
        return "active"  # cannot tell: keep delivering rather than lose a recording
    return "active" if end > since else "over"


def fate_by_session(
    state: Callable[[str, str | None], SessionState],
) -> Callable[[Subscription], Fate]:
    """What the renewal does with a due subscription, from its session's ``state`` (read once
    per session and organizer): renew while active, let expire once over or unknown, delete
    once gone. A subscription made without a session is renewed until it is deleted."""
    states: dict[tuple[str, str | None], SessionState] = {}
    fates: dict[SessionState, Fate] = {
        "active": "renew",
        "over": "expire",
        "gone": "delete",
        "unknown": "expire",
    }

    def fate(subscription: Subscription) -> Fate:
        meeting = subscription.meeting_id
        if meeting is None:
            return "renew"
        key = (meeting, subscription.organizer)
        if key not in states:
            states[key] = state(*key)
        return fates[states[key]]

    return fate


def last_day(recurrence: dict[str, Any]) -> date | None:
    """The last day a series can have a sitting on, or None when it has no end (or unknown)."""
    bounds = recurrence.get("range")
    pattern = recurrence.get("pattern")
    if not isinstance(bounds, dict):
        return None
    kind = bounds.get("type")
    if kind == "endDate":
        return _day(bounds.get("endDate"))
    if kind != "numbered" or not isinstance(pattern, dict):
        return None
    start = _day(bounds.get("startDate"))
    count = bounds.get("numberOfOccurrences")
    period = _PERIOD_DAYS.get(str(pattern.get("type")))
    interval = pattern.get("interval") or 1
    if start is None or period is None or not isinstance(count, int) or count < 1:
        return None
    if not isinstance(interval, int) or interval < 1:
        return None
    steps = count
    if pattern.get("type") == "weekly":
        days = pattern.get("daysOfWeek")
        per_week = len(days) if isinstance(days, list) and days else 1
        # A partial first week plus whole weeks of per_week sittings each.
        steps = math.ceil(count / per_week) + 1
    try:
        return start + timedelta(days=steps * interval * period)
    except OverflowError:
        return None


def _day(value: object) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def _moment(value: object) -> datetime | None:
    """A Graph ``dateTimeTimeZone`` as aware UTC (Windows zone names mapped to IANA)."""
    if not isinstance(value, dict):
        return None
    zone = value.get("timeZone")
    if isinstance(zone, str) and zone in win_tz:
        zone = win_tz[zone]
    if isinstance(zone, str) and zone.upper() != "UTC":
        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            return None
    return parse_time(value.get("dateTime"), zone)
