"""One LTI Advantage service call as a value: what to send, with which token scopes, and why.

AGS and NRPS describe each call as a :class:`ServiceCall` and parse the answer themselves; a
session (:class:`~blendkit.lti.ServiceSession` over ``httpx.Client``, or the asynchronous one
over ``httpx.AsyncClient``) only sends it. Building and parsing stay sans-IO and shared, so the
synchronous and asynchronous services cannot drift in what they ask a platform.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import httpx
import orjson

from blendkit.errors import ServiceError

__all__ = ["PageTrail", "ServiceCall"]


@dataclass(frozen=True)
class ServiceCall:
    """One authorised request to a platform service."""

    method: str
    url: str
    scopes: tuple[str, ...]
    """Requested for the token (one token serves every call of a service)."""
    needs: tuple[str, ...]
    """The call requires one of these scopes to have been granted."""
    accept: str
    what: str
    """What the call does, for log lines and error messages."""
    json: Any = None
    content_type: str | None = None
    params: Mapping[str, str | int] | None = None
    idempotent: bool = True

    def build(
        self, client: httpx.Client | httpx.AsyncClient, token: str, timeout: float
    ) -> httpx.Request:
        """The request carrying ``token`` (built, not sent)."""
        headers = {"Authorization": f"Bearer {token}", "Accept": self.accept}
        content: bytes | None = None
        if self.json is not None:
            content = orjson.dumps(self.json)
            headers["Content-Type"] = self.content_type or "application/json"
        # Merge, never replace: Moodle's service URLs carry their own query (type_id).
        target = (
            httpx.URL(self.url).copy_merge_params(dict(self.params)) if self.params else self.url
        )
        return client.build_request(
            self.method, target, content=content, headers=headers, timeout=timeout
        )

    def page(self, url: str) -> ServiceCall:
        """The same GET for a later page (its URL carries the query already)."""
        return replace(self, url=url, params=None)


class PageTrail:
    """Pages already read, so a platform whose ``next`` links go round in circles is stopped."""

    def __init__(self, what: str, max_pages: int = 10_000) -> None:
        self._what = what
        self._max = max_pages
        self._seen: set[str] = set()

    def visit(self, url: str) -> None:
        """Note ``url``; raises ``lti.paging_loop`` when it was read before or too many were."""
        if url in self._seen or len(self._seen) >= self._max:
            raise ServiceError(
                f"{self._what}: the platform's paging does not end (page {url} again or more "
                f"than {self._max} pages); report this to the platform's administrator.",
                code="lti.paging_loop",
            )
        self._seen.add(url)
