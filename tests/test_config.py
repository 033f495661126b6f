"""Settings: TOML file named by BLENDKIT_CONFIG, BLENDKIT_* variables win, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from blendkit import ConfigError, load_settings


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_use_a_sqlite_file_in_the_working_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("BLENDKIT_DATABASE_URL")
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    assert settings.database.url == f"sqlite:///{tmp_path / 'blendkit.sqlite3'}"
    assert settings.xapi.endpoint is None
    assert settings.xapi.batch_size == 100
    assert settings.lti.leeway_seconds == 60


def test_file_values_are_read_and_environment_overrides_them_key_by_key(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    cfg = _write(
        tmp_path / "blendkit.toml",
        '[database]\nurl = "sqlite:///from-file.db"\n[xapi]\nendpoint = "https://lrs.example/xapi/"\n'
        "batch_size = 25\n",
    )
    monkeypatch.setenv("BLENDKIT_CONFIG", str(cfg))
    monkeypatch.setenv("BLENDKIT_XAPI_ENDPOINT", "https://other.example/xapi/")
    monkeypatch.setenv("BLENDKIT_XAPI_PASSWORD", "s3cret")
    monkeypatch.delenv("BLENDKIT_DATABASE_URL")
    settings = load_settings()
    assert settings.database.url == "sqlite:///from-file.db"
    assert settings.xapi.endpoint == "https://other.example/xapi/"
    assert settings.xapi.batch_size == 25
    assert settings.xapi.password is not None
    assert settings.xapi.password.get_secret_value() == "s3cret"
    assert "s3cret" not in repr(settings)


def test_bad_value_names_the_key_and_the_problem(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    cfg = _write(tmp_path / "bad.toml", '[xapi]\nbatch_size = "lots"\n')
    monkeypatch.setenv("BLENDKIT_CONFIG", str(cfg))
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert "xapi.batch_size" in info.value.message
    assert "integer" in info.value.message
    assert str(cfg) in info.value.message


def test_unknown_key_is_rejected_by_name(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    cfg = _write(tmp_path / "typo.toml", '[xapi]\nendpont = "https://lrs.example"\n')
    monkeypatch.setenv("BLENDKIT_CONFIG", str(cfg))
    with pytest.raises(ConfigError, match=r"xapi\.endpont"):
        load_settings()


def test_malformed_toml_and_missing_file_are_clear(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    cfg = _write(tmp_path / "broken.toml", "[xapi\nendpoint = 1\n")
    monkeypatch.setenv("BLENDKIT_CONFIG", str(cfg))
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings()
    monkeypatch.setenv("BLENDKIT_CONFIG", str(tmp_path / "absent.toml"))
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings()


def test_bad_environment_value_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BLENDKIT_LTI_LEEWAY_SECONDS", "-5")
    with pytest.raises(ConfigError, match=r"lti\.leeway_seconds"):
        load_settings()


def test_tool_admins_from_toml_and_from_json_in_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    cfg = _write(
        tmp_path / "admins.toml",
        '[tool]\nadmins = [{issuer = "https://canvas.instructure.com", sub = "abc", '
        'client_id = "10000000000042"}, {issuer = "https://moodle.example.edu", sub = "2"}]\n',
    )
    monkeypatch.setenv("BLENDKIT_CONFIG", str(cfg))
    admins = load_settings().tool.admins
    assert [(a.issuer, a.sub, a.client_id) for a in admins] == [
        ("https://canvas.instructure.com", "abc", "10000000000042"),
        ("https://moodle.example.edu", "2", None),
    ]
    monkeypatch.setenv(
        "BLENDKIT_TOOL_ADMINS", '[{"issuer": "https://lms.example.edu", "sub": "root"}]'
    )
    (only,) = load_settings().tool.admins
    assert (only.issuer, only.sub) == ("https://lms.example.edu", "root")
    monkeypatch.setenv("BLENDKIT_TOOL_ADMINS", '[{"issuer": "https://lms.example.edu"}]')
    with pytest.raises(ConfigError, match="sub"):
        load_settings()


def test_dynamic_registration_is_off_by_default() -> None:
    settings = load_settings()
    assert settings.lti.registration_enabled is False
    assert settings.tool.admins == ()
