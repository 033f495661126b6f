"""Plugins declare their settings sections through the ``blendkit.settings`` entry-point group;
such a section is read like a built-in one (TOML, ``BLENDKIT_<SECTION>_<KEY>``), validated by
the plugin's model, and reported with the same one-line errors; its secrets never appear in an
error or a log line.

The fake plugin below is a real distribution on ``sys.path`` (a ``dist-info`` directory with an
``entry_points.txt``), found by ``importlib.metadata`` like an installed one.
"""

from __future__ import annotations

import importlib
import keyword
import logging
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from pydantic import SecretStr

from blendkit import ConfigError, Settings, load_settings
from blendkit.plugins import SETTINGS_GROUP, PluginLoadWarning, clear_plugin_cache, load_plugin

SECRET = "hunter2-notifier-token-value"
ZOOM_SECRET = "zoom-client-secret-value"  # a test value, not a secret
NOTIFIER_FIELDS = {"url", "token", "retries", "channels"}
BUILTIN = {"database", "http", "lti", "meeting_provider", "metrics", "tool", "xapi"}

NOTIFIER_MODULE = '''
from pydantic import BaseModel, Field, SecretStr, field_validator

from blendkit.config import SettingsSection


class NotifierSettings(SettingsSection):
    """A third-party notifier: where to post, with which token."""

    url: str
    token: SecretStr
    retries: int = Field(default=3, ge=0, le=10)
    channels: tuple[str, ...] = ()

    @field_validator("token")
    @classmethod
    def _long(cls, value: SecretStr) -> SecretStr:
        if len(value.get_secret_value()) < 12:
            raise ValueError("must be at least 12 characters")
        return value


class Loose(BaseModel):
    """Accepts unknown keys: refused as a settings section."""

    anything: str = ""
'''


@pytest.fixture
def notifier(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[type]:
    """Install the fake ``notifier-plugin`` distribution; its settings model."""
    root = tmp_path / "site"
    package = root / "fake_notifier_plugin"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(NOTIFIER_MODULE, encoding="utf-8")
    info = root / "fake_notifier_plugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: fake-notifier-plugin\nVersion: 1.0\n", encoding="utf-8"
    )
    (info / "entry_points.txt").write_text(
        textwrap.dedent(
            """\
            [blendkit.settings]
            notifier = fake_notifier_plugin:NotifierSettings
            tool = fake_notifier_plugin:NotifierSettings
            Bad-Name = fake_notifier_plugin:NotifierSettings
            loose = fake_notifier_plugin:Loose
            """
        ),
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(root))
    importlib.invalidate_caches()
    clear_plugin_cache()
    try:
        with pytest.warns(PluginLoadWarning) as caught:
            Settings()
        skipped = " ".join(str(w.message) for w in caught)
        assert "'tool'" in skipped, "a plugin cannot take a built-in section"
        assert "'loose'" in skipped, "a section must forbid unknown keys"
        assert "'Bad-Name'" in skipped, "a section name must work as a variable name"
        model = load_plugin(SETTINGS_GROUP, "notifier")
        assert isinstance(model, type)
        yield model
    finally:
        sys.modules.pop("fake_notifier_plugin", None)
        clear_plugin_cache()


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "blendkit.toml"
    monkeypatch.setenv("BLENDKIT_CONFIG", str(path))
    return path


