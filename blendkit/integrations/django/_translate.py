"""Django requests and responses to and from the LTI core's plain values, and how an error is
answered: the HTML refusal page for blendkit's routes and pages, JSON for a host app's API."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest as DjangoRequest
from django.http import HttpResponse as DjangoResponse

from blendkit.integrations._runtime import ToolRuntime
from blendkit.lti import HttpRequest, HttpResponse

__all__ = [
    "ERRORS_ATTRIBUTE",
    "URL_NAMESPACE",
    "answer_failure",
    "from_django_request",
    "mark_errors",
    "to_django_response",
    "wants_json",
]

URL_NAMESPACE = "blendkit"
"""The namespace (``app_name``) of blendkit's URLs: ``reverse("blendkit:launch")``."""
ERRORS_ATTRIBUTE = "blendkit_errors"
"""Attribute a view may carry (``"json"`` or ``"html"``) to choose how blendkit errors answer."""

_JSON_TYPES = ("application/json", "+json")


def from_django_request(request: DjangoRequest) -> HttpRequest:
    """The Django request as the LTI core's :class:`HttpRequest` (form fields only for a form
    body: a JSON body is never parsed here)."""
    return HttpRequest(
        method=request.method or "GET",
        url=request.build_absolute_uri(),
        headers=dict(request.headers.items()),
        query=request.GET.dict(),
        form=request.POST.dict() if request.method == "POST" else {},
        cookies=dict(request.COOKIES),
    )


def to_django_response(response: HttpResponse) -> DjangoResponse:
    """An :class:`HttpResponse` of the core as a Django response (cookies included)."""
    out = DjangoResponse(response.body, status=response.status)
    for name, value in response.headers:
        out.headers[name] = value
    if "Content-Type" not in out.headers:
        out.headers["Content-Type"] = "text/html; charset=utf-8"
    for cookie in response.cookies:
        out.set_cookie(
            cookie.name,
            cookie.value,
            max_age=cookie.max_age,
            path=cookie.path,
            secure=cookie.secure,
            httponly=cookie.httponly,
            samesite=cookie.samesite,
        )
    return out


def mark_errors(kind: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Mark a view so that blendkit errors it raises answer as ``kind`` (``json``/``html``)."""

    def mark(view: Callable[..., Any]) -> Callable[..., Any]:
        setattr(view, ERRORS_ATTRIBUTE, kind)
        return view

    return mark


def _accepts_html(accept: str) -> bool:
    """Whether an ``Accept`` header prefers an HTML page to JSON (a browser navigation)."""
    best: dict[str, float] = {}
    for part in accept.split(","):
        media, *params = (piece.strip() for piece in part.split(";"))
        quality = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        kind = "json" if media.endswith(_JSON_TYPES) else "html"
        if media in {"text/html", "application/xhtml+xml"} or kind == "json":
            best[kind] = max(best.get(kind, 0.0), quality)
    return best.get("html", 0.0) > best.get("json", 0.0)


def wants_json(request: DjangoRequest) -> bool:
    """How a blendkit error raised by ``request``'s view answers.

    blendkit's own routes answer with the HTML page (a platform or a browser posted there). A host
    view marked with :func:`~blendkit.integrations.django.json_errors` (or ``html_errors``) gets
    that; otherwise JSON unless the client asks for HTML: a browser's navigation (``Accept:
    text/html``) gets the page, an API call (``Accept: application/json``, a JSON body, no Accept
    at all, ``*/*``) gets ``{"error": code, "message": …}``.
    """
    match = request.resolver_match
    if match is not None:
        if URL_NAMESPACE in match.namespaces:
            return False
        marked = getattr(match.func, ERRORS_ATTRIBUTE, None)
        if marked is not None:
            return bool(marked == "json")
    if (request.content_type or "").endswith(_JSON_TYPES):
        return True
    return not _accepts_html(request.headers.get("Accept", ""))


def answer_failure(
    request: DjangoRequest, error: BaseException, *, blendkit_route: bool = False
) -> DjangoResponse | None:
    """The response for a blendkit or database error raised while answering ``request`` (503 +
    ``Retry-After`` and one log line for an outage), or ``None`` for any other exception.
    ``blendkit_route``: the request goes to one of blendkit's URLs (known before resolution)."""
    as_json = not blendkit_route and wants_json(request)
    answer = ToolRuntime.failure(error, request.method or "GET", request.path, as_json=as_json)
    if answer is None:
        return None
    response = to_django_response(answer)
    # blendkit logged its one line (the refusal, or the outage): Django's own "Unauthorized:
    # /path" or "Service Unavailable: /path" line would be a second one for the same event.
    # Django reads this attribute in django.utils.log.log_response (4.2 to 5.2, tested).
    setattr(response, "_has_been_logged", True)  # noqa: B010
    return response
