"""The built-in settings sections (``[database]``, ``[tool]``, ``[lti]``, ``[http]`` …) and their
base :class:`SettingsSection`; :mod:`blendkit.config` re-exports them and assembles them."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from cryptography.fernet import Fernet
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from blendkit._fence_rules import parse_allowed_entry
from blendkit._listen import parse_listen_address
from blendkit.errors import ConfigError

__all__ = [
    "CoursesSettings",
    "DatabaseSettings",
    "HTTPSettings",
    "LTISettings",
    "MetricsSettings",
    "NotifySettings",
    "SettingsSection",
    "ToolAdmin",
    "ToolSettings",
    "XAPISettings",
]


class SettingsSection(BaseModel):
    """Base of every settings section, built-in or a plugin's: unknown keys are errors, values
    are frozen, and a rejected value is never echoed in an error (it may be a secret)."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)


class DatabaseSettings(SettingsSection):
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


class ToolAdmin(SettingsSection):
    """A person who administers the whole tool when they launch it: a user ``sub`` of one issuer
    (a ``sub`` is unique only within its platform), optionally of one registration only."""

    issuer: str = Field(min_length=1, description="The platform's issuer, exactly as it sends it.")
    sub: str = Field(min_length=1, description="The user's id (``sub``) on that platform.")
    client_id: str | None = Field(
        default=None,
        description="Count launches through this registration only (several registrations, "
        "e.g. schools on one Canvas Cloud issuer, may share the issuer).",
    )


class ToolSettings(SettingsSection):
    """How the tool is reached by platforms and browsers, and who administers it."""

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
    ask_time_zone: bool = Field(
        default=True,
        description="Ask platforms for each learner's time zone: the Canvas JSON and dynamic "
        "registration request the custom parameter timezone=$Person.address.timezone.",
    )
    secret_key: SecretStr = Field(
        default=SecretStr(""),
        description="Key that signs CSRF tokens (and Flask sessions). Empty: generated once, "
        "kept encrypted in the database and shared by every worker (needs "
        "key_encryption_keys in production).",
    )
    key_encryption_keys: tuple[SecretStr, ...] = Field(
        default=(),
        description="Fernet keys that encrypt the tool's private keys and stored secrets in the "
        "database: the first encrypts, every one decrypts (add a new key first to rotate, then "
        "run `blendkit keys re-encrypt`). Required in production.",
    )

    @field_validator("key_encryption_keys")
    @classmethod
    def _fernet_keys(cls, value: tuple[SecretStr, ...]) -> tuple[SecretStr, ...]:
        for position, key in enumerate(value, start=1):
            try:
                Fernet(key.get_secret_value().encode("ascii"))
            except (ValueError, UnicodeEncodeError):
                # The message must not echo the key: pydantic errors can end up in logs.
                raise ValueError(
                    f"key {position} is not a Fernet key (32 url-safe base64-encoded bytes); "
                    "make one with `blendkit keys new-encryption-key`"
                ) from None
        return value

    admins: tuple[ToolAdmin, ...] = Field(
        default=(),
        description="People who administer the whole tool from their launches (issuer + sub); "
        "LMS administrator roles never do. The CLI administers the tool too.",
    )
    max_request_bytes: int = Field(
        default=1_048_576,
        ge=1024,
        description="Largest request body a page or form may send; larger ones are refused "
        "with 413 before more than this is read.",
    )
    max_webhook_bytes: int = Field(
        default=262_144,
        ge=1024,
        description="Largest request body under /webhooks/ and /lti/ (provider webhooks, "
        "launches); larger ones are refused with 413 before more than this is read.",
    )

    log_format: Literal["text", "json"] = Field(
        default="text",
        description="Log lines as plain text or as one JSON object per line (for log "
        "shippers); both redact launch ids and other credentials in URLs.",
    )

    @property
    def production(self) -> bool:
        """True unless ``environment = "development"``."""
        return self.environment == "production"


