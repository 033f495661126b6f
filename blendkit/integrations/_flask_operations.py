"""Operator routes and hooks of the Flask adapter: ``/healthz``, ``/readyz``, ``/metrics``,
the calendar feeds (``/calendar/<token>.ics``), request latency and the 503 answer while the
database is unavailable.

The logic lives in :mod:`blendkit.operations`; this module only translates it to Flask.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from flask import Blueprint, Flask, g, request
from flask import Response as FlaskResponse

from blendkit.integrations._runtime import ToolRuntime, json_response
from blendkit.lti import HttpRequest, HttpResponse

__all__ = ["install_operations", "unavailable_response"]

log = logging.getLogger("blendkit.flask")
_STARTED = "blendkit_started"
_UNTIMED = frozenset({"blendkit_ops.healthz", "blendkit_ops.readyz", "blendkit_ops.metrics"})


def _flask(response: HttpResponse) -> FlaskResponse:
    out = FlaskResponse(response.body, status=response.status)
    out.headers.clear()
    for name, value in response.headers:
        out.headers.add(name, value)
    return out


def unavailable_response(cause: BaseException) -> FlaskResponse:
    """503 + ``Retry-After`` for a database outage, with ONE warning line (class and driver
    message, never the statement, its values or a traceback)."""
    return _flask(ToolRuntime.outage(cause, request.method, request.path))


def install_operations(app: Flask, runtime: ToolRuntime) -> Any:
    """Register ``/healthz``, ``/readyz`` and ``/metrics`` (when ``[metrics] token`` is set and
    ``bind`` is not; with ``bind`` the metrics get their own server, started here unless another
    process of the host serves that address); returns the app's
    :class:`~blendkit.operations.metrics.Metrics` or ``None``."""
    bp = Blueprint("blendkit_ops", __name__)

    @bp.get("/healthz")
    def healthz() -> FlaskResponse:
        return _flask(runtime.health())

    @bp.get("/readyz")
    def readyz() -> FlaskResponse:
        return _flask(runtime.readiness())

    @bp.get("/calendar/<token>.ics")
    def calendar_feed(token: str) -> FlaskResponse:
        asked = HttpRequest(method=request.method, headers=dict(request.headers))
        return _flask(runtime.calendar_feed(asked, token))

    metrics = None
    token, bind = runtime.settings.metrics.token, runtime.settings.metrics.bind
    if token is not None or bind is not None:
        from blendkit.operations.metrics import Metrics, bearer_token_matches

        metrics = Metrics()
        exposed = metrics
        if bind is not None:  # its own address, never the public port
            if exposed.serve(bind, token) is not None:
                log.info("metrics on %s", exposed.server.url if exposed.server else bind)
            else:
                log.info("metrics: %s is served by another process of this host", bind)
        elif token is not None:
            secret = token

            @bp.get("/metrics")
            def metrics_route() -> FlaskResponse:
                if not bearer_token_matches(request.headers.get("Authorization"), secret):
                    return _flask(
                        json_response(
                            {"status": "unauthorized"},
                            401,
                            headers=(("WWW-Authenticate", 'Bearer realm="metrics"'),),
                        )
                    )
                body, content_type = exposed.exposition()
                response = FlaskResponse(body, status=200, content_type=content_type)
                response.headers["Cache-Control"] = "no-store"
                return response

        def start_timer() -> None:
            g.setdefault(_STARTED, time.perf_counter())

        def observe(response: FlaskResponse) -> FlaskResponse:
            started = g.pop(_STARTED, None)
            rule = request.url_rule
            endpoint = rule.endpoint if rule is not None else "unmatched"
            if started is not None and endpoint not in _UNTIMED and endpoint != "static":
                exposed.observe_request(
                    endpoint,
                    time.perf_counter() - started,
                    launch=endpoint.startswith("blendkit_lti."),
                )
            return response

        app.before_request_funcs.setdefault(None, []).insert(0, start_timer)
        app.after_request(observe)

    app.register_blueprint(bp)
    return metrics
