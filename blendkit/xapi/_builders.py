"""StatementFactory, the builders of blendkit's events: one method per event, each returning a
validated Statement with a deterministic id, so the same event emitted twice is stored once."""

from __future__ import annotations

from blendkit.xapi._builders_course import _CourseBuilders
from blendkit.xapi._builders_profiles import _ProfileBuilders

__all__ = ["StatementFactory"]


class StatementFactory(_ProfileBuilders, _CourseBuilders):
    """Builds the statements of one tool; activity ids live under ``tool_iri``.

    ``clock`` supplies the client-side timestamp when an event does not carry its own time.
    """
