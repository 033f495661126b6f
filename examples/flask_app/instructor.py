"""Instructor pages: dashboard (funnel, milestones, attendance, at-risk), sessions with the slot
planner, attendance per session and learner (with the learner's milestones), quiz results,
overrides, and the deep-linking picker."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Blueprint, redirect, render_template, request
from flask.typing import ResponseReturnValue
from pydantic import ValidationError

from blendkit import ScheduleError
from blendkit.courses import (
    attendance_over_time,
    course_milestones,
    funnel,
    learner_milestones,
    quiz_from_text,
    quiz_to_text,
    risks,
)
from blendkit.integrations.flask import Blendkit
from blendkit.lti import DeepLinkLineItem, ResourceLinkItem
from blendkit.sessions import WEEKDAY_NAMES, Availability, plan_slots
from blendkit_examples.flask_app.app import services
from blendkit_examples.flask_app.charts import attendance_svg, funnel_svg, milestones_svg
from blendkit_examples.flask_app.launching import ITEM_PARAM
from blendkit_examples.flask_app.pages import bad_request, link, require_staff

bp = Blueprint("instructor", __name__)


def _now() -> datetime:
    return datetime.now(UTC)


@bp.get("/teach")
def dashboard() -> ResponseReturnValue:
    current = require_staff()
    svc = services()
    steps = funnel(svc.courses, current.course, _now())
    points = attendance_over_time(svc.courses, svc.live, current.course)
    milestones = course_milestones(svc.courses, current.course, _now())
    return render_template(
        "teach_dashboard.html",
        milestones=milestones,
        milestones_chart=milestones_svg(milestones),
        steps=steps,
        points=points,
        funnel_chart=funnel_svg(steps),
        attendance_chart=attendance_svg(points, current.person.time_zone),
        at_risk=risks(svc.courses, current.course, _now()),
    )


def _form_date(name: str, default: date | None = None) -> date:
    raw = request.values.get(name, "").strip()
    if not raw and default is not None:
        return default
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise bad_request(f"{name.replace('_', ' ')} must be a date like 2030-03-04") from None


def _form_int(name: str, low: int, high: int, default: int | None = None) -> int:
    raw = request.values.get(name, "").strip()
    if not raw and default is not None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise bad_request(f"{name.replace('_', ' ')} must be a whole number") from None
    if not low <= value <= high:
        raise bad_request(f"{name.replace('_', ' ')} must be between {low} and {high}")
    return value


HOURS = {
    "08:00-21:00": "Waking hours, 08:00-21:00",
    "09:00-17:00": "Working hours, 09:00-17:00",
    "18:00-21:00": "Evenings, 18:00-21:00",
}


def _planner_rule() -> Availability:
    """The course's rule for the planner: local weekdays (Monday to Friday) and hours."""
    hours = request.args.get("hours", "08:00-21:00")
    if hours not in HOURS:
        raise bad_request("choose the local hours from the list")
    picked = request.args.getlist("day") if request.args.get("plan") else []
    try:
        days = tuple(int(d) for d in picked) if picked else (0, 1, 2, 3, 4)
        return Availability.parse(hours, days)
    except (ValueError, ScheduleError):
        raise bad_request("choose at least one weekday from the list") from None


@bp.get("/teach/sessions")
def sessions() -> ResponseReturnValue:
    current = require_staff()
    svc = services()
    learners = svc.courses.enrolments(current.course, learners_only=True)
    plan = None
    plan_error = None
    rule = _planner_rule()
    if request.args.get("plan"):
        term_start = _form_date("term_start", _now().date())
        term_end = _form_date("term_end", term_start + timedelta(weeks=8))
        try:
            own = svc.hours.availability(current.course, rule.weekdays, (p.sub for p in learners))
            plan = plan_slots(
                {p.sub: p.time_zone for p in learners},
                availability=own,
                term_start=term_start,
                term_end=term_end,
                duration_minutes=_form_int("duration", 15, 240, 60),
                per_week=_form_int("per_week", 1, 5, 1),
                weekdays=rule.weekdays,
                local_start=rule.windows[0][0],
                local_end=rule.windows[0][1],
            )
        except ScheduleError as exc:
            plan_error = exc
    return render_template(
        "teach_sessions.html",
        sessions=svc.live.sessions(current.course),
        learners=learners,
        plan=plan,
        plan_error=plan_error,
        rule=rule,
        hours_choices=HOURS,
        weekday_names=WEEKDAY_NAMES,
        names={p.sub: p.display_name for p in learners},
        session_items=[
            i for i in current.course.path.items() if i.kind in ("live_session", "office_hours")
        ],
        today=_now().date(),
    )


def _next_date_on(weekday: int, start: time, after: datetime) -> datetime:
    """The first UTC moment on ``weekday`` at ``start`` after ``after``."""
    day = after.date()
    for offset in range(8):
        candidate = datetime.combine(day + timedelta(days=offset), start, tzinfo=UTC)
        if candidate.weekday() == weekday and candidate > after:
            return candidate
    raise ValueError("no such weekday")  # unreachable: 8 days cover every weekday


