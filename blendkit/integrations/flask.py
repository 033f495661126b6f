"""Flask adapter: translates Flask requests and responses for the sans-IO LTI core.

    app = Flask(__name__)
    bk = Blendkit(app)                      # or Blendkit().init_app(app)

    @bk.on_launch
    def launched(launch: Launch, launch_id: str):
        return redirect(url_for("course", launch=launch_id))

The blueprint serves ``/lti/login``, ``/lti/launch``, ``/lti/jwks``, ``/lti/register`` (off
unless ``[lti] registration_enabled``; each registration needs an invite) and
``/lti/canvas.json``. A rejected launch answers 4xx with a page naming the reason. Validated
launches are kept server-side (:class:`~blendkit.lti.LaunchSessions`) so pages inside the LMS
iframe work without third-party cookies: carry ``launch=<launch_id>`` on links and forms and call
:meth:`Blendkit.current_launch`. Tokens and secrets are never logged.

``/healthz`` (process up, no database), ``/readyz`` (database answers, migrations current;
503 otherwise) and, with ``[metrics] token``, ``/metrics`` are served too. A database that does
not answer makes any route answer 503 with ``Retry-After`` and one log line.

``init_app`` caps every request body of the app (:class:`~blendkit.limits.RequestLimits`:
``[tool] max_webhook_bytes`` under ``/webhooks/`` and ``/lti/``, ``max_request_bytes`` elsewhere):
a larger declared length is answered 413 before the body is read, and a chunked body is cut off
at the cap.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

import httpx
from flask import Blueprint, Flask, current_app, g, request
from flask import Response as FlaskResponse
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import SQLAlchemyError

from blendkit.config import Settings
from blendkit.errors import BlendkitError, LaunchRejected, StoreError
from blendkit.http import Fence
from blendkit.integrations._flask_operations import install_operations, unavailable_response
from blendkit.integrations._runtime import LAUNCH_HEADER, LAUNCH_PARAM, ToolRuntime
from blendkit.limits import CappedStream, RequestLimits
from blendkit.lti import (
    Advantage,
    AssignmentGradeService,
    ContentItem,
    HttpRequest,
    HttpResponse,
    Launch,
    NamesRoleService,
)
from blendkit.operations import database_unavailable
from blendkit.store import Store, describe_database_error
from blendkit.xapi import Outbox

__all__ = [
    "Blendkit",
    "BlendkitState",
    "EXTENSION_KEY",
    "LaunchHandler",
    "error_handler",
    "from_flask_request",
    "in_one_transaction",
    "outage_response",
    "to_flask_response",
]

EXTENSION_KEY = "blendkit"
log = logging.getLogger("blendkit.flask")

LaunchHandler = Callable[[Launch, str], ResponseReturnValue]
_View = TypeVar("_View", bound=Callable[..., Any])


def from_flask_request() -> HttpRequest:
    """The current Flask request as the LTI core's plain :class:`HttpRequest`."""
    return HttpRequest(
        method=request.method,
        url=request.url,
        headers=dict(request.headers.items()),
        query=request.args.to_dict(flat=True),
        form=request.form.to_dict(flat=True),
        cookies=request.cookies.to_dict(flat=True),
    )


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


def _default_launch_page(launch: Launch, launch_id: str) -> ResponseReturnValue:
    """Used when the app registers no handler: a plain page proving the launch worked."""
    from html import escape

    title = launch.context.title if launch.context and launch.context.title else "(no course)"
    role = "instructor" if launch.is_instructor else "learner" if launch.is_learner else "other"
    body = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>blendkit</title>"
        f"</head><body><h1>{escape(title)}</h1><p>Signed in as {escape(launch.user.sub)} "
        f"({escape(role)}).</p></body></html>"
    )
    return FlaskResponse(body, status=200, content_type="text/html; charset=utf-8")


@dataclass
class BlendkitState(ToolRuntime):
    """What the extension keeps in ``app.extensions["blendkit"]``: the shared
    :class:`~blendkit.integrations._runtime.ToolRuntime` plus the app's launch handler."""

    launch_handler: LaunchHandler = _default_launch_page
    metrics: Any = None
    """The app's :class:`blendkit.operations.metrics.Metrics` (``None``: no ``[metrics] token``)."""


