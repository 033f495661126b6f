"""Old public names kept for one release after a rename: reading one warns and gives the new object.

A package lists its renames with :func:`renamed_names` as its module ``__getattr__``; the old
names are absent from ``__all__`` and from ``dir()``, so nothing new picks them up.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Callable, Mapping


def renamed_names(module: str, renames: Mapping[str, str]) -> Callable[[str], object]:
    """A module ``__getattr__`` that resolves each old name in ``renames`` to its new name."""

    def __getattr__(name: str) -> object:
        new = renames.get(name)
        if new is None:
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        warnings.warn(
            f"{module}.{name} is now {module}.{new} (public names are unique across blendkit's "
            f"packages); the old name will be removed in the next minor release",
            DeprecationWarning,
            stacklevel=2,
        )
        return getattr(sys.modules[module], new)

    return __getattr__
