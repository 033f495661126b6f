"""Learner pages of peer review: submit work, review peers with the rubric, read feedback.

The routes join the learner blueprint (the gate state machine finds them there); every rule of
who may see what is the core's (:class:`blendkit.review.PeerReviewService`): these views only
translate forms and files.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Response, redirect, render_template, request
from flask.typing import ResponseReturnValue

from blendkit import CourseInputInvalid, NotFound
from blendkit.review import PeerReviewSettings, ReviewScores, attachment_headers
from blendkit_examples.flask_app.app import services
from blendkit_examples.flask_app.learner import bp
from blendkit_examples.flask_app.pages import here, link


def review_settings(item_id: str) -> PeerReviewSettings:
    """The settings of a peer-review item of the current course (404 otherwise)."""
    current = here()
    try:
        item = current.course.path.item(item_id)
    except KeyError:
        raise NotFound(f"this course has no item {item_id!r}; go back to the course path") from None
    if item.kind != "peer_review":
        raise NotFound(f"{item_id!r} is not a peer review")
    return services().reviews.settings(current.course, item_id)


def _page(item_id: str, *, error: str = "", field: str = "", status: int = 200) -> Any:
    current = here()
    svc = services()
    settings = review_settings(item_id)
    now = datetime.now(UTC)
    if settings.submit_by is not None and now >= settings.submit_by:
        svc.reviews.allocate(current.course, item_id)  # the on-time group, once the deadline passed
    path = svc.courses.learner_path(current.course, current.person.sub)
    states = dict(path.states())
    submit_item = settings.submit_item or item_id
    own = svc.reviews.submission(current.course, current.person.sub, item_id)
    reviewed = own is not None and any(
        a.submission_id == own.id and a.status == "done"
        for a in svc.reviews.assignments(current.course, item_id)
    )
    tasks = [
        a
        for a in svc.reviews.assignments(current.course, item_id, reviewer=current.person.sub)
        if a.status != "dropped"
    ]
    return render_template(
        "review_page.html",
        item=current.course.path.item(item_id),
        settings=settings,
        submit_state=states.get(submit_item, "locked"),
        review_state=states.get(item_id, "locked"),
        reasons=next(s for s in path.items if s.id == item_id),
        own=own,
        reviewed=reviewed,
        tasks=tasks,
        given=svc.reviews.given(current.course, current.person.sub, item_id),
        error=error,
        field=field,
        accept=",".join(f".{t}" if t != "jpeg" else ".jpg,.jpeg" for t in settings.file_types),
        now=now,
    ), status


@bp.get("/review/<item_id>")
def review_page(item_id: str) -> ResponseReturnValue:
    return _page(item_id)  # type: ignore[no-any-return]


@bp.post("/review/<item_id>/submit")
def review_submit(item_id: str) -> ResponseReturnValue:
    current = here()
    review_settings(item_id)
    kind = request.form.get("kind", "")
    upload = request.files.get("file")
    data = upload.read() if upload is not None and kind == "file" else None
    try:
        services().reviews.submit(
            current.course,
            current.person.sub,
            item_id,
            text=request.form.get("text") if kind == "text" else None,
            link=request.form.get("link") if kind == "link" else None,
            file_name=upload.filename or "" if upload is not None else "",
            file_data=data,
        )
    except CourseInputInvalid as exc:
        return _page(item_id, error=exc.message, field=kind or "text", status=400)  # type: ignore[no-any-return]
    return redirect(link("learner.review_page", item_id=item_id, submitted=1))


def _task_page(item_id: str, assignment_id: int, *, problems: str = "", status: int = 200) -> Any:
    current = here()
    settings = review_settings(item_id)
    assignment, submission = services().reviews.task(
        current.course, current.person.sub, assignment_id
    )
    if assignment.item != item_id:
        raise NotFound("this review is not assigned to you")
    author = None
    if settings.blind == "single":
        author = services().courses.enrolment(current.course, submission.sub).name or None
    return render_template(
        "review_task.html",
        item=current.course.path.item(item_id),
        settings=settings,
        assignment=assignment,
        submission=submission,
        author=author,
        form=request.form if request.method == "POST" else {},
        problems=problems,
    ), status


@bp.get("/review/<item_id>/task/<int:assignment_id>")
def review_task(item_id: str, assignment_id: int) -> ResponseReturnValue:
    return _task_page(item_id, assignment_id)  # type: ignore[no-any-return]


def _scores(settings: PeerReviewSettings) -> ReviewScores:
    levels: dict[str, int] = {}
    for criterion in settings.rubric.criteria:
        raw = request.form.get(f"level-{criterion.id}", "")
        if raw.isdigit() and int(raw) < len(criterion.levels):
            levels[criterion.id] = int(raw)
    return ReviewScores(
        levels=levels,
        comments={
            c.id: request.form.get(f"comment-{c.id}", "")[:5000] for c in settings.rubric.criteria
        },
        general=request.form.get("general", "")[:10000],
    )


@bp.post("/review/<item_id>/task/<int:assignment_id>")
def review_give(item_id: str, assignment_id: int) -> ResponseReturnValue:
    current = here()
    settings = review_settings(item_id)
    assignment, _ = services().reviews.task(current.course, current.person.sub, assignment_id)
    if assignment.item != item_id:
        raise NotFound("this review is not assigned to you")
    try:
        services().reviews.give_review(
            current.course, current.person.sub, assignment_id, _scores(settings)
        )
    except CourseInputInvalid as exc:
        return _task_page(item_id, assignment_id, problems=exc.message, status=400)  # type: ignore[no-any-return]
    return redirect(link("learner.review_page", item_id=item_id, reviewed=1))


@bp.get("/review/<item_id>/feedback")
def review_feedback(item_id: str) -> ResponseReturnValue:
    current = here()
    settings = review_settings(item_id)
    feedback = services().reviews.feedback(current.course, current.person.sub, item_id)
    return render_template(
        "review_feedback.html",
        item=current.course.path.item(item_id),
        settings=settings,
        feedback=feedback,
    )


@bp.get("/review/<item_id>/file/<int:submission_id>")
def review_file(item_id: str, submission_id: int) -> ResponseReturnValue:
    current = here()
    review_settings(item_id)
    found, data = services().reviews.file(
        current.course, current.person.sub, submission_id, staff=current.is_staff
    )
    if found.item != item_id or found.file_type is None:
        raise NotFound("no such submission in this course")
    headers = attachment_headers(found.file_name or "submission", found.file_type, len(data))
    return Response(data, headers=headers)
