"""The tool's own description: where platforms reach it and what it asks of them.

Dynamic registration, the Canvas developer-key JSON and the documentation for manual set-up all
read the same :class:`ToolConfig`, so the URLs a platform stores are exactly the ones the Flask
blueprint serves.
"""

from __future__ import annotations

from typing import Any, Final, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from blendkit.errors import ConfigError
from blendkit.lti._time_zone import TIME_ZONE_PARAMETER, TIME_ZONE_SUBSTITUTION

__all__ = [
    "AGS_LINEITEM_READONLY_SCOPE",
    "AGS_LINEITEM_SCOPE",
    "AGS_RESULT_READONLY_SCOPE",
    "AGS_SCORE_SCOPE",
    "DEFAULT_SCOPES",
    "NRPS_SCOPE",
    "ToolConfig",
]

AGS_LINEITEM_SCOPE: Final = "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem"
AGS_LINEITEM_READONLY_SCOPE: Final = (
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly"
)
AGS_RESULT_READONLY_SCOPE: Final = "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly"
AGS_SCORE_SCOPE: Final = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
NRPS_SCOPE: Final = "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"

DEFAULT_SCOPES: Final = (
    AGS_LINEITEM_SCOPE,
    AGS_LINEITEM_READONLY_SCOPE,
    AGS_RESULT_READONLY_SCOPE,
    AGS_SCORE_SCOPE,
    NRPS_SCOPE,
)


def _path(value: str) -> str:
    if not value.startswith("/"):
        raise ValueError(f"path {value!r} must start with '/'")
    return value


class ToolConfig(BaseModel):
    """The tool's public URLs (built from ``base_url``) and what it requests from platforms."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    base_url: str = Field(description="Public origin of the tool, e.g. https://tool.example.edu")
    title: str = "blendkit"
    description: str = "Blended learning: live sessions, quiz-gated progression, xAPI records."
    tool_id: str = Field(default="blendkit", description="Stable id across deployments (Canvas).")
    login_path: str = "/lti/login"
    launch_path: str = "/lti/launch"
    jwks_path: str = "/lti/jwks"
    registration_path: str = "/lti/register"
    canvas_config_path: str = "/lti/canvas.json"
    deep_linking_path: str = Field(
        default="/lti/launch",
        description="Target of LtiDeepLinkingRequest messages (the launch endpoint by default).",
    )
    icon_url: str | None = None
    scopes: tuple[str, ...] = DEFAULT_SCOPES
    claims: tuple[str, ...] = (
        "iss",
        "sub",
        "name",
        "given_name",
        "family_name",
        "email",
        "picture",
        "locale",
    )
    privacy_level: Literal["public", "name_only", "email_only", "anonymous"] = "public"
    custom_parameters: dict[str, str] = Field(default_factory=dict)
    ask_time_zone: bool = Field(
        default=True,
        description="Ask the platform for each learner's time zone: adds the custom parameter "
        "timezone=$Person.address.timezone to the Canvas JSON and the registration request.",
    )

    @field_validator("base_url")
    @classmethod
    def _origin(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise ValueError(f"base_url {value!r} must be an http(s) URL such as https://tool.edu")
        if parts.query or parts.fragment:
            raise ValueError(f"base_url {value!r} must not carry a query or fragment")
        return value.rstrip("/")

    _paths = field_validator(
        "login_path",
        "launch_path",
        "jwks_path",
        "registration_path",
        "canvas_config_path",
        "deep_linking_path",
    )(_path)

    @classmethod
    def from_settings(cls, settings: Any, **overrides: Any) -> ToolConfig:
        """Build from :class:`blendkit.config.Settings` (``[tool] base_url``, ``title`` and
        ``ask_time_zone``).

        Raises :class:`ConfigError` naming the ``[tool]`` key when a value is unusable.
        """
        values: dict[str, Any] = {
            "base_url": settings.tool.base_url,
            "title": settings.tool.title,
            "ask_time_zone": settings.tool.ask_time_zone,
        }
        values.update(overrides)
        try:
            return cls(**values)
        except ValidationError as exc:
            problems = "; ".join(
                f"[tool] {'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
            )
            raise ConfigError(
                f"{problems} (fix the [tool] section of the config file or the "
                "BLENDKIT_TOOL_* variables)"
            ) from exc

    @property
    def launch_custom_parameters(self) -> dict[str, str]:
        """The custom parameters every launch should carry (time zone first, then the tool's)."""
        asked = {TIME_ZONE_PARAMETER: TIME_ZONE_SUBSTITUTION} if self.ask_time_zone else {}
        return {**asked, **self.custom_parameters}

    @property
    def domain(self) -> str:
        """Host (and port, when not the default) platforms match launches against."""
        return urlsplit(self.base_url).netloc

    @property
    def login_url(self) -> str:
        """OIDC third-party login initiation URL (``initiate_login_uri``)."""
        return self.base_url + self.login_path

    @property
    def launch_url(self) -> str:
        """Redirect URI and default target link URI."""
        return self.base_url + self.launch_path

    @property
    def jwks_url(self) -> str:
        """Where platforms fetch the tool's public keys."""
        return self.base_url + self.jwks_path

    @property
    def registration_url(self) -> str:
        """The URL an administrator pastes into the platform for dynamic registration."""
        return self.base_url + self.registration_path

    @property
    def canvas_config_url(self) -> str:
        """The Canvas developer-key JSON URL."""
        return self.base_url + self.canvas_config_path

    @property
    def deep_linking_url(self) -> str:
        """Target link URI for deep-linking (content selection) launches."""
        return self.base_url + self.deep_linking_path

    @property
    def redirect_uris(self) -> tuple[str, ...]:
        """Every URL the platform may post an id_token to."""
        uris = [self.launch_url]
        if self.deep_linking_url not in uris:
            uris.append(self.deep_linking_url)
        return tuple(uris)
