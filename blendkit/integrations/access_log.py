"""Access logs without credentials: sensitive query parameters are redacted before writing.

Pages inside an LMS iframe carry their launch id in links (``?launch=…``), registration links
carry an invitation token, and OAuth/OIDC redirects carry ``state``, ``code`` or ``id_token``.
Each is a bearer credential while it lives, and access logs are kept, shipped and read by many.
:func:`redact_query_parameters` replaces their values with ``[redacted]`` wherever they appear in
a log line (request line, query string, Referer, Location), and so are the secret tokens some
paths carry: a calendar feed's (``/calendar/<token>.ics``) and a one-click unsubscribe link's
(``/unsubscribe/<token>``, which names the learner and unsubscribes them for a year);
:class:`RedactingLogFilter` applies
it to werkzeug's development server log, and
:class:`blendkit.integrations.gunicorn.RedactingGunicornLogger` to gunicorn's access log.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import unquote_plus

__all__ = [
    "REDACTED",
    "RedactingLogFilter",
    "SENSITIVE_QUERY_PARAMETERS",
    "install_werkzeug_redaction",
    "redact_query_parameters",
]

REDACTED = "[redacted]"
SENSITIVE_QUERY_PARAMETERS = frozenset(
    {"launch", "invite", "registration_token", "id_token", "state", "code", "token"}
)

# A parameter starts the text or follows ?, & or ; and runs to the next separator, quote,
# whitespace, control character (werkzeug colours its log lines) or fragment. Names are
# compared after percent-decoding and case-folding, so ``%6Caunch`` and ``LAUNCH`` are caught.
_PARAMETER = re.compile(
    r"(?P<lead>^|[?&;])(?P<name>[^=&;?#\s\"'\x00-\x1f]+)=(?P<value>[^&;#\s\"'\x00-\x1f]*)"
)
# A calendar feed's token is its path segment: anything between /calendar/ and the next
# separator (percent-encoded or not) is the credential.
_FEED_PATH = re.compile(
    r"(?P<lead>/calendar/)(?P<token>[^/?#\s\"'\x00-\x1f]+?)(?P<tail>\.ics|(?=[?#\s\"']|$))"
)
# An unsubscribe token is the whole segment after /unsubscribe/ (its dot is part of it).
_UNSUBSCRIBE_PATH = re.compile(r"(?P<lead>/unsubscribe/)(?P<token>[^/?#\s\"'\x00-\x1f]+)")


def _redact(match: re.Match[str]) -> str:
    name = unquote_plus(match.group("name")).strip().lower()
    if name not in SENSITIVE_QUERY_PARAMETERS or not match.group("value"):
        return match.group(0)
    return f"{match.group('lead')}{match.group('name')}={REDACTED}"


def redact_query_parameters(text: str) -> str:
    """``text`` with the value of every sensitive query parameter, and the token of every
    calendar feed and unsubscribe path, replaced by ``[redacted]``."""
    if "/calendar/" in text:
        text = _FEED_PATH.sub(rf"\g<lead>{REDACTED}\g<tail>", text)
    if "/unsubscribe/" in text:
        text = _UNSUBSCRIBE_PATH.sub(rf"\g<lead>{REDACTED}", text)
    if "=" not in text:
        return text
    return _PARAMETER.sub(_redact, text)


class RedactingLogFilter(logging.Filter):
    """A logging filter that redacts sensitive query parameters from each record's message."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_query_parameters(message)
        if redacted != message:
            record.msg = redacted
            record.args = None
        return True


def install_werkzeug_redaction() -> None:
    """Redact the request lines werkzeug's development server logs (``flask run``, the demo).

    Idempotent: the filter is added to the ``werkzeug`` logger once per process.
    """
    logger = logging.getLogger("werkzeug")
    if not any(isinstance(existing, RedactingLogFilter) for existing in logger.filters):
        logger.addFilter(RedactingLogFilter())
