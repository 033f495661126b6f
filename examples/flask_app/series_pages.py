"""Instructor forms for a weekly series: move one sitting, cancel one, cancel them all."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Blueprint, redirect, request
from flask.typing import ResponseReturnValue

from blendkit_examples.flask_app.app import services
from blendkit_examples.flask_app.pages import bad_request, link, require_staff

bp = Blueprint("series", __name__)


def _new_start(zone: str) -> datetime:
    """The new start from the move form's date and time, read in ``zone``."""
    try:
        tz = ZoneInfo(request.form.get("time_zone", "").strip() or zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise bad_request("the time zone must be a name like Europe/Berlin") from None
    try:
        day = date.fromisoformat(request.form.get("date", "").strip())
    except ValueError:
        raise bad_request("the new date must look like 2031-03-04") from None
    try:
        clock = time.fromisoformat(request.form.get("time", "").strip())
    except ValueError:
        raise bad_request("the new start time must look like 16:00") from None
    return datetime.combine(day, clock, tzinfo=tz).astimezone(UTC)


@bp.post("/teach/sessions/<session_id>/move")
def move(session_id: str) -> ResponseReturnValue:
    current = require_staff()
    live = services().live
    record = live.session(current.course, session_id)
    raw = request.form.get("duration", "").strip()
    if raw and not raw.isdigit():
        raise bad_request("the length must be a whole number of minutes")
    live.move_occurrence(
        current.course,
        session_id,
        start_utc=_new_start(record.time_zone),
        duration_minutes=int(raw) if raw else None,
    )
    return redirect(link("instructor.session", session_id=session_id, moved=1))


@bp.post("/teach/sessions/<session_id>/cancel")
def cancel_one(session_id: str) -> ResponseReturnValue:
    current = require_staff()
    services().live.cancel_occurrence(current.course, session_id)
    return redirect(link("instructor.session", session_id=session_id, cancelled=1))


@bp.post("/teach/series/<series_id>/cancel")
def cancel_all(series_id: str) -> ResponseReturnValue:
    current = require_staff()
    found = services().live.cancel_series(current.course, series_id)
    first = found.occurrences[0].id
    return redirect(link("instructor.session", session_id=first, cancelled=1))