def test_a_plugin_section_is_read_from_the_file_and_the_environment_wins(
    notifier: type, config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config.write_text(
        f'[notifier]\nurl = "https://hooks.example/a"\ntoken = "{SECRET}"\nretries = 1\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("BLENDKIT_NOTIFIER_RETRIES", "5")
    monkeypatch.setenv("BLENDKIT_NOTIFIER_CHANNELS", '["staff", "ops"]')
    settings = load_settings()
    section = settings.plugin("notifier", notifier)
    assert section.url == "https://hooks.example/a"
    assert section.retries == 5, "BLENDKIT_NOTIFIER_RETRIES wins over the file"
    assert section.channels == ("staff", "ops")
    assert isinstance(section.token, SecretStr)
    assert section.token.get_secret_value() == SECRET
    assert SECRET not in repr(settings)
    assert SECRET not in str(settings.model_dump())


def test_a_section_configured_only_by_environment(
    notifier: type, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BLENDKIT_NOTIFIER_URL", "https://hooks.example/b")
    monkeypatch.setenv("BLENDKIT_NOTIFIER_TOKEN", SECRET)
    section = load_settings().plugin("notifier", notifier)
    assert section.url == "https://hooks.example/b"
    assert section.retries == 3


def test_an_absent_section_with_required_keys_fails_only_where_it_is_read(
    notifier: type,
) -> None:
    settings = load_settings()
    with pytest.raises(ConfigError) as info:
        settings.plugin("notifier")
    assert "[notifier] is not configured" in info.value.message
    assert "notifier.url: Field required" in info.value.message


def test_unknown_keys_in_a_plugin_section_read_like_unknown_built_in_keys(
    notifier: type, config: Path
) -> None:
    config.write_text('[lti]\nleewayy = 1\n[notifier]\nurll = "x"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as builtin:
        load_settings()
    config.write_text(f'[notifier]\nurl = "x"\ntoken = "{SECRET}"\nurll = "x"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as plugin:
        load_settings()
    assert "lti.leewayy: Extra inputs are not permitted" in builtin.value.message
    assert "notifier.urll: Extra inputs are not permitted" in plugin.value.message
    assert str(config) in plugin.value.message
    assert "\n" not in plugin.value.message


def test_an_unknown_section_is_an_error_naming_the_installed_sections(
    notifier: type, config: Path
) -> None:
    config.write_text('[notifer]\nurl = "x"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_settings()
    message = info.value.message
    assert message.count("notifer:") == 1
    assert "installed plugins: email, meet, notifier, teams, webhook, zoom" in message
    assert "built-in: courses, database, http, lti" in message


def test_a_section_no_installed_plugin_declares_cannot_be_read() -> None:
    with pytest.raises(ConfigError) as info:
        Settings().plugin("webex")
    assert "[webex]" in info.value.message
    assert "(installed: email, meet, teams, webhook, zoom)" in info.value.message


def test_secrets_never_appear_in_errors_or_logs(
    notifier: type, config: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    config.write_text(
        textwrap.dedent(
            f"""\
            [notifier]
            url = "https://hooks.example/a"
            token = "short"
            retries = "{SECRET}"
            [zoom]
            client_sekret = "{ZOOM_SECRET}"
            """
        ),
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as info:
        load_settings()
    everything = f"{info.value.message} {info.value!r} {info.value.__cause__} {caplog.text}"
    for secret in (SECRET, ZOOM_SECRET, "short"):
        assert secret not in everything
    assert "notifier.token: Value error, must be at least 12 characters" in info.value.message
    assert "notifier.retries" in info.value.message
    assert "zoom.client_sekret: Extra inputs are not permitted" in info.value.message


def test_zoom_and_teams_sections_come_from_their_plugins(monkeypatch: pytest.MonkeyPatch) -> None:
    from blendkit_teams import TeamsSettings
    from blendkit_zoom import ZoomSettings

    monkeypatch.setenv("BLENDKIT_ZOOM_CLIENT_SECRET", ZOOM_SECRET)
    monkeypatch.setenv("BLENDKIT_TEAMS_TIMEOUT_SECONDS", "7.5")
    settings = load_settings()
    zoom = settings.plugin("zoom", ZoomSettings)
    assert zoom is ZoomSettings.of(settings)
    assert settings.zoom is zoom, "attribute access keeps working for existing callers"
    assert zoom.client_secret is not None
    assert zoom.client_secret.get_secret_value() == ZOOM_SECRET
    assert TeamsSettings.of(settings).timeout_seconds == 7.5
    assert ZOOM_SECRET not in repr(settings)
    with pytest.raises(ConfigError, match="two plugins claim"):
        settings.plugin("zoom", TeamsSettings)


def test_the_meet_section_comes_with_its_plugin(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    pytest.importorskip("blendkit_meet")
    from blendkit_meet import MeetSettings

    key = tmp_path / "key.json"
    monkeypatch.setenv("BLENDKIT_MEET_SERVICE_ACCOUNT_FILE", str(key))
    monkeypatch.setenv("BLENDKIT_MEET_ORGANIZER", "teacher@school.example.edu")
    monkeypatch.setenv("BLENDKIT_MEET_SHARE_RECORDINGS", "true")
    settings = load_settings()
    meet = MeetSettings.of(settings)
    assert "meet" in settings.plugin_sections()
    assert meet.service_account_file == key
    assert meet.share_recordings is True
    assert meet.invite_roster is True
    monkeypatch.setenv("BLENDKIT_MEET_ACCESS_TYPE", "PUBLIC")
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert "meet.access_type" in info.value.message


# -- key spelling -------------------------------------------------------------------------------

_identifiers = st.from_regex(r"[a-z][a-z0-9_]{0,20}", fullmatch=True).filter(
    lambda key: not keyword.iskeyword(key)
)


@hypothesis_settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=_identifiers.filter(lambda key: key not in NOTIFIER_FIELDS))
def test_any_unknown_key_of_a_plugin_section_is_named(notifier: type, key: str) -> None:
    section = {"url": "https://hooks.example", "token": SECRET, key: SECRET}
    with pytest.raises(ConfigError) as info:
        load_settings(notifier=section)
    assert f"notifier.{key}: Extra inputs are not permitted" in info.value.message
    assert SECRET not in info.value.message


@hypothesis_settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    name=_identifiers.filter(
        lambda name: name not in BUILTIN | {"notifier", "zoom", "teams", "meet"}
    )
)
def test_any_unknown_section_is_named_with_the_installed_ones(notifier: type, name: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(**{name: {"url": SECRET}})
    assert f"{name}: unknown setting or section" in info.value.message
    assert "installed plugins: email, meet, notifier, teams, webhook, zoom" in info.value.message
    assert SECRET not in info.value.message


@hypothesis_settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(flips=st.lists(st.booleans(), min_size=25, max_size=25), retries=st.integers(0, 10))
def test_variable_names_are_case_insensitive_like_built_in_ones(
    notifier: type, monkeypatch: pytest.MonkeyPatch, flips: list[bool], retries: int
) -> None:
    name = "".join(
        c.lower() if flip else c.upper()
        for c, flip in zip("BLENDKIT_NOTIFIER_RETRIES", flips, strict=True)
    )
    with monkeypatch.context() as env:
        env.setenv(name, str(retries))
        env.setenv("BLENDKIT_NOTIFIER_URL", "https://hooks.example")
        env.setenv("BLENDKIT_NOTIFIER_TOKEN", SECRET)
        assert load_settings().plugin("notifier", notifier).retries == retries
