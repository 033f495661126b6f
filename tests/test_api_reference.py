"""The API reference: one page per public package, generated from docstrings by mkdocstrings."""

from __future__ import annotations

import importlib
import re
import textwrap
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
API = ROOT / "docs" / "reference" / "api"

PACKAGES = [
    "blendkit",
    "blendkit.lti",
    "blendkit.xapi",
    "blendkit.progression",
    "blendkit.sessions",
    "blendkit.courses",
    "blendkit.store",
    "blendkit.http",
    "blendkit.limits",
    "blendkit.integrations.flask",
    "blendkit.plugins",
    "blendkit.notify",
    "blendkit.calendar",
    "blendkit.review",
    "blendkit.advisor",
]


def _nav_pages(items: object) -> list[str]:
    if isinstance(items, list):
        return [page for item in items for page in _nav_pages(item)]
    if isinstance(items, dict):
        return [page for value in items.values() for page in _nav_pages(value)]
    return [str(items)]


@pytest.mark.parametrize("package", PACKAGES)
def test_each_public_package_has_a_page_rendering_it_whole(package: str) -> None:
    importlib.import_module(package)
    pages = [
        p
        for p in API.glob("*.md")
        if re.search(rf"^::: {re.escape(package)}$", p.read_text(), re.M)
    ]
    assert len(pages) == 1, f"no page (or several) under docs/reference/api renders {package}"
    # A package-level directive, so renamed or added public names appear without editing pages.
    directives = re.findall(r"^::: (\S+)", pages[0].read_text(), re.M)
    assert directives == [package]
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    assert pages[0].relative_to(ROOT / "docs").as_posix() in _nav_pages(config["nav"])


def test_the_site_renders_docstrings_with_mkdocstrings() -> None:
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text())
    plugins = {next(iter(p)) if isinstance(p, dict) else p: p for p in config["plugins"]}
    assert "mkdocstrings" in plugins
    assert "search" in plugins, "listing plugins replaces MkDocs' default search: keep it"


def test_the_xapi_page_names_every_inherited_method_of_statement_factory() -> None:
    """mkdocstrings renders inherited members only when named: StatementFactory's builders live
    in private base classes, so the page lists them all (and nothing else)."""
    from blendkit.xapi import StatementFactory

    block = (API / "xapi.md").read_text().split("::: blendkit.xapi\n", 1)[1]
    options = yaml.safe_load(textwrap.dedent(block))["options"]
    public = sorted(name for name in dir(StatementFactory) if not name.startswith("_"))
    assert options["inherited_members"] == public
