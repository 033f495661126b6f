"""The public face of blendkit.progression: sorted, complete, importable, framework-free."""

from __future__ import annotations

import subprocess
import sys

import blendkit.progression as progression


def test_all_is_sorted_and_resolves() -> None:
    exported = progression.__all__
    assert exported == sorted(exported)
    assert len(set(exported)) == len(exported)
    for name in exported:
        assert hasattr(progression, name), name


def test_core_imports_no_web_framework_and_no_store() -> None:
    code = (
        "import sys, blendkit; before = set(sys.modules); import blendkit.progression; "
        "new = set(sys.modules) - before; "
        "print(','.join(sorted(m for m in new if m.split('.')[0] in "
        "('flask', 'httpx', 'sqlalchemy', 'requests', 'werkzeug'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
