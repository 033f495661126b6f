"""Interoperability with TinCanPython (``tincan``): accept its Statements, hand ours back to it.

``tincan`` is imported lazily: it is an optional extra (``blendkit[interop]``).
"""

from __future__ import annotations

from typing import Any

from blendkit.errors import StatementInvalid
from blendkit.xapi._models import Statement, parse_statement

__all__ = ["from_tincan", "is_tincan_statement", "to_tincan"]


def is_tincan_statement(value: object) -> bool:
    """True for a ``tincan.Statement`` (checked by module name: no import needed)."""
    kind = type(value)
    return kind.__name__ == "Statement" and kind.__module__.startswith("tincan")


def from_tincan(statement: Any, *, version: str = "1.0.3") -> Statement:
    """Validate a ``tincan.Statement`` and return blendkit's Statement for it."""
    if not is_tincan_statement(statement):
        raise StatementInvalid(
            f"statement: expected a tincan.Statement, got {type(statement).__name__}"
        )
    # tincan serialises per xAPI version; 1.0.3 is the newest it knows.
    return parse_statement(statement.to_json("1.0.3"), version=version)


def to_tincan(statement: Statement) -> Any:
    """The same statement as a ``tincan.Statement`` (needs ``pip install blendkit[interop]``)."""
    try:
        import tincan
    except ImportError as exc:
        raise StatementInvalid(
            "tincan is not installed: pip install 'blendkit[interop]' to convert statements"
        ) from exc
    return tincan.Statement.from_json(statement.to_json().decode())
