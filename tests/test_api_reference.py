"""The API reference: one page per public package, generated from docstrings by mkdocstrings."""

from __future__ import annotations

import functools
import importlib
import inspect
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


def _inherited_from_private_bases(package: str) -> list[str]:
    """Public methods and properties that the public classes of ``package`` inherit from
    blendkit classes no public package exports (their own pages never show them)."""
    exported = {
        id(getattr(module, name))
        for module in map(importlib.import_module, PACKAGES)
        for name in getattr(module, "__all__", ())
    }
    module = importlib.import_module(package)
    names: set[str] = set()
    for name in getattr(module, "__all__", ()):
        cls = getattr(module, name)
        if not inspect.isclass(cls):
            continue
        for base in cls.__mro__[1:]:
            if not base.__module__.startswith("blendkit") or id(base) in exported:
                continue
            names.update(
                member
                for member, value in vars(base).items()
                if not member.startswith("_")
                and member not in vars(cls)
                and _written_in(value, base)
            )
    return sorted(names)


def _written_in(value: object, base: type) -> bool:
    """A method or property whose code is the base class's own (not one a library put on it,
    as some pydantic versions do with ``model_post_init``)."""
    if isinstance(value, property):
        value = value.fget
    elif isinstance(value, classmethod | staticmethod):
        value = value.__func__
    elif isinstance(value, functools.cached_property):
        value = value.func
    return inspect.isfunction(value) and value.__module__ == base.__module__


@pytest.mark.parametrize("package", PACKAGES)
def test_each_page_names_the_methods_its_classes_inherit_from_private_bases(package: str) -> None:
    """mkdocstrings renders an inherited member only when the page names it: a public class
    whose methods live in private base classes (a service split into parts, the statement
    builders, the value models' serialisers) lists them all, and nothing else."""
    page = next(p for p in API.glob("*.md") if f"::: {package}\n" in p.read_text())
    block = page.read_text().split(f"::: {package}\n", 1)[1]
    options = (yaml.safe_load(textwrap.dedent(block)) or {}).get("options") or {}
    assert sorted(options.get("inherited_members") or []) == _inherited_from_private_bases(package)
