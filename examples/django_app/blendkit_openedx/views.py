"""The tool's pages, on blendkit's public Django API only."""

from __future__ import annotations

from html import escape

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.views.decorators.clickjacking import xframe_options_exempt

from blendkit.integrations.django import deep_linking_response, lti_launch_required
from blendkit.lti import Launch, ResourceLinkItem


def launched(request: HttpRequest, launch: Launch, launch_id: str) -> HttpResponse:
    """``BLENDKIT_LAUNCH_HANDLER``: deep linking answers with one item; a launch opens the
    course page, carrying the launch id (pages inside the LMS frame need no cookie)."""
    if launch.is_deep_linking:
        target = request.build_absolute_uri(reverse("blendkit_openedx:blendkit:launch"))
        return deep_linking_response(
            request, [ResourceLinkItem(title="blendkit course page", url=target)]
        )
    return HttpResponseRedirect(f"{reverse('blendkit_openedx:course')}?launch={launch_id}")


@xframe_options_exempt  # shown inside the LMS frame
@lti_launch_required
def course(request: HttpRequest) -> HttpResponse:
    launch: Launch = request.lti_launch  # type: ignore[attr-defined]
    title = launch.context.title if launch.context and launch.context.title else "(no course)"
    role = "Instructor" if launch.is_instructor else "Learner" if launch.is_learner else "Other"
    return HttpResponse(
        f"<!doctype html><title>{escape(title)}</title><h1>{escape(title)}</h1>"
        f"<p>Role: <strong class='role'>{role}</strong></p>"
    )


@xframe_options_exempt
@lti_launch_required(roles=["instructor"])
def instructor(request: HttpRequest) -> HttpResponse:
    return HttpResponse("<!doctype html><title>Instructor</title><h1>Instructor tools</h1>")
