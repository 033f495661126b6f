"""Platform key sets: fetched over real HTTP, cached, refetched once, failing clearly."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from blendkit.errors import LaunchRejected
from blendkit.lti import HttpxJWKSFetcher, JWKSCache, parse_jwks
from tests.fence import loopback_fence, public_fence
from tests.lti.launch_kit import PLATFORM_KEY, ROTATED_KEY, Clock, jwks_document


class _JWKSServer:
    """A JWKS endpoint on 127.0.0.1 whose document and status the test controls."""

    def __init__(self) -> None:
        self.body: bytes = json.dumps(jwks_document((PLATFORM_KEY, "p1"))).encode()
        self.status = 200
        self.requests = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

            def do_GET(self) -> None:
                outer.requests += 1
                self.send_response(outer.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(outer.body)))
                self.end_headers()
                self.wfile.write(outer.body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/jwks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def jwks_server() -> Iterator[_JWKSServer]:
    server = _JWKSServer()
    yield server
    server.stop()


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=2.0) as c:
        yield c


def test_fetches_once_and_serves_parsed_keys_from_cache(
    jwks_server: _JWKSServer, client: httpx.Client
) -> None:
    cache = JWKSCache(
        HttpxJWKSFetcher(client, timeout=2.0, fence=loopback_fence()), ttl_seconds=3600
    )
    key = cache.get(jwks_server.url, "p1")
    assert key.public_numbers() == PLATFORM_KEY.public_key().public_numbers()
    for _ in range(5):
        assert cache.get(jwks_server.url, "p1") is key
    assert jwks_server.requests == 1


def test_rotated_platform_key_is_found_by_one_refetch(
    jwks_server: _JWKSServer, client: httpx.Client
) -> None:
    clock = Clock()
    cache = JWKSCache(
        HttpxJWKSFetcher(client, fence=loopback_fence()), ttl_seconds=3600, clock=clock
    )
    cache.get(jwks_server.url, "p1")
    jwks_server.body = json.dumps(jwks_document((PLATFORM_KEY, "p1"), (ROTATED_KEY, "p2"))).encode()
    clock.now += 120
    assert (
        cache.get(jwks_server.url, "p2").public_numbers()
        == ROTATED_KEY.public_key().public_numbers()
    )
    assert jwks_server.requests == 2


def test_unknown_kids_cannot_make_the_tool_hammer_the_platform(
    jwks_server: _JWKSServer, client: httpx.Client
) -> None:
    clock = Clock()
    cache = JWKSCache(
        HttpxJWKSFetcher(client, fence=loopback_fence()),
        ttl_seconds=3600,
        refetch_interval_seconds=30,
        clock=clock,
    )
    cache.get(jwks_server.url, "p1")
    clock.now += 60
    for n in range(20):
        with pytest.raises(LaunchRejected) as info:
            cache.get(jwks_server.url, f"forged-{n}")
        assert info.value.code == "lti.unknown_kid"
    assert jwks_server.requests == 2  # the first fetch and one refetch
    clock.now += 31
    with pytest.raises(LaunchRejected):
        cache.get(jwks_server.url, "forged-again")
    assert jwks_server.requests == 3


def test_expired_cache_is_refreshed(jwks_server: _JWKSServer, client: httpx.Client) -> None:
    clock = Clock()
    cache = JWKSCache(HttpxJWKSFetcher(client, fence=loopback_fence()), ttl_seconds=10, clock=clock)
    cache.get(jwks_server.url, "p1")
    clock.now += 11
    cache.get(jwks_server.url, "p1")
    assert jwks_server.requests == 2


def test_stopped_server_gives_jwks_unavailable(client: httpx.Client) -> None:
    server = _JWKSServer()
    url = server.url
    server.stop()
    cache = JWKSCache(HttpxJWKSFetcher(client, timeout=1.0, fence=loopback_fence()))
    with pytest.raises(LaunchRejected) as info:
        cache.get(url, "p1")
    assert info.value.code == "lti.jwks_unavailable"
    assert url in info.value.message


def test_stale_keys_are_kept_while_the_platform_is_down(
    jwks_server: _JWKSServer, client: httpx.Client
) -> None:
    clock = Clock()
    cache = JWKSCache(HttpxJWKSFetcher(client, fence=loopback_fence()), ttl_seconds=10, clock=clock)
    key = cache.get(jwks_server.url, "p1")
    jwks_server.status = 503
    clock.now += 11
    assert cache.get(jwks_server.url, "p1") is key
    with pytest.raises(LaunchRejected) as info:
        cache.get(jwks_server.url, "p9")
    assert info.value.code == "lti.jwks_unavailable"


@pytest.mark.parametrize(
    ("status", "body", "fragment"),
    [
        (500, b"{}", "HTTP 500"),
        (404, b"not found", "HTTP 404"),
        (200, b"<html>login</html>", "JSON"),
        (200, b"[1, 2]", "JSON object"),
        (200, b'{"keys": "nope"}', "unusable"),
        (200, b'{"keys": []}', "unusable"),
        (200, b'{"keys": [{"kty": "EC", "kid": "e", "crv": "P-256"}]}', "unusable"),
    ],
)
def test_junk_answers_give_jwks_unavailable(status: int, body: bytes, fragment: str) -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(status, content=body))
    with httpx.Client(transport=transport) as mocked:
        cache = JWKSCache(HttpxJWKSFetcher(mocked, fence=public_fence()))
        with pytest.raises(LaunchRejected) as info:
            cache.get("https://platform.example/jwks", "p1")
    assert info.value.code == "lti.jwks_unavailable"
    assert fragment in info.value.message


def test_timeout_gives_jwks_unavailable() -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    with httpx.Client(transport=httpx.MockTransport(slow)) as mocked:
        cache = JWKSCache(HttpxJWKSFetcher(mocked, timeout=0.5, fence=public_fence()))
        with pytest.raises(LaunchRejected) as info:
            cache.get("https://platform.example/jwks", "p1")
    assert info.value.code == "lti.jwks_unavailable"
    assert "did not answer in time" in info.value.message


def test_refusing_socket_gives_jwks_unavailable(client: httpx.Client) -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
    port = sock.getsockname()[1]
    try:
        with pytest.raises(LaunchRejected) as info:
            HttpxJWKSFetcher(client, timeout=1.0, fence=loopback_fence()).fetch(
                f"http://127.0.0.1:{port}/jwks"
            )
    finally:
        sock.close()
    assert info.value.code == "lti.jwks_unavailable"


def test_parse_skips_keys_not_for_rs256_signatures() -> None:
    small = {"kty": "RSA", "kid": "small", "n": "AQAB", "e": "AQAB"}
    enc = dict(jwks_document((ROTATED_KEY, "enc"))["keys"][0], use="enc")
    ps = dict(jwks_document((ROTATED_KEY, "ps"))["keys"][0], alg="PS256")
    no_kid = {k: v for k, v in jwks_document((ROTATED_KEY, "x"))["keys"][0].items() if k != "kid"}
    good = jwks_document((PLATFORM_KEY, "p1"))["keys"][0]
    keys = parse_jwks({"keys": [small, enc, ps, no_kid, "junk", good]})
    assert list(keys) == ["p1"]


def test_store_backed_tool_fetches_platform_keys_over_http(
    jwks_server: _JWKSServer, client: httpx.Client, sqlite_store: Any
) -> None:
    """The whole path with real parts: SQLite store, httpx, a JWKS endpoint on 127.0.0.1."""
    from blendkit.config import Settings
    from blendkit.lti import HttpRequest, Tool
    from tests.lti.launch_kit import CLIENT_ID, ISSUER, TARGET, canvas_claims, canvas_platform, sign

    tool = Tool.from_store(
        sqlite_store,
        Settings(
            tool={"base_url": "https://tool.example.org"}, http={"allowed_hosts": ["127.0.0.1"]}
        ),
        http_client=client,
    )
    tool.registry.add(canvas_platform(jwks_url=jwks_server.url))
    login = tool.login(
        HttpRequest(
            method="GET",
            query={
                "iss": ISSUER,
                "login_hint": "h",
                "target_link_uri": TARGET,
                "client_id": CLIENT_ID,
            },
        )
    )
    query = dict(
        pair.split("=", 1) for pair in (login.header("Location") or "").split("?", 1)[1].split("&")
    )
    cookie = login.cookies[0]
    request = HttpRequest(
        method="POST",
        form={
            "id_token": sign(canvas_claims(query["nonce"], time.time())),
            "state": query["state"],
        },
        cookies={cookie.name: cookie.value},
    )
    assert tool.launch(request).is_instructor
    assert jwks_server.requests == 1
