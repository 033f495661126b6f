"""Limits on untrusted input: request bodies read up to a cap, documents of bounded size, depth
and node count, YAML without anchors or aliases.

Adapters translate these rules and never re-implement them:

- a web adapter asks :meth:`RequestLimits.check_declared` for the cap of the request's path
  (which refuses a declared ``Content-Length`` above it before a byte of the body is read) and
  hands the application a :class:`CappedStream` over the body, so a chunked or unknown-length
  body is cut off after at most the cap (:func:`read_at_most` does both for a plain stream);
- every JSON or YAML document blendkit parses goes through :func:`load_json`, :func:`load_yaml`
  or :func:`check_tree` with :class:`DocumentLimits`; each refusal names the line or the node.
"""

from __future__ import annotations

import json
import re
from array import array
from itertools import accumulate
from typing import Any, BinaryIO, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from blendkit.config import Settings
from blendkit.errors import BlendkitError, RequestTooLarge

__all__ = [
    "CappedStream",
    "DOCUMENT_LIMITS",
    "DocumentLimits",
    "RequestLimits",
    "SMALL_BODY_PREFIXES",
    "check_tree",
    "decode_utf8",
    "json_too_deep",
    "load_document",
    "load_json",
    "load_yaml",
    "read_at_most",
]

SMALL_BODY_PREFIXES = ("/lti/", "/webhooks/")
"""Paths whose bodies are capped by ``[tool] max_webhook_bytes`` (the rest by max_request_bytes)."""

_CHUNK = 65_536


# --- request bodies ------------------------------------------------------------------------------


class RequestLimits(BaseModel):
    """The body cap of each request path: small for webhooks and ``/lti/``, larger for pages."""

    model_config = ConfigDict(frozen=True)

    max_request_bytes: int = Field(default=1_048_576, ge=1)
    max_webhook_bytes: int = Field(default=262_144, ge=1)
    small_body_prefixes: tuple[str, ...] = SMALL_BODY_PREFIXES

    @classmethod
    def from_settings(cls, settings: Settings) -> RequestLimits:
        """The limits of ``[tool] max_request_bytes`` and ``[tool] max_webhook_bytes``."""
        return cls(
            max_request_bytes=settings.tool.max_request_bytes,
            max_webhook_bytes=settings.tool.max_webhook_bytes,
        )

    def cap_for(self, path: str) -> int:
        """The largest body a request to ``path`` may carry."""
        if path.startswith(self.small_body_prefixes):
            return min(self.max_webhook_bytes, self.max_request_bytes)
        return self.max_request_bytes

    def check_declared(self, path: str, content_length: int | None) -> int:
        """The cap for ``path``; :class:`RequestTooLarge` when the declared length exceeds it."""
        cap = self.cap_for(path)
        if content_length is not None and content_length > cap:
            raise _body_too_large(cap)
        return cap


def _body_too_large(cap: int) -> RequestTooLarge:
    """The error for a body above ``cap`` bytes (HTTP 413)."""
    return RequestTooLarge(
        f"the request body is larger than {cap} bytes, the most this address accepts; "
        "send less, or raise [tool] max_request_bytes / max_webhook_bytes if it is legitimate",
    )


class _Readable(Protocol):
    def read(self, size: int = ..., /) -> bytes: ...


class CappedStream:
    """A read-only view of ``inner`` that raises :class:`RequestTooLarge` past ``cap`` bytes.

    It never asks ``inner`` for more than ``cap + 1`` bytes in total (the extra byte tells a body
    of exactly ``cap`` bytes from a larger one), so nothing beyond the cap is ever buffered.
    """

    def __init__(self, inner: _Readable | BinaryIO, cap: int) -> None:
        self._inner = inner
        self._cap = cap
        self.consumed = 0

    def _take(self, data: bytes) -> bytes:
        self.consumed += len(data)
        if self.consumed > self._cap:
            raise _body_too_large(self._cap)
        return data

    def read(self, size: int | None = -1, /) -> bytes:
        """Up to ``size`` bytes (all of the rest when negative or None)."""
        if size is None or size < 0:
            parts = []
            while part := self.read(_CHUNK):
                parts.append(part)
            return b"".join(parts)
        allowed = min(size, self._cap - self.consumed + 1)
        return self._take(self._inner.read(allowed)) if allowed > 0 else b""

    def readline(self, size: int | None = -1, /) -> bytes:
        """One line, cut at the cap like :meth:`read`."""
        allowed = self._cap - self.consumed + 1
        if size is not None and size >= 0:
            allowed = min(allowed, size)
        readline = getattr(self._inner, "readline", None)
        if readline is None or allowed <= 0:
            return self.read(allowed) if allowed > 0 else b""
        return self._take(readline(allowed))

    def __iter__(self) -> CappedStream:
        return self

    def __next__(self) -> bytes:
        line = self.readline()
        if not line:
            raise StopIteration
        return line

    def close(self) -> None:
        """Close the wrapped stream when it can be closed."""
        close = getattr(self._inner, "close", None)
        if close is not None:
            close()


