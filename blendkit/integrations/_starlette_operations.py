"""Operator routes of the Starlette adapter: ``/healthz``, ``/readyz``, ``/metrics`` and the
calendar feeds (``/calendar/<token>.ics``).

The logic lives in :class:`~blendkit.integrations._runtime.ToolRuntime` and
:mod:`blendkit.operations`; this module only translates it to Starlette routes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from blendkit.integrations._runtime import ToolRuntime, json_response
from blendkit.lti import HttpRequest

if TYPE_CHECKING:
    from blendkit.integrations.starlette import Blendkit

__all__ = ["operation_routes"]


def operation_routes(adapter: Blendkit) -> list[Route]:
    """``/healthz``, ``/readyz`` and ``/metrics`` (the latter answers 404 while the settings
    have no ``[metrics] token``, as if it did not exist)."""
    from blendkit.integrations.starlette import to_starlette_response

    async def healthz(request: Request) -> Response:
        del request
        return to_starlette_response(ToolRuntime.health())

    async def readyz(request: Request) -> Response:
        del request
        return to_starlette_response(await run_in_threadpool(adapter.runtime.readiness))

    async def metrics(request: Request) -> Response:
        runtime = adapter.runtime
        token = runtime.settings.metrics.token
        if token is None or runtime.metrics is None:
            return Response("Not Found", status_code=404, media_type="text/plain")
        from blendkit.operations.metrics import bearer_token_matches

        if not bearer_token_matches(request.headers.get("authorization"), token):
            refused = json_response(
                {"status": "unauthorized"},
                401,
                headers=(("WWW-Authenticate", 'Bearer realm="metrics"'),),
            )
            return to_starlette_response(refused)
        body, content_type = await run_in_threadpool(runtime.metrics.exposition)
        return Response(body, media_type=content_type, headers={"Cache-Control": "no-store"})

    async def calendar_feed(request: Request) -> Response:
        asked = HttpRequest(method=request.method, headers=dict(request.headers))
        token = str(request.path_params["token"])
        answer = await run_in_threadpool(adapter.runtime.calendar_feed, asked, token)
        return to_starlette_response(answer)

    return [
        Route("/healthz", healthz, methods=["GET"], name="blendkit_ops.healthz"),
        Route(
            "/calendar/{token}.ics",
            calendar_feed,
            methods=["GET"],
            name="blendkit_ops.calendar_feed",
        ),
        Route("/readyz", readyz, methods=["GET"], name="blendkit_ops.readyz"),
        Route("/metrics", metrics, methods=["GET"], name="blendkit_ops.metrics"),
    ]
