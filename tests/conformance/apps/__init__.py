"""The framework modules under test: one module per web adapter, found by name.

Each module ``tests/conformance/apps/<name>.py`` serves a small app built only through its
adapter (see ``docs/integrations/conformance.md`` for the routes it must offer) and exposes
``bind() -> Server``. Adding a module here adds the framework to every conformance test: nothing
else lists the frameworks.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType
from typing import Protocol

from blendkit import Settings, Store

__all__ = ["CONFORMANCE_ITEM_TITLE", "Server", "framework_names", "load"]

CONFORMANCE_ITEM_TITLE = "Conformance item"
"""The title of the one content item every app answers a deep-linking request with."""


class Server(Protocol):
    """A tool server bound to a loopback port before its app exists (settings need its URL)."""

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>``, the tool's base URL."""

    def start(self, settings: Settings, store: Store) -> None:
        """Build the app through the adapter on ``settings`` and the migrated ``store``; serve."""

    def stop(self) -> None:
        """Stop serving and release the port."""


def framework_names() -> list[str]:
    """Every framework module of this package, in name order."""
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))


def load(name: str) -> ModuleType:
    """The framework module ``name`` (its ``bind()`` gives a :class:`Server`)."""
    module = importlib.import_module(f"{__name__}.{name}")
    if not callable(getattr(module, "bind", None)):
        raise TypeError(f"tests/conformance/apps/{name}.py has no bind() -> Server")
    return module
