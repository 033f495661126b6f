"""The ``[zoom]`` settings section, declared to blendkit through the ``blendkit.settings``
entry point ``zoom`` (TOML ``[zoom]``, variables ``BLENDKIT_ZOOM_<KEY>``)."""

from __future__ import annotations

from pydantic import Field, SecretStr

from blendkit.config import Settings, SettingsSection

__all__ = ["ZoomSettings"]


class ZoomSettings(SettingsSection):
    """Zoom Server-to-Server OAuth app and webhook secret."""

    account_id: str | None = None
    client_id: str | None = None
    client_secret: SecretStr | None = None
    webhook_secret: SecretStr | None = None
    user_id: str = Field(
        default="me",
        description="Zoom user (id or email) who hosts the meetings blendkit creates.",
    )
    timeout_seconds: float = Field(default=10.0, gt=0, le=120)

    @classmethod
    def of(cls, settings: Settings) -> ZoomSettings:
        """The ``[zoom]`` section of ``settings``."""
        return settings.plugin("zoom", cls)
