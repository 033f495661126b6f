"""Starlette (and FastAPI) adapter: async routes over the framework-neutral tool runtime.

    bk = Blendkit(settings=settings)

    @bk.on_launch
    async def launched(request: Request, launch: Launch, launch_id: str) -> Response:
        return RedirectResponse(f"/course?launch={launch_id}", status_code=303)

    app = Starlette(routes=[...], lifespan=bk.lifespan)   # or FastAPI(lifespan=bk.lifespan)
    bk.install(app)                                       # or: app = create_app(bk, routes=[...])

``install`` adds ``/lti/login`` (GET and POST), ``/lti/launch``, ``/lti/jwks``, ``/lti/register``,
``/lti/canvas.json``, ``/healthz``, ``/readyz`` and, with ``[metrics] token``, ``/metrics``; the
body cap (:class:`~blendkit.limits.RequestLimits`) as ASGI middleware below everything else; and
error handlers: blendkit's routes answer blendkit errors with the runtime's refusal page, the
host's routes with JSON (``{"error": <code>, "message": ...}``) unless the browser asked for HTML,
and a database that does not answer makes any route answer 503 with ``Retry-After`` and one
log line.

The runtime is built when the app starts (``lifespan``) and its HTTP clients are closed when it
stops. The store is synchronous: every store call runs in Starlette's thread pool
(``run_in_threadpool``) until the store has an async path. The platform's JWKS fetch and the LTI
Advantage calls (:meth:`Blendkit.grades`, :meth:`Blendkit.roster`) go through one
``httpx.AsyncClient`` and the outbound fence's async path, with the retry policy of the
synchronous services.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
from sqlalchemy.exc import SQLAlchemyError

try:
    import starlette  # noqa: F401  # only to name the extra when it is missing
except ImportError as missing:  # pragma: no cover - depends on the installed extras
    raise ImportError(
        "blendkit.integrations.starlette needs Starlette: pip install 'blendkit[starlette]' "
        "(or 'blendkit[fastapi]')"
    ) from missing
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route

from blendkit.config import Settings, load_settings
from blendkit.errors import BlendkitError, LaunchRejected
from blendkit.http import Fence
from blendkit.integrations._asgi_middleware import (
    ANSWERED_KEY,
    BodyCapMiddleware,
    TimingMiddleware,
)
from blendkit.integrations._csrf import CSRF_FIELD, CSRF_HEADER, LaunchCsrf
from blendkit.integrations._runtime import (
    LAUNCH_HEADER,
    LAUNCH_PARAM,
    ToolRuntime,
    json_response,
)
from blendkit.integrations._starlette_guards import launch_required, require_role
from blendkit.integrations._starlette_http import (
    default_launch_page,
    from_starlette_request,
    to_starlette_response,
)
from blendkit.integrations._starlette_runtime import (
    LoopJWKSFetcher,
    StarletteRuntime,
    redact_uvicorn_access_log,
)
from blendkit.limits import RequestLimits
from blendkit.lti import (
    AsyncAdvantage,
    AsyncAssignmentGradeService,
    AsyncHttpxJWKSFetcher,
    AsyncNamesRoleService,
    ContentItem,
    HttpRequest,
    HttpResponse,
    HttpxJWKSFetcher,
    Launch,
)
from blendkit.operations import database_unavailable, unavailable_error
from blendkit.store import Store

__all__ = [
    "AsyncLaunchHandler",
    "Blendkit",
    "CSRF_FIELD",
    "CSRF_HEADER",
    "LaunchCsrf",
    "StarletteRuntime",
    "create_app",
    "from_starlette_request",
    "launch_required",
    "require_role",
    "to_starlette_response",
]

AsyncLaunchHandler = Callable[[Request, Launch, str], Awaitable[Response]]
"""``handler(request, launch, launch_id)``: what the app answers after a valid launch."""
STATE_KEY = "blendkit"


class Blendkit:
    """The adapter for one Starlette or FastAPI app (see the module docstring)."""

    def __init__(
        self,
        *,
        settings: Settings | None = None,
        store: Store | None = None,
        http_client: httpx.Client | None = None,
        async_client: httpx.AsyncClient | None = None,
        fence: Fence | None = None,
        migrate: bool = False,
        prefix: str = "/lti",
    ) -> None:
        self._settings = settings
        self._store = store
        self._http_client = http_client
        self._async_client = async_client
        self._fence = fence
        self._migrate = migrate
        self.prefix = prefix
        self.launch_handler: AsyncLaunchHandler = default_launch_page
        self._runtime: StarletteRuntime | None = None
        self._app: Any = None
        self._limits = RequestLimits.from_settings(settings) if settings else None

    # -- lifecycle ----------------------------------------------------------------------------

    def build(self) -> StarletteRuntime:
        """Build the runtime now (the lifespan does it at startup; tests may call it)."""
        settings = self._settings or load_settings()
        fence = self._fence or Fence.from_settings(settings)
        timeout = settings.lti.http_timeout_seconds
        owns_async = self._async_client is None
        client = self._async_client or httpx.AsyncClient(timeout=timeout, follow_redirects=False)
        sync_client = self._http_client or httpx.Client(timeout=timeout, follow_redirects=False)
        fetcher = LoopJWKSFetcher(
            AsyncHttpxJWKSFetcher(client, timeout=timeout, fence=fence),
            HttpxJWKSFetcher(sync_client, timeout=timeout, fence=fence),
        )
        try:
            runtime = StarletteRuntime.build(
                settings=settings,
                store=self._store,
                http_client=sync_client,
                fence=fence,
                migrate=self._migrate,
                jwks_fetcher=fetcher,
            )
            runtime.csrf = LaunchCsrf.from_settings(settings, runtime.store)
        except BaseException:
            if self._http_client is None:
                sync_client.close()  # the async client has sent nothing: no connection to close
            raise
        runtime.owns_http_client = self._http_client is None
        runtime.async_client = client
        runtime.owns_async_client = owns_async
        runtime.async_advantage = AsyncAdvantage(runtime.advantage, client)
        if settings.metrics.token is not None:
            from blendkit.operations.metrics import Metrics

            runtime.metrics = Metrics()
        self._limits = RequestLimits.from_settings(settings)
        self._runtime = runtime
        return runtime

    @asynccontextmanager
    async def lifespan(self, app: Any) -> AsyncIterator[None]:
        """Build the runtime at startup (in a worker thread) and close its clients at shutdown;
        pass as ``lifespan=`` or enter it from the app's own lifespan."""
        runtime = await run_in_threadpool(self.build)
        app.state.blendkit = self
        redact_uvicorn_access_log()
        try:
            yield
        finally:
            await runtime.aclose()
            self._runtime = None

    @property
    def runtime(self) -> StarletteRuntime:
        """The running app's runtime; an error naming the fix when the app has not started."""
        if self._runtime is None:
            raise RuntimeError(
                "blendkit is not started: pass lifespan=bk.lifespan to the Starlette/FastAPI "
                "app (or enter bk.lifespan(app) in the app's own lifespan)"
            )
        return self._runtime

    # -- installing ---------------------------------------------------------------------------

    def on_launch(self, handler: AsyncLaunchHandler) -> AsyncLaunchHandler:
        """Register what happens after a valid launch: ``await handler(request, launch, id)``."""
        self.launch_handler = handler
        return handler

    def install(self, app: Starlette) -> None:
        """Add blendkit's routes, the body cap, timing and error handling to ``app``.

        Call it after adding the app's own middleware: the body cap must be the outermost
        layer, so that no middleware reads a body before it applies."""
        if self._app is not None and self._app is not app:
            raise RuntimeError("this Blendkit is installed on another app; make one per app")
        self._app = app
        app.state.blendkit = self
        named = self._named_routes()
        app.router.routes.extend(self._grouped(named))
        names = {route.endpoint: route.name for route in named}
        app.add_middleware(TimingMiddleware, observe=self._observe, names=names)
        app.add_middleware(BodyCapMiddleware, limits=self.limits, refuse=self.failure)
        app.add_exception_handler(BlendkitError, self._error)
        app.add_exception_handler(SQLAlchemyError, self._error)

    def limits(self) -> RequestLimits:
        """The body caps in force (from the settings given, else the running runtime's)."""
        return self._limits or RequestLimits.from_settings(self.runtime.settings)

    def _observe(self, name: str, seconds: float, launch: bool) -> None:
        runtime = self._runtime
        if runtime is not None and runtime.metrics is not None:
            runtime.metrics.observe_request(name, seconds, launch=launch)

    def _named_routes(self) -> list[Route]:
        from blendkit.integrations._starlette_operations import operation_routes

        lti = [
            Route("/login", self._login, methods=["GET", "POST"], name="blendkit_lti.login"),
            Route("/launch", self._launch, methods=["GET", "POST"], name="blendkit_lti.launch"),
            Route("/jwks", self._jwks, methods=["GET"], name="blendkit_lti.jwks"),
            Route(
                "/register", self._register, methods=["GET", "POST"], name="blendkit_lti.register"
            ),
            Route("/canvas.json", self._canvas, methods=["GET"], name="blendkit_lti.canvas_json"),
        ]
        return lti + operation_routes(self)

    def routes(self) -> list[BaseRoute]:
        """``Mount(prefix, routes=[LTI routes])`` and the operator routes, for ``routes=``."""
        return self._grouped(self._named_routes())

    def _grouped(self, named: list[Route]) -> list[BaseRoute]:
        lti = [r for r in named if r.name.startswith("blendkit_lti.")]
        ops = [r for r in named if not r.name.startswith("blendkit_lti.")]
        return [Mount(self.prefix, routes=list(lti), name="blendkit_lti"), *ops]

    # -- blendkit's routes --------------------------------------------------------------------

    async def _login(self, request: Request) -> Response:
        answer = await run_in_threadpool(self.runtime.login, await from_starlette_request(request))
        return to_starlette_response(answer)

    def _validate_and_keep(self, request: HttpRequest) -> tuple[Launch | HttpResponse, str]:
        runtime = self.runtime
        # One transaction: the login state and nonce consumed and the launch session kept
        # commit together, or none of them does (a refused launch leaves nothing behind).
        with runtime.store.unit_of_work():
            outcome = runtime.launch(request)
            if isinstance(outcome, HttpResponse):  # the platform-storage bridge page
                return outcome, ""
            return outcome, runtime.launches.save(outcome)

    async def _launch(self, request: Request) -> Response:
        outcome, launch_id = await run_in_threadpool(
            self._validate_and_keep, await from_starlette_request(request)
        )
        if isinstance(outcome, HttpResponse):
            return to_starlette_response(outcome)
        request.state.lti_launch = outcome
        request.state.lti_launch_id = launch_id
        return await self.launch_handler(request, outcome, launch_id)

    async def _jwks(self, request: Request) -> Response:
        del request
        return to_starlette_response(await run_in_threadpool(self.runtime.jwks))

    async def _register(self, request: Request) -> Response:
        answer = await run_in_threadpool(
            self.runtime.register, await from_starlette_request(request)
        )
        return to_starlette_response(answer)

    async def _canvas(self, request: Request) -> Response:
        del request
        return to_starlette_response(self.runtime.canvas_json())

    # -- errors -------------------------------------------------------------------------------

    def failure(
        self, error: BaseException, method: str, path: str, accept: str
    ) -> HttpResponse | None:
        """The answer to a blendkit or database error (``None`` for any other error): the
        refusal page on blendkit's routes and for browsers (``Accept: text/html``), JSON
        ``{"error": code, "message": ...}`` on the host's routes; an outage is 503 +
        ``Retry-After`` either way. Logged once, by :meth:`ToolRuntime.failure`."""
        answer = ToolRuntime.failure(error, method, path)
        if answer is None:
            return None
        ours = path.startswith(self.prefix + "/") or path in {"/healthz", "/readyz", "/metrics"}
        if ours or "text/html" in accept:
            return answer
        if database_unavailable(error) is not None:
            code, message = unavailable_error().code, unavailable_error().message
        elif isinstance(error, BlendkitError):
            code, message = error.code, error.message
        else:  # the server log has the database's words; the answer names the class of fault
            code, message = "store.database", "the database could not complete this request"
        headers = tuple((k, v) for k, v in answer.headers if k.lower() == "retry-after")
        return json_response({"error": code, "message": message}, answer.status, headers=headers)

    async def _error(self, request: Request, error: Exception) -> Response:
        if request.scope.get(ANSWERED_KEY) is error:
            # The body cap answered 413 and logged it; this answer is never sent.
            return Response(status_code=413)
        answer = self.failure(
            error, request.method, request.url.path, request.headers.get("accept", "")
        )
        if answer is None:
            raise error
        return to_starlette_response(answer)

    # -- helpers for the host app -------------------------------------------------------------

    @staticmethod
    def of(request: Request) -> Blendkit:
        """The adapter installed on the request's app."""
        adapter = getattr(request.app.state, STATE_KEY, None)
        if not isinstance(adapter, Blendkit):
            raise RuntimeError("no Blendkit is installed on this app (bk.install(app))")
        return adapter

    @staticmethod
    async def launch_id(request: Request) -> str | None:
        """The ``launch`` id the request carries (query, form or ``X-Blendkit-Launch``)."""
        kept = getattr(request.state, "lti_launch_id", None)
        if kept:
            return str(kept)
        found = request.query_params.get(LAUNCH_PARAM) or request.headers.get(LAUNCH_HEADER)
        if not found and request.method == "POST":
            value = (await request.form()).get(LAUNCH_PARAM)
            found = value if isinstance(value, str) else None
        return found or None

    async def current_launch(self, request: Request) -> Launch:
        """The launch the request names, kept in ``request.state.lti_launch``; 401
        ``lti.launch_session_expired`` when it is missing, unknown or expired."""
        kept = getattr(request.state, "lti_launch", None)
        if isinstance(kept, Launch):
            return kept
        launch_id = await self.launch_id(request)
        if not launch_id:
            raise LaunchRejected(
                "this page needs a launch from your course; open the tool from the LMS",
                code="lti.launch_session_expired",
                http_status=401,
            )
        launch = await run_in_threadpool(self.runtime.launches.get, launch_id)
        request.state.lti_launch = launch
        request.state.lti_launch_id = launch_id
        return launch

    async def grades(self, launch: Launch) -> AsyncAssignmentGradeService:
        """Assignment and Grade Services for the launch's context, over the async client."""
        assert self.runtime.async_advantage is not None
        return await self.runtime.async_advantage.ags(launch)

    async def roster(self, launch: Launch) -> AsyncNamesRoleService:
        """Names and Role Provisioning for the launch's context, over the async client."""
        assert self.runtime.async_advantage is not None
        return await self.runtime.async_advantage.nrps(launch)

    async def deep_linking_response(
        self, request: Request, launch: Launch, items: list[ContentItem]
    ) -> Response:
        """The auto-submitting page returning ``items`` to the platform (signed JWT); single
        use: a second answer for the same launch is ``lti.deep_linking_already_answered``."""
        launch_id = await self.launch_id(request)
        answer = await run_in_threadpool(self.runtime.deep_linking_answer, launch, items, launch_id)
        return to_starlette_response(answer)

    def csrf_token(self, launch_id: str) -> str:
        """The CSRF token the host's forms for ``launch_id`` carry (field :data:`CSRF_FIELD`)."""
        assert self.runtime.csrf is not None
        return self.runtime.csrf.token(launch_id)

    async def verify_csrf(self, request: Request) -> None:
        """Refuse the host's state-changing request without a token for its launch (403
        ``app.csrf_failed``); safe methods pass."""
        if request.method in {"GET", "HEAD", "OPTIONS"}:
            return
        sent = request.headers.get(CSRF_HEADER)
        if sent is None:
            value = (await request.form()).get(CSRF_FIELD)
            sent = value if isinstance(value, str) else None
        assert self.runtime.csrf is not None
        self.runtime.csrf.verify(await self.launch_id(request), sent)


def create_app(
    adapter: Blendkit | None = None,
    *,
    routes: list[BaseRoute] | None = None,
    debug: bool = False,
    **options: Any,
) -> Starlette:
    """A Starlette app with blendkit installed and its lifespan (``options`` build the adapter
    when none is given: ``settings=``, ``store=`` …)."""
    bk = adapter or Blendkit(**options)
    app = Starlette(debug=debug, routes=list(routes or []), lifespan=bk.lifespan)
    bk.install(app)
    return app
