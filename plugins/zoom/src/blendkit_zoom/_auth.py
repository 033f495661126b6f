"""Zoom Server-to-Server OAuth: one account token, cached until shortly before it expires.

Zoom issues S2S tokens for about an hour and limits how often they may be requested, so the token
is shared by every request (and thread) of a provider and fetched again only near expiry or after
Zoom refused it with 401.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from blendkit.errors import OutboundError, ProviderError
from blendkit.http import Fence, TokenCache, token_endpoint_error, token_endpoint_unreachable

__all__ = ["ZOOM_TOKEN_URL", "ZoomTokenSource"]

ZOOM_TOKEN_URL = "https://zoom.us/oauth/token"  # noqa: S105  # an endpoint, not a secret


class ZoomTokenSource(TokenCache):
    """Fetches and caches the account's access token (thread-safe).

    ``refresh_margin`` seconds before the announced expiry the token counts as expired, so a token
    never runs out between being handed out and reaching Zoom.
    """

    def __init__(
        self,
        *,
        account_id: str,
        client_id: str,
        client_secret: str,
        client: httpx.Client,
        token_url: str = ZOOM_TOKEN_URL,
        refresh_margin: float = 120.0,
        clock: Callable[[], float] = time.monotonic,
        timeout: float = 10.0,
        fence: Fence | None = None,
    ) -> None:
        self._fence = fence or Fence()
        self._account_id = account_id
        self._auth = httpx.BasicAuth(client_id, client_secret)
        self._client = client
        self._token_url = token_url
        self._timeout = timeout
        super().__init__(self._fetch, refresh_margin=refresh_margin, clock=clock)
        self.api_url: str | None = None
        """The account's API origin from the last token answer (``api_url``), when Zoom's."""
        self.fetch_count = 0
        """How many tokens were requested from Zoom (for monitoring and tests)."""

    def _fetch(self) -> tuple[str, float]:
        self.fetch_count += 1
        request = self._client.build_request(
            "POST",
            self._token_url,
            data={"grant_type": "account_credentials", "account_id": self._account_id},
            headers={"accept": "application/json"},
            timeout=self._timeout,
        )
        try:
            response = self._fence.send(self._client, request, auth=self._auth)
        except OutboundError as exc:
            raise ProviderError(exc.message, code=exc.code) from exc
        except httpx.HTTPError as exc:
            raise token_endpoint_unreachable("Zoom", self._token_url) from exc
        if response.status_code >= 400:
            raise token_endpoint_error(
                response,
                provider="Zoom",
                hint="check [zoom] account_id, client_id and client_secret, and that the app "
                "is activated",
            )
        try:
            body = response.json()
            token = str(body["access_token"])
            self.api_url = _zoom_origin(body.get("api_url"))
            lifetime = float(body.get("expires_in", 3600))
        except (ValueError, KeyError, TypeError) as exc:
            raise ProviderError(
                "Zoom's token endpoint answered without an access_token; try again later",
                code="sessions.provider_unexpected",
            ) from exc
        return token, lifetime


def _zoom_origin(value: object) -> str | None:
    """``api_url`` when it is an https origin on zoom.us (accounts in other data centres)."""
    if not isinstance(value, str):
        return None
    try:
        url = httpx.URL(value)
    except httpx.InvalidURL:
        return None
    host = url.host
    if url.scheme != "https" or not (host == "zoom.us" or host.endswith(".zoom.us")):
        return None
    return f"https://{host}"
