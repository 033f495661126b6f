"""A Griffe extension for the API reference: Sphinx roles in docstrings become inline code.

blendkit's docstrings name other objects the Sphinx way (``:class:`Fence```, ``:func:`load_json```,
``:data:`DOCUMENT_LIMITS```); mkdocstrings renders Markdown, where those would show their role
markers. mkdocs.yml loads this file as an extension of the Python handler.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

ROLE = re.compile(r":(?:py:)?(?:class|func|meth|attr|data|mod|exc|obj|const):`~?([^`]+)`")


class SphinxRolesAsCode(griffe.Extension):
    """Rewrites ``:role:`name``` to ``name`` in inline code in every docstring."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = ROLE.sub(r"`\1`", obj.docstring.value)
