"""blendkit.sessions exports a sorted, complete, importable public API."""

from __future__ import annotations

import blendkit.sessions as sessions


def test_all_is_sorted_unique_and_resolves() -> None:
    exported = sessions.__all__
    assert exported == sorted(exported)
    assert len(set(exported)) == len(exported)
    for name in exported:
        assert hasattr(sessions, name), name


def test_every_public_name_imported_is_exported() -> None:
    public = {
        name
        for name, value in vars(sessions).items()
        if not name.startswith("_") and not isinstance(value, type(sessions))
    }
    assert public <= set(sessions.__all__), public - set(sessions.__all__)
