"""Settings sections that plugins bring: ``[zoom]``, ``[teams]``, ``[meet]``, a notifier's.

A distribution declares a section with an entry point in the group ``blendkit.settings``: the
entry point's name is the section's name, its object a pydantic model (a subclass of
:class:`blendkit.config.SettingsSection`, which forbids unknown keys and is frozen)::

    [project.entry-points."blendkit.settings"]
    zoom = "blendkit_zoom:ZoomSettings"

The section is then read like a built-in one: ``[zoom]`` in the TOML file, ``BLENDKIT_ZOOM_<KEY>``
variables (or ``BLENDKIT_ZOOM`` holding a JSON object), validated by the plugin's model, reported
with the same one-line errors, and read back with ``settings.plugin("zoom", ZoomSettings)``.
"""

from __future__ import annotations

import functools
import warnings
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from blendkit.errors import ConfigError
from blendkit.plugins import SETTINGS_GROUP, PluginLoadWarning, load_plugins

__all__ = [
    "PluginSectionsEnvSource",
    "SectionProblems",
    "UnconfiguredSection",
    "installed_sections",
    "read_section",
    "validate_sections",
]


class UnconfiguredSection:
    """An installed plugin's section that is absent and cannot be built from defaults (a key
    without a default): an error only for the code that reads it."""

    def __init__(self, name: str, problems: str) -> None:
        self.name = name
        self.problems = problems

    def __repr__(self) -> str:
        return f"UnconfiguredSection({self.name!r})"


class SectionProblems(ValueError):
    """The plugin sections' problems, one ``section.key: message`` each (never a value)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


_checked: list[tuple[dict[str, object], frozenset[str], dict[str, type[BaseModel]]]] = []
"""The last check of :func:`installed_sections`: the loaded plugins, the reserved names, the
sections found."""


def installed_sections(reserved: frozenset[str] = frozenset()) -> dict[str, type[BaseModel]]:
    """Section name → model of every plugin that declares one (a name of ``reserved``, the
    built-in sections, or a model that is not a strict pydantic model is skipped, with a
    warning)."""
    loaded = load_plugins(SETTINGS_GROUP)
    if _checked and _checked[0][0] is loaded and _checked[0][1] == reserved:
        return _checked[0][2]  # the same plugins as last time: checked (and warned about) once
    found: dict[str, type[BaseModel]] = {}
    for name, model in loaded.items():
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            reason = "it is not a pydantic model (subclass blendkit.config.SettingsSection)"
        elif name in reserved:
            reason = "that name is a built-in setting"
        elif not (name.isidentifier() and name == name.lower()):
            reason = "a section name is a lowercase identifier (it names BLENDKIT_<NAME>_<KEY>)"
        elif model.model_config.get("extra") != "forbid":
            reason = "its model does not forbid unknown keys (subclass SettingsSection)"
        else:
            found[name] = model
            continue
        warnings.warn(
            f"blendkit settings section {name!r} from a plugin is skipped: {reason}",
            PluginLoadWarning,
            stacklevel=2,
        )
    _checked[:] = [(loaded, reserved, found)]
    return found


def _where(name: str, loc: tuple[int | str, ...]) -> str:
    return ".".join((name, *(str(part) for part in loc)))


def validate_sections(
    given: dict[str, Any], sections: dict[str, type[BaseModel]], builtin: list[str]
) -> dict[str, BaseModel | UnconfiguredSection]:
    """The plugin sections of ``given`` (the settings' unknown keys) validated by their
    models, plus the absent ones built from defaults; :class:`SectionProblems` lists every
    unknown key or section and every invalid value (by place, never by value)."""
    problems: list[str] = []
    for key in sorted(set(given) - set(sections)):
        installed = ", ".join(sorted(sections)) or "none"
        problems.append(
            f"{key}: unknown setting or section (built-in: {', '.join(builtin)}; sections of "
            f"installed plugins: {installed}; a plugin's section needs its distribution "
            "installed and not switched off by BLENDKIT_DISABLE_PLUGINS)"
        )
    validated: dict[str, BaseModel | UnconfiguredSection] = {}
    for name, model in sorted(sections.items()):
        value = given.get(name)
        if isinstance(value, model):
            validated[name] = value
            continue
        try:
            validated[name] = model.model_validate({} if value is None else value)
        except ValidationError as exc:
            found = [f"{_where(name, e['loc'])}: {e['msg']}" for e in exc.errors()]
            if value is None:  # absent: an error only for code that reads it
                validated[name] = UnconfiguredSection(name, "; ".join(found))
            else:
                problems.extend(found)
    if problems:
        raise SectionProblems(problems)
    return validated


def read_section(
    sections: dict[str, Any], name: str, model: type[BaseModel] | None = None
) -> BaseModel:
    """``sections[name]`` (validated at load), or :class:`ConfigError` saying why not."""
    value = sections.get(name)
    if isinstance(value, UnconfiguredSection):
        raise ConfigError(f"[{name}] is not configured: {value.problems}")
    if not isinstance(value, BaseModel):
        installed = ", ".join(sorted(sections)) or "none"
        raise ConfigError(
            f"no installed plugin declares the settings section [{name}] (installed: "
            f"{installed}); install its distribution, e.g. pip install blendkit-{name}"
        )
    if model is not None and not isinstance(value, model):
        raise ConfigError(
            f"[{name}] is a {type(value).__name__}, not a {model.__name__}: two plugins claim "
            "the section; uninstall one"
        )
    return value


@functools.cache
def _env_model(sections: tuple[tuple[str, type[BaseModel]], ...]) -> type[BaseSettings]:
    """A settings class with one optional field per plugin section, read from the environment
    exactly like the built-in sections (same prefix, delimiter and JSON values)."""
    namespace: dict[str, Any] = {
        "__annotations__": {name: model | None for name, model in sections},
        "model_config": SettingsConfigDict(
            env_prefix="BLENDKIT_",
            env_nested_delimiter="_",
            env_nested_max_split=1,
            extra="ignore",
        ),
        **dict.fromkeys((name for name, _ in sections), None),
    }
    return type("PluginSectionsEnvironment", (BaseSettings,), namespace)


class PluginSectionsEnvSource(PydanticBaseSettingsSource):
    """``BLENDKIT_<SECTION>_<KEY>`` variables of the installed plugins' sections."""

    def __init__(self, settings_cls: type[BaseSettings], reserved: frozenset[str]) -> None:
        super().__init__(settings_cls)
        self._reserved = reserved

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        """Unused: the plugin sections are not fields of the settings class."""
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        sections = installed_sections(self._reserved)
        if not sections:
            return {}
        source = EnvSettingsSource(_env_model(tuple(sorted(sections.items()))))
        return {name: value for name, value in source().items() if value is not None}
