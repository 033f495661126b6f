"""What LTI Dynamic Registration exchanges: the platform's OpenID configuration, the tool's client
registration request, the result and the page that closes the platform's dialog."""

from __future__ import annotations

import base64
import hashlib
import html
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field, field_validator

from blendkit.lti._http import HttpResponse
from blendkit.lti._platforms import Platform
from blendkit.lti._tool_config import ToolConfig

__all__ = [
    "CANVAS_PREFIX",
    "LTIPlatformConfiguration",
    "PLATFORM_CONFIGURATION_CLAIM",
    "PlatformConfiguration",
    "RegistrationResult",
    "SupportedMessage",
    "TOOL_CONFIGURATION_CLAIM",
    "client_registration",
    "close_page",
    "issuer_matches",
]

PLATFORM_CONFIGURATION_CLAIM: Final = "https://purl.imsglobal.org/spec/lti-platform-configuration"
TOOL_CONFIGURATION_CLAIM: Final = "https://purl.imsglobal.org/spec/lti-tool-configuration"
CANVAS_PREFIX: Final = "https://canvas.instructure.com/lti/"
_CANVAS_RESOURCE_PLACEMENTS: Final = ("course_navigation",)
_CANVAS_DEEP_LINKING_PLACEMENTS: Final = ("assignment_selection", "link_selection")


class SupportedMessage(BaseModel):
    """A message type the platform can send, and where (Canvas lists placements per type)."""

    model_config = ConfigDict(frozen=True, extra="allow")

    type: str
    placements: tuple[str, ...] = ()


class LTIPlatformConfiguration(BaseModel):
    """The ``…/lti-platform-configuration`` member of the platform's OpenID configuration."""

    model_config = ConfigDict(frozen=True, extra="allow")

    product_family_code: str
    version: str | None = None
    messages_supported: tuple[SupportedMessage, ...] = ()
    placements: tuple[str, ...] = ()
    variables: tuple[str, ...] = ()

    @field_validator("messages_supported", mode="before")
    @classmethod
    def _plain_names(cls, value: Any) -> Any:
        # Moodle lists bare type names; Canvas lists {"type": …, "placements": […]} objects.
        if isinstance(value, list | tuple):
            return [{"type": item} if isinstance(item, str) else item for item in value]
        return value

    def supports(self, message_type: str) -> bool:
        """True when the platform lists ``message_type`` (or lists nothing at all)."""
        return not self.messages_supported or any(
            m.type == message_type for m in self.messages_supported
        )

    def placements_for(self, message_type: str) -> tuple[str, ...]:
        """Placements the platform offers for ``message_type`` (empty when it names none)."""
        for message in self.messages_supported:
            if message.type == message_type:
                return message.placements
        return ()


class PlatformConfiguration(BaseModel):
    """The platform's OpenID configuration, as far as registration needs it."""

    model_config = ConfigDict(frozen=True, extra="allow", populate_by_name=True)

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    registration_endpoint: str
    scopes_supported: tuple[str, ...] | None = None
    token_endpoint_auth_methods_supported: tuple[str, ...] = ("private_key_jwt",)
    id_token_signing_alg_values_supported: tuple[str, ...] = ("RS256",)
    lti: LTIPlatformConfiguration = Field(alias=PLATFORM_CONFIGURATION_CLAIM)


class RegistrationResult(BaseModel):
    """What the platform granted and what blendkit stored."""

    model_config = ConfigDict(frozen=True)

    platform: Platform
    product_family_code: str
    scope: tuple[str, ...]
    response: dict[str, Any] = Field(repr=False)


def issuer_matches(issuer: str, configuration_url: str) -> bool:
    """The spec's rule: the configuration URL starts with the issuer, on a path boundary."""
    base = issuer.rstrip("/")
    if not base or not configuration_url.startswith(base):
        return False
    rest = configuration_url[len(base) :]
    return rest == "" or rest[0] in "/?#"


def client_registration(tool: ToolConfig, config: PlatformConfiguration) -> dict[str, Any]:
    """The client registration body ``tool`` sends to ``config``'s platform."""
    scopes = [
        s for s in tool.scopes if config.scopes_supported is None or s in config.scopes_supported
    ]
    canvas = config.lti.product_family_code == "canvas"
    messages: list[dict[str, Any]] = []
    for message_type, url, wanted in (
        ("LtiResourceLinkRequest", tool.launch_url, _CANVAS_RESOURCE_PLACEMENTS),
        ("LtiDeepLinkingRequest", tool.deep_linking_url, _CANVAS_DEEP_LINKING_PLACEMENTS),
    ):
        if not config.lti.supports(message_type):
            continue
        message: dict[str, Any] = {
            "type": message_type,
            "target_link_uri": url,
            "label": tool.title,
        }
        if tool.icon_url:
            message["icon_uri"] = tool.icon_url
        offered = config.lti.placements_for(message_type)
        placements = [p for p in wanted if p in offered]
        if placements:
            message["placements"] = placements
        messages.append(message)
    tool_configuration: dict[str, Any] = {
        "domain": tool.domain,
        "description": tool.description,
        "target_link_uri": tool.launch_url,
        "claims": list(tool.claims),
        "messages": messages,
    }
    if tool.launch_custom_parameters:
        tool_configuration["custom_parameters"] = tool.launch_custom_parameters
    if canvas:
        tool_configuration[CANVAS_PREFIX + "privacy_level"] = tool.privacy_level
        tool_configuration[CANVAS_PREFIX + "tool_id"] = tool.tool_id
    body: dict[str, Any] = {
        "application_type": "web",
        "response_types": ["id_token"],
        "grant_types": ["implicit", "client_credentials"],
        "initiate_login_uri": tool.login_url,
        "redirect_uris": list(tool.redirect_uris),
        "client_name": tool.title,
        "jwks_uri": tool.jwks_url,
        "token_endpoint_auth_method": "private_key_jwt",
        "scope": " ".join(scopes),
        TOOL_CONFIGURATION_CLAIM: tool_configuration,
    }
    if tool.icon_url:
        body["logo_uri"] = tool.icon_url
    return body


_CLOSE_SCRIPT: Final = (
    '(window.opener||window.parent).postMessage({subject:"org.imsglobal.lti.close"},"*");'
)
_CLOSE_HASH: Final = (
    "'sha256-" + base64.b64encode(hashlib.sha256(_CLOSE_SCRIPT.encode()).digest()).decode() + "'"
)


def close_page(result: RegistrationResult, tool_title: str) -> HttpResponse:
    """The page that ends registration: it tells the platform window to close the dialog."""
    platform = result.platform
    deployment = ", ".join(platform.deployment_ids) or "assigned when the tool is deployed"
    body = (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(tool_title)} registered</title></head>\n<body>"
        f"<h1>{html.escape(tool_title)} is registered</h1>"
        f"<p>Platform: {html.escape(platform.name or platform.issuer)}</p>"
        f"<p>Client ID: <code>{html.escape(platform.client_id)}</code><br>"
        f"Deployment ID: <code>{html.escape(deployment)}</code></p>"
        "<p>You can close this window and finish the set-up in the platform.</p>"
        f"<script>{_CLOSE_SCRIPT}</script></body></html>\n"
    )
    return HttpResponse(
        status=200,
        headers=(
            ("Content-Type", "text/html; charset=utf-8"),
            ("Cache-Control", "no-store"),
            ("X-Content-Type-Options", "nosniff"),
            ("Content-Security-Policy", f"default-src 'none'; script-src {_CLOSE_HASH}"),
        ),
        body=body,
    )
