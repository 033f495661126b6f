"""Office hours: the instructor publishes, edits and cancels bookable slots (with the slot
planner's suggestions for the cohort's zones) and marks who came; learners book and cancel
from the item page (those routes live in :mod:`learner`, whose gate test covers them)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Blueprint, redirect, render_template, request
from flask.typing import ResponseReturnValue

from blendkit import ScheduleError
from blendkit.courses import Course, Enrolment
from blendkit.sessions import SlotProposal, plan_slots
from blendkit_examples.flask_app.app import services
from blendkit_examples.flask_app.instructor import _form_int
from blendkit_examples.flask_app.pages import bad_request, link, require_staff

bp = Blueprint("office_hours", __name__)


def _now() -> datetime:
    return datetime.now(UTC)


def _office_items(course: Course) -> list[Any]:
    return [i for i in course.path.items() if i.kind == "office_hours"]


def _item_id(course: Course) -> str:
    item = request.values.get("item", "").strip()
    if item not in {i.id for i in _office_items(course)}:
        raise bad_request("choose one of the course's office-hours items")
    return item


def suggestions(course: Course, learners: list[Enrolment], minutes: int) -> list[SlotProposal]:
    """The planner's weekly windows for office hours over the next four weeks: the ones it
    recommends for asynchronous courses, else its best slots (each with coverage per zone)."""
    if not learners:
        return []
    svc = services()
    days = (0, 1, 2, 3, 4)
    today = _now().date()
    try:
        plan = plan_slots(
            {p.sub: p.time_zone for p in learners},
            availability=svc.hours.availability(course, days, (p.sub for p in learners)),
            term_start=today,
            term_end=today + timedelta(weeks=4),
            duration_minutes=minutes,
            weekdays=days,
            top=3,
        )
    except ScheduleError:
        return []
    return list(plan.recommendation.office_hours or plan.slots)


def learner_slots(course: Course, person: Enrolment, item_id: str) -> dict[str, Any]:
    """What the item page of an office-hours item shows the learner: the slots still to come
    (full ones marked), the ones they booked, and the item's rules."""
    hours = services().office_hours
    now = _now()
    rules = hours.rules(course, item_id)
    return {
        "slots": [s for s in hours.slots(course, item_id) if s.start_utc > now],
        "mine": {b.slot_id: b for b in hours.bookings_for(course, person.sub) if b.item == item_id},
        "booking_rules": rules,
        "cutoff": timedelta(minutes=rules.cancel_cutoff_minutes),
        "booked_now": request.args.get("booked", ""),
        "cancelled_now": request.args.get("cancelled", ""),
    }


@bp.get("/teach/office-hours")
def page() -> ResponseReturnValue:
    current = require_staff()
    svc = services()
    course = current.course
    items = _office_items(course)
    learners = svc.courses.enrolments(course, learners_only=True)
    window = _form_int("window", 30, 240, 60)
    slots = svc.office_hours.slots(course)
    return render_template(
        "teach_office_hours.html",
        items=items,
        rules={i.id: svc.office_hours.rules(course, i.id) for i in items},
        slots=slots,
        bookings={s.id: svc.office_hours.bookings_of_slot(course, s.id) for s in slots},
        suggestions=suggestions(course, learners, window),
        window=window,
        learners=learners,
        names={p.sub: p.display_name for p in learners},
        now=_now(),
        today=_now().date(),
        published=request.args.get("published", ""),
    )


def _zone() -> str:
    zone = request.form.get("time_zone", "").strip() or require_staff().person.time_zone
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise bad_request(f"{zone!r} is not a time zone name like Europe/Berlin") from None
    return zone


@bp.post("/teach/office-hours")
def publish() -> ResponseReturnValue:
    current = require_staff()
    form = request.form
    item = _item_id(current.course)
    zone = _zone()
    common: dict[str, Any] = {
        "host_name": form.get("host_name", "").strip() or current.person.display_name,
        "host_sub": current.person.sub,
        "time_zone": zone,
        "capacity": _form_int("capacity", 1, 500, 1),
        "buffer_minutes": _form_int("buffer", 0, 240, 0),
        "location": form.get("location", ""),
        "create_meeting": form.get("meeting") == "1",
    }
    hours = services().office_hours
    if form.get("slot"):  # a window the planner suggested: weekday@HH:MM in UTC, its length
        weekday, _, hhmm = form["slot"].partition("@")
        try:
            suggestion = SlotProposal(
                weekday=int(weekday), weekday_name="", utc_start=time.fromisoformat(hhmm),
                duration_minutes=_form_int("window", 30, 240, 60), occurrences=1, learners=0,
                worst_week_inside=0, average_inside=0.0, inside_every_week=0,
                worst_week_dates=(), outside=(),
            )  # fmt: skip
        except ValueError:
            raise bad_request("the chosen suggestion is malformed; reload the page") from None
        made = hours.publish_at_suggestion(
            current.course, item, suggestion, on_or_after=_now().date() + timedelta(days=1),
            slot_minutes=_form_int("duration", 5, 480, 15), **common,
        )  # fmt: skip
    else:
        try:
            day = date.fromisoformat(form.get("date", "").strip())
            clock = time.fromisoformat(form.get("time", "").strip())
        except ValueError:
            raise bad_request("give the first slot's date (2031-03-04) and time (16:00)") from None
        made = hours.publish(
            current.course, item,
            start_utc=datetime.combine(day, clock, tzinfo=ZoneInfo(zone)).astimezone(UTC),
            duration_minutes=_form_int("duration", 5, 480, 15), count=_form_int("count", 1, 48, 1),
            **common,
        )  # fmt: skip
    return redirect(link("office_hours.page", published=len(made)))


@bp.post("/teach/office-hours/rules")
def rules() -> ResponseReturnValue:
    current = require_staff()
    services().office_hours.set_rules(
        current.course,
        _item_id(current.course),
        max_per_learner=_form_int("max_per_learner", 1, 100, 1),
        cancel_cutoff_minutes=_form_int("cancel_cutoff", 0, 20160, 60),
    )
    return redirect(link("office_hours.page"))


@bp.post("/teach/office-hours/<slot_id>/edit")
def edit(slot_id: str) -> ResponseReturnValue:
    current = require_staff()
    services().office_hours.edit_slot(
        current.course,
        slot_id,
        capacity=_form_int("capacity", 1, 500, 0) or None,
        host_name=request.form.get("host_name"),
        location=request.form.get("location"),
    )
    return redirect(link("office_hours.page"))


@bp.post("/teach/office-hours/<slot_id>/cancel")
def cancel(slot_id: str) -> ResponseReturnValue:
    current = require_staff()
    services().office_hours.cancel_slot(current.course, slot_id)
    return redirect(link("office_hours.page"))


@bp.post("/teach/office-hours/<slot_id>/present")
def present(slot_id: str) -> ResponseReturnValue:
    current = require_staff()
    sub = request.form.get("sub", "").strip()
    services().office_hours.mark_present(current.course, slot_id, sub, by=current.person.sub)
    return redirect(link("office_hours.page"))
