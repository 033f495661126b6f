"""Meeting ids and UUIDs in Zoom URLs.

Zoom names a meeting series by a numeric id and each past instance by a base64 UUID. A UUID that
starts with ``/`` or contains ``//`` must be URL-encoded twice in a path, otherwise Zoom decodes
the slashes as path separators and answers 404 (or, worse, another resource).
"""

from __future__ import annotations

from urllib.parse import quote

from blendkit.errors import ProviderError

__all__ = ["encode_meeting_uuid", "is_numeric_meeting_id", "meeting_path_segment"]


def encode_meeting_uuid(uuid: str) -> str:
    """The UUID as one URL path segment, double-encoded when Zoom requires it."""
    once = quote(uuid, safe="")
    if uuid.startswith("/") or "//" in uuid:
        return quote(once, safe="")
    return once


def is_numeric_meeting_id(value: str) -> bool:
    """True for a meeting id (digits), False for an instance UUID."""
    return value.isascii() and value.isdigit()


def meeting_path_segment(meeting: str) -> str:
    """A meeting id as is, or a UUID encoded for a path."""
    return meeting if is_numeric_meeting_id(meeting) else encode_meeting_uuid(meeting)


def _numeric(meeting_id: str) -> str:
    if not is_numeric_meeting_id(meeting_id):
        raise ProviderError(
            f"{meeting_id!r} is not a Zoom meeting id (a number such as 85746065432); pass the "
            "meeting_id returned by create_session",
            code="sessions.provider_rejected",
        )
    return meeting_id
