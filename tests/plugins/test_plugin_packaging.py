"""The plugins' public faces and their boundary: sorted ``__all__``, only blendkit's public API."""

from __future__ import annotations

import ast
import importlib
import tomllib
from pathlib import Path

import httpx
import pytest

from blendkit.sessions import MeetingProvider
from tests.plugins.google_fake import meet_settings, write_key
from tests.plugins.graph_fake import teams_settings
from tests.plugins.zoom_data import zoom_settings

REPO_ROOT = Path(__file__).resolve().parents[2]
PUBLIC_BLENDKIT = {
    "blendkit",
    "blendkit.calendar",
    "blendkit.config",
    "blendkit.errors",
    "blendkit.http",
    "blendkit.limits",
    "blendkit.sessions",
}
PLUGINS = {"zoom": "ZoomProvider", "teams": "TeamsProvider", "meet": "MeetProvider"}


@pytest.mark.parametrize("name", sorted(PLUGINS))
def test_all_is_sorted_and_resolves(name: str) -> None:
    module = importlib.import_module(f"blendkit_{name}")
    exported = module.__all__
    assert exported == sorted(exported)
    assert len(set(exported)) == len(exported)
    for member in exported:
        assert hasattr(module, member), f"blendkit_{name}.{member} is listed but missing"


@pytest.mark.parametrize("name", sorted(PLUGINS))
def test_plugins_import_only_the_public_api_of_blendkit(name: str) -> None:
    source_dir = REPO_ROOT / "plugins" / name / "src" / f"blendkit_{name}"
    used: set[str] = set()
    for path in source_dir.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                used.add(node.module)
            elif isinstance(node, ast.Import):
                used.update(alias.name for alias in node.names)
    blendkit_modules = {m for m in used if m == "blendkit" or m.startswith("blendkit.")}
    assert blendkit_modules <= PUBLIC_BLENDKIT, blendkit_modules - PUBLIC_BLENDKIT


@pytest.mark.parametrize("name", sorted(PLUGINS))
def test_distribution_declares_the_entry_point_and_ships_py_typed(name: str) -> None:
    root = REPO_ROOT / "plugins" / name
    project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    entry = project["project"]["entry-points"]["blendkit.meeting_providers"]
    assert entry == {name: f"blendkit_{name}:{PLUGINS[name]}"}
    assert project["project"]["name"] == f"blendkit-{name}"
    assert (root / "src" / f"blendkit_{name}" / "py.typed").is_file()
    assert "py.typed" in project["tool"]["setuptools"]["package-data"][f"blendkit_{name}"]


@pytest.mark.parametrize("name", sorted(PLUGINS))
def test_provider_classes_fulfil_the_protocol(name: str, tmp_path: Path) -> None:
    cls = getattr(importlib.import_module(f"blendkit_{name}"), PLUGINS[name])
    assert cls.name == name
    for method in (
        "create_session",
        "update_session",
        "cancel_session",
        "join_link",
        "fetch_attendance",
        "list_recordings",
        "handle_webhook",
    ):
        assert callable(getattr(cls, method)), method
    settings = {
        "zoom": zoom_settings,
        "teams": teams_settings,
        "meet": lambda: meet_settings(write_key(tmp_path)),
    }[name]()
    assert isinstance(cls(settings, client=httpx.Client()), MeetingProvider)
