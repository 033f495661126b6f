"""The conformance app on the Django adapter (see the suite's README for the contract).

The project's own views below use only the adapter's public API: ``request.lti_launch`` and
``lti_launch_required`` for the current launch, ``grades``/``roster`` for AGS and NRPS,
``deep_linking_response`` for the deep-linking answer. The app is Django's WSGI handler served
by a threaded server on 127.0.0.1, with this module as its URL configuration.
"""

from __future__ import annotations

from typing import Any

from django.core.handlers.wsgi import WSGIHandler
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.test.utils import override_settings
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from blendkit import Settings, Store
from blendkit.errors import LaunchRejected
from blendkit.integrations.django import (
    close_runtime,
    current_launch,
    deep_linking_response,
    get_runtime,
    grades,
    install_runtime,
    json_errors,
    launch_id_of,
    lti_launch_required,
    roster,
)
from blendkit.lti import AGSScore, LineItem, ResourceLinkItem
from blendkit.lti import Launch as LtiLaunch
from tests.django_settings import configure_django
from tests.e2e.servers import ThreadedServer

__all__ = ["DjangoServer", "bind", "launch_json"]

_BASE_URL: list[str] = []


def launch_json(launch: LtiLaunch, launch_id: str) -> dict[str, Any]:
    """What the conformance suite reads back from a launch."""
    return {
        "launch_id": launch_id,
        "sub": launch.user.sub,
        "context_id": launch.context.id if launch.context else None,
        "roles": list(launch.roles),
        "message_type": launch.message_type.value,
    }


def launched(request: HttpRequest, launch: LtiLaunch, launch_id: str) -> HttpResponse:
    """``BLENDKIT_LAUNCH_HANDLER``: JSON for a resource launch, the answer for deep linking."""
    if launch.is_deep_linking:
        item = ResourceLinkItem(title="Conformance item", url=f"{_BASE_URL[-1]}/item")
        return deep_linking_response(request, [item])
    return JsonResponse(launch_json(launch, launch_id))


@require_GET
def launch_view(request: HttpRequest, launch_id: str) -> HttpResponse:
    """The kept launch: named by the ``launch`` parameter, else by the path."""
    launch = current_launch(request, required=False) or get_runtime().launches.get(launch_id)
    return JsonResponse(launch_json(launch, launch_id_of(request) or launch_id))


# The launch id is the credential of these two API views; it is carried in the URL, never in a
# cookie, so a cross-site form cannot forge it (no Django CSRF token is needed for them).
@csrf_exempt
@require_POST
@lti_launch_required
def score_view(request: HttpRequest) -> HttpResponse:
    launch: LtiLaunch = request.lti_launch  # type: ignore[attr-defined]
    service = grades(launch)
    listed = service.line_items(resource_id="conformance")
    item = next((i for i in listed if i.resource_id == "conformance"), None)
    if item is None:
        item = service.create_line_item(
            LineItem(
                label="Conformance",
                scoreMaximum=float(request.POST["max"]),
                resourceId="conformance",
            )
        )
    service.post_score(
        AGSScore(
            userId=launch.user.sub,
            scoreGiven=float(request.POST["score"]),
            scoreMaximum=float(request.POST["max"]),
            activityProgress="Completed",
            gradingProgress="FullyGraded",
        ),
        line_item=item,
    )
    return JsonResponse({"line_item": item.id})


@require_GET
@lti_launch_required
def roster_view(request: HttpRequest) -> HttpResponse:
    members = roster(request.lti_launch).members()  # type: ignore[attr-defined]
    return JsonResponse(
        [{"user_id": m.user_id, "roles": list(m.roles)} for m in members], safe=False
    )


@json_errors
@require_GET
def api_view(request: HttpRequest) -> HttpResponse:
    if not request.lti_launch:  # type: ignore[attr-defined]
        raise LaunchRejected(
            "this API needs a launch", code="lti.launch_session_expired", http_status=401
        )
    return JsonResponse({"sub": request.lti_launch.user.sub})  # type: ignore[attr-defined]


def item_view(request: HttpRequest) -> HttpResponse:
    return HttpResponse("Conformance item")


urlpatterns = [
    path("", include("blendkit.integrations.django.urls")),
    path("conformance/launch/<str:launch_id>", launch_view),
    path("conformance/score", score_view),
    path("conformance/roster", roster_view),
    path("conformance/api", api_view),
    path("item", item_view),
]


class _ConformanceHandler(WSGIHandler):
    """Django's WSGI handler with this module as the URL configuration of its requests."""

    def get_response(self, request: HttpRequest) -> HttpResponse:
        request.urlconf = __name__  # type: ignore[attr-defined]
        return super().get_response(request)


class DjangoServer:
    """The conformance app on a threaded WSGI server (bound at creation: ``url`` is known)."""

    def __init__(self) -> None:
        self._server = ThreadedServer()
        self.url = self._server.url
        self._settings: Any = None

    def start(self, settings: Settings, store: Store) -> None:
        configure_django()
        _BASE_URL.append(self.url)
        self._settings = override_settings(BLENDKIT_LAUNCH_HANDLER=f"{__name__}.launched")
        self._settings.enable()
        install_runtime(settings=settings, store=store)
        self._server.start(_ConformanceHandler())

    def stop(self) -> None:
        self._server.stop()
        close_runtime()
        if self._settings is not None:
            self._settings.disable()
        _BASE_URL.remove(self.url)


def bind() -> DjangoServer:
    return DjangoServer()
