"""The Django process's one :class:`~blendkit.integrations._runtime.ToolRuntime`.

It is built on first use (the first request or command that needs it), from Django settings, and
closed when the process exits. Building it never migrates the database: ``manage.py
blendkit_migrate`` (or ``manage.py blendkit db upgrade``) does, once per deployment.

Settings, highest priority first:

1. ``BLENDKIT_*`` environment variables (``BLENDKIT_DATABASE_URL`` …), as everywhere in blendkit;
2. the Django setting ``BLENDKIT``: a dict of sections mirroring the TOML file
   (``{"tool": {"base_url": …}, "database": {"url": …}}``);
3. the TOML file named by the Django setting ``BLENDKIT_SETTINGS_FILE`` (else ``$BLENDKIT_CONFIG``);
4. blendkit's defaults.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from django.conf import settings as django_settings
from pydantic import ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    TomlConfigSettingsSource,
)

from blendkit._settings_sections import PluginSectionsEnvSource
from blendkit.config import CONFIG_ENV, Settings, _describe
from blendkit.errors import ConfigError
from blendkit.http import Fence
from blendkit.integrations._runtime import ToolRuntime
from blendkit.limits import RequestLimits
from blendkit.store import Store

__all__ = [
    "LAUNCH_HANDLER_SETTING",
    "SETTINGS_FILE_SETTING",
    "SETTINGS_SETTING",
    "DjangoRuntime",
    "close_runtime",
    "get_runtime",
    "install_runtime",
    "settings_from_django",
]

SETTINGS_SETTING = "BLENDKIT"
"""Django setting: blendkit's sections as a dict (``{"tool": {...}, "database": {...}}``)."""
SETTINGS_FILE_SETTING = "BLENDKIT_SETTINGS_FILE"
"""Django setting: a blendkit TOML file (the ``BLENDKIT`` dict and the environment win over it)."""
LAUNCH_HANDLER_SETTING = "BLENDKIT_LAUNCH_HANDLER"
"""Django setting: dotted path of ``handler(request, launch, launch_id) -> HttpResponse``."""

_WATCHED = frozenset({SETTINGS_SETTING, SETTINGS_FILE_SETTING})


def _settings_file() -> Path | None:
    named = getattr(django_settings, SETTINGS_FILE_SETTING, None) or os.environ.get(CONFIG_ENV)
    return Path(named) if named else None


class _FromDjango(Settings):
    """:class:`Settings` whose keyword arguments (the ``BLENDKIT`` dict) rank below the
    environment and above the TOML file."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [
            env_settings,
            PluginSectionsEnvSource(settings_cls, frozenset(settings_cls.model_fields)),
            init_settings,
        ]
        file = _settings_file()
        if file is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=file))
        return tuple(sources)


def settings_from_django() -> Settings:
    """blendkit's settings from the ``BLENDKIT`` Django setting, the environment and the file.

    Raises :class:`ConfigError` naming the key and the problem.
    """
    sections = getattr(django_settings, SETTINGS_SETTING, None) or {}
    if not isinstance(sections, dict):
        raise ConfigError(
            f"the Django setting {SETTINGS_SETTING} must be a dict of sections such as "
            f'{{"tool": {{"base_url": "https://tool.example.edu"}}}}, not {type(sections).__name__}'
        )
    origin = f"Django setting {SETTINGS_SETTING} (or BLENDKIT_* environment)"
    file = _settings_file()
    if file is not None:
        if not file.is_file():
            raise ConfigError(
                f"{SETTINGS_FILE_SETTING} or {CONFIG_ENV} names {file}, which is not a file"
            )
        try:
            tomllib.loads(file.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"config file {file} is not valid TOML: {exc}") from exc
        origin = f"Django setting {SETTINGS_SETTING}, config file {file} or BLENDKIT_* environment"
    try:
        return _FromDjango(**sections)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, origin)) from exc


@dataclass
class DjangoRuntime(ToolRuntime):
    """The runtime plus what only the Django adapter keeps: its metrics and whether it owns the
    store (built from settings, so disposed of on close)."""

    metrics: Any = None
    """The :class:`blendkit.operations.metrics.Metrics` (``None``: no ``[metrics] token`` or
    ``bind``)."""
    limits: RequestLimits = field(default_factory=RequestLimits)
    """The body caps of ``[tool] max_request_bytes`` and ``max_webhook_bytes``."""
    owns_store: bool = field(default=False, repr=False)

    def close(self) -> None:
        """Close the HTTP client, the database pool and the metrics server this runtime
        created."""
        super().close()
        server = self.metrics.server if self.metrics is not None else None
        if server is not None:
            server.close()
        if self.owns_store:
            self.store.dispose()


log = logging.getLogger("blendkit.django")
_lock = threading.Lock()
_build_lock = threading.Lock()
_current: DjangoRuntime | None = None


def install_runtime(
    *,
    settings: Settings | None = None,
    store: Store | None = None,
    http_client: httpx.Client | None = None,
    fence: Fence | None = None,
    migrate: bool = False,
) -> DjangoRuntime:
    """Build the process's runtime now (replacing and closing any previous one).

    Without arguments it is what the first request does. Tests and projects that build their
    settings in code pass ``settings``/``store``/``http_client``/``fence`` (a store passed in is
    not disposed of on close). ``migrate`` upgrades the schema first: development only.
    """
    global _current
    settings = settings or settings_from_django()
    owns_store = store is None
    built_store = store or Store.from_settings(settings)
    runtime = DjangoRuntime.build(
        settings=settings, store=built_store, http_client=http_client, fence=fence, migrate=migrate
    )
    runtime.owns_store = owns_store
    runtime.limits = RequestLimits.from_settings(settings)
    if settings.metrics.token is not None or settings.metrics.bind is not None:
        from blendkit.operations.metrics import Metrics

        runtime.metrics = Metrics()
    with _lock:
        previous, _current = _current, runtime
    if previous is not None:
        previous.close()  # first: it may hold the metrics address
    bind = settings.metrics.bind
    # Its own address, never the public routes; a process of this host that already serves it
    # (the gunicorn master) keeps it.
    if (
        runtime.metrics is not None
        and bind is not None
        and runtime.metrics.serve(bind, settings.metrics.token) is None
    ):
        log.info("metrics: %s is served by another process of this host", bind)
    return runtime


def get_runtime() -> DjangoRuntime:
    """The process's runtime, built from Django settings on first use."""
    current = _current
    if current is not None:
        return current
    with _build_lock:  # one build, even when the first requests arrive together
        return _current if _current is not None else install_runtime()


def close_runtime() -> None:
    """Close the process's runtime (at exit, or when its Django settings change in tests)."""
    global _current
    with _lock:
        previous, _current = _current, None
    if previous is not None:
        previous.close()


def settings_changed(*, setting: str, **_: object) -> None:
    """``setting_changed`` receiver: a new ``BLENDKIT`` setting means a new runtime."""
    if setting in _WATCHED:
        close_runtime()


atexit.register(close_runtime)
