"""Request and response translation between Starlette and the LTI core's plain values."""

from __future__ import annotations

from html import escape

from starlette.requests import Request
from starlette.responses import Response

from blendkit.lti import HttpRequest, HttpResponse, Launch

__all__ = ["default_launch_page", "from_starlette_request", "to_starlette_response"]


async def from_starlette_request(request: Request) -> HttpRequest:
    """The Starlette request as the LTI core's plain :class:`HttpRequest` (form read here)."""
    form: dict[str, str] = {}
    if request.method == "POST":
        data = await request.form()
        form = {k: v for k, v in data.items() if isinstance(v, str)}
    return HttpRequest(
        method=request.method,
        url=str(request.url),
        headers=dict(request.headers.items()),
        query=dict(request.query_params.items()),
        form=form,
        cookies=dict(request.cookies),
    )


def to_starlette_response(response: HttpResponse) -> Response:
    """A core :class:`HttpResponse` as a Starlette response (headers in order, cookies set)."""
    out = Response(response.body, status_code=response.status)
    del out.headers["content-type"]
    for name, value in response.headers:
        out.headers.append(name, value)
    if "content-type" not in out.headers:
        out.headers["Content-Type"] = "text/html; charset=utf-8"
    for cookie in response.cookies:
        out.headers.append("Set-Cookie", cookie.header_value())
    return out


async def default_launch_page(request: Request, launch: Launch, launch_id: str) -> Response:
    """Used when the app registers no handler: a plain page proving the launch worked."""
    del request, launch_id
    title = launch.context.title if launch.context and launch.context.title else "(no course)"
    body = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>blendkit</title>"
        f"</head><body><h1>{escape(title)}</h1><p>Signed in as {escape(launch.user.sub)}."
        "</p></body></html>"
    )
    return Response(body, media_type="text/html", headers={"Cache-Control": "no-store"})
