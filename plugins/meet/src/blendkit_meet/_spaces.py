"""A session's Meet space: which space its calendar event names, the space's configuration and
the way back from a space to its session (MeetProvider's space calls, as a base class)."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from blendkit.errors import NotFound, ProviderError
from blendkit_meet._api import MEET_API, GoogleApi
from blendkit_meet._calendar import conference_code, join_url
from blendkit_meet._settings import MeetSettings

__all__ = ["SPACE_PROPERTY", "MeetSpace", "MeetSpaces"]

SPACE_PROPERTY = "blendkitMeetSpace"
"""The private extended property of a session's event that names its Meet space."""


@dataclass(frozen=True)
class MeetSpace:
    """What a session's event says about its Meet conference."""

    event_id: str
    join_url: str
    meeting_code: str
    space: str | None = None
    """The space's resource name (``spaces/…``), once known."""


class MeetSpaces:
    """Finding, configuring and remembering the Meet space of each session's event.

    A base of :class:`~blendkit_meet.MeetProvider`, whose ``__init__`` sets the attributes
    declared here.
    """

    settings: MeetSettings
    api: GoogleApi
    _calendar: str
    """The events URL of the organiser's calendar."""
    _lock: threading.Lock
    _spaces: dict[str, MeetSpace]
    _by_space: dict[str, str]

    # --- Meet extras -----------------------------------------------------------------------------

    def space_in_use(self, space: str, since: datetime) -> bool:
        """True when a session of ``space`` has a sitting that ends after ``since``."""
        params = {
            "privateExtendedProperty": f"{SPACE_PROPERTY}={space}",
            "singleEvents": "true",
            "timeMin": since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "maxResults": "1",
        }
        return bool(self.api.get(self._calendar, params).get("items"))

    def space(self, meeting_id: str) -> MeetSpace:
        """The Meet link and meeting code of a session (read once from its event, then cached)."""
        with self._lock:
            known = self._spaces.get(meeting_id)
        if known is not None:
            return known
        event = self._event(meeting_id)
        code = conference_code(event)
        url = join_url(event)
        if code is None or not url:
            raise NotFound(
                f"calendar event {meeting_id} has no Google Meet conference; it was not "
                "created by blendkit or its conference was removed",
                code="sessions.meeting_not_found",
            )
        private = (event.get("extendedProperties") or {}).get("private") or {}
        space = private.get(SPACE_PROPERTY)
        found = MeetSpace(meeting_id, url, code, space if isinstance(space, str) else None)
        self._remember(found)
        return found

    def meeting_of_space(self, space: str) -> str | None:
        """The session (event id) whose Meet space is ``space`` (``spaces/…``), or None."""
        with self._lock:
            known = self._by_space.get(space)
        if known is not None:
            return known
        params = {
            "privateExtendedProperty": f"{SPACE_PROPERTY}={space}",
            "maxResults": "10",
            "showDeleted": "false",
        }
        for event in self.api.pages(self._calendar, params, "items"):
            if isinstance(event.get("id"), str):
                with self._lock:
                    self._by_space[space] = str(event["id"])
                return str(event["id"])
        return None

    # --- internals -------------------------------------------------------------------------------

    def _configure_space(self, code: str, *, record: bool) -> str:
        """The space's name; its access type, moderation and automatic recording (with
        transcripts, for captions) set when the settings or the session ask."""
        space = self.api.get(f"{MEET_API}/spaces/{quote(code, safe='')}")
        name = space.get("name")
        if not isinstance(name, str) or not name.startswith("spaces/"):
            raise ProviderError(
                f"the Meet API answered the space of meeting {code} without its name",
                code="sessions.provider_unexpected",
            )
        config: dict[str, Any] = {}
        if self.settings.access_type is not None:
            config["accessType"] = self.settings.access_type
        if self.settings.moderation is not None:
            config["moderation"] = "ON" if self.settings.moderation else "OFF"
        if record:
            config["artifactConfig"] = {
                "recordingConfig": {"autoRecordingGeneration": "ON"},
                "transcriptionConfig": {"autoTranscriptionGeneration": "ON"},
            }
        if config:
            mask = ",".join(_mask_paths(config, "config"))
            self.api.patch(f"{MEET_API}/{name}", {"config": config}, {"updateMask": mask})
        return name

    def _event_url(self, event_id: str) -> str:
        return f"{self._calendar}/{quote(event_id, safe='')}"

    def _event(self, event_id: str) -> dict[str, Any]:
        return self.api.get(self._event_url(event_id))

    def _remember(self, found: MeetSpace) -> None:
        with self._lock:
            self._spaces[found.event_id] = found
            if found.space is not None:
                self._by_space[found.space] = found.event_id


def _mask_paths(value: dict[str, Any], prefix: str) -> list[str]:
    """The ``updateMask`` field paths of every leaf of ``value``, sorted."""
    paths: list[str] = []
    for key, item in value.items():
        path = f"{prefix}.{key}"
        paths.extend(_mask_paths(item, path) if isinstance(item, dict) else [path])
    return sorted(paths)
