"""The ``[teams]`` settings section, declared to blendkit through the ``blendkit.settings``
entry point ``teams`` (TOML ``[teams]``, variables ``BLENDKIT_TEAMS_<KEY>``)."""

from __future__ import annotations

from pydantic import Field, SecretStr

from blendkit.config import Settings, SettingsSection

__all__ = ["TeamsSettings"]


class TeamsSettings(SettingsSection):
    """Microsoft Graph app registration and change-notification client state."""

    tenant_id: str | None = None
    client_id: str | None = None
    client_secret: SecretStr | None = None
    organizer: str | None = None
    former_organizers: list[str] = Field(default_factory=list)
    """Earlier values of ``organizer`` whose calendars still hold sessions: a session not in
    today's organizer's calendar is looked up in theirs (once per session and process)."""
    client_state: SecretStr | None = None
    timeout_seconds: float = Field(default=10.0, gt=0, le=120)

    @classmethod
    def of(cls, settings: Settings) -> TeamsSettings:
        """The ``[teams]`` section of ``settings``."""
        return settings.plugin("teams", cls)
