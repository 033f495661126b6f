"""The documentation site builds with --strict, lists every page, and its references are current."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

import blendkit.errors as errors_module
from blendkit.errors import BlendkitError

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
CONFIG = ROOT / "mkdocs.yml"


def _mkdocs_available() -> bool:
    return importlib.util.find_spec("mkdocs") is not None


needs_mkdocs = pytest.mark.skipif(
    not _mkdocs_available(), reason="mkdocs is not installed (pip install -e '.[docs]')"
)


@needs_mkdocs
def test_site_builds_in_strict_mode(tmp_path: Path) -> None:
    # strict + the validation block of mkdocs.yml fail the build on a page missing from the nav,
    # a nav entry without a page, and a broken link or anchor.
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--config-file", str(CONFIG),
         "--site-dir", str(tmp_path / "site")],
        cwd=ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "site" / "reference" / "errors" / "index.html").is_file()
    api = (tmp_path / "site" / "reference" / "api" / "lti" / "index.html").read_text()
    assert 'id="blendkit.lti.' in api, "the API reference renders blendkit.lti's public names"


@needs_mkdocs
def test_every_page_is_in_the_nav() -> None:
    # Names a forgotten page directly, and keeps the validation that makes the build catch it.
    import logging

    from mkdocs.config import load_config

    config = load_config(str(CONFIG))
    assert config["strict"] is True
    for group, check in (("nav", "omitted_files"), ("nav", "not_found"), ("links", "not_found")):
        assert config["validation"][group][check] >= logging.WARNING, f"validation.{group}.{check}"

    def pages(items: object) -> set[str]:
        if isinstance(items, list):
            return set().union(*(pages(item) for item in items))
        if isinstance(items, dict):
            return set().union(*(pages(value) for value in items.values()))
        return {items} if isinstance(items, str) and items.endswith(".md") else set()

    in_nav = pages(config["nav"])
    on_disk = {p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md")}
    assert sorted(on_disk - in_nav) == [], "add these pages to the nav in mkdocs.yml"
    assert sorted(in_nav - on_disk) == [], "the nav names pages that do not exist"


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "gen_cli_reference", DOCS / "gen_cli_reference.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cli_reference_is_current() -> None:
    committed = (DOCS / "reference" / "cli.md").read_text(encoding="utf-8")
    assert committed == _generator().render(), (
        "docs/reference/cli.md is out of date: run "
        "`.venv/bin/python docs/gen_cli_reference.py > docs/reference/cli.md`"
    )


def test_cli_reference_lists_every_command() -> None:
    import click

    from blendkit.cli import cli

    def paths(command: click.Command, prefix: str) -> set[str]:
        found = {prefix}
        if isinstance(command, click.Group):
            for name, sub in command.commands.items():
                if not sub.hidden:
                    found |= paths(sub, f"{prefix} {name}")
        return found

    page = (DOCS / "reference" / "cli.md").read_text(encoding="utf-8")
    headed = set(re.findall(r"^#+ `([^`]+)`$", page, flags=re.MULTILINE))
    assert paths(cli, "blendkit") == headed


def test_error_reference_lists_every_class_with_its_code_and_status() -> None:
    page = (DOCS / "reference" / "errors.md").read_text(encoding="utf-8")
    rows = {
        m.group(1): (m.group(2), int(m.group(3)))
        for m in re.finditer(
            r"^\| `(\w+)`(?: \(`\w+`\))? \| `([a-z_.]+)` \| (\d{3}) \|", page, re.M
        )
    }
    for name in errors_module.__all__:
        cls = getattr(errors_module, name)
        assert issubclass(cls, BlendkitError)
        assert name in rows, f"add {name} to the class tree table of docs/reference/errors.md"
        assert rows[name] == (cls.code, cls.http_status), name
