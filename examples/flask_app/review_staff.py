"""Instructor pages of peer review: the rubric and settings editor, and the allocation and
moderation page (flag, reassign, override, drop a reviewer, grade)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import redirect, render_template, request
from flask.typing import ResponseReturnValue
from pydantic import ValidationError

from blendkit import NotFound
from blendkit.review import PeerReviewSettings, rubric_from_text, rubric_to_text, starter_settings
from blendkit_examples.flask_app.app import services
from blendkit_examples.flask_app.instructor import bp
from blendkit_examples.flask_app.pages import bad_request, link, require_staff


def _peer_item(item_id: str) -> object:
    current = require_staff()
    try:
        item = current.course.path.item(item_id)
    except KeyError:
        raise NotFound(f"this course has no item {item_id!r}") from None
    if item.kind != "peer_review":
        raise NotFound(f"{item_id!r} is not a peer_review item of the course path")
    return item


@bp.get("/teach/reviews")
def reviews() -> ResponseReturnValue:
    current = require_staff()
    items = [i for i in current.course.path.items() if i.kind == "peer_review"]
    configured = services().reviews.configured(current.course)
    return render_template("teach_reviews.html", items=items, configured=configured)


def _current_settings(item_id: str) -> tuple[PeerReviewSettings, bool]:
    current = require_staff()
    try:
        return services().reviews.settings(current.course, item_id), True
    except NotFound:
        return starter_settings(current.course.path, item_id), False


@bp.get("/teach/reviews/<item_id>/settings")
def review_settings_form(item_id: str) -> ResponseReturnValue:
    item = _peer_item(item_id)
    settings, saved = _current_settings(item_id)
    return render_template(
        "teach_review_settings.html", item=item, settings=settings, saved=saved,
        rubric=rubric_to_text(settings.rubric), zone=require_staff().person.time_zone,
    )  # fmt: skip


def _moment(name: str, zone: str) -> datetime | None:
    raw = request.form.get(name, "").strip()
    if not raw:
        return None
    try:
        return datetime.fromisoformat(raw).replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)
    except ValueError:
        raise bad_request(f"{name.replace('_', ' ')} must be a date and time") from None


@bp.post("/teach/reviews/<item_id>/settings")
def review_settings_save(item_id: str) -> ResponseReturnValue:
    current = require_staff()
    _peer_item(item_id)
    zone = current.person.time_zone
    try:
        peer = float(request.form.get("peer_weight", "50")) / 100
        reviewers = int(request.form.get("reviewers", "2"))
        max_kb = int(request.form.get("max_file_kb", "500"))
    except ValueError:
        raise bad_request("reviewers, weights and file size must be numbers") from None
    try:
        settings = PeerReviewSettings(
            reviewers=reviewers,
            rubric=rubric_from_text(request.form.get("rubric", "")),
            blind=request.form.get("blind", "double"),
            kinds=tuple(request.form.getlist("kinds")),
            max_file_bytes=max_kb * 1000,
            submit_by=_moment("submit_by", zone),
            review_by=_moment("review_by", zone),
            peer_weight=round(peer, 4),
            instructor_weight=round(1 - peer, 4),
            submit_item=request.form.get("submit_item") or None,
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "settings"
        raise bad_request(f"{where}: {first['msg']}") from None
    services().reviews.configure(current.course, item_id, settings)
    return redirect(link("instructor.review_settings_form", item_id=item_id, saved=1))


@bp.get("/teach/reviews/<item_id>")
def review_moderation(item_id: str) -> ResponseReturnValue:
    current = require_staff()
    item = _peer_item(item_id)
    svc = services()
    settings = svc.reviews.settings(current.course, item_id)
    people = {p.sub: p.name or p.sub for p in svc.courses.enrolments(current.course)}
    submissions = svc.reviews.submissions(current.course, item_id)
    assignments = svc.reviews.assignments(current.course, item_id)
    return render_template(
        "teach_review_moderation.html",
        item=item,
        settings=settings,
        people=people,
        submissions=submissions,
        by_submission={s.id: [a for a in assignments if a.submission_id == s.id]
                       for s in submissions},
        grades={s.sub: svc.reviews.breakdown(current.course, item_id, s.sub) for s in submissions},
    )  # fmt: skip


def _back(item_id: str) -> ResponseReturnValue:
    return redirect(link("instructor.review_moderation", item_id=item_id, done=1))


@bp.post("/teach/reviews/<item_id>/allocate")
def review_allocate(item_id: str) -> ResponseReturnValue:
    current = require_staff()
    _peer_item(item_id)
    services().reviews.allocate(current.course, item_id)
    return _back(item_id)


@bp.post("/teach/reviews/<item_id>/drop")
def review_drop(item_id: str) -> ResponseReturnValue:
    current = require_staff()
    _peer_item(item_id)
    services().reviews.drop_reviewer(
        current.course, item_id, request.form.get("sub", ""),
        reason=request.form.get("reason", ""),
    )  # fmt: skip
    return _back(item_id)


@bp.post("/teach/reviews/<item_id>/assignments/<int:assignment_id>")
def review_moderate(item_id: str, assignment_id: int) -> ResponseReturnValue:
    current = require_staff()
    _peer_item(item_id)
    reviews_ = services().reviews
    action = request.form.get("action", "")
    by = current.person.sub
    note = request.form.get("note", "")
    if action == "flag":
        reviews_.flag(current.course, assignment_id, by=by, note=note)
    elif action == "unflag":
        reviews_.flag(current.course, assignment_id, by=by, note=note or "cleared", flagged=False)
    elif action == "override":
        try:
            points = float(request.form.get("points", ""))
        except ValueError:
            raise bad_request("the points must be a number") from None
        reviews_.override(current.course, assignment_id, points=points, by=by, note=note)
    elif action == "reassign":
        reviews_.reassign(current.course, assignment_id, by=by, to=request.form.get("to") or None)
    else:
        raise bad_request("choose flag, unflag, override or reassign")
    return _back(item_id)


@bp.post("/teach/reviews/<item_id>/grades/<sub>")
def review_grade(item_id: str, sub: str) -> ResponseReturnValue:
    current = require_staff()
    _peer_item(item_id)
    try:
        percent = float(request.form.get("percent", ""))
    except ValueError:
        raise bad_request("the grade must be a number between 0 and 100") from None
    services().reviews.grade(
        current.course, item_id, sub, percent=percent, by=current.person.sub,
        note=request.form.get("note", ""),
    )  # fmt: skip
    return _back(item_id)