@bp.post("/teach/sessions")
def schedule() -> ResponseReturnValue:
    current = require_staff()
    form = request.form
    title = form.get("title", "").strip()
    if not title:
        raise bad_request("the session needs a title learners will recognise")
    zone = form.get("time_zone", "").strip() or current.person.time_zone
    try:
        tz = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise bad_request(f"{zone!r} is not a time zone name like Europe/Berlin") from None
    if form.get("slot"):
        weekday, _, hhmm = form["slot"].partition("@")
        term_start = _form_date("term_start", _now().date())
        after = max(_now(), datetime.combine(term_start, time.min, tzinfo=UTC))
        try:
            start_utc = _next_date_on(int(weekday), time.fromisoformat(hhmm), after)
        except ValueError:
            raise bad_request("the chosen planner slot is malformed; plan again") from None
    else:
        day = _form_date("date")
        try:
            clock = time.fromisoformat(form.get("time", "").strip())
        except ValueError:
            raise bad_request("start time must look like 16:00") from None
        start_utc = datetime.combine(day, clock, tzinfo=tz).astimezone(UTC)
    item = form.get("item") or None
    count = _form_int("count", 1, 60) if form.get("count", "").strip() else None
    until = _form_date("until") if form.get("until", "").strip() else None
    values: dict[str, Any] = {
        "title": title,
        "start_utc": start_utc,
        "time_zone": zone,
        "duration_minutes": _form_int("duration", 5, 24 * 60),
        "item": item,
        "agenda": form.get("agenda", ""),
    }
    try:
        if count is not None or until is not None:
            # A weekly series, at the first start's local time in ``zone`` every week.
            series = services().live.schedule_series(
                current.course, count=count, until=until, **values
            )
            first = series.occurrences[0].id
            return redirect(link("instructor.session", session_id=first, scheduled=1))
        record = services().live.schedule(current.course, **values)
    except ValidationError as exc:
        problem = exc.errors()[0]
        raise bad_request(f"{problem['loc'][0]}: {problem['msg']}") from None
    return redirect(link("instructor.session", session_id=record.id, scheduled=1))


@bp.get("/teach/sessions/<session_id>")
def session(session_id: str) -> ResponseReturnValue:
    current = require_staff()
    svc = services()
    record = svc.live.session(current.course, session_id)
    people = {p.sub: p for p in svc.courses.enrolments(current.course, learners_only=True)}
    rows = {r.sub: r for r in svc.live.attendance(current.course) if r.session_id == session_id}
    return render_template(
        "teach_session.html",
        record=record,
        series=svc.live.series(current.course, record.series_id) if record.series_id else None,
        people=people,
        rows=rows,
        unmatched=[u for u in svc.live.unmatched(current.course) if u.session_id == session_id],
        recordings=[
            (r, svc.recordings.hidden_reason(current.course, r))
            for r in svc.live.recordings(current.course, session_id)
        ],
        captions=svc.recordings.captions(current.course, session_id),
        recording_policy=svc.recordings.policy(current.course),
        ended=record.end_utc <= _now(),
    )


@bp.post("/teach/sessions/<session_id>/import")
def import_session(session_id: str) -> ResponseReturnValue:
    current = require_staff()
    svc = services()
    svc.live.import_attendance(current.course, session_id)
    svc.live.import_recordings(current.course, session_id)
    if svc.live.session(current.course, session_id).item is not None:
        svc.polls.import_from(current.course, session_id, svc.provider)  # Zoom polls and Q&A
    return redirect(link("instructor.session", session_id=session_id))


@bp.get("/teach/learners")
def learners() -> ResponseReturnValue:
    current = require_staff()
    svc = services()
    people = svc.courses.enrolments(current.course, learners_only=True)
    sessions_ = [s for s in svc.live.sessions(current.course) if s.attendance_imported]
    table = {(r.session_id, r.sub): r for r in svc.live.attendance(current.course)}
    results = {p.sub: svc.courses.learner_path(current.course, p.sub) for p in people}
    return render_template(
        "teach_learners.html", people=people, sessions=sessions_, table=table, results=results
    )


@bp.get("/teach/learners/<sub>")
def learner(sub: str) -> ResponseReturnValue:
    current = require_staff()
    svc = services()
    person = svc.courses.enrolment(current.course, sub)
    return render_template(
        "teach_learner.html",
        person=person,
        result=svc.courses.learner_path(current.course, sub),
        milestones=learner_milestones(svc.courses, current.course, sub, _now()),
        overrides=svc.courses.overrides(current.course, sub=sub),
        held=svc.courses.held_evidence(current.course, sub=sub),
    )


@bp.post("/teach/learners/<sub>/overrides")
def override(sub: str) -> ResponseReturnValue:
    current = require_staff()
    form = request.form
    action = form.get("action", "")
    if action not in ("unlock", "extend", "waive"):
        raise bad_request("choose what to do: unlock, extend or waive")
    until = None
    if action == "extend":
        day = _form_date("until")
        until = datetime.combine(day, time(23, 59), tzinfo=current.person.zone).astimezone(UTC)
    services().courses.add_override(
        current.course,
        sub,
        form.get("item", ""),
        action,  # type: ignore[arg-type]
        by=current.person.display_name,
        reason=form.get("reason", ""),
        until=until,
        condition_id=form.get("condition_id") or None,
    )
    return redirect(link("instructor.learner", sub=sub))


