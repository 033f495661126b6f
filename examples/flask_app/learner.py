"""Learner pages: the course path, items (quiz, video, live session, reading) and their forms."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from flask import Blueprint, jsonify, redirect, render_template, request
from flask.typing import ResponseReturnValue

from blendkit import CoursesError, NotFound
from blendkit.courses import RecordOutcome
from blendkit.lti import LEGACY_ZONE_NAMES, canonical_time_zone
from blendkit.progression import (
    CompletionRecorded,
    ItemViewed,
    PathResult,
    PeerReviewsCondition,
    VideoWatched,
    milestone_progress,
)
from blendkit_examples.flask_app import recording_pages, reminder_links
from blendkit_examples.flask_app.app import services
from blendkit_examples.flask_app.office_hours_pages import learner_slots
from blendkit_examples.flask_app.pages import bad_request, here, link, submitted_key
from blendkit_examples.flask_app.zones import zone_groups

bp = Blueprint("learner", __name__)
bp.register_blueprint(recording_pages.bp)  # the player and its reports: learner routes
bp.register_blueprint(reminder_links.bp)  # where reminder messages point


def _percent(raw: Any) -> float:
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise bad_request(
            f"progress must be a number between 0 and 100, not {str(raw)[:20]!r}"
        ) from None
    if not 0 <= value <= 100:
        raise bad_request(f"progress must be between 0 and 100, not {value:g}")
    return value


def _seconds(raw: Any, what: str) -> float:
    if raw in (None, ""):
        return 0.0
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise bad_request(f"{what} must be a number of seconds, not {str(raw)[:20]!r}") from None
    if not 0 <= value < 86400 * 7:
        raise bad_request(f"{what} must be between 0 and a week in seconds, not {value:g}")
    return value


def _item(item_id: str) -> Any:
    try:
        return here().course.path.item(item_id)
    except KeyError:
        raise NotFound(f"this course has no item {item_id!r}; go back to the course path") from None


def _status(result: PathResult, item_id: str) -> Any:
    return next(s for s in result.items if s.id == item_id)


@bp.app_context_processor
def _legacy_zone_names() -> dict[str, Any]:
    """Old zone names browsers report, for the time zone offer to show today's name."""
    return {"legacy_zone_names": LEGACY_ZONE_NAMES}


@bp.get("/course")
def course() -> ResponseReturnValue:
    current = here()
    svc = services()
    evidence = svc.courses.evidence(current.course, current.person.sub, person=current.person)
    result = svc.courses.learner_path(current.course, current.person.sub, evidence=evidence)
    statuses = {s.id: s for s in result.items}
    sessions = svc.live.sessions(current.course)
    best = {item: max(a.score for a in tries) for item, tries in evidence.scores.items() if tries}
    return render_template(
        "course.html",
        result=result,
        milestones=milestone_progress(current.course.path, result, evidence),
        statuses=statuses,
        sessions=next_sittings(sessions, datetime.now(UTC)),
        best=best,
        recordings=svc.recordings.published(current.course, {s.id for s in sessions}),
        session_titles={s.id: s for s in sessions},
        own_hours=OWN_HOURS,
        my_hours=svc.hours.get(current.course, current.person.sub) or "",
        zone_groups=zone_groups(),
    )


def next_sittings(sessions: list[Any], now: datetime) -> list[Any]:
    """What a learner sees: one-off sessions as they are, and of each weekly series only its
    next sitting (cancelled ones are already left out), joined with their personal link."""
    shown: list[Any] = []
    series_seen: set[str] = set()
    for record in sorted(sessions, key=lambda r: r.start_utc):
        if record.series_id is None:
            shown.append(record)
        elif record.series_id not in series_seen and record.end_utc > now:
            series_seen.add(record.series_id)
            shown.append(record)
    return shown


OWN_HOURS = {
    "": "Whenever the course proposes",
    "09:00-17:00": "Working hours, 09:00-17:00",
    "18:00-21:00": "Evenings, 18:00-21:00",
}


@bp.post("/session-hours")
def session_hours() -> ResponseReturnValue:
    """The learner's own hours for live sessions, which the instructor's planner uses."""
    current = here()
    hours = request.form.get("hours", "").strip()
    if hours not in OWN_HOURS:
        raise bad_request("choose when you can attend from the list")
    services().hours.set(current.course, current.person.sub, hours or None)
    return redirect(link("learner.course"))


