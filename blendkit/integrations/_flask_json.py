"""Request JSON decoded within blendkit's nesting cap, whatever JSON provider the app uses.

The body cap keeps a request small, but a small body can nest deep (``[`` fifty thousand times
is 100 KB) and ``json.loads`` recurses once per level: without a cap, any JSON route answers
with a ``RecursionError``. The app's provider (Flask's default or the host's own) keeps doing
the decoding; it is only asked to after the text's nesting was measured without recursion.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.json.provider import JSONProvider

from blendkit.limits import DOCUMENT_LIMITS, json_too_deep

__all__ = ["cap_json_depth"]


class _DepthCapped(JSONProvider):
    """Refuses, as malformed JSON (``ValueError``: Flask answers 400, ``silent`` gives None),
    text nested deeper than :data:`blendkit.limits.DOCUMENT_LIMITS` allows."""

    max_depth = DOCUMENT_LIMITS.max_depth

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        text = s.decode("utf-8", "replace") if isinstance(s, bytes | bytearray) else s
        where = json_too_deep(text, self.max_depth)
        if where is not None:
            raise ValueError(
                f"the JSON body nests deeper than {self.max_depth} levels (at character {where})"
            )
        return super().loads(s, **kwargs)


def cap_json_depth(app: Flask) -> None:
    """Make ``app.json`` (its provider, with its settings) measure nesting before decoding."""
    provider = app.json
    if isinstance(provider, _DepthCapped):
        return
    base = type(provider)
    capped_type = type(f"DepthCapped{base.__name__}", (_DepthCapped, base), {})
    capped: JSONProvider = object.__new__(capped_type)
    capped.__dict__.update(vars(provider))
    app.json = capped
