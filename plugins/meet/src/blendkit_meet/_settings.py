"""The ``[meet]`` settings section, declared to blendkit through the ``blendkit.settings``
entry point ``meet`` (TOML ``[meet]``, variables ``BLENDKIT_MEET_<KEY>``).

The service account's JSON key is read from :attr:`MeetSettings.service_account_file` only when
the provider is built; every problem with it is one :class:`~blendkit.errors.ConfigError` naming
the file and what is wrong, never the key itself.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from blendkit.config import Settings, SettingsSection
from blendkit.errors import ConfigError

__all__ = ["SERVICE_ACCOUNT_KEYS", "MeetSettings"]

SERVICE_ACCOUNT_KEYS = ("type", "client_email", "client_id", "private_key", "token_uri")
"""The fields google-auth needs from a service account key file."""

AccessType = Literal["OPEN", "TRUSTED", "RESTRICTED"]


class MeetSettings(SettingsSection):
    """Google Workspace service account, delegated organiser and Pub/Sub push settings."""

    service_account_file: Path | None = Field(
        default=None,
        description="JSON key of a service account with domain-wide delegation.",
    )
    organizer: str | None = Field(
        default=None,
        description="Workspace user (e-mail) whose calendar holds the sessions; the service "
        "account acts as this user.",
    )
    directory_admin: str | None = Field(
        default=None,
        description="Workspace user allowed to read the Directory (users.get) to turn Meet "
        "participants into e-mail addresses; the organiser when unset.",
    )
    user_lookup: Literal["directory", "people", "none"] = Field(
        default="directory",
        description="How Meet participants' Google accounts become e-mail addresses: the "
        "Admin SDK Directory (as directory_admin), the People API (as the organiser), or none.",
    )
    push_audience: str | None = Field(
        default=None,
        description="Audience of the OIDC token Pub/Sub puts on pushes to /webhooks/meet.",
    )
    push_service_account: str | None = Field(
        default=None,
        description="E-mail of the service account the Pub/Sub push subscription signs as.",
    )
    pubsub_topic: str | None = Field(
        default=None,
        description="projects/<project>/topics/<topic> that Workspace Events publishes to.",
    )
    share_recordings: bool = Field(
        default=False,
        description="Share recording and transcript files with the invited learners (Drive).",
    )
    invite_roster: bool = Field(
        default=True,
        description="Invite learners to the calendar event (Meet has no personal join links).",
    )
    access_type: AccessType | None = Field(
        default=None,
        description="Meet space access type set after creation (OPEN, TRUSTED, RESTRICTED); "
        "the Workspace default when unset.",
    )
    moderation: bool | None = Field(
        default=None,
        description="Turn the space's host management on or off; the default when unset.",
    )
    timeout_seconds: float = Field(default=10.0, gt=0, le=120)

    @classmethod
    def of(cls, settings: Settings) -> MeetSettings:
        """The ``[meet]`` section of ``settings``."""
        return settings.plugin("meet", cls)

    def require(self) -> tuple[Path, str]:
        """The key file and organiser; ConfigError naming every missing setting."""
        missing = [
            f"[meet] {key}"
            for key in ("service_account_file", "organizer")
            if not getattr(self, key)
        ]
        if missing:
            raise ConfigError(
                f"the Google Meet provider needs {', '.join(missing)} "
                "(BLENDKIT_MEET_SERVICE_ACCOUNT_FILE, BLENDKIT_MEET_ORGANIZER): a service account "
                "key with domain-wide delegation and the Workspace user who organises the "
                "sessions; see docs/providers/meet.md"
            )
        assert self.service_account_file is not None  # narrowed above, for the type checker
        assert self.organizer is not None
        if "@" not in self.organizer:
            raise ConfigError(
                "[meet] organizer must be the e-mail address of a Workspace user (the service "
                "account acts as that user)"
            )
        return self.service_account_file, self.organizer

    def service_account_info(self) -> dict[str, Any]:
        """The parsed key file; ConfigError naming the path and the reason (never the key)."""
        path, _ = self.require()
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError(
                f"[meet] service_account_file {path} does not exist; download the service "
                "account's JSON key (docs/providers/meet.md) and point the setting at it"
            ) from None
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "unreadable"
            raise ConfigError(
                f"[meet] service_account_file {path} cannot be read ({reason}); check its "
                "permissions for the user running blendkit"
            ) from None
        try:
            info = json.loads(text)
        except ValueError as exc:
            raise ConfigError(
                f"[meet] service_account_file {path} is not JSON (line {exc_line(exc)}); "
                "download the key again as JSON, not P12"
            ) from None
        if not isinstance(info, dict):
            raise ConfigError(f"[meet] service_account_file {path} is not a JSON object")
        if info.get("type") != "service_account":
            raise ConfigError(
                f"[meet] service_account_file {path} is not a service account key (its type is "
                f"{str(info.get('type'))[:40]!r}); an OAuth client or user credential cannot "
                "act for the organiser"
            )
        absent = [key for key in SERVICE_ACCOUNT_KEYS if not isinstance(info.get(key), str)]
        if absent:
            raise ConfigError(
                f"[meet] service_account_file {path} lacks {', '.join(absent)}; download a new "
                "JSON key for the service account"
            )
        return info


def exc_line(exc: ValueError) -> int | str:
    """The line a JSON error points at (never the text around it, which may hold the key)."""
    return getattr(exc, "lineno", "?")
