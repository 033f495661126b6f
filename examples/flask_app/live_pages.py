"""Live polls and the Q&A board: the learner's page (from the session's item) and the
instructor's console (from the session's page), with small JSON state endpoints the pages poll.

Live updates use short polling, not server-sent events: each page asks for ``…/state`` every
few seconds with ``If-None-Match``; while nothing changed the answer is ``304`` after one
primary-key read (the session's change counter), and no gunicorn sync worker is held between
requests. See docs/sessions/polls-and-qa.md for the measurement behind the choice.
"""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify, redirect, render_template, request
from flask.typing import ResponseReturnValue

from blendkit import BlendkitError
from blendkit.courses import LiveSessionRecord, Poll
from blendkit_examples.flask_app.app import services
from blendkit_examples.flask_app.instructor import bp as teach
from blendkit_examples.flask_app.learner import _session_of
from blendkit_examples.flask_app.learner import bp as learn
from blendkit_examples.flask_app.pages import bad_request, here, link, require_staff

KINDS = {
    "single": "Multiple choice, one answer",
    "multi": "Multiple choice, several answers",
    "rating": "Rating from 1 to 5",
    "text": "Short text",
}
POLL_EVERY_MS = 2000


def _wants_json() -> bool:
    return request.is_json or "application/json" in request.headers.get("Accept", "")


def _refused(error: BlendkitError) -> ResponseReturnValue:
    return jsonify({"error": error.code, "message": error.message}), error.http_status


def _etag(version: int, viewer: str) -> str:
    return f'"{version}-{viewer}"'


def _state_response(version: int, viewer: str, build: Any) -> ResponseReturnValue:
    tag = _etag(version, viewer)
    if tag in request.headers.get("If-None-Match", ""):
        answer = Response(status=304)
    else:
        answer = jsonify({"version": version, **build()})
    answer.headers["ETag"] = tag
    return answer


def _poll_dict(poll: Poll, results: Any, mine: Any = None) -> dict[str, Any]:
    return {
        "id": poll.id, "kind": poll.kind, "question": poll.question,
        "options": list(poll.options), "state": poll.state, "max_length": poll.max_length,
        "answered": mine is not None, "results": results.to_dict() if results else None,
    }  # fmt: skip


def _questions(record: LiveSessionRecord, viewer: str, staff: bool) -> list[dict[str, Any]]:
    board = services().board.questions(here().course, record.id, viewer=viewer, staff=staff)
    return [q.model_dump(mode="json") for q in board]


# --- learner ---------------------------------------------------------------------------------


def _learner_view(
    item_id: str, session_id: str, record: Any = None, version: int | None = None
) -> dict[str, Any]:
    current = here()
    svc = services()
    record = record if record is not None else _session_of(item_id, session_id)
    mine = svc.polls.my_answers(current.course, record.id, current.person.sub)
    every, tallied = svc.polls.session_view(current.course, record.id, version=version)
    polls = [p for p in every if p.state != "draft"]
    results = {r.poll_id: r for r in tallied if r.poll_id in mine or r.state == "closed"}
    return {"record": record, "polls": polls, "mine": mine, "results": results}


@learn.get("/item/<item_id>/live/<session_id>")
def live(item_id: str, session_id: str) -> ResponseReturnValue:
    """The learner's polls and questions of one session (works in the LMS frame on a phone)."""
    current = here()
    view = _learner_view(item_id, session_id)
    return render_template(
        "live_polls.html",
        item_id=item_id,
        questions=services().board.questions(
            current.course, view["record"].id, viewer=current.person.sub
        ),
        qa_open=services().board.is_open(current.course, view["record"].id),
        version=services().polls.version(current.course, view["record"].id),
        every=POLL_EVERY_MS,
        **view,
    )


@learn.get("/item/<item_id>/live/<session_id>/state")
def live_state(item_id: str, session_id: str) -> ResponseReturnValue:
    """What changed on the learner's page, as JSON (``304`` while nothing did)."""
    current = here()
    try:
        version = services().polls.session_version(current.course, session_id, item=item_id)
    except BlendkitError as error:
        return _refused(error)

    def build() -> dict[str, Any]:
        record = _session_of(item_id, session_id)
        view = _learner_view(item_id, session_id, record, version)
        return {
            "polls": [
                _poll_dict(p, view["results"].get(p.id), view["mine"].get(p.id))
                for p in view["polls"]
            ],
            "questions": _questions(record, current.person.sub, staff=False),
            "qa_open": services().board.is_open(current.course, record.id),
        }

    return _state_response(version, current.person.sub, build)


def _back(item_id: str, session_id: str, **args: Any) -> ResponseReturnValue:
    return redirect(link("learner.live", item_id=item_id, session_id=session_id, **args))


@learn.post("/item/<item_id>/live/<session_id>/polls/<poll_id>")
def answer_poll(item_id: str, session_id: str, poll_id: str) -> ResponseReturnValue:
    """One learner's answer to an open poll (a form, or JSON from the page's script).

    The whole request is one unit of work (one connection, one commit), and the poll, its
    session and the session's item are checked by the answer's one read: a thousand learners
    answer within seconds, and a refused answer leaves nothing behind."""
    svc = services()
    data = request.get_json(silent=True) if request.is_json else None
    try:
        with svc.store.unit_of_work():
            current = here()
            if isinstance(data, dict):
                raw = data.get("answer")
            elif svc.polls.poll(current.course, poll_id).kind == "multi":
                raw = request.form.getlist("answer")
            else:
                raw = request.form.get("answer", "")
            outcome = svc.polls.answer(
                current.course, poll_id, current.person.sub, raw,
                session_id=session_id, item=item_id, person=current.person,
            )  # fmt: skip
    except BlendkitError as error:
        if _wants_json():
            return _refused(error)
        raise
    if _wants_json():
        unlocked = list(outcome.outcome.unlocked()) if outcome.outcome else []
        return jsonify({"replaced": outcome.replaced, "unlocked": unlocked})
    return _back(item_id, session_id, answered=poll_id)


