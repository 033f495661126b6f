"""What every page shares: the launch context, CSRF bound to the launch, times in the viewer's
zone, security headers for life inside an LMS iframe, and errors that name their reason."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, current_app, g, render_template, request, url_for
from flask.typing import ResponseReturnValue
from markupsafe import Markup
from werkzeug.exceptions import HTTPException

from blendkit import BlendkitError, LaunchRejected
from blendkit.courses import Course, Enrolment
from blendkit.integrations.flask import Blendkit, outage_response
from blendkit.lti import Administrator, Launch, administrator_for
from blendkit_examples.flask_app.app import services

CSRF_FIELD = "csrf"
CSRF_HEADER = "X-CSRF-Token"
# /unsubscribe/: RFC 8058 one-click posts come from mail clients; the signed token is the check.
_UNGUARDED = ("/lti/", "/webhooks/", "/demo-lms", "/static/", "/unsubscribe/")


@dataclass(frozen=True)
class Here:
    """The launch a page serves and what it points to."""

    launch: Launch
    launch_id: str
    course: Course
    person: Enrolment

    @property
    def is_staff(self) -> bool:
        return self.launch.is_instructor or self.launch.is_teaching_assistant

    @property
    def role_label(self) -> str:
        if self.launch.is_instructor:
            return "Instructor"
        if self.launch.is_teaching_assistant:
            return "Teaching assistant"
        return "Learner" if self.launch.is_learner else "Guest"


def here() -> Here:
    """The current launch, its course and the person (401 without a valid launch id)."""
    if "here" in g:
        found: Here = g.here
        return found
    launch = Blendkit.current_launch()
    assert launch is not None
    launch_id = Blendkit.current_launch_id() or ""
    from blendkit_examples.flask_app.launching import course_and_person, enrol, no_context

    if launch.context is None:
        raise no_context()
    try:
        course, person = services().courses.course_and_enrolment(
            launch.tenant, launch.context.id, launch.user.sub
        )
    except BlendkitError:  # first page of a launch that skipped on_launch
        course, person = course_and_person(launch)
    if person is None:
        person = enrol(course, launch)
    g.here = Here(launch=launch, launch_id=launch_id, course=course, person=person)
    return g.here  # type: ignore[no-any-return]


def require_staff() -> Here:
    """The current launch, refused (403) unless it is an instructor's or assistant's."""
    current = here()
    if not current.is_staff:
        raise LaunchRejected(
            "this page is for instructors of the course; your launch has a learner role",
            code="app.instructors_only",
            http_status=403,
        )
    return current


def administrator_of(current: Here | None) -> Administrator | None:
    """What the launch may administer: the whole tool (``[tool] admins``), its own registration
    (an institution or system administrator), or nothing — the rule lives in blendkit."""
    if current is None:
        return None
    return administrator_for(current.launch, services().settings.tool.admins)


def require_admin() -> tuple[Here, Administrator]:
    """The current launch and what it administers; refused (403) for everyone else."""
    current = here()
    admin = administrator_of(current)
    if admin is None:
        raise LaunchRejected(
            "administration needs an institution or system administrator role in the LMS, or "
            "your LMS account named in the tool's [tool] admins; ask the tool's administrator",
            code="app.admins_only",
            http_status=403,
        )
    return current, admin


def csrf_token(launch_id: str) -> str:
    """A token bound to the launch id: forms from another launch (or site) are refused."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"csrf\0{launch_id}".encode(), hashlib.sha256).hexdigest()


def link(endpoint: str, **values: Any) -> str:
    """``url_for`` that carries the launch id (pages work without cookies in the iframe)."""
    launch_id = Blendkit.current_launch_id()
    if launch_id:
        values.setdefault("launch", launch_id)
    return url_for(endpoint, **values)


def local(moment: datetime | None, zone: str, fmt: str = "%a %d %b %Y, %H:%M") -> str:
    """``moment`` on the viewer's clock, with the zone's abbreviation and name."""
    if moment is None:
        return "—"
    shown = moment.astimezone(ZoneInfo(zone))
    name = shown.tzname() or ""
    return (
        f"{shown.strftime(fmt)} {name}"
        if name == zone
        else f"{shown.strftime(fmt)} {name} ({zone})"
    )


