"""The tool's URL description shared by registration, the Canvas JSON and the blueprint."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from blendkit.config import Settings
from blendkit.errors import ConfigError
from blendkit.lti._tool_config import ToolConfig


def test_urls_are_built_from_the_origin() -> None:
    tool = ToolConfig(base_url="https://tool.example.edu:8443/")
    assert tool.base_url == "https://tool.example.edu:8443"
    assert tool.domain == "tool.example.edu:8443"
    assert tool.login_url == "https://tool.example.edu:8443/lti/login"
    assert tool.launch_url == "https://tool.example.edu:8443/lti/launch"
    assert tool.jwks_url == "https://tool.example.edu:8443/lti/jwks"
    assert tool.registration_url == "https://tool.example.edu:8443/lti/register"
    assert tool.canvas_config_url == "https://tool.example.edu:8443/lti/canvas.json"
    assert tool.redirect_uris == ("https://tool.example.edu:8443/lti/launch",)


def test_a_separate_deep_linking_endpoint_is_also_a_redirect_uri() -> None:
    tool = ToolConfig(base_url="https://t.example", deep_linking_path="/lti/select")
    assert tool.redirect_uris == ("https://t.example/lti/launch", "https://t.example/lti/select")


@pytest.mark.parametrize(
    "overrides",
    [
        {"base_url": "tool.example.edu"},
        {"base_url": "ftp://tool.example.edu"},
        {"base_url": "https://tool.example.edu/?x=1"},
        {"base_url": "https://t.example", "login_path": "lti/login"},
        {"base_url": "https://t.example", "privacy_level": "everything"},
    ],
)
def test_unusable_values_are_refused(overrides: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        ToolConfig(**overrides)


def test_from_settings_names_the_tool_key() -> None:
    good = ToolConfig.from_settings(
        Settings.model_validate({"tool": {"base_url": "https://t.example", "title": "X"}})
    )
    assert (good.base_url, good.title) == ("https://t.example", "X")
    bad = Settings.model_validate({"tool": {"base_url": "t.example"}})
    with pytest.raises(ConfigError, match=r"\[tool\] base_url"):
        ToolConfig.from_settings(bad)


@settings(max_examples=100)
@given(st.from_regex(r"[a-z]{1,12}(\.[a-z]{2,6}){1,2}", fullmatch=True))
def test_every_url_is_on_the_tool_origin(host: str) -> None:
    tool = ToolConfig(base_url=f"https://{host}")
    for url in (tool.login_url, tool.launch_url, tool.jwks_url, tool.registration_url):
        assert url.startswith(f"https://{host}/lti/")
    assert tool.domain == host