def read_at_most(stream: _Readable | BinaryIO, cap: int, declared: int | None = None) -> bytes:
    """The whole body of ``stream``; :class:`RequestTooLarge` when it (or ``declared``) exceeds
    ``cap`` — checked before reading, and while reading without buffering more than the cap."""
    if declared is not None and declared > cap:
        raise _body_too_large(cap)
    return CappedStream(stream, cap).read()


# --- documents -----------------------------------------------------------------------------------


class DocumentLimits(BaseModel):
    """Caps on a JSON or YAML document: its bytes, its nesting depth and its number of nodes."""

    model_config = ConfigDict(frozen=True)

    max_bytes: int = Field(default=1_048_576, ge=1)
    max_depth: int = Field(default=64, ge=1, le=500)
    max_nodes: int = Field(default=20_000, ge=1)


DOCUMENT_LIMITS = DocumentLimits()
"""The caps every document blendkit parses is held to: 1 MiB, 64 levels, 20,000 nodes."""

_ErrorType = type[BlendkitError]
# A JSON string, or one bracket: enough to follow the nesting without parsing.
_JSON_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)
_JSON_STRINGS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(c for c in range(256) if c not in b"[]{}")
_BRACKET_STEPS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")


def _where(text: str, position: int) -> str:
    line = text.count("\n", 0, position) + 1
    column = position - (text.rfind("\n", 0, position) + 1) + 1
    return f"line {line} column {column}"


def decode_utf8(data: bytes | str, *, what: str, error: _ErrorType) -> str:
    """``data`` as text; a byte that is not UTF-8 is refused naming its line and column."""
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise error(
            f"the {what} document is not UTF-8 text: line {line} column {column} holds byte "
            f"0x{data[exc.start]:02x}; save the file as UTF-8",
            code="document.not_utf8",
        ) from None


def _check_size(data: bytes | str, what: str, error: _ErrorType, limits: DocumentLimits) -> None:
    # surrogatepass: a str may hold lone surrogates (JSON's \ud800 escapes decode to them); they
    # are measured, not an encoding error
    size = len(data.encode("utf-8", "surrogatepass")) if isinstance(data, str) else len(data)
    if size > limits.max_bytes:
        raise error(
            f"the {what} document is {size} bytes; at most {limits.max_bytes} are accepted",
            code="document.too_large",
        )


def _short(where: str) -> str:
    return where if len(where) <= 160 else f"{where[:90]}…{where[-60:]}"


def _too_deep(what: str, where: str, limits: DocumentLimits, error: _ErrorType) -> BlendkitError:
    where = _short(where)
    return error(
        f"the {what} document nests deeper than {limits.max_depth} levels at {where}",
        code="document.too_deep",
    )


def _too_many(what: str, where: str, limits: DocumentLimits, error: _ErrorType) -> BlendkitError:
    where = _short(where)
    return error(
        f"the {what} document has more than {limits.max_nodes} values (the limit is reached at "
        f"{where}); split it or remove repetition",
        code="document.too_many_nodes",
    )


def _label(parent: str, key: object) -> str:
    if isinstance(key, int):
        return f"{parent}[{key}]"
    name = str(key)[:40]
    return f"{parent}.{name}" if parent else name


def check_tree(
    data: Any, *, what: str, error: _ErrorType, limits: DocumentLimits = DOCUMENT_LIMITS
) -> None:
    """Refuse decoded ``data`` nested deeper or holding more values than ``limits`` allow.

    Walks without recursion, so any depth is measured safely; the error names the node. The
    common case (within the limits) is one cheap pass that builds no node names; only a document
    that breaks a limit is walked again to name where.
    """
    if not _within(data, limits):
        _name_the_breach(data, what=what, error=error, limits=limits)


def _within(data: Any, limits: DocumentLimits) -> bool:
    """True when ``data`` keeps to the depth and node caps (the launch hot path: no labels)."""
    stack: list[tuple[Any, int]] = [(data, 1)]
    nodes = 0
    max_depth, max_nodes = limits.max_depth, limits.max_nodes
    while stack:
        value, depth = stack.pop()
        nodes += 1
        if nodes > max_nodes or depth > max_depth:
            return False
        if isinstance(value, dict):
            stack.extend((child, depth + 1) for child in value.values())
        elif isinstance(value, list | tuple):
            stack.extend((child, depth + 1) for child in value)
    return True