def bad_request(message: str, code: str = "app.bad_input") -> BlendkitError:
    """A 400 naming what was wrong with the submitted form."""
    return BlendkitError(message, code=code, http_status=400)


def hidden() -> Markup:
    """The hidden fields every form carries: the launch id and its CSRF token (a template
    global, so the macro file needs no request context and Jinja imports it once)."""
    launch_id = Blendkit.current_launch_id() or ""
    token = csrf_token(launch_id) if launch_id else ""
    return Markup(
        '<input type="hidden" name="launch" value="{}">\n<input type="hidden" name="{}" value="{}">'
    ).format(launch_id, CSRF_FIELD, token)


SUBMISSION_FIELD = "idempotency_key"


def submission_key() -> Markup:
    """A fresh idempotency key for one state-changing learner form (a template global): the
    form sent twice (its answer was lost) is recorded once and answers with the first result."""
    return Markup('<input type="hidden" name="{}" value="{}">').format(
        SUBMISSION_FIELD, secrets.token_urlsafe(24)
    )


def submitted_key() -> str | None:
    """The idempotency key the form (or the player's JSON) carried, if any; the core checks it."""
    data = request.get_json(silent=True) if request.is_json else None
    raw = (
        data.get(SUBMISSION_FIELD) if isinstance(data, dict) else request.form.get(SUBMISSION_FIELD)
    )
    return raw if isinstance(raw, str) and raw else None


def install(app: Flask) -> None:
    """Template helpers, CSRF check, headers and the error page."""
    app.jinja_env.globals.update(
        link=link,
        local=local,
        hidden=hidden,
        submission_key=submission_key,
        CSRF_FIELD=CSRF_FIELD,
        zone=ZoneInfo,
    )
    app.jinja_env.autoescape = True

    @app.context_processor
    def _context() -> dict[str, Any]:
        launch_id = Blendkit.current_launch_id()
        return {
            "launch_id": launch_id,
            "csrf": csrf_token(launch_id) if launch_id else "",
            "here": g.get("here"),
            "administrator": administrator_of(g.get("here")),
            "tool_title": services().settings.tool.title,
        }

    @app.before_request
    def _csrf() -> None:
        if request.method != "POST" or request.path.startswith(_UNGUARDED):
            return
        launch_id = Blendkit.current_launch_id()
        if not launch_id:
            raise LaunchRejected(
                "this form was sent without its launch; open the tool again from your course",
                code="lti.launch_session_expired",
                http_status=401,
            )
        sent = request.form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or ""
        if not hmac.compare_digest(sent, csrf_token(launch_id)):
            raise BlendkitError(
                "the form's security token does not match this launch (it was sent from another "
                "page or an old launch); reload the page from your course and submit again",
                code="app.csrf_failed",
                http_status=403,
            )

    @app.after_request
    def _headers(response: Any) -> Any:
        response.headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; media-src 'self' https: blob:; "
            "style-src 'self'; script-src 'self'; frame-ancestors *; form-action 'self' https:; "
            "base-uri 'none'",
        )
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        if request.path.startswith(
            ("/course", "/item", "/review", "/teach", "/admin", "/deep-link")
        ):
            response.headers["Cache-Control"] = "no-store"
        return response

    @app.errorhandler(BlendkitError)
    def _error(error: BlendkitError) -> ResponseReturnValue:
        outage = outage_response(error)  # the database did not answer: 503 + Retry-After
        if outage is not None:
            return outage
        current_app.logger.info("refused: %s %s", error.code, error.message)
        return render_template("error.html", error=error), error.http_status

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> ResponseReturnValue:
        wrapped = BlendkitError(
            error.description or error.name, code=f"http.{error.code}", http_status=error.code
        )
        return render_template("error.html", error=wrapped), error.code or 500
