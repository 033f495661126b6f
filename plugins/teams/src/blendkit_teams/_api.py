"""The Microsoft Graph REST layer: blendkit's :class:`~blendkit.http.JsonApi` with Graph's rules.

Graph throttles with 429 (and 503/504 under load), usually with ``Retry-After`` in seconds; when
it is absent the wait grows from ``GRAPH_RETRY.backoff_seconds`` (see
:class:`blendkit.http.RetryPolicy`). 503/504 are retried only for
reads, updates and deletes: a create that timed out may have happened. Lists are paged with an
absolute ``@odata.nextLink``, followed only on Graph's own host so the token never leaks.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, ClassVar

import httpx

from blendkit.http import Fence, JsonApi, LinkPaging, RetryPolicy
from blendkit.http import json_object as _json_object
from blendkit_teams._auth import GraphTokenSource

__all__ = ["GRAPH_API_BASE", "GRAPH_RETRY", "GraphApi"]

GRAPH_API_BASE = "https://graph.microsoft.com/v1.0"

Sleep = Callable[[float], None]


GRAPH_RETRY = RetryPolicy(backoff_seconds=2.0)
"""Graph's default: longer first waits than other APIs, as Microsoft's throttling guide asks."""


class GraphApi(JsonApi):
    """Authenticated JSON requests to Graph v1.0 through an injected ``httpx.Client``."""

    vendor = "Microsoft Graph"
    auth_advice = (
        "check the application permissions, admin consent and, for onlineMeetings, the "
        "application access policy (docs/providers/teams.md)"
    )
    not_found_advice = "the meeting may have been deleted or belong to another organizer"
    default_retry = GRAPH_RETRY
    retry_statuses_if_idempotent: ClassVar[frozenset[int]] = frozenset({503, 504})
    """Retried for reads, updates and deletes only: a create that timed out may have happened."""
    rate_limit_statuses: ClassVar[frozenset[int]] = frozenset({429, 503, 504})

    def __init__(
        self,
        tokens: GraphTokenSource,
        client: httpx.Client,
        *,
        base_url: str = GRAPH_API_BASE,
        retry: RetryPolicy | None = None,
        sleep: Sleep = time.sleep,
        timeout: float = 10.0,
        fence: Fence | None = None,
    ) -> None:
        super().__init__(
            tokens,
            client,
            base_url=base_url,
            paging=LinkPaging(),
            retry=retry,
            sleep=sleep,
            fence=fence,
            timeout=timeout,
        )


def json_object(response: httpx.Response) -> dict[str, Any]:
    """The JSON object of a Graph answer; ProviderError when it is something else."""
    return _json_object(response, vendor=GraphApi.vendor)
