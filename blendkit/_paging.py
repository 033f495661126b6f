"""How a vendor's list answers name their next page: a token to send back, or a full link."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = ["LinkPaging", "Paging", "TokenPaging"]


class Paging(Protocol):
    """How a list answer names its next page."""

    @property
    def items_key(self) -> str:
        """The member of the answer holding the page's items, unless the caller names another."""
        ...

    def follow(
        self, body: Mapping[str, Any], url: str, params: Mapping[str, str]
    ) -> tuple[str, dict[str, str]] | None:
        """The URL and query of the page after ``body`` (fetched from ``url`` with ``params``),
        or ``None`` on the last page."""
        ...


@dataclass(frozen=True)
class TokenPaging:
    """A token in the answer, sent back as a query parameter: Google's ``nextPageToken`` →
    ``pageToken`` (the default), Zoom's ``next_page_token`` under the same name."""

    token_field: str = "nextPageToken"  # noqa: S105 (a JSON member's name, not a secret)
    token_param: str = "pageToken"  # noqa: S105
    items_key: str = "items"

    def follow(
        self, body: Mapping[str, Any], url: str, params: Mapping[str, str]
    ) -> tuple[str, dict[str, str]] | None:
        token = body.get(self.token_field)
        if not isinstance(token, str) or not token:
            return None
        return url, {**params, self.token_param: token}


@dataclass(frozen=True)
class LinkPaging:
    """The next page's full URL in the answer, query included (Graph's ``@odata.nextLink``).

    The link is followed only under the client's base URL, or on its token hosts when it has
    none, so a link elsewhere never receives the token.
    """

    link_field: str = "@odata.nextLink"
    items_key: str = "value"

    def follow(
        self, body: Mapping[str, Any], url: str, params: Mapping[str, str]
    ) -> tuple[str, dict[str, str]] | None:
        link = body.get(self.link_field)
        if not isinstance(link, str) or not link:
            return None
        return link, {}
