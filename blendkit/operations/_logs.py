"""Structured (JSON) log lines: one JSON object per record, for log shippers.

Choose it with ``[tool] log_format = "json"`` and :func:`configure_logging`. Each line has
``time`` (UTC, ISO 8601), ``level``, ``logger`` and ``message``, plus ``exception`` only when a
record carries one. The message is the same text the plain format writes, after the access-log
redaction (:func:`blendkit.integrations.access_log.redact_query_parameters`): launch ids,
invitations and OAuth values in URLs are ``[redacted]`` in both formats.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, Literal

from blendkit.integrations.access_log import RedactingLogFilter, redact_query_parameters

__all__ = ["JsonLogFormatter", "LogFormat", "configure_logging"]

LogFormat = Literal["text", "json"]
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonLogFormatter(logging.Formatter):
    """Formats a record as one line of JSON (sensitive URL parameters redacted)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact_query_parameters(record.getMessage()),
        }
        if record.exc_info:
            entry["exception"] = redact_query_parameters(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(log_format: LogFormat, *, level: int = logging.INFO) -> logging.Handler:
    """Send the root logger's records to stderr in ``log_format`` (replaces this function's
    earlier handler, keeps any other); returns the handler."""
    root = logging.getLogger()
    for existing in list(root.handlers):
        if getattr(existing, "_blendkit", False):
            root.removeHandler(existing)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonLogFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)
    )
    handler.addFilter(RedactingLogFilter())
    handler._blendkit = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    return handler
