"""Finding a notifier by name among the ``blendkit.notifiers`` entry points."""

from __future__ import annotations

from typing import Any

from blendkit.config import Settings
from blendkit.errors import PluginError
from blendkit.notify._message import Notifier
from blendkit.plugins import NOTIFIERS_GROUP, load_plugin, load_plugins

__all__ = ["available_notifiers", "load_notifier"]


def available_notifiers() -> list[str]:
    """The names of the notifiers that load (built-in and installed plugins), sorted."""
    return sorted(load_plugins(NOTIFIERS_GROUP))


def load_notifier(name: str, settings: Settings, **options: Any) -> Notifier:
    """The notifier ``name`` built from ``settings`` (its factory is called as
    ``factory(settings, **options)``); :class:`~blendkit.errors.PluginError` when no plugin of
    that name loads or its factory does not return a :class:`Notifier`."""
    factory = load_plugin(NOTIFIERS_GROUP, name)
    if not callable(factory):
        raise PluginError(f"the notifier plugin {name!r} is not a factory (a class or function)")
    notifier = factory(settings, **options)
    if not isinstance(notifier, Notifier):
        raise PluginError(
            f"the notifier plugin {name!r} returned {type(notifier).__name__}, which has no "
            "name and send(message) (see blendkit.notify.Notifier)"
        )
    return notifier
