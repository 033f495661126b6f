"""Learner pages of a recording: the player with its caption tracks and transcript, the played
segments it reports, and the WebVTT files (nested in the learner blueprint: learner routes)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, render_template, request
from flask.typing import ResponseReturnValue

from blendkit import BlendkitError, CourseInputInvalid, NotFound
from blendkit.courses import Cue
from blendkit.limits import load_json
from blendkit_examples.flask_app.app import services
from blendkit_examples.flask_app.pages import bad_request, here

bp = Blueprint("recordings", __name__)

MAX_REPORT_CHARS = 100_000
EVENTS = ("played", "paused", "seeked", "ended", "progress")


def _recording_of(item_id: str, recording_id: int) -> Any:
    """The recording, which must belong to a session of the item in the URL."""
    current = here()
    svc = services()
    recording = svc.recordings.recording(current.course, recording_id)
    session = svc.live.session(current.course, recording.session_id)
    if session.item != item_id:
        raise NotFound(f"recording {recording_id} does not belong to {item_id!r}")
    return recording


def _clock(seconds: float) -> str:
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def _matching(cues: tuple[Cue, ...], query: str) -> list[Cue]:
    wanted = query.casefold().strip()
    if not wanted:
        return list(cues)
    return [c for c in cues if wanted in f"{c.speaker or ''} {c.text}".casefold()]


@bp.get("/item/<item_id>/recording/<int:recording_id>")
def player(item_id: str, recording_id: int) -> ResponseReturnValue:
    """The player: opening it starts the clock the played segments are held to."""
    current = here()
    svc = services()
    recording = _recording_of(item_id, recording_id)
    view = svc.recordings.open_player(current.course, recording_id, current.person.sub)
    captions = svc.recordings.captions(current.course, recording.session_id)
    language = request.args.get("lang") or (captions[0].language if captions else "")
    cues = (
        svc.recordings.transcript(current.course, recording.session_id, language)
        if any(c.language == language for c in captions)
        else ()
    )
    query = request.args.get("q", "")[:200]
    return render_template(
        "recording.html",
        item=current.course.path.item(item_id),
        recording=recording,
        view=view,
        policy=svc.recordings.policy(current.course),
        captions=captions,
        language=language,
        cues=_matching(cues, query),
        all_cues=len(cues),
        query=query,
        clock=_clock,
    )


def _segments(raw: str) -> object:
    if len(raw) > MAX_REPORT_CHARS:
        raise bad_request(f"the report is above {MAX_REPORT_CHARS} characters", "app.too_large")
    # blendkit's JSON reader: nesting and size measured before decoding (no RecursionError).
    return load_json(raw or "[]", what="played segments", error=CourseInputInvalid)


def _number(raw: str | None, what: str) -> float:
    try:
        return float(raw or 0)
    except ValueError:
        raise bad_request(f"{what} must be a number of seconds") from None


@bp.post("/item/<item_id>/recording/<int:recording_id>/segments")
def segments(item_id: str, recording_id: int) -> ResponseReturnValue:
    """Played ranges from the player (fetch while playing, sendBeacon when the page goes)."""
    current = here()
    try:
        _recording_of(item_id, recording_id)
        event = request.form.get("event", "progress")
        if event not in EVENTS:
            raise bad_request(f"event must be one of {', '.join(EVENTS)}")
        position_from = request.form.get("from")
        view = services().recordings.report(
            current.course, recording_id, current.person.sub,
            _segments(request.form.get("segments", "")), event=event,  # type: ignore[arg-type]
            position=_number(request.form.get("position"), "position"),
            position_from=_number(position_from, "from") if position_from else None,
        )  # fmt: skip
    except BlendkitError as error:
        return jsonify({"error": error.code, "message": error.message}), error.http_status
    threshold = services().recordings.policy(current.course).watched_percent
    return jsonify(
        {"percent": view.percent, "watched": view.watched_at is not None, "threshold": threshold}
    )


@bp.get("/item/<item_id>/recording/<int:recording_id>/captions/<lang>.vtt")
def captions(item_id: str, recording_id: int, lang: str) -> ResponseReturnValue:
    """A caption track of the recording (this course's only), as ``text/vtt``."""
    current = here()
    recording = _recording_of(item_id, recording_id)
    if services().recordings.hidden_reason(current.course, recording) is not None:
        raise NotFound(f"recording {recording_id} is not published to learners")
    if (
        services().courses.learner_path(current.course, current.person.sub).state(item_id)
        == "locked"
        and not current.is_staff
    ):
        raise NotFound(f"{item_id!r} is locked: its captions open with it")
    vtt = services().recordings.caption_vtt(current.course, recording.session_id, lang)
    return Response(vtt, content_type="text/vtt; charset=utf-8")
