"""A gunicorn logger whose access log never shows launch ids, invitations or OAuth values.

Name it in the gunicorn configuration (the example's ``examples/flask_app/gunicorn.conf.py``
does)::

    logger_class = "blendkit.integrations.gunicorn.RedactingGunicornLogger"

Every access-log atom (request line, query string, Referer, Location and other headers, environ
values) goes through :func:`blendkit.integrations.access_log.redact_query_parameters`, and
credential headers (``Authorization``, ``Cookie``, ``X-Blendkit-Launch``, ``X-CSRF-Token`` …)
are replaced whole, so any ``access_log_format`` stays safe. With ``[tool] log_format = "json"``
gunicorn's error and access lines are JSON objects too
(:class:`blendkit.operations.JsonLogFormatter`). Needs ``gunicorn`` installed.

:func:`migrate_before_workers` and :func:`serve_metrics_before_workers` are ``when_ready``
hooks: the master process brings the schema to its newest revision once, before any worker is
forked, so workers never race to create it, and serves ``/metrics`` on ``[metrics] bind`` (every
worker's samples in multi-process mode), so no worker serves them on the public port.
"""

from __future__ import annotations

import os
from typing import Any

from gunicorn.glogging import Logger  # type: ignore[import-untyped]
from sqlalchemy.exc import SQLAlchemyError

from blendkit.config import load_settings
from blendkit.errors import BlendkitError
from blendkit.integrations.access_log import REDACTED, redact_query_parameters
from blendkit.notify import NotificationQueue
from blendkit.operations import JsonLogFormatter
from blendkit.store import Store, describe_database_error
from blendkit.xapi import Outbox

__all__ = ["RedactingGunicornLogger", "migrate_before_workers", "serve_metrics_before_workers"]

# Request/response headers and their WSGI environ names whose whole value is a credential.
_SENSITIVE_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "x-blendkit-launch",
        "x-csrf-token",
    }
)
_SENSITIVE_ATOMS = frozenset(
    {f"{{{name}}}{kind}" for name in _SENSITIVE_HEADERS for kind in ("i", "o")}
    | {f"{{http_{name.replace('-', '_')}}}e" for name in _SENSITIVE_HEADERS}
)


class RedactingGunicornLogger(Logger):  # type: ignore[misc]
    """gunicorn's logger with sensitive query parameters redacted from every access-log atom."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        if load_settings().tool.log_format != "json":
            return
        for logger in (self.error_log, self.access_log):
            for handler in logger.handlers:
                handler.setFormatter(JsonLogFormatter())

    def atoms(self, resp: Any, req: Any, environ: Any, request_time: Any) -> dict[str, Any]:
        atoms: dict[str, Any] = super().atoms(resp, req, environ, request_time)
        return {name: _redacted(name, value) for name, value in atoms.items()}


def _redacted(name: str, value: Any) -> Any:
    if name in _SENSITIVE_ATOMS:
        return REDACTED
    return redact_query_parameters(value) if isinstance(value, str) else value


def migrate_before_workers(server: Any) -> None:
    """gunicorn ``when_ready`` hook: migrate the configured database once, in the master.

    Runs before the first worker is forked, and closes its connections so no worker inherits
    them. A database that cannot be reached or migrated is logged in one line and the workers
    start anyway: ``/readyz`` answers 503 (``database_unreachable`` or ``migrations_pending``)
    until ``blendkit db upgrade`` succeeds or the server is restarted.
    """
    try:
        store = Store.from_settings(load_settings())
    except BlendkitError as exc:
        server.log.warning("blendkit: no migration at start (%s: %s)", exc.code, exc)
        return
    try:
        pending = store.pending_migrations()
        if pending:
            store.migrate()
            server.log.info("blendkit: database migrated (%d revision(s))", len(pending))
    except (BlendkitError, SQLAlchemyError) as exc:
        server.log.warning(
            "blendkit: could not migrate at start (%s); /readyz answers 503 until "
            "`blendkit db upgrade` succeeds",
            describe_database_error(exc) if isinstance(exc, SQLAlchemyError) else exc.code,
        )
    finally:
        store.dispose()


def serve_metrics_before_workers(server: Any) -> None:
    """gunicorn ``when_ready`` hook: with ``[metrics] bind``, serve ``/metrics`` there from the
    master (a thread; ``PROMETHEUS_MULTIPROC_DIR`` adds up every worker's samples) with the
    outbox's and the notification queue's counts. Workers then find the address taken and leave
    it to the master."""
    settings = load_settings()
    bind = settings.metrics.bind
    if bind is None:
        return
    from blendkit.operations.metrics import Metrics  # the metrics extra

    store = Store.from_settings(settings)
    # Forked workers must not close the master's pooled connections (they share the sockets).
    os.register_at_fork(after_in_child=lambda: store.engine.dispose(close=False))
    metrics = Metrics()
    metrics.watch_outbox(Outbox.from_settings(settings, store=store))
    metrics.watch_notifications(NotificationQueue(store))
    served = metrics.serve(bind, settings.metrics.token)
    if served is None:
        server.log.warning("blendkit: metrics address %s is in use by another program", bind)
        return
    server.log.info("blendkit: metrics on %s", served.url)
