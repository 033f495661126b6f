"""Contract-test plumbing for the meeting plugins: openapi-core adapters and a recording handler."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx


class SpecRequest:
    """An ``httpx.Request`` seen through openapi-core's Request protocol."""

    def __init__(self, request: httpx.Request) -> None:
        from openapi_core.datatypes import RequestParameters
        from werkzeug.datastructures import Headers, ImmutableMultiDict

        url = request.url
        self.host_url = f"{url.scheme}://{url.netloc.decode('ascii')}"
        self.path = url.raw_path.decode("ascii").split("?", 1)[0]
        self.method = request.method.lower()
        self.body: bytes | None = request.content or None
        self.content_type = request.headers.get("content-type", "")
        self.full_url_pattern = self.host_url + self.path
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(list(url.params.multi_items())),
            header=Headers(list(request.headers.items())),
            cookie=ImmutableMultiDict(),
        )


class SpecResponse:
    """An ``httpx.Response`` seen through openapi-core's Response protocol."""

    def __init__(self, response: httpx.Response) -> None:
        from werkzeug.datastructures import Headers

        self.data = response.content
        self.status_code = response.status_code
        self.content_type = response.headers.get("content-type", "")
        self.headers = Headers(list(response.headers.items()))


@dataclass
class Exchange:
    """One request a plugin sent and the vendor answer it got."""

    request: httpx.Request
    response: httpx.Response


@dataclass
class Recorder:
    """A MockTransport handler wrapper that keeps every exchange for later checks."""

    handler: Callable[[httpx.Request], httpx.Response]
    exchanges: list[Exchange] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        response = self.handler(request)
        self.exchanges.append(Exchange(request, response))
        return response

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self), timeout=5.0)

    def api_exchanges(self, host: str) -> list[Exchange]:
        return [e for e in self.exchanges if e.request.url.host == host]


def validate_exchanges(spec: Any, exchanges: list[Exchange]) -> int:
    """Validate each request (and each 2xx answer) against ``spec``; return how many."""
    for exchange in exchanges:
        wrapped = SpecRequest(exchange.request)
        try:
            spec.validate_request(wrapped)
        except Exception as exc:
            body = exchange.request.content.decode("utf-8", "replace")[:400]
            raise AssertionError(
                f"{exchange.request.method} {exchange.request.url} violates the vendor spec: "
                f"{exc!r} {getattr(exc, '__cause__', '')!r}; body={body}"
            ) from exc
        if 200 <= exchange.response.status_code < 300:
            spec.validate_response(wrapped, SpecResponse(exchange.response))
    return len(exchanges)


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> httpx.Response:
    """A JSON answer the way the vendors send them."""
    return httpx.Response(
        status,
        content=json.dumps(body).encode("utf-8"),
        headers={"content-type": "application/json; charset=utf-8", **(headers or {})},
    )