@bp.post("/timezone")
def timezone() -> ResponseReturnValue:
    current = here()
    zone = request.form.get("time_zone", "").strip()
    if not zone:
        raise bad_request("choose a time zone from the list")
    services().courses.set_time_zone(current.course, current.person.sub, zone)
    return redirect(link("learner.course"))


@bp.post("/timezone/detected")
def timezone_detected() -> ResponseReturnValue:
    """The learner confirmed the zone their browser reported: it applies until the platform
    sends a zone or the learner chooses one (both rank higher, and this changes neither)."""
    current = here()
    zone = canonical_time_zone(request.form.get("time_zone", ""))
    if zone is None:
        raise bad_request("your browser reported no IANA time zone; choose yours from the list")
    services().courses.set_time_zone(current.course, current.person.sub, zone, source="browser")
    return redirect(link("learner.course"))


@bp.get("/item/<item_id>")
def item(item_id: str) -> ResponseReturnValue:
    return _item_page(item_id)


def _item_page(item_id: str, **extra: Any) -> str:
    """The item page (``extra``: what a refused form adds, e.g. why a booking was refused)."""
    current = here()
    svc = services()
    found = _item(item_id)
    result = svc.courses.learner_path(current.course, current.person.sub)
    status = _status(result, item_id)
    if (
        status.state != "locked"
        and item_id not in svc.courses.evidence(current.course, current.person.sub).views
    ):
        svc.courses.record(
            current.course,
            current.person.sub,
            ItemViewed(item=item_id, at=datetime.now(UTC)),
        )
    context: dict[str, Any] = {"item": found, "status": status, "now": datetime.now(UTC)}
    context["peer_review"] = _peer_review_of(found)
    if found.kind == "quiz":
        context["quiz"] = svc.courses.quiz(current.course, item_id)
        context["attempts"] = svc.courses.records(
            current.course, sub=current.person.sub, item=item_id, kind="score"
        )
        context["left"] = svc.courses.attempts_left(current.course, current.person.sub, item_id)
    elif found.kind == "video":
        evidence = svc.courses.evidence(current.course, current.person.sub)
        context["watched"] = evidence.videos.get(item_id, 0.0)
    elif found.kind in ("live_session", "office_hours"):
        sessions = [s for s in svc.live.sessions(current.course) if s.item == item_id]
        context["sessions"] = next_sittings(sessions, context["now"])
        context["recordings"] = svc.recordings.published(current.course, {s.id for s in sessions})
        context["recording_policy"] = svc.recordings.policy(current.course)
        evidence = svc.courses.evidence(current.course, current.person.sub)
        context["attended"] = evidence.attendance.get(item_id)
        context["recording_watched"] = evidence.recordings.get(item_id, 0.0)
        if found.kind == "office_hours" and status.state != "locked":
            context.update(learner_slots(current.course, current.person, item_id))
    return render_template("item.html", **context, **extra)


def _peer_review_of(found: Any) -> tuple[str, str] | None:
    """(peer-review item, "submit" | "review" | "feedback") when ``found`` belongs to a peer
    review that is set up: its submission page, the review item, or an item gated on its
    reviews (the peer-workshop template's "See your feedback")."""
    course = here().course
    reviews = services().reviews
    if isinstance(found.conditions, PeerReviewsCondition):
        target = found.conditions.item
        if target in reviews.configured(course):
            return target, "feedback"
    owner = reviews.review_item_for(course, found.id)
    if owner is None:
        return None
    return owner, "review" if owner == found.id else "submit"


@bp.post("/item/<item_id>/quiz")
def submit_quiz(item_id: str) -> ResponseReturnValue:
    current = here()
    _item(item_id)
    answers = {
        key.removeprefix("answer-"): value
        for key, value in request.form.items()
        if key.startswith("answer-")
    }
    started = request.form.get("started_at")
    started_at = None
    if started:
        try:
            started_at = datetime.fromisoformat(started)
        except ValueError:
            started_at = None
    svc = services()
    before = svc.courses.learner_path(current.course, current.person.sub)
    result, outcome = svc.courses.submit_quiz(
        current.course,
        current.person.sub,
        item_id,
        answers,
        started_at=started_at,
        idempotency_key=submitted_key(),
    )
    after = svc.courses.learner_path(current.course, current.person.sub)
    unlocked = [s for s in after.items if s.id in outcome.unlocked()]
    quiz = svc.courses.quiz(current.course, item_id)
    return render_template(
        "quiz_result.html",
        item=_item(item_id),
        quiz=quiz,
        result=result,
        unlocked=unlocked,
        before=before,
        left=svc.courses.attempts_left(current.course, current.person.sub, item_id),
    )


