"""Instructor forms for recordings: the course's recording policy, a session's captions from a
transcript file, and the file the tool's player plays for a recording."""

from __future__ import annotations

from flask import Blueprint, redirect, request
from flask.typing import ResponseReturnValue

from blendkit_examples.flask_app.app import services
from blendkit_examples.flask_app.pages import bad_request, link, require_staff

bp = Blueprint("recording_staff", __name__)

MAX_TRANSCRIPT_BYTES = 5_000_000


@bp.post("/teach/recordings/policy")
def policy() -> ResponseReturnValue:
    current = require_staff()
    try:
        percent = float(request.form.get("watched_percent", ""))
    except ValueError:
        raise bad_request("the share that counts as watched is a number from 1 to 100") from None
    services().recordings.set_policy(
        current.course,
        watched_percent=percent,
        captions_required=request.form.get("captions_required") == "on",
    )
    back = request.form.get("session_id", "")
    if back:
        return redirect(link("instructor.session", session_id=back))
    return redirect(link("instructor.sessions"))


@bp.post("/teach/sessions/<session_id>/captions")
def captions(session_id: str) -> ResponseReturnValue:
    """A transcript file (WebVTT from Zoom or Teams, or SubRip) becomes a caption track."""
    current = require_staff()
    upload = request.files.get("transcript")
    if upload is None or not upload.filename:
        raise bad_request("choose the transcript file (.vtt or .srt) to make captions from")
    content = upload.read(MAX_TRANSCRIPT_BYTES + 1)
    form = "srt" if upload.filename.lower().endswith(".srt") else "vtt"
    services().recordings.import_captions(
        current.course,
        session_id,
        content,
        language=request.form.get("language", "en").strip() or "en",
        label=request.form.get("label", "").strip() or "Captions",
        source=request.form.get("source", "upload"),
        form=form,
    )
    return redirect(link("instructor.session", session_id=session_id))


@bp.post("/teach/recordings/<int:recording_id>/media")
def media(recording_id: int) -> ResponseReturnValue:
    """The file the tool's player plays for a recording, and its length."""
    current = require_staff()
    svc = services()
    recording = svc.recordings.recording(current.course, recording_id)
    try:
        minutes = float(request.form.get("minutes", "") or 0)
        seconds = int(request.form.get("seconds", "") or 0) + round(minutes * 60)
    except ValueError:
        raise bad_request("the length is minutes and seconds, as numbers") from None
    svc.recordings.set_media(
        current.course,
        recording_id,
        request.form.get("media_url", "").strip(),
        duration_seconds=seconds,
    )
    return redirect(link("instructor.session", session_id=recording.session_id))
