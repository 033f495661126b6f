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
"""

from __future__ import annotations

from typing import Any

from gunicorn.glogging import Logger  # type: ignore[import-untyped]

from blendkit.config import load_settings
from blendkit.integrations.access_log import REDACTED, redact_query_parameters
from blendkit.operations import JsonLogFormatter

__all__ = ["RedactingGunicornLogger"]

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