class HTTPSettings(SettingsSection):
    """Outbound fetches (JWKS, platform services, LRS, meeting providers): where and how much."""

    allowed_hosts: tuple[str, ...] = Field(
        default=(),
        description="Host names, IP addresses or CIDR networks that may be private and reached "
        "over plain http (a development platform, an LRS on the local network); empty by "
        "default, so only public https destinations are fetched.",
    )
    max_response_bytes: int = Field(
        default=10 * 1024 * 1024,
        ge=1024,
        le=1024 * 1024 * 1024,
        description="Reading an answer stops at this many bytes (the fetch then fails).",
    )
    deadline_seconds: float = Field(
        default=30.0,
        gt=0,
        le=600,
        description="Total time one fetch may take, redirects and the whole body included.",
    )
    max_redirects: int = Field(
        default=3, ge=0, le=10, description="Redirects followed where a fetch follows them."
    )

    @field_validator("allowed_hosts")
    @classmethod
    def _entries(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for entry in value:
            try:
                parse_allowed_entry(entry)
            except ConfigError as exc:
                raise ValueError(exc.message) from exc
        return value


class MetricsSettings(SettingsSection):
    """The Prometheus ``/metrics`` endpoint (needs the ``metrics`` extra): on the app's port
    behind ``token``, or on its own address (``bind``), never both."""

    token: SecretStr | None = Field(
        default=None,
        description="Bearer token a scraper must send (``Authorization: Bearer …``); unset "
        "and no ``bind``: ``/metrics`` is not served at all.",
    )
    bind: str | None = Field(
        default=None,
        description="``host:port`` of a separate metrics server (one per host); the app's own "
        "port then has no ``/metrics``. In production a non-loopback address needs ``token``.",
    )

    @field_validator("bind")
    @classmethod
    def _host_and_port(cls, value: str | None) -> str | None:
        if value is not None:
            parse_listen_address(value)
        return value

    @field_validator("token")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 16:
            raise ValueError(
                "must be at least 16 characters (make one with `openssl rand -hex 32`)"
            )
        return value


class LTISettings(SettingsSection):
    """Launch validation knobs."""

    leeway_seconds: int = Field(default=60, ge=0, le=600)
    max_token_age_seconds: int = Field(default=600, ge=10, le=86400)
    state_ttl_seconds: int = Field(default=600, ge=30, le=86400)
    max_token_bytes: int = Field(default=65536, ge=1024)
    http_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    jwks_cache_seconds: int = Field(default=3600, ge=0)
    launch_session_seconds: int = Field(
        default=3600,
        ge=60,
        le=86400,
        description="How long a launch id keeps a page open after the launch (pages carry it "
        "in forms and links); the learner relaunches from the course afterwards.",
    )
    registry_cache_seconds: float = Field(
        default=5.0,
        ge=0,
        le=300,
        description="How long a process reuses platform registrations it read (0: never).",
    )
    registration_enabled: bool = Field(
        default=False,
        description="Serve LTI Dynamic Registration at /lti/register; each registration then "
        "needs a one-time invite (`blendkit platform invite`).",
    )
    registration_allowed_hosts: tuple[str, ...] = Field(
        default=(),
        description="Hosts (fnmatch patterns) whose platforms may register with an invite, "
        "checked before any network call; empty: any host an invite allows.",
    )


class XAPISettings(SettingsSection):
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


class NotifySettings(SettingsSection):
    """The notification queue and its deliverer (`blendkit notify run`)."""

    channel: str = Field(
        default="email",
        min_length=1,
        max_length=64,
        description="The notifier (a `blendkit.notifiers` plugin) reminders are sent through.",
    )
    batch_size: int = Field(default=100, ge=1, le=10000)
    backoff_initial_seconds: float = Field(
        default=5.0, gt=0, le=3600, description="First retry delay after a failed send."
    )
    backoff_max_seconds: float = Field(
        default=900.0, gt=0, le=86400, description="Longest retry delay (exponential, jittered)."
    )
    lease_seconds: float = Field(
        default=120.0,
        ge=2,
        le=3600,
        description="How long a deliverer owns a claimed batch before another may take it "
        "(renewed while it sends; a killed deliverer's reminders wait this long).",
    )
    poll_seconds: float = Field(
        default=5.0, gt=0, le=600, description="Idle wait of `blendkit notify run`."
    )
    plan_every_seconds: float = Field(
        default=60.0, gt=0, le=86400, description="How often `notify run` asks the planner."
    )
    keep_sent_days: float = Field(
        default=30.0,
        ge=0,
        le=36500,
        description=(
            "Sent, cancelled and dropped reminders older than this are deleted by `blendkit "
            "notify run` and `blendkit notify prune`; 0 keeps them forever. Longer than the "
            "planning horizon: a reminder due before the window is never scheduled again."
        ),
    )


class CoursesSettings(SettingsSection):
    """Learner records kept by the courses layer."""

    keep_request_days: float = Field(
        default=7.0,
        ge=0,
        le=36500,
        description=(
            "Idempotency keys of learner forms older than this are deleted by `blendkit grades "
            "deliver --loop` and `blendkit courses prune-requests`; 0 keeps them forever. At "
            "least as long as a launch session (`[lti] launch_session_seconds`)."
        ),
    )
