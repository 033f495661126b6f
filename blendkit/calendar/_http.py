"""Answering a calendar app's poll: ``text/calendar`` with a strong ``ETag``, ``Last-Modified``
and ``304 Not Modified`` when nothing changed (no I/O; adapters send the value).

Calendar apps poll a subscribed feed every few minutes to hours; a 304 costs them and us nothing
but the render. The ETag is the SHA-256 of the exact bytes (strong: the same bytes, the same
tag), so ``If-None-Match`` decides first; ``If-Modified-Since`` is read only without it
(RFC 9110 §13.2.2).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime

from blendkit.lti import HttpRequest, HttpResponse

__all__ = ["CALENDAR_CONTENT_TYPE", "feed_not_found", "feed_response", "strong_etag"]

CALENDAR_CONTENT_TYPE = "text/calendar; charset=utf-8"
_PRIVATE = (("Cache-Control", "private, no-cache"), ("Referrer-Policy", "no-referrer"))


def strong_etag(body: bytes) -> str:
    """The strong entity tag of ``body`` (quoted, as the header carries it)."""
    return '"' + hashlib.sha256(body).hexdigest()[:40] + '"'


def _matches(header: str, etag: str) -> bool:
    tags = [t.strip() for t in header.split(",")]
    return "*" in tags or etag in tags


def _not_modified_since(header: str, last_modified: datetime) -> bool:
    try:
        since = parsedate_to_datetime(header)
    except (TypeError, ValueError, IndexError):
        return False
    if since.tzinfo is None:
        since = since.replace(tzinfo=UTC)
    return last_modified.replace(microsecond=0) <= since


def feed_response(
    request: HttpRequest,
    body: bytes,
    last_modified: datetime | None,
    *,
    filename: str = "calendar.ics",
) -> HttpResponse:
    """The answer to ``GET`` of a feed: 200 with the calendar, or 304 when the client's copy is
    current (``If-None-Match`` first, else ``If-Modified-Since``)."""
    etag = strong_etag(body)
    headers: list[tuple[str, str]] = [("ETag", etag), *_PRIVATE]
    if last_modified is not None:
        headers.append(
            ("Last-Modified", format_datetime(last_modified.astimezone(UTC), usegmt=True))
        )
    none_match = request.header("if-none-match")
    modified_since = request.header("if-modified-since")
    if none_match is not None:
        fresh = _matches(none_match, etag)
    else:
        fresh = (
            modified_since is not None
            and last_modified is not None
            and _not_modified_since(modified_since, last_modified)
        )
    if fresh:
        return HttpResponse(status=304, headers=tuple(headers))
    headers += [
        ("Content-Type", CALENDAR_CONTENT_TYPE),
        ("Content-Disposition", f'attachment; filename="{filename}"'),
        ("X-Content-Type-Options", "nosniff"),
    ]
    return HttpResponse(status=200, headers=tuple(headers), body=body.decode("utf-8"))


def feed_not_found() -> HttpResponse:
    """404 for any token that opens no feed (unknown, revoked, malformed: never which)."""
    return HttpResponse(
        status=404,
        headers=(("Content-Type", "text/plain; charset=utf-8"), *_PRIVATE),
        body="No calendar at this address. Copy the current link from the course page.\n",
    )
