"""How the Flask adapter answers: core responses as Flask responses, and blendkit errors in the
idiom of the route that raised them.

blendkit's own routes (``/lti/…``, ``/healthz``, ``/readyz``, ``/metrics``) and views decorated
with :meth:`Blendkit.launch_required <blendkit.integrations.flask.Blendkit.launch_required>`
answer blendkit's HTML page. The host app's other routes keep their idiom: a JSON request (JSON
body, or ``Accept`` preferring JSON) gets ``{"error": code, "message": …}`` with the error's
status; any other request gets the error as the ``HTTPException`` of its status, so the host's
own handlers (``@app.errorhandler(401)``) render it. A database outage is a 503 with
``Retry-After`` on every route.
"""

from __future__ import annotations

from html import escape

from flask import Response as FlaskResponse
from flask import current_app, request
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException, default_exceptions

from blendkit.errors import BlendkitError
from blendkit.integrations._flask_operations import unavailable_response
from blendkit.integrations._runtime import ToolRuntime
from blendkit.lti import HttpResponse, Launch
from blendkit.operations import database_unavailable

__all__ = [
    "BLENDKIT_PAGE",
    "BLENDKIT_BLUEPRINTS",
    "database_error_handler",
    "default_launch_page",
    "error_handler",
    "outage_response",
    "to_flask_response",
]

BLENDKIT_PAGE = "blendkit_error_page"
"""Attribute set on a view function that answers blendkit's HTML error page."""
BLENDKIT_BLUEPRINTS = frozenset({"blendkit_lti", "blendkit_ops"})


def to_flask_response(response: HttpResponse) -> FlaskResponse:
    """An :class:`HttpResponse` from the core as a Flask response (cookies included)."""
    out = FlaskResponse(response.body, status=response.status)
    out.headers.clear()
    for name, value in response.headers:
        out.headers.add(name, value)
    if out.headers.get("Content-Type") is None:
        out.headers["Content-Type"] = "text/html; charset=utf-8"
    for cookie in response.cookies:
        out.headers.add("Set-Cookie", cookie.header_value())
    return out


def default_launch_page(launch: Launch, launch_id: str) -> ResponseReturnValue:
    """Used when the app registers no handler: a plain page proving the launch worked."""
    title = launch.context.title if launch.context and launch.context.title else "(no course)"
    role = "instructor" if launch.is_instructor else "learner" if launch.is_learner else "other"
    body = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>blendkit</title>"
        f"</head><body><h1>{escape(title)}</h1><p>Signed in as {escape(launch.user.sub)} "
        f"({escape(role)}).</p></body></html>"
    )
    return FlaskResponse(body, status=200, content_type="text/html; charset=utf-8")


def outage_response(error: BaseException) -> FlaskResponse | None:
    """The 503 + ``Retry-After`` answer (and its one log line) when ``error`` comes from a
    database that does not answer, else ``None``: for apps with their own error handler."""
    cause = database_unavailable(error)
    return None if cause is None else unavailable_response(cause)


def _blendkit_page() -> bool:
    """Whether the current request is served by blendkit's routes or an opted-in view."""
    if request.blueprint in BLENDKIT_BLUEPRINTS:
        return True
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, BLENDKIT_PAGE, False))


def _wants_json() -> bool:
    if request.is_json:
        return True
    best = request.accept_mimetypes.best_match(("text/html", "application/json"))
    return best == "application/json"


def _as_http_exception(error: BlendkitError) -> HTTPException:
    exception_class = default_exceptions.get(error.http_status, HTTPException)
    exception = exception_class(description=f"{error.message} ({error.code})")
    if exception.code is None:
        exception.code = error.http_status
    return exception


def error_handler(error: BlendkitError) -> ResponseReturnValue:
    """Answer a blendkit error (registered by ``init_app``): the outage 503 on every route,
    blendkit's page on its routes and opted-in views, the host's idiom elsewhere."""
    outage = outage_response(error)
    if outage is not None:
        return outage
    # Code and message only: they never contain tokens, cookies or secrets.
    if _blendkit_page():
        return to_flask_response(ToolRuntime.refusal(error))
    if _wants_json():
        return to_flask_response(ToolRuntime.json_refusal(error))
    ToolRuntime.log_refusal(error)
    return current_app.handle_http_exception(_as_http_exception(error))


def database_error_handler(error: SQLAlchemyError) -> ResponseReturnValue:
    """A database error as a ``store.database`` refusal (500), rendered by the app's handler
    for blendkit errors; logged by class and code only (its text may quote learner data).

    A connection-class error (refused, dropped, pool exhausted) is an outage, not a bug: 503
    ``store.unavailable`` with ``Retry-After`` and one warning line."""
    if database_unavailable(error) is not None:
        return unavailable_response(error)
    refused = ToolRuntime.database_error(error, request.method, request.path)
    return current_app.handle_user_exception(refused)