def _name_the_breach(data: Any, *, what: str, error: _ErrorType, limits: DocumentLimits) -> None:
    stack: list[tuple[Any, int, str]] = [(data, 1, "")]
    nodes = 0
    while stack:
        value, depth, where = stack.pop()
        nodes += 1
        if nodes > limits.max_nodes:
            raise _too_many(what, where or "(root)", limits, error)
        if depth > limits.max_depth:
            raise _too_deep(what, where or "(root)", limits, error)
        if isinstance(value, dict):
            items = list(value.items())
        elif isinstance(value, list | tuple):
            items = list(enumerate(value))
        else:
            continue
        stack.extend((child, depth + 1, _label(where, key)) for key, child in reversed(items))


def _outside_strings(source: str) -> str:
    """The JSON text with its strings left out. Without a backslash every quote opens or
    closes a string (as far as a decoder reads it), so splitting at quotes is exact; with
    escapes the strings are matched."""
    if '"' not in source:
        return source
    if "\\" not in source:
        return "".join(source.split('"')[::2])
    return _JSON_STRINGS.sub("", source)


def json_too_deep(source: str, max_depth: int) -> int | None:
    """Where JSON text first nests deeper than ``max_depth`` (its index), None when it does not.

    Follows brackets and skips strings without parsing, so any depth is measured without the
    recursion a parser would need (``json.loads`` recurses once per level). The depth after
    every bracket is a running sum computed in C; the token walk that names the place runs only
    for text that is too deep."""
    if source.count("[") + source.count("{") <= max_depth:
        return None
    skeleton = _outside_strings(source)
    # Each bracket becomes a signed step (+1 opening, -1 closing), everything else is dropped;
    # the running sum of the steps is the depth after each bracket.
    steps = skeleton.encode("utf-8", "surrogatepass").translate(_BRACKET_STEPS, _NOT_BRACKETS)
    if max(accumulate(array("b", steps)), default=0) <= max_depth:
        return None
    depth = 0
    for token in _JSON_TOKENS.finditer(source):
        mark = token.group()
        if mark in "[{":
            depth += 1
            if depth > max_depth:
                return token.start()
        elif mark in "]}":
            depth -= 1
    return None  # pragma: no cover - the running sum found a breach the walk finds too


def load_json(
    text: str | bytes,
    *,
    what: str,
    error: _ErrorType,
    limits: DocumentLimits = DOCUMENT_LIMITS,
) -> Any:
    """Parse JSON within ``limits``; syntax errors name the line and column."""
    _check_size(text, what, error, limits)
    source = decode_utf8(text, what=what, error=error)
    deep_at = json_too_deep(source, limits.max_depth)
    if deep_at is not None:
        raise _too_deep(what, _where(source, deep_at), limits, error)
    try:
        data = json.loads(source)
    except json.JSONDecodeError as exc:
        raise error(
            f"the {what} document is not valid JSON: line {exc.lineno} column {exc.colno}: "
            f"{exc.msg}"
        ) from None
    except (ValueError, RecursionError) as exc:  # e.g. an integer of thousands of digits
        raise error(f"the {what} document is not usable JSON: {str(exc)[:120]}") from None
    check_tree(data, what=what, error=error, limits=limits)
    return data


def load_yaml(
    text: str | bytes,
    *,
    what: str,
    error: _ErrorType,
    limits: DocumentLimits = DOCUMENT_LIMITS,
) -> Any:
    """Parse YAML within ``limits``: no anchors or aliases; errors name the line."""
    _check_size(text, what, error, limits)
    source = decode_utf8(text, what=what, error=error)
    # PyYAML is imported here, not with this module: ``import blendkit`` stays without it.
    from blendkit import _capped_yaml

    try:
        return _capped_yaml.parse(source, limits.max_depth, limits.max_nodes)
    except _capped_yaml.Refused as exc:
        if exc.code == "document.too_deep":
            raise _too_deep(what, exc.where, limits, error) from None
        if exc.code == "document.too_many_nodes":
            raise _too_many(what, exc.where, limits, error) from None
        raise error(
            f"the {what} document uses a YAML anchor or alias (& or *) at {exc.where}; they are "
            "not accepted (one line can expand to millions): write the repeated part out",
            code="document.yaml_alias",
        ) from None
    except _capped_yaml.YAMLError as exc:
        raise error(f"the {what} document is not valid YAML: {exc}") from None
    except (ValueError, TypeError, OverflowError, RecursionError) as exc:
        raise error(f"the {what} document holds an unusable value: {str(exc)[:120]}") from None


def load_document(
    text: str | bytes,
    fmt: Literal["json", "yaml"] | None = None,
    *,
    what: str,
    error: _ErrorType,
    limits: DocumentLimits = DOCUMENT_LIMITS,
) -> Any:
    """A JSON or YAML document within ``limits`` (format guessed from its first character)."""
    if fmt is None:
        head = text.lstrip()[:1]
        fmt = "json" if head in ("{", "[", b"{", b"[") else "yaml"
    if fmt == "json":
        return load_json(text, what=what, error=error, limits=limits)
    return load_yaml(text, what=what, error=error, limits=limits)
