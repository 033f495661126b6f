"""Instructor pages for the course path: start from a template or edit the path document, and
the course-design advice for it."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Blueprint, redirect, render_template, request
from flask.typing import ResponseReturnValue

from blendkit import ProgressionError
from blendkit.advisor import ADVISOR_RULES, CohortFacts, RecordingFacts, SessionFacts, advise
from blendkit.courses import Course
from blendkit.progression import (
    Path,
    dump_path,
    evaluate,
    parse_path,
    template,
    template_names,
)
from blendkit_examples.flask_app.app import services
from blendkit_examples.flask_app.launching import default_quiz
from blendkit_examples.flask_app.pages import bad_request, link, require_staff

bp = Blueprint("path", __name__)


@bp.get("/teach/path")
def show() -> ResponseReturnValue:
    current = require_staff()
    return render_template(
        "teach_path.html",
        document=dump_path(current.course.path, "yaml"),
        templates=template_names(),
    )


def _replace(course: Course, path: Path) -> ResponseReturnValue:
    svc = services()
    updated = svc.courses.set_path(course, path)
    for item in updated.path.items():
        if item.kind == "quiz" and svc.courses.quiz(updated, item.id) is None:
            svc.courses.set_quiz(updated, item.id, default_quiz(item.title or item.id))
    return redirect(link("path.show", saved=1))


@bp.post("/teach/path/template")
def from_template() -> ResponseReturnValue:
    current = require_staff()
    name = request.form.get("template", "")
    if name not in template_names():
        raise bad_request(f"choose one of the templates: {', '.join(template_names())}")
    zone = request.form.get("time_zone", "").strip() or current.person.time_zone
    try:
        day = date.fromisoformat(request.form.get("date", "").strip())
        clock = time.fromisoformat(request.form.get("time", "").strip() or "09:00")
        start = datetime.combine(day, clock, tzinfo=ZoneInfo(zone)).astimezone(UTC)
    except ValueError:
        raise bad_request("the start needs a date like 2030-03-04 and a time like 16:00") from None
    except ZoneInfoNotFoundError:
        raise bad_request(f"{zone!r} is not a time zone name like Europe/Berlin") from None
    return _replace(current.course, template(name, start))


@bp.post("/teach/path/document")
def from_document() -> ResponseReturnValue:
    current = require_staff()
    text = request.form.get("document", "")
    if not text.strip():
        raise bad_request("paste a path document (YAML or JSON)")
    try:
        path = parse_path(text)
    except ProgressionError as exc:
        raise bad_request(exc.message, exc.code) from None
    return _replace(current.course, path)


def _cohort(course: Course) -> CohortFacts:
    """The roster's time zones and each learner's share of the path completed today."""
    svc = services()
    learners = svc.courses.enrolments(course, learners_only=True)
    compiled = svc.courses.compiled(course)
    now = datetime.now(UTC)
    progress = {}
    for person in learners:
        result = evaluate(compiled, svc.courses.evidence(course, person.sub), now)
        done = sum(1 for status in result.items if status.state == "completed")
        progress[person.sub] = done / max(1, len(result.items))
    return CohortFacts(zones={p.sub: p.time_zone for p in learners}, progress=progress)


def _sessions(course: Course) -> list[SessionFacts]:
    """Scheduled sessions with the polls prepared for each (drafts count: they are planned)."""
    svc = services()
    return [
        SessionFacts(
            id=s.id,
            title=s.title,
            duration_minutes=s.duration_minutes,
            item=s.item,
            polls=len(svc.polls.polls(course, s.id)),
        )
        for s in svc.live.sessions(course)
        if not s.cancelled
    ]


def _recordings(course: Course) -> list[RecordingFacts]:
    """Recordings of sessions, and whether their session has a caption track (a recording the
    captions policy hides counts too: captions are what it waits for)."""
    svc = services()
    return [
        RecordingFacts(
            session_id=r.session_id,
            title=r.title,
            captioned=bool(svc.recordings.captions(course, r.session_id)),
        )
        for r in svc.live.recordings(course)
        if r.kind in ("video", "audio")
    ]


@bp.get("/teach/advice")
def advice() -> ResponseReturnValue:
    """How to deliver each item and session, and the course's design pitfalls."""
    current = require_staff()
    course = current.course
    result = advise(
        course.path,
        now=datetime.now(UTC),
        cohort=_cohort(course),
        sessions=_sessions(course),
        recordings=_recordings(course),
    )
    return render_template("teach_advice.html", advice=result, rules=ADVISOR_RULES)
