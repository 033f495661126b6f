"""Microsoft identity platform client credentials: one app-only Graph token, cached.

Tokens last about an hour; the token is shared by every request and thread of a provider and
fetched again only near expiry or after Graph answered 401 to it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import quote

import httpx

from blendkit.errors import OutboundError, ProviderError
from blendkit.http import Fence, TokenCache, token_endpoint_error, token_endpoint_unreachable

__all__ = ["GRAPH_SCOPE", "GraphTokenSource", "token_url"]

GRAPH_SCOPE = "https://graph.microsoft.com/.default"
LOGIN_HOST = "https://login.microsoftonline.com"


def token_url(tenant_id: str) -> str:
    """The tenant's v2.0 token endpoint."""
    return f"{LOGIN_HOST}/{quote(tenant_id, safe='')}/oauth2/v2.0/token"


class GraphTokenSource(TokenCache):
    """Fetches and caches the app-only access token for Microsoft Graph (thread-safe)."""

    def __init__(
        self,
        *,
        tenant_id: str,
        client_id: str,
        client_secret: str,
        client: httpx.Client,
        refresh_margin: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
        timeout: float = 10.0,
        fence: Fence | None = None,
    ) -> None:
        self._fence = fence or Fence()
        self._url = token_url(tenant_id)
        self._form = {
            "client_id": client_id,
            "client_secret": client_secret,
            "scope": GRAPH_SCOPE,
            "grant_type": "client_credentials",
        }
        self._client = client
        self._timeout = timeout
        super().__init__(self._fetch, refresh_margin=refresh_margin, clock=clock)
        self.fetch_count = 0
        """How many tokens were requested (for monitoring and tests)."""

    def _fetch(self) -> tuple[str, float]:
        self.fetch_count += 1
        request = self._client.build_request(
            "POST",
            self._url,
            data=self._form,
            headers={"accept": "application/json"},
            timeout=self._timeout,
        )
        try:
            response = self._fence.send(self._client, request)
        except OutboundError as exc:
            raise ProviderError(exc.message, code=exc.code) from exc
        except httpx.HTTPError as exc:
            raise token_endpoint_unreachable("the Microsoft identity platform", self._url) from exc
        if response.status_code >= 400:
            raise token_endpoint_error(
                response,
                provider="Microsoft Entra",
                hint="check [teams] tenant_id, client_id and client_secret (secrets expire) and "
                "that admin consent was granted",
            )
        try:
            body = response.json()
            token = str(body["access_token"])
            lifetime = float(body.get("expires_in", 3599))
        except (ValueError, KeyError, TypeError) as exc:
            raise ProviderError(
                "the token endpoint answered without an access_token; retry later",
                code="sessions.provider_unexpected",
            ) from exc
        return token, lifetime
