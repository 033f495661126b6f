"""Django adapter: blendkit as an installable Django app.

    INSTALLED_APPS = [..., "blendkit.integrations.django"]
    MIDDLEWARE = [..., "blendkit.integrations.django.middleware.BlendkitMiddleware", ...]
    BLENDKIT = {"tool": {"base_url": "https://tool.example.edu"}, "database": {"url": ...}}
    BLENDKIT_LAUNCH_HANDLER = "myapp.views.launched"   # handler(request, launch, launch_id)

    # urls.py
    urlpatterns = [path("", include("blendkit.integrations.django.urls")), ...]

The URLs serve ``lti/login`` (GET and POST), ``lti/launch``, ``lti/jwks``, ``lti/register`` (off
unless ``[lti] registration_enabled``), ``lti/canvas.json``, ``healthz``, ``readyz`` and, with
``[metrics] token``, ``metrics``. Views of the project read ``request.lti_launch`` (set by the
middleware, resolved on first use from the ``launch`` parameter or the ``X-Blendkit-Launch``
header) or use :func:`lti_launch_required`. blendkit errors answer with the refusal page on
blendkit's routes and HTML pages, as JSON on the project's API views; a database outage answers
503 with ``Retry-After`` and one log line on every route. ``manage.py blendkit …`` runs the
``blendkit`` command line with these settings; ``manage.py blendkit_migrate`` migrates.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.http import HttpRequest as DjangoRequest
from django.http import HttpResponse as DjangoResponse

from blendkit.integrations.django._state import (
    DjangoRuntime,
    close_runtime,
    get_runtime,
    install_runtime,
    settings_from_django,
)
from blendkit.integrations.django._translate import from_django_request, to_django_response
from blendkit.integrations.django.decorators import (
    html_errors,
    in_one_transaction,
    json_errors,
    lti_launch_required,
)
from blendkit.integrations.django.middleware import current_launch, launch_id_of
from blendkit.lti import AssignmentGradeService, ContentItem, Launch, NamesRoleService
from blendkit.notify import NotificationQueue
from blendkit.xapi import Outbox

__all__ = [
    "DjangoRuntime",
    "close_runtime",
    "current_launch",
    "deep_linking_response",
    "from_django_request",
    "get_runtime",
    "grades",
    "html_errors",
    "in_one_transaction",
    "install_runtime",
    "json_errors",
    "launch_id_of",
    "lti_launch_required",
    "roster",
    "settings_from_django",
    "to_django_response",
    "watch_notifications",
    "watch_outbox",
]


def deep_linking_response(
    request: DjangoRequest, items: list[ContentItem], launch: Launch | None = None
) -> DjangoResponse:
    """The auto-submitting page that returns ``items`` to the platform (a signed JWT).

    ``launch`` defaults to the request's (the deep-linking launch itself, or the one its
    ``launch`` parameter names). Single use: the launch is consumed, so a second answer raises
    ``lti.deep_linking_already_answered`` (409) instead of signing again.
    """
    chosen = launch or current_launch(request)
    assert chosen is not None
    answer = get_runtime().deep_linking_answer(chosen, items, launch_id_of(request))
    return to_django_response(answer)


def grades(launch: Launch) -> AssignmentGradeService:
    """Assignment and Grade Services for the launch's context (line items, scores, results)."""
    return get_runtime().advantage.ags(launch)


def roster(launch: Launch) -> NamesRoleService:
    """Names and Role Provisioning Services for the launch's context (paged roster)."""
    return get_runtime().advantage.nrps(launch)


def watch_outbox(outbox: Outbox) -> None:
    """Report ``outbox`` on ``/metrics`` scrapes (nothing to do when metrics are off)."""
    metrics = get_runtime().metrics
    if metrics is not None:
        metrics.watch_outbox(outbox)


def watch_notifications(queue: NotificationQueue, notifiers: Sequence[str] | None = None) -> None:
    """Report the notification ``queue`` on ``/metrics`` scrapes, with the outcomes of
    ``notifiers`` (default: every installed notifier); nothing to do when metrics are off."""
    metrics = get_runtime().metrics
    if metrics is not None:
        metrics.watch_notifications(queue, notifiers)
