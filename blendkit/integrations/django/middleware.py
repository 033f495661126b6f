"""``BlendkitMiddleware``: the body cap, ``request.lti_launch``, blendkit errors in Django's idiom
and request timing for ``/metrics``.

Add it near the top of ``MIDDLEWARE`` (before ``CsrfViewMiddleware``, which reads the body of a
POST, so that an oversized body is refused before anyone reads it)::

    MIDDLEWARE = [
        "django.middleware.security.SecurityMiddleware",
        "blendkit.integrations.django.middleware.BlendkitMiddleware",
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        ...
    ]
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from django.http import HttpRequest as DjangoRequest
from django.http import HttpResponse as DjangoResponse
from django.urls import Resolver404, resolve
from django.utils.functional import SimpleLazyObject

from blendkit.integrations._runtime import LAUNCH_HEADER, LAUNCH_PARAM
from blendkit.integrations.django._state import get_runtime
from blendkit.integrations.django._translate import URL_NAMESPACE, answer_failure
from blendkit.limits import SMALL_BODY_PREFIXES
from blendkit.lti import Launch, Tenant

__all__ = ["BlendkitMiddleware", "current_launch", "launch_id_of"]

_LAUNCH_ATTRIBUTE = "_blendkit_launch"
_LAUNCH_ID_ATTRIBUTE = "_blendkit_launch_id"
# Routes that platforms call: capped by [tool] max_webhook_bytes, wherever the project mounts them.
_PLATFORM_ROUTES = frozenset({"login", "launch", "register"})
_UNTIMED = frozenset({"healthz", "readyz", "metrics"})


def launch_id_of(request: DjangoRequest) -> str | None:
    """The launch id the request carries: kept by the launch view, else the ``launch`` query or
    form parameter, else the ``X-Blendkit-Launch`` header."""
    kept = getattr(request, _LAUNCH_ID_ATTRIBUTE, None)
    if kept:
        return str(kept)
    found = request.GET.get(LAUNCH_PARAM) or request.headers.get(LAUNCH_HEADER)
    if not found and request.method == "POST":
        found = request.POST.get(LAUNCH_PARAM)
    return found or None


def keep_launch(request: DjangoRequest, launch: Launch, launch_id: str) -> None:
    """Remember the launch the request just made (the launch view, before the app's handler)."""
    setattr(request, _LAUNCH_ATTRIBUTE, launch)
    setattr(request, _LAUNCH_ID_ATTRIBUTE, launch_id)
    request.lti_launch = launch  # type: ignore[attr-defined]
    request.lti_tenant = launch.tenant  # type: ignore[attr-defined]


def current_launch(request: DjangoRequest, *, required: bool = True) -> Launch | None:
    """The launch the request names (:func:`launch_id_of`), loaded once per request.

    Raises :class:`~blendkit.errors.LaunchRejected` (401, ``lti.launch_session_expired``) when
    the id is unknown or expired, or missing while ``required``; ``None`` when missing and not
    ``required``.
    """
    kept = getattr(request, _LAUNCH_ATTRIBUTE, None)
    if isinstance(kept, Launch):
        return kept
    launch_id = launch_id_of(request)
    if not launch_id and not required:
        return None
    # LaunchSessions.get refuses an empty id with the same 401 as an unknown one.
    launch = get_runtime().launches.get(launch_id or "")
    setattr(request, _LAUNCH_ATTRIBUTE, launch)
    return launch


class BlendkitMiddleware:
    """Caps request bodies, sets ``request.lti_launch`` and ``request.lti_tenant`` (the launch's
    deployment: scope the project's own records by it) lazily, answers blendkit and database
    errors (:meth:`process_exception`) and times requests when ``/metrics`` is on."""

    def __init__(self, get_response: Callable[[DjangoRequest], DjangoResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: DjangoRequest) -> DjangoResponse:
        started = time.perf_counter()
        route: str | None = None
        try:
            route = _blendkit_route(request)
            _check_body(request, route)
        except Exception as error:  # a refused body, or a database down while building
            answer = answer_failure(request, error, blendkit_route=route is not None)
            if answer is None:
                raise
            return answer
        request.lti_launch = SimpleLazyObject(  # type: ignore[attr-defined]
            lambda: current_launch(request, required=False)
        )
        request.lti_tenant = SimpleLazyObject(  # type: ignore[attr-defined]
            lambda: _tenant_of(current_launch(request, required=False))
        )
        response = self.get_response(request)
        _observe(request, route, time.perf_counter() - started)
        return response

    def process_exception(
        self, request: DjangoRequest, exception: Exception
    ) -> DjangoResponse | None:
        """blendkit errors as their page (blendkit's routes, HTML views) or JSON (a host app's
        API); a database outage as 503 + ``Retry-After`` on every route; else Django's own."""
        return answer_failure(request, exception)


def _tenant_of(launch: Launch | None) -> Tenant | None:
    return launch.tenant if launch is not None else None


def _blendkit_route(request: DjangoRequest) -> str | None:
    """The name of blendkit's route the request goes to (``launch``, ``jwks`` …), else None."""
    try:
        match = resolve(request.path_info, getattr(request, "urlconf", None))
    except Resolver404:
        return None
    return match.url_name if URL_NAMESPACE in match.namespaces else None


def _check_body(request: DjangoRequest, route: str | None) -> None:
    """Refuse a declared body above the path's cap before a byte of it is read (413).

    Django reads at most ``Content-Length`` bytes of a WSGI body (its ``LimitedStream``), so the
    declared length bounds what is read; a body without one is read as empty.
    """
    limits = get_runtime().limits
    declared = request.META.get("CONTENT_LENGTH") or ""
    try:
        length = int(declared) if declared else None
    except ValueError:
        length = None
    path = SMALL_BODY_PREFIXES[0] + route if route in _PLATFORM_ROUTES else request.path_info
    limits.check_declared(path, length)


def _observe(request: DjangoRequest, route: str | None, seconds: float) -> None:
    metrics: Any = get_runtime().metrics
    if metrics is None or route in _UNTIMED:
        return
    match = request.resolver_match
    endpoint = (match.view_name or "unmatched") if match is not None else "unmatched"
    metrics.observe_request(endpoint, seconds, launch=route in _PLATFORM_ROUTES)
