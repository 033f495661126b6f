"""Microsoft identity platform client credentials: one app-only Graph token, cached.

Tokens last about an hour; the token is shared by every request and thread of a provider and
fetched again only near expiry or after Graph answered 401 to it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import quote

import httpx

from blendkit.errors import OutboundError, ProviderAuthError, ProviderError, ProviderRateLimited
from blendkit.http import Fence, TokenCache, parse_retry_after

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
            raise ProviderError(
                "cannot reach the Microsoft identity platform (no answer in time); check the "
                "network and proxy settings of this server",
                code="sessions.provider_unreachable",
            ) from exc
        if response.status_code in (400, 401, 403):
            raise ProviderAuthError(
                f"Microsoft Entra refused the app credentials (HTTP {response.status_code}, "
                f"{_aadsts(response)}); check [teams] tenant_id, client_id and client_secret "
                "(secrets expire) and that admin consent was granted"
            )
        if response.status_code == 429:
            raise ProviderRateLimited(
                "the Microsoft identity platform is throttling token requests; retry later",
                retry_after=parse_retry_after(response.headers.get("retry-after")),
            )
        if response.status_code >= 400:
            raise ProviderError(
                f"the Microsoft identity platform answered HTTP {response.status_code}; "
                "retry later",
                code="sessions.provider_unavailable",
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


def _aadsts(response: httpx.Response) -> str:
    """The error name and AADSTS code, which say what is wrong without echoing any secret."""
    try:
        body = response.json()
    except ValueError:
        return "no explanation given"
    if not isinstance(body, dict):
        return "no explanation given"
    error = str(body.get("error") or "error")[:60]
    codes = body.get("error_codes")
    if isinstance(codes, list) and codes:
        return f"{error}, AADSTS{codes[0]}"
    description = str(body.get("error_description") or "")
    code = description.split(":", 1)[0] if description.startswith("AADSTS") else ""
    return f"{error}, {code}" if code else error
