"""blendkit's views: the LTI endpoints platforms call and the operator endpoints.

The endpoints that platforms (or a browser sent by a platform) POST to — login, launch and
registration — are exempt from Django's CSRF check: a platform's form post carries no Django
CSRF token. They are protected by the LTI protocol instead: the launch must present the
``state`` the login handed out (bound to this browser) and a signed ``id_token`` whose ``nonce``
is used once; a registration must carry a single-use invite. Every other view of the project
stays under ``CsrfViewMiddleware``.

The same three are shown inside the platform's frame, so they are exempt from
``XFrameOptionsMiddleware`` (``X-Frame-Options: DENY`` would blank the launch in the LMS); mark
the project's own pages in the frame with ``@xframe_options_exempt`` too.

Each view answers blendkit and database errors itself (the refusal page, or 503 + Retry-After
for an outage), so these routes behave the same with or without the middleware.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from html import escape

from django.conf import settings as django_settings
from django.http import HttpRequest as DjangoRequest
from django.http import HttpResponse as DjangoResponse
from django.utils.module_loading import import_string
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from blendkit.integrations._runtime import ToolRuntime, json_response
from blendkit.integrations.django._state import LAUNCH_HANDLER_SETTING, get_runtime
from blendkit.integrations.django._translate import (
    answer_failure,
    from_django_request,
    to_django_response,
)
from blendkit.integrations.django.middleware import keep_launch
from blendkit.lti import HttpRequest, HttpResponse, Launch

__all__ = [
    "LaunchHandler",
    "calendar_feed",
    "canvas_json",
    "default_launch_page",
    "healthz",
    "jwks",
    "launch",
    "login",
    "metrics",
    "readyz",
    "register",
]

LaunchHandler = Callable[[DjangoRequest, Launch, str], DjangoResponse]
_View = Callable[[DjangoRequest], DjangoResponse]


def _answering_errors(view: _View) -> _View:
    @functools.wraps(view)
    def wrapper(request: DjangoRequest) -> DjangoResponse:
        try:
            return view(request)
        except Exception as error:
            answer = answer_failure(request, error)
            if answer is None:
                raise
            return answer

    return wrapper


def default_launch_page(request: DjangoRequest, launch: Launch, launch_id: str) -> DjangoResponse:
    """Used when ``BLENDKIT_LAUNCH_HANDLER`` is not set: a plain page proving the launch worked."""
    title = launch.context.title if launch.context and launch.context.title else "(no course)"
    role = "instructor" if launch.is_instructor else "learner" if launch.is_learner else "other"
    body = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>blendkit</title>"
        f"</head><body><h1>{escape(title)}</h1><p>Signed in as {escape(launch.user.sub)} "
        f"({escape(role)}).</p></body></html>"
    )
    return to_django_response(
        HttpResponse(
            status=200,
            headers=(("Content-Type", "text/html; charset=utf-8"), ("Cache-Control", "no-store")),
            body=body,
        )
    )


def _launch_handler() -> LaunchHandler:
    named = getattr(django_settings, LAUNCH_HANDLER_SETTING, None)
    if not named:
        return default_launch_page
    handler: LaunchHandler = import_string(named) if isinstance(named, str) else named
    return handler


@csrf_exempt
@xframe_options_exempt
@require_http_methods(["GET", "POST"])
@_answering_errors
def login(request: DjangoRequest) -> DjangoResponse:
    """OIDC login initiation (the platform's GET redirect or form POST)."""
    return to_django_response(get_runtime().login(from_django_request(request)))


@csrf_exempt
@xframe_options_exempt
@require_http_methods(["GET", "POST"])
@_answering_errors
def launch(request: DjangoRequest) -> DjangoResponse:
    """The launch the platform form-posts: validated, kept, then handed to the app's handler
    (``BLENDKIT_LAUNCH_HANDLER``) in one store transaction, so a refused or failed launch
    leaves nothing behind."""
    runtime = get_runtime()
    with runtime.store.unit_of_work():
        outcome = runtime.launch(from_django_request(request))
        if isinstance(outcome, HttpResponse):  # the platform-storage bridge page
            return to_django_response(outcome)
        launch_id = runtime.launches.save(outcome)
        keep_launch(request, outcome, launch_id)
        return _launch_handler()(request, outcome, launch_id)


@require_GET
@_answering_errors
def jwks(request: DjangoRequest) -> DjangoResponse:
    """The tool's public keys."""
    return to_django_response(get_runtime().jwks())


@csrf_exempt
@xframe_options_exempt
@require_http_methods(["GET", "POST"])
@_answering_errors
def register(request: DjangoRequest) -> DjangoResponse:
    """Dynamic registration (off unless ``[lti] registration_enabled``; needs an invite)."""
    return to_django_response(get_runtime().register(from_django_request(request)))


@require_GET
@_answering_errors
def canvas_json(request: DjangoRequest) -> DjangoResponse:
    """The Canvas developer-key configuration."""
    return to_django_response(get_runtime().canvas_json())


@require_GET
def healthz(request: DjangoRequest) -> DjangoResponse:
    """The process answers (no database call, no runtime built)."""
    return to_django_response(ToolRuntime.health())


@require_GET
@_answering_errors
def readyz(request: DjangoRequest) -> DjangoResponse:
    """200 when the database answers and migrations are current, else 503."""
    return to_django_response(get_runtime().readiness())


@require_GET
@_answering_errors
def metrics(request: DjangoRequest) -> DjangoResponse:
    """Prometheus metrics for a bearer of ``[metrics] token``; 404 when no token is set, or
    when ``[metrics] bind`` serves them on their own address."""
    runtime = get_runtime()
    token = runtime.settings.metrics.token
    if token is None or runtime.metrics is None or runtime.settings.metrics.bind is not None:
        return to_django_response(json_response({"status": "not found"}, 404))
    from blendkit.operations.metrics import bearer_token_matches

    if not bearer_token_matches(request.headers.get("Authorization"), token):
        return to_django_response(
            json_response(
                {"status": "unauthorized"},
                401,
                headers=(("WWW-Authenticate", 'Bearer realm="metrics"'),),
            )
        )
    body, content_type = runtime.metrics.exposition()
    response = DjangoResponse(body, status=200, content_type=content_type)
    response.headers["Cache-Control"] = "no-store"
    return response


@require_GET
def calendar_feed(request: DjangoRequest, token: str) -> DjangoResponse:
    """``calendar/<token>.ics``: the calendar feed the secret token opens (no login; 304 when the
    client's copy is current; 404 for a token that opens nothing)."""

    def answer(request: DjangoRequest) -> DjangoResponse:
        asked = HttpRequest(method=request.method or "GET", headers=dict(request.headers))
        return to_django_response(get_runtime().calendar_feed(asked, token))

    return _answering_errors(answer)(request)
