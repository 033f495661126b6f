"""Entry-point discovery for plugins.

Groups: ``blendkit.meeting_providers`` (name → a MeetingProvider factory),
``blendkit.notifiers`` (name → a Notifier factory, see :mod:`blendkit.notify`),
``blendkit.conditions`` (type name → a progression Condition class) and ``blendkit.settings``
(section name → the pydantic model of the plugin's settings section, see
:class:`blendkit.config.SettingsSection`). A plugin that fails to load
is reported with a warning and skipped, never a crash. Set ``BLENDKIT_DISABLE_PLUGINS=1`` to load
none (or a comma-separated list of ``group:name`` / ``name`` to skip only those).
"""

from __future__ import annotations

import functools
import os
import warnings
from importlib.metadata import EntryPoint, entry_points

from blendkit.errors import PluginError

__all__ = [
    "CONDITIONS_GROUP",
    "MEETING_PROVIDERS_GROUP",
    "NOTIFIERS_GROUP",
    "PluginLoadWarning",
    "SETTINGS_GROUP",
    "clear_plugin_cache",
    "load_plugin",
    "load_plugins",
]

MEETING_PROVIDERS_GROUP = "blendkit.meeting_providers"
CONDITIONS_GROUP = "blendkit.conditions"
NOTIFIERS_GROUP = "blendkit.notifiers"
SETTINGS_GROUP = "blendkit.settings"
DISABLE_ENV = "BLENDKIT_DISABLE_PLUGINS"


class PluginLoadWarning(UserWarning):
    """A plugin was found but could not be imported; the rest still load."""


def _disabled(group: str, name: str) -> bool:
    setting = os.environ.get(DISABLE_ENV, "").strip()
    if not setting:
        return False
    if setting.lower() in {"1", "true", "yes", "all"}:
        return True
    skipped = {part.strip() for part in setting.split(",")}
    return name in skipped or f"{group}:{name}" in skipped


def _entry_points(group: str) -> tuple[EntryPoint, ...]:
    return tuple(sorted(entry_points(group=group), key=lambda ep: ep.name))


@functools.cache
def load_plugins(group: str) -> dict[str, object]:
    """Every plugin of ``group`` that loads, by name (cached; see :func:`clear_plugin_cache`)."""
    loaded: dict[str, object] = {}
    for ep in _entry_points(group):
        if _disabled(group, ep.name):
            continue
        try:
            loaded[ep.name] = ep.load()
        except Exception as exc:  # any import-time failure of third-party code
            warnings.warn(
                f"blendkit plugin {ep.name!r} ({ep.value}) in group {group} failed to load and is "
                f"skipped: {type(exc).__name__}: {exc}",
                PluginLoadWarning,
                stacklevel=2,
            )
    return loaded


def load_plugin(group: str, name: str) -> object:
    """The plugin ``name`` of ``group``; :class:`PluginError` names the ones that are available."""
    plugins = load_plugins(group)
    if name not in plugins:
        available = ", ".join(sorted(plugins)) or "none"
        raise PluginError(
            f"no plugin named {name!r} in {group} (available: {available}); install its "
            "distribution (e.g. pip install blendkit-zoom) or check BLENDKIT_DISABLE_PLUGINS"
        )
    return plugins[name]


def clear_plugin_cache() -> None:
    """Forget loaded plugins, e.g. after installing a distribution at run time or in tests."""
    load_plugins.cache_clear()
