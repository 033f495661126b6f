"""Path and evidence documents: parse JSON/YAML text, dump it back, locate every error.

Text in, text out: reading and writing files is the caller's business (the core does no I/O).
"""

from __future__ import annotations

import json
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError

from blendkit.errors import ConditionInvalid, PathInvalid, ProgressionError
from blendkit.limits import DOCUMENT_LIMITS, check_tree, load_document
from blendkit.progression._conditions import Condition, ConditionField, format_loc
from blendkit.progression._evidence import Evidence, EvidencePiece
from blendkit.progression._path import Path
from blendkit.progression._replay import TimedPiece

__all__ = [
    "Format",
    "condition_from_dict",
    "dump_path",
    "error_lines",
    "parse_document",
    "parse_evidence",
    "parse_evidence_history",
    "parse_path",
    "path_from_dict",
    "piece_from_dict",
]

Format = Literal["json", "yaml"]
_M = TypeVar("_M", bound=BaseModel)


def error_lines(exc: ValidationError) -> list[str]:
    """``loc: message`` for every validation error, nested condition locations included."""
    lines = []
    for error in exc.errors():
        loc = format_loc(tuple(error["loc"]))
        message = error["msg"]
        ctx = error.get("ctx") or {}
        if error["type"] == "condition_invalid":
            inner = str(ctx.get("loc", ""))
            if inner:
                loc = f"{loc}{inner}" if inner.startswith("[") or not loc else f"{loc}.{inner}"
            message = str(ctx.get("detail", message))
        message = message.removeprefix("Value error, ")
        lines.append(f"{loc}: {message}" if loc else message)
    return lines


def parse_document(text: str | bytes, fmt: Format | None = None, *, what: str = "path") -> Any:
    """The data of a JSON or YAML document (format guessed from the first character if None).

    Held to :data:`blendkit.limits.DOCUMENT_LIMITS` (size, depth, node count); YAML anchors and
    aliases are refused. Every refusal is a :class:`PathInvalid` naming the line or the node.
    """
    return load_document(text, fmt, what=what, error=PathInvalid)


def _validate(model: type[_M], data: Any, what: str, error: type[ProgressionError]) -> _M:
    if not isinstance(data, dict):
        raise error(f"the {what} document must be a mapping at the top level")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        lines = error_lines(exc)
        more = f" (and {len(lines) - 1} more: {'; '.join(lines[1:4])})" if len(lines) > 1 else ""
        raise error(f"invalid {what}: {lines[0]}{more}") from None


def path_from_dict(data: Any) -> Path:
    """A :class:`Path` from decoded data; :class:`PathInvalid` names the failing location.

    The data is held to the document caps, and so is the path as it would be stored (its JSON
    form): a path that cannot be stored is refused here, before anything is written.
    """
    check_tree(data, what="path", error=PathInvalid)
    path = _validate(Path, data, "path", PathInvalid)
    stored = len(dump_path(path, "json").encode("utf-8"))
    if stored > DOCUMENT_LIMITS.max_bytes:
        raise PathInvalid(
            f"the path would take {stored} bytes stored; at most {DOCUMENT_LIMITS.max_bytes} are "
            "accepted: split the course or shorten its texts",
            code="document.too_large",
        )
    return path


def parse_path(text: str | bytes, fmt: Format | None = None) -> Path:
    """A :class:`Path` from JSON or YAML text."""
    return path_from_dict(parse_document(text, fmt))


def _evidence_from(data: Any) -> Evidence:
    try:
        return _validate(Evidence, data, "evidence", ProgressionError)
    except PathInvalid as exc:
        raise ProgressionError(exc.message, code="progression.evidence_invalid") from None
    except ProgressionError as exc:
        raise ProgressionError(exc.message, code="progression.evidence_invalid") from None


def parse_evidence(text: str | bytes, fmt: Format | None = None) -> Evidence:
    """An :class:`Evidence` value from JSON or YAML text."""
    return _evidence_from(parse_document(text, fmt, what="evidence"))


_HISTORY: TypeAdapter[list[TimedPiece]] = TypeAdapter(list[TimedPiece])


def parse_evidence_history(
    text: str | bytes, fmt: Format | None = None
) -> tuple[Evidence, list[TimedPiece]]:
    """An evidence document and its optional ``history``: ``[{"at": …, "piece": {"kind": …}}]``,
    the pieces with the moment each happened, to be replayed through the gates (``replay``)."""
    data = parse_document(text, fmt, what="evidence")
    history: Any = []
    if isinstance(data, dict) and "history" in data:
        data = dict(data)
        history = data.pop("history")
    evidence = _evidence_from(data)
    try:
        return evidence, _HISTORY.validate_python(history)
    except ValidationError as exc:
        raise ProgressionError(
            f"invalid evidence history: {error_lines(exc)[0]}", code="progression.evidence_invalid"
        ) from None


def dump_path(path: Path, fmt: Format = "json") -> str:
    """``path`` as JSON or YAML text (defaults left out; loads back to an equal path)."""
    data = path.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    if fmt == "json":
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    from blendkit._capped_yaml import dump  # PyYAML only when YAML is asked for

    return dump(data)


_CONDITION: TypeAdapter[Condition] = TypeAdapter(ConditionField)


def condition_from_dict(data: Any) -> Condition:
    """A condition from decoded data; :class:`ConditionInvalid` names the failing node."""
    try:
        return _CONDITION.validate_python(data)
    except ValidationError as exc:
        lines = error_lines(exc)
        raise ConditionInvalid(f"invalid condition: {lines[0]}") from None


_PIECE: TypeAdapter[EvidencePiece] = TypeAdapter(EvidencePiece)


def piece_from_dict(data: Any) -> EvidencePiece:
    """One evidence piece from decoded data (``{"kind": "score", "item": …}``)."""
    try:
        return _PIECE.validate_python(data)
    except ValidationError as exc:
        raise ProgressionError(
            f"invalid evidence piece: {error_lines(exc)[0]}", code="progression.evidence_invalid"
        ) from None
