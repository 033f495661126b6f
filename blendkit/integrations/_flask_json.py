"""Request JSON that nests too deep is malformed JSON, whatever JSON provider the app uses.

The body cap keeps a request small, but a small body can nest deep (``[`` fifty thousand times
is 100 KB) and ``json.loads`` recurses once per level: without this, any JSON route answers with
a ``RecursionError``. The app's provider (Flask's default or the host's own, with its settings)
keeps decoding; a decode that runs out of recursion becomes a ``ValueError``, which Flask answers
with 400 (``None`` with ``silent=True``). Nothing is measured beforehand, so ordinary bodies cost
what they cost before (``benchmarks/bench_json_depth.py``).
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.json.provider import JSONProvider

__all__ = ["guard_json_depth"]


class _DepthGuarded(JSONProvider):
    """Turns a decode that ran out of recursion into malformed JSON (``ValueError``)."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("the JSON body nests deeper than it can be decoded") from None


def guard_json_depth(app: Flask) -> None:
    """Make ``app.json`` (its provider, with its settings) refuse too deep JSON as malformed."""
    provider = app.json
    if isinstance(provider, _DepthGuarded):
        return
    base = type(provider)
    guarded_type = type(f"DepthGuarded{base.__name__}", (_DepthGuarded, base), {})
    guarded: JSONProvider = object.__new__(guarded_type)
    guarded.__dict__.update(vars(provider))
    app.json = guarded
