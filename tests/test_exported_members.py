"""The public face: __all__ is sorted, complete and importable."""

from __future__ import annotations

import importlib

import pytest

import blendkit

PUBLIC_MODULES = [
    "blendkit",
    "blendkit.config",
    "blendkit.courses",
    "blendkit.errors",
    "blendkit.http",
    "blendkit.integrations.access_log",
    "blendkit.integrations.flask",
    "blendkit.integrations.gunicorn",
    "blendkit.limits",
    "blendkit.lti",
    "blendkit.operations",
    "blendkit.operations.metrics",
    "blendkit.plugins",
    "blendkit.progression",
    "blendkit.sessions",
    "blendkit.store",
    "blendkit.xapi",
]


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_all_is_sorted_and_resolves(name: str) -> None:
    module = importlib.import_module(name)
    exported = module.__all__
    assert exported == sorted(exported), f"{name}.__all__ is not sorted"
    assert len(set(exported)) == len(exported)
    for member in exported:
        assert hasattr(module, member), f"{name}.{member} is listed but missing"


def test_every_public_error_is_exported_at_top_level() -> None:
    from blendkit import errors

    for member in errors.__all__:
        assert getattr(blendkit, member) is getattr(errors, member)


def test_top_level_exports_every_public_name_it_imports() -> None:
    public = {
        name
        for name, value in vars(blendkit).items()
        if not name.startswith("_") and not isinstance(value, type(blendkit))
    }
    assert public <= set(blendkit.__all__), (
        f"imported but not exported: {public - set(blendkit.__all__)}"
    )
