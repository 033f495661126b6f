"""The addresses reminder messages point at (``blendkit.courses.ReminderLinks``).

A link in an e-mail opens outside the LMS, so it carries no launch: ``/courses/<id>`` and
``/courses/<id>/items/<item>`` send a browser whose launch (``launch=`` on the request, as on every
page) is for that very course — same deployment, same LMS context — to the course or item page.
Every other browser gets one small page asking to open the course from the learning platform. Only
a launch of the same deployment names the course and links to the platform: to a browser without
one, an unknown id and a known one answer alike, so the page reveals nothing about any course.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, redirect, render_template
from flask.typing import ResponseReturnValue

from blendkit import BlendkitError
from blendkit.courses import Course
from blendkit.integrations.flask import Blendkit
from blendkit.lti import Launch
from blendkit_examples.flask_app.app import services
from blendkit_examples.flask_app.pages import link

bp = Blueprint("links", __name__)


@bp.get("/courses/<int:course_id>")
def course(course_id: int) -> ResponseReturnValue:
    return _open(course_id, None)


@bp.get("/courses/<int:course_id>/items/<item_id>")
def item(course_id: int, item_id: str) -> ResponseReturnValue:
    return _open(course_id, item_id)


def _open(course_id: int, item_id: str | None) -> ResponseReturnValue:
    launch = _launch()
    found = _course(course_id) if launch is not None else None
    if launch is not None and found is not None and found.tenant == launch.tenant:
        if launch.context is not None and launch.context.id == found.context_id:
            if item_id is None:
                return redirect(link("learner.course"), code=303)
            return redirect(link("learner.item", item_id=item_id), code=303)
        return _elsewhere(found.title, _platform(launch))
    return _elsewhere(None, None)


def _elsewhere(title: str | None, platform: str | None) -> ResponseReturnValue:
    """The page for a browser that cannot open the course here (200: nothing went wrong)."""
    return render_template("open_from_platform.html", title=title, platform=platform), 200


def _launch() -> Launch | None:
    """The request's launch, or None when it carries none or an expired one."""
    try:
        return Blendkit.current_launch(required=False)
    except BlendkitError:
        return None


def _course(course_id: int) -> Course | None:
    try:
        return services().courses.course_by_id(course_id)
    except BlendkitError:
        return None


def _platform(launch: Launch) -> str | None:
    """Where the learner's platform lives: the launch's return address, else its issuer."""
    presentation = launch.launch_presentation
    for candidate in (presentation.return_url if presentation else None, launch.issuer):
        if candidate and urlsplit(candidate).scheme == "https" and urlsplit(candidate).netloc:
            parts = urlsplit(candidate)
            return f"{parts.scheme}://{parts.netloc}/"
    return None