class Blendkit:
    """The Flask extension: ``Blendkit(app)`` or ``Blendkit().init_app(app)``."""

    def __init__(
        self,
        app: Flask | None = None,
        *,
        settings: Settings | None = None,
        store: Store | None = None,
        http_client: httpx.Client | None = None,
        fence: Fence | None = None,
        migrate: bool = True,
    ) -> None:
        self._settings = settings
        self._store = store
        self._http_client = http_client
        self._fence = fence
        self._migrate = migrate
        self._launch_handler: LaunchHandler = _default_launch_page
        self._states: list[BlendkitState] = []
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        """Build the tool for ``app`` and register the ``/lti`` blueprint."""
        state = BlendkitState.build(
            settings=self._settings,
            store=self._store,
            http_client=self._http_client,
            fence=self._fence,
            migrate=self._migrate,
        )
        state.launch_handler = self._launch_handler
        settings = state.settings
        app.extensions[EXTENSION_KEY] = state
        self._states.append(state)
        # First of all hooks, so no other hook (a CSRF check reading the form) sees the body first.
        app.before_request_funcs.setdefault(None, []).insert(
            0, _body_cap(RequestLimits.from_settings(settings))
        )
        app.register_blueprint(_blueprint())
        state.metrics = install_operations(app, state)
        app.register_error_handler(BlendkitError, error_handler)
        app.register_error_handler(SQLAlchemyError, database_error_handler)

    # -- application hooks --------------------------------------------------------------------

    def on_launch(self, handler: LaunchHandler) -> LaunchHandler:
        """Register what happens after a valid launch: ``handler(launch, launch_id)``."""
        self._launch_handler = handler
        for state in self._states:
            state.launch_handler = handler
        return handler

    @staticmethod
    def state(app: Flask | None = None) -> BlendkitState:
        """The extension state of ``app`` (default: the current app)."""
        target = app or current_app
        try:
            return cast(BlendkitState, target.extensions[EXTENSION_KEY])
        except KeyError as exc:
            raise RuntimeError("Blendkit(app) was not initialised on this Flask app") from exc

    @staticmethod
    def watch_outbox(outbox: Outbox, app: Flask | None = None) -> None:
        """Report ``outbox`` (counts, oldest pending age, breaker) on ``/metrics`` scrapes;
        nothing to do when metrics are off."""
        metrics = Blendkit.state(app).metrics
        if metrics is not None:
            metrics.watch_outbox(outbox)

    @staticmethod
    def current_launch(required: bool = True) -> Launch | None:
        """The launch named by the ``launch`` parameter of the current request.

        Raises :class:`LaunchRejected` (401, ``lti.launch_session_expired``) when the id is missing,
        unknown or expired and ``required`` is true.
        """
        if "blendkit_launch" in g:
            return cast(Launch, g.blendkit_launch)
        launch_id = Blendkit.current_launch_id()
        if not launch_id:
            if not required:
                return None
            raise LaunchRejected(
                "this page needs a launch from your course; open the tool from the LMS",
                code="lti.launch_session_expired",
                http_status=401,
            )
        launch = Blendkit.state().launches.get(launch_id)
        g.blendkit_launch = launch
        return launch

    # -- LTI Advantage for a launch -----------------------------------------------------------

    @staticmethod
    def advantage() -> Advantage:
        """AGS, NRPS and deep linking for launches of the current app (shared token cache)."""
        return Blendkit.state().advantage

    @staticmethod
    def grades(launch: Launch) -> AssignmentGradeService:
        """Assignment and Grade Services for the launch's context (line items, scores, results)."""
        return Blendkit.state().advantage.ags(launch)

    @staticmethod
    def roster(launch: Launch) -> NamesRoleService:
        """Names and Role Provisioning Services for the launch's context (paged roster)."""
        return Blendkit.state().advantage.nrps(launch)

    @staticmethod
    def deep_linking_response(launch: Launch, items: list[ContentItem]) -> FlaskResponse:
        """The auto-submitting page that returns ``items`` to the platform (signed JWT).

        Single use: the request's launch session is consumed here, so a second submit for it
        raises ``lti.deep_linking_already_answered`` (409) instead of signing again.
        """
        answer = Blendkit.state().deep_linking_answer(launch, items, Blendkit.current_launch_id())
        return to_flask_response(answer)

    @staticmethod
    def current_launch_id() -> str | None:
        """The ``launch`` id carried by the current request (query, form or header)."""
        return (
            request.args.get(LAUNCH_PARAM)
            or request.form.get(LAUNCH_PARAM)
            or request.headers.get(LAUNCH_HEADER)
        )


