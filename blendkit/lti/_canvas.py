"""The JSON configuration Canvas accepts for an LTI 1.3 developer key.

An administrator creates an LTI key under Admin › Developer Keys › + LTI Key, chooses "Enter URL"
and pastes ``/lti/canvas.json``, or pastes this JSON. Its shape follows Canvas's "Configuring LTI
Advantage Tools" documentation: tool-level URLs and scopes, one ``extensions`` entry for
``canvas.instructure.com`` with the privacy level and the placements, and custom fields.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

import orjson

from blendkit.lti._http import HttpResponse
from blendkit.lti._tool_config import ToolConfig

__all__ = [
    "CANVAS_CUSTOM_FIELDS",
    "CANVAS_PLACEMENTS",
    "canvas_config_response",
    "canvas_developer_key_config",
]

CANVAS_PLATFORM: Final = "canvas.instructure.com"

#: Placement → message type. Selection placements let an instructor pick content (deep linking).
CANVAS_PLACEMENTS: Final[Mapping[str, str]] = {
    "course_navigation": "LtiResourceLinkRequest",
    "link_selection": "LtiDeepLinkingRequest",
    "assignment_selection": "LtiDeepLinkingRequest",
}

#: Canvas variable substitutions worth having in every launch. Canvas puts
#: ``…/lis/v2/system/person#User`` in every user's roles, so the course roles are sent explicitly.
CANVAS_CUSTOM_FIELDS: Final[Mapping[str, str]] = {
    "canvas_course_id": "$Canvas.course.id",
    "canvas_user_id": "$Canvas.user.id",
    "canvas_membership_roles": "$Canvas.membership.roles",
}


def canvas_developer_key_config(
    tool: ToolConfig,
    *,
    placements: Sequence[str] = tuple(CANVAS_PLACEMENTS),
    custom_fields: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The developer-key JSON for ``tool`` with the given Canvas placements."""
    unknown = [p for p in placements if p not in CANVAS_PLACEMENTS]
    if unknown:
        raise ValueError(
            f"unknown Canvas placement(s) {', '.join(unknown)}; "
            f"choose from {', '.join(CANVAS_PLACEMENTS)}"
        )
    placement_configs: list[dict[str, Any]] = []
    for placement in placements:
        message_type = CANVAS_PLACEMENTS[placement]
        entry: dict[str, Any] = {
            "placement": placement,
            "message_type": message_type,
            "target_link_uri": (
                tool.deep_linking_url
                if message_type == "LtiDeepLinkingRequest"
                else tool.launch_url
            ),
            "text": tool.title,
        }
        if tool.icon_url:
            entry["icon_url"] = tool.icon_url
        if placement == "course_navigation":
            # Visible to the course's members; instructors can hide it per course.
            entry["visibility"] = "members"
            entry["default"] = "enabled"
        placement_configs.append(entry)
    settings: dict[str, Any] = {"text": tool.title, "placements": placement_configs}
    if tool.icon_url:
        settings["icon_url"] = tool.icon_url
    fields = {**CANVAS_CUSTOM_FIELDS, **tool.launch_custom_parameters, **(custom_fields or {})}
    return {
        "title": tool.title,
        "description": tool.description,
        "oidc_initiation_url": tool.login_url,
        "target_link_uri": tool.launch_url,
        "public_jwk_url": tool.jwks_url,
        "scopes": list(tool.scopes),
        "extensions": [
            {
                "platform": CANVAS_PLATFORM,
                "domain": tool.domain,
                "tool_id": tool.tool_id,
                "privacy_level": tool.privacy_level,
                "settings": settings,
            }
        ],
        "custom_fields": fields,
    }


def canvas_config_response(tool: ToolConfig, **options: Any) -> HttpResponse:
    """``GET /lti/canvas.json``: the developer-key JSON as a response value."""
    body = orjson.dumps(canvas_developer_key_config(tool, **options), option=orjson.OPT_INDENT_2)
    return HttpResponse(
        status=200,
        headers=(
            ("Content-Type", "application/json"),
            ("Cache-Control", "no-cache"),
            ("X-Content-Type-Options", "nosniff"),
        ),
        body=body.decode("utf-8"),
    )
