"""A google.auth transport over an httpx MockTransport (until the plugin's adapter is merged)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import google.auth.transport
import httpx


class _Response(google.auth.transport.Response):
    def __init__(self, response: httpx.Response) -> None:
        self._response = response

    @property
    def status(self) -> int:
        return self._response.status_code

    @property
    def headers(self) -> Mapping[str, str]:
        return self._response.headers

    @property
    def data(self) -> bytes:
        return self._response.content


class _Request(google.auth.transport.Request):
    def __init__(self, client: httpx.Client) -> None:
        self._client = client

    def __call__(
        self,
        url: str,
        method: str = "GET",
        body: Any = None,
        headers: Any = None,
        timeout: Any = None,
        **kwargs: Any,
    ) -> google.auth.transport.Response:
        return _Response(self._client.request(method, url, content=body, headers=headers))


def google_request(
    handler: Callable[[httpx.Request], httpx.Response],
) -> google.auth.transport.Request:
    return _Request(httpx.Client(transport=httpx.MockTransport(handler)))
