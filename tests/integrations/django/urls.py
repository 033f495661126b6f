"""The test project's URLs: blendkit's, plus host views that exercise the adapter."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import include, path
from django.views.decorators.http import require_POST
from sqlalchemy import text

from blendkit.errors import LaunchRejected
from blendkit.integrations.django import (
    get_runtime,
    html_errors,
    json_errors,
    lti_launch_required,
)


def page(request: HttpRequest) -> HttpResponse:
    """A host page that reads blendkit's database (an outage must answer 503 here too)."""
    with get_runtime().store.engine.connect() as conn:
        return HttpResponse(str(conn.execute(text("SELECT 1")).scalar()))


def api_refuses(request: HttpRequest) -> HttpResponse:
    raise LaunchRejected("no launch here", code="lti.launch_session_expired", http_status=401)


@json_errors
def marked_api(request: HttpRequest) -> HttpResponse:
    raise LaunchRejected("no launch here", code="lti.launch_session_expired", http_status=401)


@html_errors
def marked_page(request: HttpRequest) -> HttpResponse:
    raise LaunchRejected("no launch here", code="lti.launch_session_expired", http_status=401)


def crashes(request: HttpRequest) -> HttpResponse:
    raise ValueError("not a blendkit error")


def lazy(request: HttpRequest) -> HttpResponse:
    launch = request.lti_launch  # type: ignore[attr-defined]
    return JsonResponse({"sub": launch.user.sub if launch else None})


@lti_launch_required
def course(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"sub": request.lti_launch.user.sub})  # type: ignore[attr-defined]


def tenant(request: HttpRequest) -> HttpResponse:
    found = request.lti_tenant  # type: ignore[attr-defined]
    return JsonResponse({"tenant": found.key if found else None})


@lti_launch_required(roles=["instructor"])
def teach(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"sub": request.lti_launch.user.sub})  # type: ignore[attr-defined]


@require_POST
def form(request: HttpRequest) -> HttpResponse:
    return HttpResponse(f"posted {len(request.POST.get('text', ''))}")


urlpatterns = [
    path("", include("blendkit.integrations.django.urls")),
    path("page", page),
    path("api/refuses", api_refuses),
    path("api/marked", marked_api),
    path("marked-page", marked_page),
    path("crashes", crashes),
    path("lazy", lazy),
    path("course", course),
    path("tenant", tenant),
    path("teach", teach),
    path("form", form),
]
