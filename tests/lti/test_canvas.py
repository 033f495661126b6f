"""The Canvas developer-key JSON, checked against Canvas's documented configuration anatomy."""

from __future__ import annotations

import json

import pytest

from blendkit.lti._canvas import canvas_config_response, canvas_developer_key_config
from blendkit.lti._tool_config import ToolConfig

# From Canvas's "Configuring LTI Advantage Tools": the allowed values of each field.
CANVAS_SCOPES = {
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem",
    "https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/score",
    "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly",
    "https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly",
    "https://canvas.instructure.com/lti/public_jwk/scope/update",
}
PRIVACY_LEVELS = {"anonymous", "public", "name_only", "email_only"}
MESSAGE_TYPES = {"LtiResourceLinkRequest", "LtiDeepLinkingRequest"}
REQUIRED = {"title", "description", "oidc_initiation_url", "target_link_uri"}

TOOL = ToolConfig(
    base_url="https://tool.example.edu/",
    title="blendkit",
    icon_url="https://tool.example.edu/static/icon.png",
    custom_parameters={"audience": "learners"},
)


def test_json_has_the_documented_shape_and_the_tool_urls() -> None:
    config = canvas_developer_key_config(TOOL)
    assert set(config) >= REQUIRED
    assert config["oidc_initiation_url"] == "https://tool.example.edu/lti/login"
    assert config["target_link_uri"] == "https://tool.example.edu/lti/launch"
    assert config["public_jwk_url"] == "https://tool.example.edu/lti/jwks"
    assert "public_jwk" not in config  # the URL keeps key rotation automatic
    assert set(config["scopes"]) <= CANVAS_SCOPES
    (extension,) = config["extensions"]
    assert extension["platform"] == "canvas.instructure.com"
    assert extension["privacy_level"] in PRIVACY_LEVELS
    assert extension["domain"] == "tool.example.edu"
    placements = {p["placement"]: p for p in extension["settings"]["placements"]}
    assert set(placements) == {"course_navigation", "link_selection", "assignment_selection"}
    assert {p["message_type"] for p in placements.values()} <= MESSAGE_TYPES
    assert placements["course_navigation"]["message_type"] == "LtiResourceLinkRequest"
    for selection in ("link_selection", "assignment_selection"):
        assert placements[selection]["message_type"] == "LtiDeepLinkingRequest"
    assert all(p["icon_url"] == TOOL.icon_url for p in placements.values())
    assert config["custom_fields"]["canvas_membership_roles"] == "$Canvas.membership.roles"
    assert config["custom_fields"]["audience"] == "learners"
    assert all(isinstance(v, str) for v in config["custom_fields"].values())


def test_placements_can_be_narrowed_and_unknown_ones_are_refused() -> None:
    config = canvas_developer_key_config(TOOL, placements=["assignment_selection"])
    (placement,) = config["extensions"][0]["settings"]["placements"]
    assert placement["target_link_uri"] == TOOL.deep_linking_url
    with pytest.raises(ValueError, match="editor_buton"):
        canvas_developer_key_config(TOOL, placements=["editor_buton"])


def test_response_is_json_that_round_trips() -> None:
    response = canvas_config_response(TOOL)
    assert response.status == 200
    assert response.header("Content-Type") == "application/json"
    assert json.loads(response.body) == canvas_developer_key_config(TOOL)


def test_documented_json_is_what_the_tool_serves() -> None:
    import re
    from pathlib import Path

    doc = Path(__file__).resolve().parents[2] / "docs" / "lti" / "canvas.md"
    (block,) = re.findall(r"```json\n(.*?)```", doc.read_text(encoding="utf-8"), re.S)
    served = canvas_developer_key_config(ToolConfig(base_url="https://tool.example.edu"))
    assert json.loads(block) == served
