"""Settings: a TOML file named by ``BLENDKIT_CONFIG``, overridden by ``BLENDKIT_*`` variables.

Every setting lives in a section; the variable for ``[section] key`` is
``BLENDKIT_SECTION_KEY`` (``[database] url`` ↔ ``BLENDKIT_DATABASE_URL``, ``[xapi] batch_size``
↔ ``BLENDKIT_XAPI_BATCH_SIZE``). Environment variables win over the file, the file over defaults.
This module holds :class:`Settings` and its loader; the built-in sections are defined in
:mod:`blendkit._builtin_sections` and re-exported here.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Self, TypeVar, overload

from pydantic import BaseModel, Field, ValidationError, model_validator
from pydantic_core import PydanticCustomError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

# CoursesSettings is public without being in __all__: the alias keeps it exported for mypy.
from blendkit._builtin_sections import CoursesSettings as CoursesSettings  # noqa: PLC0414
from blendkit._builtin_sections import (
    DatabaseSettings,
    HTTPSettings,
    LTISettings,
    MetricsSettings,
    NotifySettings,
    SettingsSection,
    ToolAdmin,
    ToolSettings,
    XAPISettings,
)
from blendkit._listen import is_loopback_host, parse_listen_address
from blendkit._settings_sections import (
    PluginSectionsEnvSource,
    SectionProblems,
    installed_sections,
    read_section,
    validate_sections,
)
from blendkit.errors import ConfigError

__all__ = [
    "DatabaseSettings",
    "HTTPSettings",
    "LTISettings",
    "MetricsSettings",
    "NotifySettings",
    "Settings",
    "SettingsSection",
    "ToolAdmin",
    "ToolSettings",
    "XAPISettings",
    "load_settings",
]

CONFIG_ENV = "BLENDKIT_CONFIG"
SECTIONS_ERROR = "settings_sections"
_SectionT = TypeVar("_SectionT", bound=BaseModel)


class Settings(BaseSettings):
    """All of blendkit's settings. Build with :func:`load_settings` to get clear errors."""

    model_config = SettingsConfigDict(
        env_prefix="BLENDKIT_",
        env_nested_delimiter="_",
        env_nested_max_split=1,
        # Unknown keys are kept for the plugin sections' validator below, which refuses every
        # key that is neither a built-in setting nor an installed plugin's section.
        extra="allow",
        frozen=True,
        hide_input_in_errors=True,
    )

    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    tool: ToolSettings = Field(default_factory=ToolSettings)
    lti: LTISettings = Field(default_factory=LTISettings)
    http: HTTPSettings = Field(default_factory=HTTPSettings)
    xapi: XAPISettings = Field(default_factory=XAPISettings)
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)
    courses: CoursesSettings = Field(default_factory=CoursesSettings)
    notify: NotifySettings = Field(default_factory=NotifySettings)
    meeting_provider: str = "fake"

    @model_validator(mode="after")
    def _plugin_sections(self) -> Self:
        given = self.__pydantic_extra__ if self.__pydantic_extra__ is not None else {}
        builtin = sorted(type(self).model_fields)
        try:
            sections = validate_sections(given, installed_sections(frozenset(builtin)), builtin)
        except SectionProblems as exc:
            raise PydanticCustomError(
                SECTIONS_ERROR, "{problems}", {"problems": str(exc)}
            ) from None
        given.clear()
        given.update(sections)
        return self

    @overload
    def plugin(self, name: str) -> BaseModel: ...

    @overload
    def plugin(self, name: str, model: type[_SectionT]) -> _SectionT: ...

    def plugin(self, name: str, model: type[BaseModel] | None = None) -> BaseModel:
        """The section ``[name]`` of an installed plugin, validated by its model (``model``
        also checks the type, for the type checker). :class:`ConfigError` when no installed
        plugin declares it, or when it is absent and a key of it has no default."""
        return read_section(self.__pydantic_extra__ or {}, name, model)

    def plugin_sections(self) -> dict[str, BaseModel]:
        """Every installed plugin's section that can be read, by name."""
        extra = self.__pydantic_extra__ or {}
        return {k: v for k, v in extra.items() if isinstance(v, BaseModel)}

    @model_validator(mode="after")
    def _metrics_not_public(self) -> Settings:
        bind = self.metrics.bind
        if (
            bind is not None
            and self.tool.production
            and self.metrics.token is None
            and not is_loopback_host(parse_listen_address(bind)[0])
        ):
            raise ValueError(
                f"metrics.bind = {bind!r} listens beyond this machine without a token: anyone "
                "reaching it would read the metrics; bind to 127.0.0.1 (scrape through a "
                "tunnel or a local agent) or set metrics.token"
            )
        return self

    @model_validator(mode="after")
    def _requests_outlast_launches(self) -> Settings:
        keep = self.courses.keep_request_days
        if keep and keep * 86400 < self.lti.launch_session_seconds:
            raise ValueError(
                f"courses.keep_request_days = {keep:g} is shorter than a launch session "
                f"(lti.launch_session_seconds = {self.lti.launch_session_seconds}): a form "
                "resent after its key was deleted would be recorded twice; keep keys longer"
            )
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        builtin = frozenset(settings_cls.model_fields)
        sources: list[PydanticBaseSettingsSource] = [
            init_settings,
            env_settings,
            PluginSectionsEnvSource(settings_cls, builtin),
        ]
        path = os.environ.get(CONFIG_ENV)
        if path:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=Path(path)))
        return tuple(sources)


def _describe(error: ValidationError, origin: str) -> str:
    problems = []
    for item in error.errors():
        if item["type"] == SECTIONS_ERROR:  # already "section.key: message"
            problems.append(item["msg"])
            continue
        key = ".".join(str(part) for part in item["loc"]) or "(top level)"
        problems.append(f"{key}: {item['msg']}")
    return f"{origin}: " + "; ".join(problems)


def load_settings(**overrides: Any) -> Settings:
    """Read settings from ``$BLENDKIT_CONFIG`` and ``BLENDKIT_*`` variables.

    Raises :class:`ConfigError` naming the file, the key and the problem.
    """
    path = os.environ.get(CONFIG_ENV)
    origin = "environment"
    if path:
        file = Path(path)
        origin = f"config file {file}"
        if not file.is_file():
            raise ConfigError(f"{CONFIG_ENV} names {file}, which does not exist or is not a file")
        try:
            tomllib.loads(file.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{origin} is not valid TOML: {exc}") from exc
        origin = f"config file {file} (or BLENDKIT_* environment)"
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, origin)) from exc
