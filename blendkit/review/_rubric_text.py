"""Rubrics as plain text, for the instructor's editor (one textarea, no scripting needed).

    criterion clarity: Clarity of the argument
      0: Hard to follow
      2: Mostly clear
      4: Clear throughout
    criterion sources: Use of sources [no comment]
      0: None
      1: Some
    general comment: no

A ``criterion <id>: <title>`` line starts a criterion (``[no comment]`` at its end: reviewers
write no comment on it); each indented ``<points>: <description>`` line below it is a level,
lowest first. ``general comment: no`` drops the general comment. Blank lines and ``#`` lines
are ignored. Every refusal names the line.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import ValidationError

from blendkit.errors import CourseInputInvalid
from blendkit.review._settings import Rubric

__all__ = ["rubric_from_text", "rubric_to_text"]

_CRITERION = re.compile(r"^criterion\s+(\S+)\s*:\s*(.+?)\s*$")
_LEVEL = re.compile(r"^\s+(-?\d+(?:\.\d+)?)\s*:\s*(.+?)\s*$")
_GENERAL = re.compile(r"^general comment\s*:\s*(yes|no)\s*$", re.I)
_NO_COMMENT = " [no comment]"


def _refused(line: int, message: str) -> CourseInputInvalid:
    return CourseInputInvalid(f"rubric line {line}: {message}", code="courses.review_rubric")


def rubric_from_text(text: str) -> Rubric:
    """The rubric written in ``text`` (``courses.review_rubric`` naming the line otherwise)."""
    criteria: list[dict[str, Any]] = []
    general = True
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.rstrip()
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if found := _GENERAL.match(line):
            general = found.group(1).lower() == "yes"
        elif found := _CRITERION.match(line):
            title = found.group(2)
            comment = not title.endswith(_NO_COMMENT.strip())
            title = title.removesuffix(_NO_COMMENT.strip()).rstrip()
            criteria.append({"id": found.group(1), "title": title, "comment": comment,
                             "levels": [], "line": number})  # fmt: skip
        elif found := _LEVEL.match(line):
            if not criteria:
                raise _refused(number, "a level comes before any 'criterion <id>: <title>' line")
            criteria[-1]["levels"].append(
                {"points": float(found.group(1)), "description": found.group(2)}
            )
        else:
            raise _refused(
                number, "expected 'criterion <id>: <title>', an indented '<points>: <level>' "
                "or 'general comment: yes|no'",
            )  # fmt: skip
    if not criteria:
        raise _refused(1, "the rubric has no criterion")
    for c in criteria:
        line = c.pop("line")
        try:
            Rubric.model_validate({"criteria": [c]})
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"][2:]) or "criterion"
            raise _refused(line, f"{where}: {first['msg']}") from None
    try:
        return Rubric.model_validate({"criteria": criteria, "general_comment": general})
    except ValidationError as exc:
        raise _refused(1, exc.errors()[0]["msg"]) from None


def _number(value: float) -> str:
    return f"{value:g}" if value == int(value) or abs(value) >= 1e-4 else repr(value)


def rubric_to_text(rubric: Rubric) -> str:
    """``rubric`` in the text form :func:`rubric_from_text` reads."""
    lines = []
    for c in rubric.criteria:
        lines.append(f"criterion {c.id}: {c.title}{'' if c.comment else _NO_COMMENT}")
        lines.extend(f"  {_number(level.points)}: {level.description}" for level in c.levels)
    if not rubric.general_comment:
        lines.append("general comment: no")
    return "\n".join(lines) + "\n"
