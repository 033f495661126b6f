"""Settings: a TOML file named by ``BLENDKIT_CONFIG``, overridden by ``BLENDKIT_*`` variables.

Every setting lives in a section; the variable for ``[section] key`` is
``BLENDKIT_SECTION_KEY`` (``[database] url`` ↔ ``BLENDKIT_DATABASE_URL``, ``[xapi] batch_size``
↔ ``BLENDKIT_XAPI_BATCH_SIZE``). Environment variables win over the file, the file over defaults.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from blendkit.errors import ConfigError

__all__ = [
    "DatabaseSettings",
    "LTISettings",
    "Settings",
    "TeamsSettings",
    "ToolSettings",
    "XAPISettings",
    "ZoomSettings",
    "load_settings",
]

CONFIG_ENV = "BLENDKIT_CONFIG"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DatabaseSettings(_Section):
    """Where blendkit keeps its records."""

    url: str = Field(
        default_factory=lambda: f"sqlite:///{Path.cwd() / 'blendkit.sqlite3'}",
        description="SQLAlchemy URL; SQLite file in the working directory by default.",
    )
    echo: bool = False
    ping_after_idle_seconds: float = Field(
        default=1.0,
        ge=0,
        le=3600,
        description="PostgreSQL: check a pooled connection that sat idle this long before use "
        "(0 checks on every use).",
    )


class ToolSettings(_Section):
    """How the tool is reached by platforms and browsers."""

    environment: Literal["production", "development"] = Field(
        default="production",
        description="production: every default closes a door (no open registration, https-only "
        "public outbound fetches, a stored secret key); development relaxes them for a laptop.",
    )
    base_url: str = Field(
        default="http://127.0.0.1:5000",
        description="Public origin of the tool, used to build login, launch and JWKS URLs.",
    )
    title: str = "blendkit"
    secret_key: SecretStr = Field(
        default=SecretStr(""), description="Flask session secret; generated when empty."
    )

    @property
    def production(self) -> bool:
        """True unless ``environment = "development"``."""
        return self.environment == "production"


class LTISettings(_Section):
    """Launch validation knobs."""

    leeway_seconds: int = Field(default=60, ge=0, le=600)
    max_token_age_seconds: int = Field(default=600, ge=10, le=86400)
    state_ttl_seconds: int = Field(default=600, ge=30, le=86400)
    max_token_bytes: int = Field(default=65536, ge=1024)
    http_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    jwks_cache_seconds: int = Field(default=3600, ge=0)
    registry_cache_seconds: float = Field(
        default=5.0,
        ge=0,
        le=300,
        description="How long a process reuses platform registrations it read (0: never).",
    )
    registration_enabled: bool = Field(
        default=True, description="Serve LTI Dynamic Registration at /lti/register."
    )
    registration_allowed_hosts: tuple[str, ...] = Field(
        default=(),
        description="Hosts whose platforms may register themselves; empty allows any platform.",
    )


class XAPISettings(_Section):
    """The Learning Record Store statements are delivered to (none: keep them locally)."""

    endpoint: str | None = None
    username: str | None = None
    password: SecretStr | None = None
    auth: Literal["basic", "oauth2"] = "basic"
    token_url: str | None = None
    version: Literal["1.0.3", "2.0.0"] = "1.0.3"
    batch_size: int = Field(default=100, ge=1, le=10000)
    timeout_seconds: float = Field(default=10.0, gt=0, le=300)
    oauth_scope: str | None = Field(
        default=None, description="Scope asked for with OAuth 2 client credentials."
    )
    backoff_initial_seconds: float = Field(
        default=1.0, gt=0, le=3600, description="First retry delay after a failed delivery."
    )
    backoff_max_seconds: float = Field(
        default=300.0, gt=0, le=86400, description="Longest retry delay (exponential, jittered)."
    )
    lease_seconds: float = Field(
        default=120.0,
        ge=5,
        le=3600,
        description="How long a deliverer owns a claimed batch before another may take it.",
    )
    poll_seconds: float = Field(
        default=2.0, gt=0, le=600, description="Idle wait of `blendkit outbox run`."
    )
    keep_delivered_days: float = Field(
        default=30.0,
        ge=0,
        le=36500,
        description=(
            "Delivered statements older than this are deleted by `blendkit outbox run` and "
            "`blendkit outbox prune` (the LRS keeps them); 0 keeps them forever."
        ),
    )


class ZoomSettings(_Section):
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


class TeamsSettings(_Section):
    """Microsoft Graph app registration and change-notification client state."""

    tenant_id: str | None = None
    client_id: str | None = None
    client_secret: SecretStr | None = None
    organizer: str | None = None
    client_state: SecretStr | None = None
    timeout_seconds: float = Field(default=10.0, gt=0, le=120)


class Settings(BaseSettings):
    """All of blendkit's settings. Build with :func:`load_settings` to get clear errors."""

    model_config = SettingsConfigDict(
        env_prefix="BLENDKIT_",
        env_nested_delimiter="_",
        env_nested_max_split=1,
        extra="forbid",
        frozen=True,
    )

    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    tool: ToolSettings = Field(default_factory=ToolSettings)
    lti: LTISettings = Field(default_factory=LTISettings)
    xapi: XAPISettings = Field(default_factory=XAPISettings)
    meeting_provider: str = "fake"
    zoom: ZoomSettings = Field(default_factory=ZoomSettings)
    teams: TeamsSettings = Field(default_factory=TeamsSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        path = os.environ.get(CONFIG_ENV)
        if path:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=Path(path)))
        return tuple(sources)


def _describe(error: ValidationError, origin: str) -> str:
    problems = []
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"]) or "(top level)"
        problems.append(f"{key}: {item['msg']}")
    return f"{origin}: " + "; ".join(problems)


def load_settings(**overrides: Any) -> Settings:
    """Read settings from ``$BLENDKIT_CONFIG`` and ``BLENDKIT_*`` variables.

    Raises :class:`ConfigError` naming the file, the key and the problem.
    """
    path = os.environ.get(CONFIG_ENV)
    origin = "environment"
    if path:
        file = Path(path)
        origin = f"config file {file}"
        if not file.is_file():
            raise ConfigError(f"{CONFIG_ENV} names {file}, which does not exist or is not a file")
        try:
            tomllib.loads(file.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{origin} is not valid TOML: {exc}") from exc
        origin = f"config file {file} (or BLENDKIT_* environment)"
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, origin)) from exc
