"""Operator routes and hooks of the Flask adapter: ``/healthz``, ``/readyz``, ``/metrics``,
request latency and the 503 answer while the database is unavailable.

The logic lives in :mod:`blendkit.operations`; this module only translates it to Flask.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from flask import Blueprint, Flask, g, request
from flask import Response as FlaskResponse

from blendkit.config import Settings
from blendkit.errors import BlendkitError
from blendkit.lti import error_response
from blendkit.operations import (
    DATABASE_RETRY_AFTER_SECONDS,
    check_readiness,
    unavailable_error,
)
from blendkit.store import Store, describe_database_error

__all__ = ["install_operations", "unavailable_response"]

log = logging.getLogger("blendkit.flask")
_STARTED = "blendkit_started"
_UNTIMED = frozenset({"blendkit_ops.healthz", "blendkit_ops.readyz", "blendkit_ops.metrics"})


def _json(body: dict[str, Any], status: int) -> FlaskResponse:
    import json

    response = FlaskResponse(json.dumps(body), status=status, mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response


def unavailable_response(cause: BaseException) -> FlaskResponse:
    """503 + ``Retry-After`` for a database outage, with ONE warning line (class and driver
    message, never the statement, its values or a traceback)."""
    log.warning(
        "database unavailable on %s %s: %s", request.method, request.path,
        describe_database_error(cause),
    )  # fmt: skip
    response = _error_page(unavailable_error())
    response.headers["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
    return response


def _error_page(error: BlendkitError) -> FlaskResponse:
    page = error_response(error)
    out = FlaskResponse(page.body, status=page.status)
    out.headers.clear()
    for name, value in page.headers:
        out.headers.add(name, value)
    if out.headers.get("Content-Type") is None:
        out.headers["Content-Type"] = "text/html; charset=utf-8"
    out.headers["Cache-Control"] = "no-store"
    return out


def install_operations(app: Flask, settings: Settings, store: Store) -> Any:
    """Register ``/healthz``, ``/readyz`` (and ``/metrics`` when ``[metrics] token`` is set);
    returns the app's :class:`~blendkit.operations.metrics.Metrics` or ``None``."""
    bp = Blueprint("blendkit_ops", __name__)

    @bp.get("/healthz")
    def healthz() -> FlaskResponse:
        return _json({"status": "ok"}, 200)

    @bp.get("/readyz")
    def readyz() -> FlaskResponse:
        readiness = check_readiness(store)
        if readiness.ready:
            return _json({"status": "ready"}, 200)
        response = _json({"status": "unavailable", "reason": readiness.reason}, 503)
        response.headers["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
        return response

    metrics = None
    token = settings.metrics.token
    if token is not None:
        from blendkit.operations.metrics import Metrics, bearer_token_matches

        metrics = Metrics()
        exposed = metrics

        @bp.get("/metrics")
        def metrics_route() -> FlaskResponse:
            if not bearer_token_matches(request.headers.get("Authorization"), token):
                response = _json({"status": "unauthorized"}, 401)
                response.headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
                return response
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
