"""``blendkit canvas-json``."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from blendkit.cli import cli


def test_prints_the_developer_key_json_for_the_configured_base_url(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BLENDKIT_TOOL_BASE_URL", "https://tool.example.edu")
    result = CliRunner().invoke(cli, ["canvas-json", "--placement", "course_navigation"])
    assert result.exit_code == 0, result.output
    config = json.loads(result.output)
    assert config["oidc_initiation_url"] == "https://tool.example.edu/lti/login"
    placements = config["extensions"][0]["settings"]["placements"]
    assert [p["placement"] for p in placements] == ["course_navigation"]


def test_a_bad_base_url_is_reported_with_status_2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BLENDKIT_TOOL_BASE_URL", "tool.example.edu")
    result = CliRunner().invoke(cli, ["canvas-json"])
    assert result.exit_code == 2
    assert "base_url" in result.output


def test_unknown_placements_are_refused() -> None:
    result = CliRunner().invoke(cli, ["canvas-json", "--placement", "editor_buton"])
    assert result.exit_code == 2
