"""Contract checks of Google API requests and answers against Google's discovery documents.

The documents (``meet.v2.json``, ``calendar.v3.json``, ``workspaceevents.v1.json``,
``admin.directory_v1.json``, ``people.v1.json``, ``drive.v3.json``) live in ``../shared/specs``
beside the repository. :func:`check_request` finds the discovery method of an ``httpx.Request``
by HTTP method and path (relative to the document's ``rootUrl`` + ``servicePath``), then checks
its path and query parameters and every field of its JSON body, recursively, against the method's
``request`` schema: an unknown field, a wrong type or a value outside an enum fails loudly.
:func:`shaped` builds an answer body whose fields are checked against a schema the same way.
Both skip the calling test with a reason when the specs are absent (a fresh clone).
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import httpx
import pytest

SPECS_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "specs"
DOCUMENTS = {
    "meet": "meet.v2.json",
    "calendar": "calendar.v3.json",
    "workspaceevents": "workspaceevents.v1.json",
    "admin": "admin.directory_v1.json",
    "people": "people.v1.json",
    "drive": "drive.v3.json",
}
"""Short name → discovery document file; :func:`shaped` takes either."""


class ContractError(AssertionError):
    """A request or answer that the discovery document does not allow."""


def specs_available() -> bool:
    return all((SPECS_DIR / name).is_file() for name in DOCUMENTS.values())


def require_specs() -> None:
    """Skip the calling test with a reason when the discovery documents are absent."""
    if not specs_available():
        pytest.skip(
            f"Google discovery documents not found in {SPECS_DIR} (the shared/specs directory "
            "beside the repository): contract checks skipped"
        )


@functools.cache
def document(name: str) -> dict[str, Any]:
    """A discovery document by short name (``calendar``) or file name (``calendar.v3.json``)."""
    require_specs()
    file = DOCUMENTS.get(name, name)
    loaded: dict[str, Any] = json.loads((SPECS_DIR / file).read_text(encoding="utf-8"))
    return loaded


@dataclass(frozen=True)
class Method:
    """One discovery method: where it lives and what it accepts."""

    doc: str
    id: str
    http_method: str
    pattern: re.Pattern[str]
    literal_length: int
    parameters: dict[str, Any]
    request_schema: str | None


def _template_pattern(template: str) -> tuple[re.Pattern[str], int]:
    parts: list[str] = []
    literal = 0
    for piece in re.split(r"(\{\+?[^}]+\})", template):
        if piece.startswith("{+"):
            parts.append(f"(?P<{_group(piece[2:-1])}>.+)")
        elif piece.startswith("{"):
            parts.append(f"(?P<{_group(piece[1:-1])}>[^/]+)")
        else:
            parts.append(re.escape(piece))
            literal += len(piece)
    return re.compile("".join(parts) + r"\Z"), literal


def _group(name: str) -> str:
    return re.sub(r"\W", "_", name)


def _methods(resource: dict[str, Any]) -> list[dict[str, Any]]:
    found = list(resource.get("methods", {}).values())
    for child in resource.get("resources", {}).values():
        found.extend(_methods(child))
    return found


@functools.cache
def methods(name: str) -> tuple[Method, ...]:
    doc = document(name)
    found = []
    for raw in _methods(doc):
        template = raw.get("flatPath") or raw["path"]
        pattern, literal = _template_pattern(template)
        request = raw.get("request")
        found.append(
            Method(
                doc=name,
                id=raw["id"],
                http_method=raw["httpMethod"],
                pattern=pattern,
                literal_length=literal,
                parameters=raw.get("parameters", {}),
                request_schema=request.get("$ref") if isinstance(request, dict) else None,
            )
        )
    return tuple(found)


def _document_for(url: httpx.URL) -> tuple[str, str]:
    """The short name of the document serving ``url`` and the path relative to its base."""
    path = url.raw_path.decode("ascii").split("?", 1)[0]
    full = f"{url.scheme}://{url.host}{path}"
    best: tuple[str, str] | None = None
    for name in DOCUMENTS:
        doc = document(name)
        base = doc["rootUrl"] + doc["servicePath"]
        if full.startswith(base) and (best is None or len(base) > len(best[1])):
            best = (name, base)
    if best is None:
        raise ContractError(f"no Google discovery document serves {full}")
    return best[0], full[len(best[1]) :]


def find_method(method: str, url: httpx.URL) -> tuple[Method, dict[str, str]]:
    """The discovery method for ``method url`` and its path parameters (decoded)."""
    name, relative = _document_for(url)
    candidates = []
    for found in methods(name):
        if found.http_method != method.upper():
            continue
        match = found.pattern.match(relative)
        if match:
            candidates.append((found.literal_length, found, match))
    if not candidates:
        raise ContractError(f"{name}: no discovery method for {method} {relative}")
    _, chosen, match = max(candidates, key=lambda item: item[0])
    return chosen, {key: unquote(value) for key, value in match.groupdict().items()}


def check_request(request: httpx.Request) -> str:
    """Check ``request`` against its discovery method; return the method id
    (``calendar.events.insert``). Raises :class:`ContractError` on any mismatch."""
    method, path_values = find_method(request.method, request.url)
    doc = document(method.doc)
    declared = {**doc.get("parameters", {}), **method.parameters}
    where = f"{method.id} ({request.method} {request.url.path})"
    for key, value in path_values.items():
        if not value:
            raise ContractError(f"{where}: empty path parameter {key}")
    for key, value in request.url.params.multi_items():
        spec = declared.get(key)
        if spec is None or spec.get("location") != "query":
            raise ContractError(f"{where}: unknown query parameter {key!r}")
        _check_scalar(spec, value, f"{where} ?{key}", query=True)
    for key, spec in method.parameters.items():
        required = spec.get("required") and spec.get("location") == "query"
        if required and key not in request.url.params:
            raise ContractError(f"{where}: required query parameter {key!r} missing")
    body = request.content
    if method.request_schema is None:
        if body:
            raise ContractError(f"{where}: the method takes no body, but one was sent")
        return method.id
    if not body:
        raise ContractError(f"{where}: the method needs a {method.request_schema} body")
    try:
        value = json.loads(body)
    except ValueError as exc:
        raise ContractError(f"{where}: the body is not JSON") from exc
    check_value(method.doc, {"$ref": method.request_schema}, value, where)
    return method.id


def check_value(doc_name: str, schema: dict[str, Any], value: Any, where: str) -> None:
    """Check ``value`` against a discovery ``schema`` (``$ref``s resolved in ``doc_name``)."""
    doc = document(doc_name)
    if "$ref" in schema:
        name = schema["$ref"]
        if name not in doc["schemas"]:
            raise ContractError(f"{where}: {doc_name} has no schema {name}")
        schema = doc["schemas"][name]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        if not isinstance(value, dict):
            raise ContractError(f"{where}: expected an object, got {type(value).__name__}")
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        for key, item in value.items():
            if key in properties:
                check_value(doc_name, properties[key], item, f"{where}.{key}")
            elif isinstance(extra, dict):
                check_value(doc_name, extra, item, f"{where}.{key}")
            else:
                known = ", ".join(sorted(properties))
                raise ContractError(f"{where}: unknown field {key!r} (known: {known})")
        return
    if kind == "array":
        if not isinstance(value, list):
            raise ContractError(f"{where}: expected an array, got {type(value).__name__}")
        for index, item in enumerate(value):
            check_value(doc_name, schema.get("items", {}), item, f"{where}[{index}]")
        return
    if kind == "any" or kind is None:
        return
    _check_scalar(schema, value, where, query=False)


def _check_scalar(schema: dict[str, Any], value: Any, where: str, *, query: bool) -> None:
    kind = schema.get("type")
    if query and isinstance(value, str):
        if kind == "integer" and not re.fullmatch(r"-?\d+", value):
            raise ContractError(f"{where}: {value!r} is not an integer")
        if kind == "boolean" and value not in ("true", "false"):
            raise ContractError(f"{where}: {value!r} is not true or false")
    elif kind == "string":
        if not isinstance(value, str):
            raise ContractError(f"{where}: expected a string, got {type(value).__name__}")
    elif kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            raise ContractError(f"{where}: expected an integer, got {type(value).__name__}")
    elif kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ContractError(f"{where}: expected a number, got {type(value).__name__}")
    elif kind == "boolean" and not isinstance(value, bool):
        raise ContractError(f"{where}: expected a boolean, got {type(value).__name__}")
    enum = schema.get("enum")
    if enum and value not in enum:
        raise ContractError(f"{where}: {value!r} is not one of {', '.join(enum)}")


def shaped(doc: str, schema: str, **fields: Any) -> dict[str, Any]:
    """An answer body of ``schema`` in ``doc`` holding ``fields``, each checked against it."""
    check_value(doc, {"$ref": schema}, fields, f"{doc}:{schema}")
    return dict(fields)