@bp.get("/teach/quizzes")
def quizzes() -> ResponseReturnValue:
    current = require_staff()
    svc = services()
    people = {p.sub: p for p in svc.courses.enrolments(current.course, learners_only=True)}
    report: list[dict[str, Any]] = []
    for item in current.course.path.items():
        if item.kind != "quiz":
            continue
        quiz = svc.courses.quiz(current.course, item.id)
        attempts = svc.courses.records(current.course, item=item.id, kind="score")
        pass_mark = item.pass_mark or (quiz.pass_mark if quiz else 0)
        rows = []
        for sub, person in people.items():
            mine = [float(a.piece["score"]) for a in attempts if a.sub == sub]
            rows.append(
                {
                    "person": person,
                    "attempts": len(mine),
                    "best": max(mine) if mine else None,
                    "passed": bool(mine) and max(mine) >= pass_mark,
                }
            )
        wrong: dict[str, int] = {}
        for attempt in attempts:
            for qid in (attempt.details or {}).get("wrong", []):
                wrong[qid] = wrong.get(qid, 0) + 1
        report.append(
            {"item": item, "quiz": quiz, "rows": rows, "pass_mark": pass_mark, "wrong": wrong}
        )
    return render_template("teach_quizzes.html", report=report)


def _quiz_item(item_id: str) -> Any:
    current = require_staff()
    try:
        item = current.course.path.item(item_id)
    except KeyError:
        raise bad_request(f"the course path has no item {item_id!r}") from None
    if item.kind != "quiz":
        raise bad_request(f"{item_id!r} is a {item.kind}, not a quiz")
    return item


@bp.get("/teach/quizzes/<item_id>")
def edit_quiz(item_id: str) -> ResponseReturnValue:
    current = require_staff()
    item = _quiz_item(item_id)
    quiz = services().courses.quiz(current.course, item_id)
    return render_template(
        "teach_quiz_edit.html",
        item=item,
        quiz=quiz,
        text=quiz_to_text(quiz) if quiz else "? \n* \n- \n",
    )


@bp.post("/teach/quizzes/<item_id>")
def save_quiz(item_id: str) -> ResponseReturnValue:
    current = require_staff()
    item = _quiz_item(item_id)
    raw_attempts = request.form.get("max_attempts", "").strip()
    attempts = _form_int("max_attempts", 1, 100) if raw_attempts else None
    try:
        pass_mark = float(request.form.get("pass_mark", ""))
    except ValueError:
        raise bad_request("the pass mark must be a number between 0 and 100") from None
    if not 0 <= pass_mark <= 100:
        raise bad_request("the pass mark must be between 0 and 100")
    quiz = quiz_from_text(
        request.form.get("questions", ""),
        title=item.title or item_id,
        pass_mark=pass_mark,
        max_attempts=attempts,
    )
    services().courses.set_quiz(current.course, item_id, quiz)
    return redirect(link("instructor.edit_quiz", item_id=item_id, saved=1))


@bp.get("/deep-link")
def deep_link() -> ResponseReturnValue:
    current = require_staff()
    settings = current.launch.deep_linking_settings
    if settings is None:
        raise bad_request(
            "this launch is not a deep-linking request; use “Add an activity” (or “Select "
            "content”) in the LMS to place a session, module or quiz",
            "lti.not_deep_linking",
        )
    return render_template(
        "deep_link.html",
        settings=settings,
        sessions=services().live.sessions(current.course),
        multiple=bool(settings.accept_multiple),
    )


@bp.post("/deep-link")
def deep_link_answer() -> ResponseReturnValue:
    current = require_staff()
    settings = current.launch.deep_linking_settings
    if settings is None:
        raise bad_request("this launch is not a deep-linking request", "lti.not_deep_linking")
    chosen = request.form.getlist("item")
    if not chosen:
        raise bad_request("choose at least one module, quiz or session to place in the course")
    path = current.course.path
    modules = {m.id: m for m in path.modules}
    items = []
    base = services().settings.tool.base_url.rstrip("/")
    for key in chosen:
        if key in modules:
            title, target, line_item = modules[key].title or key, modules[key].items[0].id, None
        else:
            try:
                found = path.item(key)
            except KeyError:
                raise bad_request(
                    f"{key!r} is neither a module nor an item of this course"
                ) from None
            title, target = found.title or key, found.id
            line_item = (
                DeepLinkLineItem(score_maximum=100, label=title, resource_id=key)
                if found.kind == "quiz" and settings.accept_lineitem is not False
                else None
            )
        items.append(
            ResourceLinkItem(
                url=f"{base}/lti/launch", title=title, custom={ITEM_PARAM: target},
                lineItem=line_item,
            )
        )  # fmt: skip
    # Refusals keep their own status: 400 for a choice the platform does not accept, 409 when
    # this request was already answered (the signed response is single-use).
    return Blendkit.deep_linking_response(current.launch, list(items))
