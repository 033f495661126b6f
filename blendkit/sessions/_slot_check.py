"""One given weekly slot checked against a cohort (the planner's rules, no ranking)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, time

from blendkit.errors import ScheduleError
from blendkit.sessions._plan_models import (
    WEEKDAY_NAMES,
    WORKING_DAYS,
    Availability,
    SlotProposal,
)
from blendkit.sessions._schedule import _planner

__all__ = ["evaluate_slot"]


def evaluate_slot(
    learners: Mapping[str, str] | Iterable[tuple[str, str]],
    *,
    weekday: int,
    utc_start: time,
    term_start: date,
    term_end: date,
    duration_minutes: int,
    local_start: time = time(8, 0),
    local_end: time = time(21, 0),
    weekdays: Iterable[int] = WORKING_DAYS,
    availability: Mapping[str, Availability] | None = None,
) -> SlotProposal:
    """How one given weekly slot (UTC weekday 0 = Monday, UTC start) suits ``learners``.

    ``weekdays``, ``local_start``/``local_end`` and ``availability`` mean what they mean for
    :func:`plan_slots`. Raises :class:`ScheduleError` when the term has no such weekday or an
    input is invalid.
    """
    if not 0 <= weekday <= 6:
        raise ScheduleError("weekday must be 0 (Monday) to 6 (Sunday)")
    planner = _planner(
        learners,
        term_start=term_start,
        term_end=term_end,
        duration_minutes=duration_minutes,
        grid_minutes=5,
        window=(local_start, local_end),
        weekdays=weekdays,
        availability=availability,
    )
    found = planner.candidates(only=(weekday, utc_start.hour * 60 + utc_start.minute))
    if not found:
        raise ScheduleError(f"the term {term_start}..{term_end} has no {WEEKDAY_NAMES[weekday]}")
    return planner.proposal(found[0])