def in_one_transaction(view: _View) -> _View:
    """Run a view in one store transaction (:meth:`blendkit.Store.unit_of_work`).

    Every blendkit service the view calls joins it: a page that reads the launch, the course and
    the learner's evidence costs one connection checkout and one commit instead of one per call,
    and a view that raises leaves no partial writes. Keep it off views that call slow external
    services after writing (the transaction stays open until the view returns).
    """

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with Blendkit.state().store.unit_of_work():
            return view(*args, **kwargs)

    return cast(_View, wrapper)


def _body_cap(limits: RequestLimits) -> Callable[[], None]:
    """A before-request hook applying ``limits`` before any byte of the body is read."""

    def cap_body() -> None:
        cap = limits.check_declared(request.path, request.content_length)
        environ = request.environ
        environ["wsgi.input"] = CappedStream(environ["wsgi.input"], cap)

    return cap_body


def _blueprint() -> Blueprint:
    bp = Blueprint("blendkit_lti", __name__, url_prefix="/lti")

    @bp.route("/login", methods=["GET", "POST"])
    def login() -> FlaskResponse:
        return to_flask_response(Blendkit.state().login(from_flask_request()))

    @bp.route("/launch", methods=["GET", "POST"])
    def launch() -> ResponseReturnValue:
        state = Blendkit.state()
        # One transaction for the whole launch: the login state and nonce it consumes, the
        # launch session it keeps and whatever the app's handler writes commit together, or
        # none of them does (a refused or failed launch leaves nothing behind).
        with state.store.unit_of_work():
            outcome = state.launch(from_flask_request())
            if isinstance(outcome, HttpResponse):  # the platform-storage bridge page
                return to_flask_response(outcome)
            launch_id = state.launches.save(outcome)
            g.blendkit_launch = outcome
            return state.launch_handler(outcome, launch_id)  # Tool.launch logged the acceptance

    @bp.get("/jwks")
    def jwks() -> FlaskResponse:
        return to_flask_response(Blendkit.state().jwks())

    @bp.route("/register", methods=["GET", "POST"])
    def register() -> FlaskResponse:
        return to_flask_response(Blendkit.state().register(from_flask_request()))

    @bp.get("/canvas.json")
    def canvas_json() -> FlaskResponse:
        return to_flask_response(Blendkit.state().canvas_json())

    return bp


def database_error_handler(error: SQLAlchemyError) -> ResponseReturnValue:
    """A database error as a ``store.database`` refusal (500), rendered by the app's handler
    for blendkit errors; logged by class and code only (its text may quote learner data).

    A connection-class error (refused, dropped, pool exhausted) is an outage, not a bug: 503
    ``store.unavailable`` with ``Retry-After`` and one warning line."""
    if database_unavailable(error) is not None:
        return unavailable_response(error)
    summary = describe_database_error(error)
    log.error("database error on %s %s: %s", request.method, request.path, summary)
    refused = StoreError(
        f"the database could not complete this request ({summary}); the server log has the "
        "same line with the time: check the database's health, or the data this launch sent",
        code="store.database",
    )
    return current_app.handle_user_exception(refused)


def outage_response(error: BaseException) -> FlaskResponse | None:
    """The 503 + ``Retry-After`` answer (and its one log line) when ``error`` comes from a
    database that does not answer, else ``None``: for apps with their own error handler."""
    cause = database_unavailable(error)
    return None if cause is None else unavailable_response(cause)


_OWN_BLUEPRINTS = frozenset({"blendkit_lti", "blendkit_ops"})


def _host_route_wants_json() -> bool:
    """True on the host app's own routes when the client prefers JSON to HTML."""
    if request.blueprint in _OWN_BLUEPRINTS:
        return False
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return best == "application/json"


def error_handler(error: BlendkitError) -> FlaskResponse:
    """Render any blendkit error as a page naming its code (registered by ``init_app``).

    blendkit's own routes always answer the page (a browser in the LMS frame reads it); the host
    app's routes answer ``{"error": code, "message": ...}`` JSON to clients that ask for JSON."""
    outage = outage_response(error)
    if outage is not None:
        return outage
    # Code and message only: they never contain tokens, cookies or secrets.
    return to_flask_response(ToolRuntime.refusal(error, as_json=_host_route_wants_json()))
