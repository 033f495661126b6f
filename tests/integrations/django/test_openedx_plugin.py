"""The example app as an Open edX plugin: edx-django-utils' plugin machinery finds it through
the entry points its pyproject declares, adds its settings and mounts its URLs under /blendkit/.

The example is made importable as an installed distribution would be: a ``.dist-info`` with the
entry points copied from ``examples/django_app/pyproject.toml`` on a fresh ``sys.path`` entry of
a separate process (edx-django-utils discovers plugins with stevedore, which reads entry points
of every distribution on the path).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.django_settings import configure_django

configure_django()

from django.apps import apps  # noqa: E402

pytest.importorskip("edx_django_utils")

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "examples" / "django_app"


def _install_entry_points(site: Path) -> dict[str, dict[str, str]]:
    project = tomllib.loads((EXAMPLE / "pyproject.toml").read_text(encoding="utf-8"))
    meta = project["project"]
    groups: dict[str, dict[str, str]] = meta["entry-points"]
    dist = site / f"{meta['name'].replace('-', '_')}-{meta['version']}.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {meta['name']}\nVersion: {meta['version']}\n"
    )
    lines = []
    for group, entries in groups.items():
        lines.append(f"[{group}]")
        lines.extend(f"{name} = {target}" for name, target in entries.items())
    (dist / "entry_points.txt").write_text("\n".join(lines) + "\n")
    return groups


def test_the_pyproject_declares_lms_and_cms_plugin_apps(tmp_path: Path) -> None:
    groups = _install_entry_points(tmp_path)
    target = "blendkit_openedx.apps:BlendkitOpenedxConfig"
    assert groups["lms.djangoapp"] == {"blendkit_openedx": target}
    assert groups["cms.djangoapp"] == {"blendkit_openedx": target}


def test_edx_django_utils_finds_the_app_its_settings_and_its_urls(tmp_path: Path) -> None:
    _install_entry_points(tmp_path / "site")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "XDG_CACHE_HOME": str(tmp_path / "cache")}
    done = subprocess.run(
        [
            sys.executable,
            str(Path(__file__).with_name("openedx_host.py")),
            str(tmp_path / "site"),
            str(EXAMPLE),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["plugin_apps"] == ["blendkit_openedx.apps.BlendkitOpenedxConfig"]
    assert "blendkit.integrations.django" in found["installed_apps"]
    middleware = found["middleware"]
    blendkit_mw = "blendkit.integrations.django.middleware.BlendkitMiddleware"
    assert middleware.index(blendkit_mw) < middleware.index(
        "django.middleware.csrf.CsrfViewMiddleware"
    )
    assert found["launch_handler"] == "blendkit_openedx.views.launched"
    assert found["launch_url"] == "/blendkit/lti/launch"
    assert found["course_url"] == "/blendkit/course"
    assert found["jwks_status"] == 200
    # BLENDKIT came from the operator's configuration through the production settings function.
    assert found["canvas_login"] == "http://lms.test/blendkit/lti/login"
    assert found["course_without_launch"] == 401
    assert found["checks"] == []


def test_the_plugin_app_config_loads_as_a_django_app() -> None:
    sys.path.insert(0, str(EXAMPLE))
    try:
        from blendkit_openedx.apps import BlendkitOpenedxConfig

        config = BlendkitOpenedxConfig.create("blendkit_openedx")
    finally:
        sys.path.remove(str(EXAMPLE))
    assert isinstance(config, BlendkitOpenedxConfig)
    assert config.plugin_app["url_config"]["lms.djangoapp"]["regex"] == r"^blendkit/"
    assert apps.get_app_config("blendkit").name == "blendkit.integrations.django"
