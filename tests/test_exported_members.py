"""The public face: __all__ is sorted, complete and importable."""

from __future__ import annotations

import importlib
import re
import warnings
from collections import defaultdict

import pytest

import blendkit

PUBLIC_MODULES = [
    "blendkit",
    "blendkit.advisor",
    "blendkit.config",
    "blendkit.courses",
    "blendkit.errors",
    "blendkit.http",
    "blendkit.integrations.access_log",
    "blendkit.integrations.flask",
    "blendkit.integrations.gunicorn",
    "blendkit.limits",
    "blendkit.lti",
    "blendkit.notify",
    "blendkit.operations",
    "blendkit.operations.metrics",
    "blendkit.plugins",
    "blendkit.progression",
    "blendkit.sessions",
    "blendkit.store",
    "blendkit.xapi",
]

# Separate distributions that share blendkit's namespace of public names.
PLUGIN_MODULES = ["blendkit_teams", "blendkit_zoom"]

# Old names a package still resolves (with a DeprecationWarning) after a rename.
RENAMED = [
    ("blendkit.lti", "Context", "LaunchContext"),
    ("blendkit.lti", "Result", "AGSResult"),
    ("blendkit.lti", "Score", "AGSScore"),
    ("blendkit.progression", "Attendance", "AttendanceRecord"),
    ("blendkit.progression", "Context", "EvaluationContext"),
    ("blendkit.sessions", "Roster", "LearnerRoster"),
    ("blendkit.sessions", "iso_duration", "iso_seconds"),
    ("blendkit.xapi", "Context", "StatementContext"),
    ("blendkit.xapi", "Result", "StatementResult"),
    ("blendkit.xapi", "Score", "StatementScore"),
]


@pytest.mark.parametrize("name", PUBLIC_MODULES + PLUGIN_MODULES)
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


def name_clashes(modules: list[str]) -> dict[str, list[str]]:
    """Public names that two modules export for two different objects, with the exporting modules.

    A name exported by several modules for one object (a package and the top level re-exporting
    it) is fine: it is one thing with one name.
    """
    owners: dict[str, dict[int, list[str]]] = defaultdict(lambda: defaultdict(list))
    for name in modules:
        module = importlib.import_module(name)
        for member in module.__all__:
            owners[member][id(getattr(module, member))].append(name)
    return {
        member: sorted(m for exporters in by_object.values() for m in exporters)
        for member, by_object in owners.items()
        if len(by_object) > 1
    }


def test_no_public_name_means_two_things() -> None:
    clashes = name_clashes(PUBLIC_MODULES + PLUGIN_MODULES)
    assert not clashes, (
        "one public name, several objects (see docs/reference/api-naming.md): "
        + "; ".join(
            f"{member} in {', '.join(modules)}" for member, modules in sorted(clashes.items())
        )
    )


def test_name_clashes_are_found() -> None:
    """The check above sees a clash when there is one (xAPI's Agent versus a fake plugin's)."""
    import sys
    import types

    fake = types.ModuleType("blendkit_fake_clash")
    fake.Agent = type("Agent", (), {})  # type: ignore[attr-defined]
    fake.__all__ = ["Agent"]  # type: ignore[attr-defined]
    sys.modules[fake.__name__] = fake
    try:
        clashes = name_clashes(["blendkit.xapi", fake.__name__])
    finally:
        del sys.modules[fake.__name__]
    assert clashes == {"Agent": ["blendkit.xapi", "blendkit_fake_clash"]}


@pytest.mark.parametrize(("module_name", "old", "new"), RENAMED)
def test_old_names_resolve_with_a_deprecation_warning(module_name: str, old: str, new: str) -> None:
    module = importlib.import_module(module_name)
    assert old not in module.__all__
    expected = rf"{re.escape(module_name)}\.{old} is now .*\.{new}\b"
    with pytest.warns(DeprecationWarning, match=expected):
        value = getattr(module, old)
    assert value is getattr(module, new)


def test_unknown_names_still_raise_attribute_error() -> None:
    import blendkit.lti

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(AttributeError, match="no attribute 'Nothing'"):
            _ = blendkit.lti.Nothing  # type: ignore[attr-defined]