@learn.post("/item/<item_id>/live/<session_id>/questions")
def ask_question(item_id: str, session_id: str) -> ResponseReturnValue:
    """A learner's question for the board (optionally anonymous to other learners)."""
    current = here()
    record = _session_of(item_id, session_id)
    services().board.ask(
        current.course,
        record.id,
        current.person.sub,
        request.form.get("question", ""),
        anonymous=request.form.get("anonymous") == "1",
    )
    return _back(item_id, session_id, asked=1)


@learn.post("/item/<item_id>/live/<session_id>/questions/<question_id>/upvote")
def upvote_question(item_id: str, session_id: str, question_id: str) -> ResponseReturnValue:
    """One upvote per learner and question."""
    current = here()
    record = _session_of(item_id, session_id)
    board = services().board
    if question_id not in {q.id for q in board.questions(current.course, record.id, viewer="")}:
        raise bad_request("this question is not on this session's board")
    board.upvote(current.course, question_id, current.person.sub)
    return _back(item_id, session_id)


# --- instructor ------------------------------------------------------------------------------


def _console_view(
    session_id: str, record: Any = None, version: int | None = None
) -> dict[str, Any]:
    current = require_staff()
    svc = services()
    record = record if record is not None else svc.live.session(current.course, session_id)
    polls, tallied = svc.polls.session_view(current.course, record.id, version=version)
    return {"record": record, "polls": polls, "results": {r.poll_id: r for r in tallied}}


@teach.get("/teach/sessions/<session_id>/live")
def live_console(session_id: str) -> ResponseReturnValue:
    """The instructor's poll console and Q&A moderation for one session."""
    current = require_staff()
    view = _console_view(session_id)
    record = view["record"]
    return render_template(
        "teach_live.html",
        kinds=KINDS,
        questions=services().board.questions(
            current.course, record.id, viewer=current.person.sub, staff=True
        ),
        qa_open=services().board.is_open(current.course, record.id),
        version=services().polls.version(current.course, record.id),
        every=POLL_EVERY_MS,
        **view,
    )


@teach.get("/teach/sessions/<session_id>/live/state")
def live_console_state(session_id: str) -> ResponseReturnValue:
    """Live results and the whole board for the console, as JSON (``304`` while unchanged)."""
    current = require_staff()
    try:
        version = services().polls.session_version(current.course, session_id)
    except BlendkitError as error:
        return _refused(error)

    def build() -> dict[str, Any]:
        view = _console_view(session_id, version=version)
        return {
            "polls": [_poll_dict(p, view["results"].get(p.id)) for p in view["polls"]],
            "questions": _questions(view["record"], current.person.sub, staff=True),
        }

    return _state_response(version, current.person.sub, build)


@teach.post("/teach/sessions/<session_id>/polls")
def create_poll(session_id: str) -> ResponseReturnValue:
    current = require_staff()
    kind = request.form.get("kind", "")
    if kind not in KINDS:
        raise bad_request("choose the kind of poll from the list")
    try:
        cap = int(request.form.get("max_length") or 280)
    except ValueError:
        raise bad_request("the length cap is a number of characters") from None
    poll = services().polls.create(
        current.course,
        session_id,
        kind=kind,  # type: ignore[arg-type]
        question=request.form.get("question", ""),
        options=request.form.get("options", "").splitlines(),
        max_length=cap,
    )
    if request.form.get("open_now") == "1":
        services().polls.set_state(current.course, poll.id, "open")
    return redirect(link("instructor.live_console", session_id=session_id))


@teach.post("/teach/sessions/<session_id>/polls/<poll_id>/state")
def poll_state(session_id: str, poll_id: str) -> ResponseReturnValue:
    current = require_staff()
    poll = services().polls.poll(current.course, poll_id)
    if poll.session_id != session_id:
        raise bad_request("this poll belongs to another session")
    services().polls.set_state(current.course, poll.id, request.form.get("state", ""))
    return redirect(link("instructor.live_console", session_id=session_id))


@teach.post("/teach/sessions/<session_id>/questions/<question_id>")
def moderate_question(session_id: str, question_id: str) -> ResponseReturnValue:
    current = require_staff()
    board = services().board
    ids = {
        q.id
        for q in board.questions(current.course, session_id, viewer=current.person.sub, staff=True)
    }
    if question_id not in ids:
        raise bad_request("this question is not on this session's board")
    board.moderate(
        current.course, question_id, request.form.get("action", ""), request.form.get("answer", "")
    )
    return redirect(link("instructor.live_console", session_id=session_id))


@teach.post("/teach/sessions/<session_id>/board")
def board_state(session_id: str) -> ResponseReturnValue:
    current = require_staff()
    services().board.set_open(current.course, session_id, request.form.get("open") == "1")
    return redirect(link("instructor.live_console", session_id=session_id))
