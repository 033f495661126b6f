"""Settings from Django (``BLENDKIT``, the file, the environment), the system check, and
``manage.py blendkit`` / ``blendkit_migrate``."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import Client, override_settings

from blendkit.errors import ConfigError
from blendkit.integrations.django import get_runtime, settings_from_django
from blendkit.integrations.django.apps import check_middleware

ROOT = Path(__file__).resolve().parents[3]


def test_blendkit_dict_ranks_below_the_environment_and_above_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    file = tmp_path / "blendkit.toml"
    file.write_text(
        '[tool]\ntitle = "From file"\nbase_url = "https://file.example"\n'
        "[lti]\nlaunch_session_seconds = 1234\n"
    )
    monkeypatch.setenv("BLENDKIT_TOOL_BASE_URL", "https://env.example")
    sections = {"tool": {"title": "From Django"}}
    with override_settings(BLENDKIT=sections, BLENDKIT_SETTINGS_FILE=str(file)):
        settings = settings_from_django()
    assert settings.tool.title == "From Django"
    assert settings.tool.base_url == "https://env.example"
    assert settings.lti.launch_session_seconds == 1234


def test_a_plugin_section_is_read_from_the_environment_too(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BLENDKIT_ZOOM_USER_ID", "host@example.edu")
    with override_settings(BLENDKIT={"zoom": {"timeout_seconds": 7}}):
        settings = settings_from_django()
    zoom = settings.plugin("zoom")
    assert zoom.user_id == "host@example.edu"  # type: ignore[attr-defined]
    assert zoom.timeout_seconds == 7  # type: ignore[attr-defined]


def test_an_unknown_key_names_the_django_setting() -> None:
    with (
        override_settings(BLENDKIT={"tool": {"colour": "blue"}}),
        pytest.raises(ConfigError, match=r"Django setting BLENDKIT.*tool\.colour"),
    ):
        settings_from_django()


def test_a_missing_settings_file_is_named(tmp_path: Path) -> None:
    with (
        override_settings(BLENDKIT_SETTINGS_FILE=str(tmp_path / "nope.toml")),
        pytest.raises(ConfigError, match=r"nope\.toml"),
    ):
        settings_from_django()


def test_the_runtime_follows_a_changed_blendkit_setting(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a.sqlite3'}"
    sections = {"tool": {"base_url": "https://a.example"}, "database": {"url": url}}
    with override_settings(BLENDKIT=sections):
        first = get_runtime()
        assert first.tool_config.base_url == "https://a.example"
        # Built lazily, never migrated: the schema waits for blendkit_migrate.
        assert Client().get("/readyz").status_code == 503
    with override_settings(BLENDKIT={**sections, "tool": {"base_url": "https://b.example"}}):
        assert get_runtime() is not first
        assert get_runtime().tool_config.base_url == "https://b.example"


def test_the_system_check_wants_the_middleware_before_csrf() -> None:
    assert check_middleware() == []
    with override_settings(MIDDLEWARE=["django.middleware.csrf.CsrfViewMiddleware"]):
        assert [m.id for m in check_middleware()] == ["blendkit.W001"]
    with override_settings(
        MIDDLEWARE=[
            "django.middleware.csrf.CsrfViewMiddleware",
            "blendkit.integrations.django.middleware.BlendkitMiddleware",
        ]
    ):
        assert [m.id for m in check_middleware()] == ["blendkit.W002"]


def test_blendkit_migrate_then_check(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.sqlite3'}"
    with override_settings(BLENDKIT={"database": {"url": url}}):
        out = io.StringIO()
        with pytest.raises(SystemExit) as pending:
            call_command("blendkit_migrate", "--check", stdout=out)
        assert pending.value.code == 1
        pending_revisions = out.getvalue().removeprefix("pending: ").strip().split(", ")
        assert "core_0001" in pending_revisions, out.getvalue()
        out = io.StringIO()
        call_command("blendkit_migrate", stdout=out)
        assert "schema is current" in out.getvalue()
        out = io.StringIO()
        call_command("blendkit_migrate", "--check", stdout=out)
        assert out.getvalue().strip() == "schema is current"


def test_manage_py_blendkit_runs_the_cli_with_django_settings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'c.sqlite3'}"
    with override_settings(BLENDKIT={"database": {"url": url}}):
        call_command("blendkit", "db", "upgrade")
        assert "schema is current" in capsys.readouterr().out
        call_command("blendkit", "db", "status")
        assert capsys.readouterr().out.strip() == "schema is current"
        with pytest.raises(SystemExit) as failed:
            call_command(
                "blendkit",
                "platform",
                "remove",
                "--issuer",
                "https://x.example",
                "--client-id",
                "x",
            )
        assert failed.value.code != 0


def test_manage_py_blendkit_from_a_shell(tmp_path: Path) -> None:
    """The real ``manage.py`` of the example project: ``--help`` reaches blendkit, not argparse,
    and the settings come from the project."""
    env = {
        **os.environ,
        "BLENDKIT_DATABASE_URL": f"sqlite:///{tmp_path / 'shell.sqlite3'}",
        "PYTHONPATH": str(ROOT),
    }
    manage = ROOT / "examples" / "django_app" / "manage.py"
    helped = subprocess.run(
        [sys.executable, str(manage), "blendkit", "--help"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert helped.returncode == 0, helped.stderr
    assert "blended learning for LTI 1.3 platforms" in helped.stdout
    assert "manage.py blendkit" in helped.stdout
    upgraded = subprocess.run(
        [sys.executable, str(manage), "blendkit", "db", "upgrade"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert upgraded.returncode == 0, upgraded.stderr
    assert (tmp_path / "shell.sqlite3").exists()
    checked = subprocess.run(
        [sys.executable, str(manage), "check", "--fail-level", "WARNING"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr


def test_closing_the_runtime_closes_what_it_built(tmp_path: Path) -> None:
    from blendkit.integrations.django import close_runtime, install_runtime
    from blendkit.integrations.django._state import settings_from_django

    url = f"sqlite:///{tmp_path / 'owned.sqlite3'}"
    with override_settings(BLENDKIT={"database": {"url": url}}):
        runtime = install_runtime(settings=settings_from_django())
        assert runtime.owns_store
        assert get_runtime() is runtime
        close_runtime()
    assert runtime.http_client.is_closed
