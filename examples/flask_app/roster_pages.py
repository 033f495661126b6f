"""Instructor pages of the whole roster (NRPS sync state, who has not launched, who left) and of
attendance grades (the course's policy, the preview, and the approval that queues them)."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request
from flask.typing import ResponseReturnValue
from pydantic import ValidationError

from blendkit.courses import AttendanceGrading
from blendkit.sessions import GradingPolicy
from blendkit_examples.flask_app.app import services
from blendkit_examples.flask_app.pages import bad_request, link, require_staff

bp = Blueprint("roster", __name__)


@bp.get("/teach/roster")
def show() -> ResponseReturnValue:
    current = require_staff()
    svc = services()
    people = svc.courses.enrolments(current.course, include_inactive=True)
    return render_template(
        "teach_roster.html",
        state=svc.roster.state(current.course),
        offered=current.launch.nrps is not None,
        active=[p for p in people if p.active],
        inactive=[p for p in people if not p.active],
        asked=request.args.get("asked") == "1",
    )


@bp.post("/teach/roster/sync")
def ask_sync() -> ResponseReturnValue:
    current = require_staff()
    if current.launch.nrps is None:
        raise bad_request(
            "the platform sent no roster service (NRPS) with this launch; enable Names and Role "
            "Provisioning for the tool on the platform",
            "app.no_roster_service",
        )
    services().roster.request(
        current.course, current.launch.nrps.context_memberships_url, force=True
    )
    return redirect(link("roster.show", asked=1))


@bp.get("/teach/attendance-grades")
def attendance_grades() -> ResponseReturnValue:
    current = require_staff()
    grades = services().attendance_grades
    grading = grades.grading(current.course)
    lines = grades.preview(current.course, grading) if grading.enabled else []
    return render_template(
        "teach_attendance_grades.html",
        grading=grading,
        lines=lines,
        waiting=sum(1 for line in lines if line.waiting),
        policies=list(GradingPolicy),
        queued=request.args.get("queued"),
        gradebook=bool((current.course.ags or {}).get("lineitems")),
    )


@bp.post("/teach/attendance-grades/policy")
def save_policy() -> ResponseReturnValue:
    current = require_staff()
    form = request.form
    try:
        grading = AttendanceGrading(
            enabled=form.get("enabled") == "on",
            scope=form.get("scope", "aggregate"),
            policy=form.get("policy", GradingPolicy.PROPORTIONAL.value),
            full_credit_percent=form.get("full_credit_percent", "100") or "100",
            review_first=form.get("review_first") == "on",
        )
    except ValidationError as exc:
        problem = exc.errors()[0]
        raise bad_request(f"{problem['loc'][0]}: {problem['msg']}") from None
    services().attendance_grades.set_grading(current.course, grading)
    return redirect(link("roster.attendance_grades"))


@bp.post("/teach/attendance-grades/approve")
def approve() -> ResponseReturnValue:
    current = require_staff()
    chosen = set(request.form.getlist("sub"))
    count = services().attendance_grades.approve(current.course, subs=chosen or None)
    return redirect(link("roster.attendance_grades", queued=count))
