"""Time rules of the progression core: every instant is aware UTC; naive ones are refused."""

from __future__ import annotations

import calendar
from datetime import UTC, datetime, timedelta
from typing import Annotated

from pydantic import AfterValidator, PlainSerializer

from blendkit.errors import ProgressionError

__all__ = ["UtcDatetime", "add_months", "as_timestamp", "ensure_utc", "from_timestamp"]


def ensure_utc(value: datetime, what: str = "time") -> datetime:
    """``value`` converted to UTC; a naive datetime raises, because its zone is a guess."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ProgressionError(
            f"{what} {value.isoformat()} has no timezone: pass an aware datetime "
            "(e.g. datetime.now(UTC) or '2026-01-05T09:00:00Z')",
            code="progression.naive_datetime",
        )
    return value.astimezone(UTC)


def _validate(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("datetime must carry a timezone (e.g. '2026-01-05T09:00:00Z')")
    return value.astimezone(UTC)


def _serialize(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


UtcDatetime = Annotated[
    datetime,
    AfterValidator(_validate),
    PlainSerializer(_serialize, return_type=str, when_used="json"),
]
"""A datetime field that refuses naive values and stores UTC."""


def as_timestamp(value: datetime) -> float:
    """Seconds since the epoch of an aware datetime (the engine's fast representation)."""
    return ensure_utc(value).timestamp()


def from_timestamp(value: float) -> datetime:
    """The UTC datetime of a POSIX timestamp."""
    return datetime.fromtimestamp(value, UTC)


def add_months(timestamp: float, months: int) -> float:
    """``timestamp`` moved by whole calendar months, the day clamped to the target month's end."""
    moment = from_timestamp(timestamp)
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day).timestamp()


UNIT_SECONDS: dict[str, float] = {
    "minutes": 60.0,
    "hours": 3600.0,
    "days": 86400.0,
    "weeks": 7 * 86400.0,
}


def shift(timestamp: float, amount: int, unit: str) -> float:
    """``timestamp`` moved by ``amount`` units (minutes, hours, days, weeks or months)."""
    if unit == "months":
        return add_months(timestamp, amount)
    return timestamp + amount * UNIT_SECONDS[unit]


def days(n: float) -> timedelta:
    """A timedelta of ``n`` days (templates read better with it)."""
    return timedelta(days=n)