def _video_statements(item_id: str, percent: float, position: float, length: float) -> Any:
    svc = services()
    import uuid

    def describe(actor: Any, key: str) -> list[Any]:
        session_id = uuid.uuid5(uuid.NAMESPACE_URL, f"{actor.account.name}:{item_id}")
        event: Literal["completed", "paused"] = "completed" if percent >= 90 else "paused"
        return [
            svc.courses.statements.video(
                event, actor, video_id=item_id, session_id=session_id, time=position,
                length=max(length, position, 1.0), progress=round(percent / 100, 4),
                course_id=key,
            )
        ]  # fmt: skip

    return describe


@bp.post("/item/<item_id>/progress")
def video_progress(item_id: str) -> ResponseReturnValue:
    current = here()
    found = _item(item_id)
    if found.kind != "video":
        raise bad_request(f"{item_id!r} is a {found.kind}, not a video: no progress to record")
    data = request.get_json(silent=True) if request.is_json else None
    source = data if isinstance(data, dict) else request.form
    percent = _percent(source.get("percent"))
    position = _seconds(source.get("position"), "position")
    length = _seconds(source.get("length"), "length")
    # the core holds a video of known length to the clock (courses.implausible_video_report)
    outcome: RecordOutcome = services().courses.video_progress(
        current.course,
        current.person.sub,
        VideoWatched(item=item_id, percent=percent, at=datetime.now(UTC)),
        details={"position": position, "length": length, "source": "player" if data else "form"},
        statements=_video_statements(item_id, percent, position, length),
        idempotency_key=submitted_key(),
    )
    if data is not None:
        return jsonify({"recorded": percent, "unlocked": list(outcome.unlocked())})
    return redirect(link("learner.item", item_id=item_id))


@bp.post("/item/<item_id>/done")
def mark_done(item_id: str) -> ResponseReturnValue:
    current = here()
    found = _item(item_id)
    if found.kind in ("quiz", "video", "live_session", "peer_review") or _peer_review_of(found):
        raise bad_request(
            f"a {found.kind.replace('_', ' ')} is completed by what you do in it, not by a button"
        )
    # the core refuses work on a locked item (courses.item_locked, 403)
    services().courses.record(
        current.course,
        current.person.sub,
        CompletionRecorded(item=item_id, state="complete", at=datetime.now(UTC)),
        idempotency_key=submitted_key(),
    )
    return redirect(link("learner.course"))


def _session_of(item_id: str, session_id: str) -> Any:
    """The session, which must belong to the item in the URL: the core checks the lock of the
    session's own item (a session linked to no item gates nothing and counts for nothing)."""
    session = services().live.session(here().course, session_id)
    if session.item is not None and session.item != item_id:
        raise NotFound(f"live session {session_id!r} does not belong to {item_id!r}")
    return session


@bp.post("/item/<item_id>/join/<session_id>")
def join(item_id: str, session_id: str) -> ResponseReturnValue:
    current = here()
    session = _session_of(item_id, session_id)
    url = services().live.join_link(current.course, session.id, current.person.sub)
    return redirect(url, code=303)


# --- office hours: book and cancel a slot ---------------------------------------------------


def _slot_of(item_id: str, slot_id: str) -> Any:
    _item(item_id)
    found = services().office_hours.slot(here().course, slot_id)
    if found.item != item_id:
        raise NotFound(f"slot {slot_id!r} belongs to another item; go back to the item page")
    return found


@bp.post("/item/<item_id>/slots/<slot_id>/book")
def book_slot(item_id: str, slot_id: str) -> ResponseReturnValue:
    current = here()
    _slot_of(item_id, slot_id)
    try:
        services().office_hours.book(
            current.course, slot_id, current.person.sub, person=current.person
        )
    except CoursesError as refused:
        if refused.code == "courses.item_locked":
            raise
        return _item_page(item_id, refusal=refused), refused.http_status
    return redirect(link("learner.item", item_id=item_id, booked=slot_id))


@bp.post("/item/<item_id>/slots/<slot_id>/cancel")
def cancel_slot(item_id: str, slot_id: str) -> ResponseReturnValue:
    current = here()
    _slot_of(item_id, slot_id)
    try:
        services().office_hours.cancel_booking(current.course, slot_id, current.person.sub)
    except CoursesError as refused:
        return _item_page(item_id, refusal=refused), refused.http_status
    return redirect(link("learner.item", item_id=item_id, cancelled=slot_id))
