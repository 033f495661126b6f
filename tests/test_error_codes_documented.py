"""Every error code blendkit can raise is documented for administrators."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "reference" / "errors.md"
CODE_LITERAL = re.compile(r"""\bcode\s*=\s*["']([a-z_]+\.[a-z_]+)["']""")


def _codes_in_source() -> set[str]:
    found: set[str] = set()
    for base in (ROOT / "blendkit", ROOT / "plugins"):
        for path in base.rglob("*.py"):
            found.update(CODE_LITERAL.findall(path.read_text(encoding="utf-8")))
    return found


def test_source_defines_codes() -> None:
    codes = _codes_in_source()
    assert "lti.replayed_nonce" in codes
    assert "config.invalid" in codes


def test_every_code_has_a_row_in_the_reference() -> None:
    documented = set(re.findall(r"`([a-z_]+\.[a-z_]+)`", DOC.read_text(encoding="utf-8")))
    missing = sorted(_codes_in_source() - documented)
    assert not missing, f"add these codes to docs/reference/errors.md: {missing}"
