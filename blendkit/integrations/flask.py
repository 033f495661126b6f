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

Everything built for an app lives in ``app.extensions["blendkit"]`` (:class:`BlendkitState`), so
one extension serves several apps; :meth:`Blendkit.close` (or the app being garbage-collected)
closes the HTTP client and the store's pool it created. ``init_app`` migrates the database only
outside production (``[tool] environment``); production runs ``blendkit db upgrade``. blendkit's
HTML error page answers its own routes and views decorated with :meth:`Blendkit.launch_required`;
the app's other routes get JSON errors for JSON requests and the app's own HTTP error handlers
otherwise.
"""

from __future__ import annotations

import functools
import logging
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypedDict, TypeVar, Unpack, cast, overload

import httpx
from flask import Blueprint, Flask, current_app, g, request
from flask import Response as FlaskResponse
from flask.typing import ResponseReturnValue
from sqlalchemy.exc import SQLAlchemyError

from blendkit.config import Settings, load_settings
from blendkit.errors import BlendkitError, LaunchRejected
from blendkit.http import Fence
from blendkit.integrations._flask_answers import (
    BLENDKIT_PAGE,
    database_error_handler,
    default_launch_page,
    error_handler,
    outage_response,
    to_flask_response,
)
from blendkit.integrations._flask_json import guard_json_depth
from blendkit.integrations._flask_operations import install_operations
from blendkit.integrations._runtime import LAUNCH_HEADER, LAUNCH_PARAM, ToolRuntime
from blendkit.integrations.access_log import install_werkzeug_redaction
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
from blendkit.notify import NotificationQueue
from blendkit.store import Store
from blendkit.xapi import Outbox

__all__ = [
    "Blendkit",
    "BlendkitOptions",
    "BlendkitState",
    "EXTENSION_KEY",
    "LaunchHandler",
    "database_error_handler",
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


class BlendkitOptions(TypedDict, total=False):
    """What ``Blendkit(...)`` (defaults for every app) and ``init_app(app, ...)`` (this app)
    accept; anything left out is built from the settings."""

    settings: Settings
    store: Store
    http_client: httpx.Client
    """A client passed in stays open when the app is closed."""
    fence: Fence
    migrate: bool | None
    """Upgrade the database schema first (default: unless ``[tool] environment`` is
    production, where ``blendkit db upgrade`` does it)."""


@dataclass
class BlendkitState(ToolRuntime):
    """What the extension keeps in ``app.extensions["blendkit"]``: the shared
    :class:`~blendkit.integrations._runtime.ToolRuntime` plus the app's own launch handler."""

    launch_handler: LaunchHandler | None = None
    """This app's handler (``Blendkit.on_launch(app=app)``); ``None``: the extension's."""
    metrics: Any = None
    """The app's :class:`blendkit.operations.metrics.Metrics` (``None``: no ``[metrics] token``)."""
    extension: Blendkit | None = field(default=None, repr=False)
    closer: weakref.finalize[Any, Any] | None = field(default=None, repr=False)

    def handler(self) -> LaunchHandler:
        """The app's handler, else the extension's, else a plain page proving the launch."""
        if self.launch_handler is not None:
            return self.launch_handler
        if self.extension is not None and self.extension.launch_handler is not None:
            return self.extension.launch_handler
        return default_launch_page


