"""The YAML parser behind :func:`blendkit.limits.load_yaml`.

Kept apart so that PyYAML is imported when the first YAML document is parsed, not by
``import blendkit``.
"""

from __future__ import annotations

from typing import Any

import yaml

__all__ = ["Refused", "YAMLError", "dump", "parse"]

YAMLError = yaml.YAMLError


class Refused(Exception):
    """A document broke a cap: ``code`` is the error code, ``where`` its line and column."""

    def __init__(self, code: str, where: str) -> None:
        super().__init__(code)
        self.code = code
        self.where = where


class _CappedLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing anchors and aliases and counting depth and nodes."""

    max_depth = 0
    max_nodes = 0
    _depth = 0
    _nodes = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        event: Any = self.peek_event()  # type: ignore[no-untyped-call]
        mark = event.start_mark
        where = f"line {mark.line + 1} column {mark.column + 1}" if mark else "(unknown line)"
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise Refused("document.yaml_alias", where)
        self._nodes += 1
        if self._nodes > self.max_nodes:
            raise Refused("document.too_many_nodes", where)
        self._depth += 1
        try:
            if self._depth > self.max_depth:
                raise Refused("document.too_deep", where)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def parse(source: str, max_depth: int, max_nodes: int) -> Any:
    """The single document in ``source``; :class:`Refused` or :data:`YAMLError` if it is not."""
    loader: _CappedLoader | None = None
    try:
        loader = _CappedLoader(source)  # reads the first characters: may refuse already
        loader.max_depth = max_depth
        loader.max_nodes = max_nodes
        return loader.get_single_data()
    finally:
        if loader is not None:
            loader.dispose()


def dump(data: Any) -> str:
    """``data`` as block-style YAML, keys in their order, non-ASCII text kept as is."""
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