class Blendkit:
    """The Flask extension: ``Blendkit(app)`` or ``Blendkit().init_app(app)``.

    The extension object holds only defaults (settings, store, client, fence, migrate and a
    launch handler) that apply to every app it initialises later; everything built for an app
    lives in that app's ``app.extensions["blendkit"]``, so one extension can serve several apps
    (tests, app factories) without sharing their handlers, clients or metrics.
    """

    def __init__(self, app: Flask | None = None, **defaults: Unpack[BlendkitOptions]) -> None:
        self._defaults = defaults
        self.launch_handler: LaunchHandler | None = None
        """The handler of every app without one of its own (set by :meth:`on_launch`)."""
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask, **options: Unpack[BlendkitOptions]) -> None:
        """Build the tool for ``app`` and register the ``/lti`` blueprint.

        Arguments override the extension's defaults for this app only. ``migrate`` (default:
        the extension's, else true unless ``[tool] environment`` is production) upgrades the
        database first; production deployments run ``blendkit db upgrade`` instead, and a
        schema that is not current is logged once here and reported by ``/readyz``.
        """
        install_werkzeug_redaction()  # the development server's request log
        chosen = BlendkitOptions(**self._defaults)
        chosen.update(cast(BlendkitOptions, {k: v for k, v in options.items() if v is not None}))
        settings = chosen.get("settings") or load_settings()
        migrate = chosen.get("migrate")
        if migrate is None:
            migrate = not settings.tool.production
        state = BlendkitState.build(
            settings=settings,
            store=chosen.get("store"),
            http_client=chosen.get("http_client"),
            fence=chosen.get("fence"),
            migrate=migrate,
        )
        if not migrate:
            state.warn_unless_ready()
        state.extension = self
        # The app holds the state, never the reverse: the finaliser runs when the app is
        # collected (Flask has no shutdown hook) and closes the client the runtime created.
        state.closer = weakref.finalize(app, state.close)
        app.extensions[EXTENSION_KEY] = state
        # First of all hooks, so no other hook (a CSRF check reading the form) sees the body first.
        app.before_request_funcs.setdefault(None, []).insert(
            0, _body_cap(RequestLimits.from_settings(settings))
        )
        guard_json_depth(app)  # request JSON too deep to decode: 400, not RecursionError
        app.register_blueprint(_blueprint())
        state.metrics = install_operations(app, state)
        app.register_error_handler(BlendkitError, error_handler)
        app.register_error_handler(SQLAlchemyError, database_error_handler)

    # -- application hooks --------------------------------------------------------------------

    @overload
    def on_launch(self, handler: LaunchHandler, *, app: None = None) -> LaunchHandler: ...

    @overload
    def on_launch(
        self, handler: None = None, *, app: Flask | None = None
    ) -> Callable[[LaunchHandler], LaunchHandler]: ...

    def on_launch(
        self, handler: LaunchHandler | None = None, *, app: Flask | None = None
    ) -> LaunchHandler | Callable[[LaunchHandler], LaunchHandler]:
        """Register what happens after a valid launch: ``handler(launch, launch_id)``.

        ``@bk.on_launch`` sets the handler of every app this extension serves that has none of
        its own (apps initialised before or after); ``@bk.on_launch(app=app)`` sets ``app``'s
        handler only.
        """

        state = None if app is None else Blendkit.state(app)  # refuses an app never initialised

        def register(chosen: LaunchHandler) -> LaunchHandler:
            if state is None:
                self.launch_handler = chosen
            else:
                state.launch_handler = chosen
            return chosen

        return register if handler is None else register(handler)

    @staticmethod
    def close(app: Flask) -> None:
        """Close what the extension built for ``app`` (its HTTP client and store's pool, unless
        passed in) and forget the app's state. Harmless when called twice; the same happens on
        its own when ``app`` is garbage-collected."""
        state = app.extensions.pop(EXTENSION_KEY, None)
        if isinstance(state, BlendkitState):
            if state.closer is not None:
                state.closer()
            else:
                state.close()

    @staticmethod
    def launch_required(view: _View) -> _View:
        """Decorate a view that serves launched users: it answers blendkit's error page (not the
        app's idiom) for a missing or expired launch and any other blendkit error, and the view
        finds the launch with :meth:`current_launch`."""

        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            Blendkit.current_launch()
            return view(*args, **kwargs)

        setattr(wrapper, BLENDKIT_PAGE, True)
        return cast(_View, wrapper)

    @staticmethod
    def state(app: Flask | None = None) -> BlendkitState:
        """The extension state of ``app`` (default: the current app)."""
        target = app or current_app
        try:
            return cast(BlendkitState, target.extensions[EXTENSION_KEY])
        except KeyError as exc:
            raise RuntimeError(
                "blendkit is not set up on this Flask app: call Blendkit(app) or init_app(app)"
            ) from exc

    @staticmethod
    def watch_outbox(outbox: Outbox, app: Flask | None = None) -> None:
        """Report ``outbox`` (counts, oldest pending age, breaker) on ``/metrics`` scrapes;
        nothing to do when metrics are off."""
        metrics = Blendkit.state(app).metrics
        if metrics is not None:
            metrics.watch_outbox(outbox)

    @staticmethod
    def watch_notifications(
        queue: NotificationQueue,
        app: Flask | None = None,
        *,
        notifiers: Sequence[str] | None = None,
    ) -> None:
        """Report ``queue`` (reminders by state, oldest pending age, what each of ``notifiers``
        sent or gave up on; default: every installed notifier) on ``/metrics`` scrapes; nothing
        to do when metrics are off."""
        metrics = Blendkit.state(app).metrics
        if metrics is not None:
            metrics.watch_notifications(queue, notifiers)

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
            return state.handler()(outcome, launch_id)  # Tool.launch logged the acceptance

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
