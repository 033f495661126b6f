"""The outbound fence: every spelling of a forbidden address, DNS answers, redirects, peers, caps.

Hypothesis draws addresses from the forbidden IPv4 and IPv6 ranges and writes each the ways an
attacker would (decimal, octal, hex, short forms, IPv4-mapped, NAT64, IPv4-compatible, trailing
dots); the policy must refuse every one before any network call. The sending half runs over
``httpx.MockTransport`` with an injected resolver and clock, so nothing here touches the network.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import AsyncIterator, Generator, Iterator
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from blendkit.config import load_settings
from blendkit.errors import ConfigError, OutboundRefused, ResponseTooLarge
from blendkit.http import (
    Fence,
    FetchDeadlineExceeded,
    OutboundPolicy,
    RetryingSender,
    RetryPolicy,
    is_public_address,
)
from tests.fence import PUBLIC_ADDRESS, public_fence, public_resolver

FORBIDDEN_V4 = [
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "169.254.0.0/16",
    "172.16.0.0/12",
    "192.0.0.0/24",
    "192.0.2.0/24",
    "192.168.0.0/16",
    "198.18.0.0/15",
    "198.51.100.0/24",
    "203.0.113.0/24",
    "224.0.0.0/4",
    "240.0.0.0/4",
]
FORBIDDEN_V6 = [
    "::/128",
    "::1/128",
    "fc00::/7",
    "fe80::/10",
    "fec0::/10",
    "ff00::/8",
    "2001:db8::/32",
    "100::/64",
]
PUBLIC_V4 = ["8.0.0.0/8", "93.184.0.0/16", "151.101.0.0/16"]
PUBLIC_V6 = ["2606:4700::/32", "2a00:1450::/32"]


def _in(networks: list[str]) -> st.SearchStrategy[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    def pick(net: str) -> st.SearchStrategy[ipaddress.IPv4Address | ipaddress.IPv6Address]:
        network = ipaddress.ip_network(net)
        return st.integers(0, network.num_addresses - 1).map(
            lambda offset: network.network_address + offset
        )

    return st.sampled_from(networks).flatmap(pick)


def _v4_spellings(address: ipaddress.IPv4Address) -> list[str]:
    """The host parts an attacker would put in a URL for ``address``."""
    n = int(address)
    a, b, c, d = address.packed
    return [
        str(address),
        str(address) + ".",
        str(n),
        hex(n),
        f"0{n:o}",
        ".".join(f"0x{x:x}" for x in (a, b, c, d)),
        ".".join(f"0{x:o}" for x in (a, b, c, d)),
        f"{a}.{n & 0xFFFFFF}",
        f"{a}.{b}.{n & 0xFFFF}",
        f"0x{a:x}.{n & 0xFFFFFF}",
        f"[::ffff:{address}]",
        f"[::ffff:{(n >> 16):x}:{(n & 0xFFFF):x}]",
        f"[64:ff9b::{address}]",
        f"[::{address}]",
    ]


@given(_in(FORBIDDEN_V4))
def test_forbidden_ipv4_addresses_are_refused_in_every_spelling(
    address: ipaddress.IPv4Address,
) -> None:
    policy = OutboundPolicy()
    assert not is_public_address(address)
    for host in _v4_spellings(address):
        for scheme in ("https", "http"):
            with pytest.raises(OutboundRefused):
                policy.check_url(f"{scheme}://{host}:8443/.well-known/jwks.json")


@given(_in(FORBIDDEN_V6))
def test_forbidden_ipv6_addresses_are_refused(address: ipaddress.IPv6Address) -> None:
    assert not is_public_address(address)
    with pytest.raises(OutboundRefused):
        OutboundPolicy().check_url(f"https://[{address}]/x")


@given(_in(PUBLIC_V4))
def test_public_ipv4_addresses_pass_in_standard_spelling_only(
    address: ipaddress.IPv4Address,
) -> None:
    policy = OutboundPolicy()
    assert is_public_address(address)
    assert policy.check_url(f"https://{address}/x").literal == address
    assert is_public_address(ipaddress.ip_address(f"::ffff:{address}"))
    assert is_public_address(ipaddress.ip_address(f"64:ff9b::{address}"))
    with pytest.raises(OutboundRefused):  # plain http is for allowed hosts only
        policy.check_url(f"http://{address}/x")
    with pytest.raises(OutboundRefused):  # a legal but odd spelling is not worth the risk
        policy.check_url(f"https://{int(address)}/x")


@given(_in(PUBLIC_V6))
def test_public_ipv6_addresses_pass(address: ipaddress.IPv6Address) -> None:
    assert is_public_address(address)
    OutboundPolicy().check_url(f"https://[{address}]/x")


@pytest.mark.parametrize(
    "address", ["169.254.169.254", "fd00:ec2::254", "100.100.100.200", "169.254.170.2"]
)
def test_metadata_addresses_stay_refused_under_a_covering_allowed_network(address: str) -> None:
    wide = OutboundPolicy.allowing(["169.254.0.0/16", "fd00::/8", "100.64.0.0/10"])
    host = f"[{address}]" if ":" in address else address
    with pytest.raises(OutboundRefused):
        wide.check_url(f"http://{host}/latest/meta-data/")
    exact = OutboundPolicy.allowing([address])
    exact.check_url(f"http://{host}/latest/meta-data/")  # named on its own: the operator's call


@pytest.mark.parametrize(
    "url",
    [
        "ftp://lms.example.edu/x",
        "file:///etc/passwd",
        "gopher://lms.example.edu/",
        "https://user:pass@lms.example.edu/x",
        "https://lms.example.edu@127.0.0.1/x",
        "https:///x",
        "https://exa mple.edu/",
        "https://☃.example/",
    ],
)
def test_urls_that_are_not_plain_https_to_a_host_are_refused(url: str) -> None:
    with pytest.raises(OutboundRefused):
        OutboundPolicy().check_url(url)


def test_allowed_hosts_open_http_and_private_addresses_for_exactly_those_hosts() -> None:
    policy = OutboundPolicy.allowing(["127.0.0.1", "platform.test", "10.20.0.0/16"])
    for url in (
        "http://127.0.0.1:9001/jwks",
        "http://platform.test:8000/jwks",
        "http://PLATFORM.TEST.:8000/jwks",
        "http://10.20.3.4/xAPI/",
    ):
        assert policy.check_url(url).allowed, url
    for url in ("http://127.0.0.2/", "http://localhost/", "http://10.21.0.1/", "http://[::1]/"):
        with pytest.raises(OutboundRefused):
            policy.check_url(url)


def test_development_relaxes_https_only_but_opens_no_private_address() -> None:
    development = load_settings(tool={"environment": "development"})
    fence = Fence.from_settings(development, resolver=public_resolver)
    assert not fence.policy.https_only
    fence.check("http://lms.example.edu/x")
    with pytest.raises(OutboundRefused):
        fence.check("http://127.0.0.1:5000/lti/jwks")
    production = Fence.from_settings(load_settings(), resolver=public_resolver)
    assert production.policy.https_only
    assert production.policy.allowed_hosts == frozenset()


@pytest.mark.parametrize("entry", ["0x7f.1", "http://127.0.0.1", "10.0.0.0/33", "a b"])
def test_unusable_allowed_host_entries_stop_start_up(entry: str) -> None:
    with pytest.raises(ConfigError, match="allowed_hosts"):
        load_settings(http={"allowed_hosts": [entry]})


# --- resolution -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "answer", [["127.0.0.1"], [PUBLIC_ADDRESS, "10.0.0.5"], ["::1"], ["169.254.169.254"]]
)
def test_a_name_with_any_forbidden_address_is_refused(answer: list[str]) -> None:
    fence = Fence(resolver=lambda host, port: answer)
    with pytest.raises(OutboundRefused):
        fence.check("https://platform.example.edu/jwks")


def test_a_name_that_does_not_resolve_fails_like_an_unreachable_server() -> None:
    def nowhere(host: str, port: int) -> list[str]:
        raise OSError("no such name")

    with pytest.raises(httpx.ConnectError):
        Fence(resolver=nowhere).check("https://platform.example.edu/jwks")


# --- sending ----------------------------------------------------------------------------------


def _client(handler: Any) -> httpx.Client:
    return httpx.Client(transport=httpx.MockTransport(handler))


def test_redirects_are_followed_by_the_fence_and_each_hop_is_checked() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        if request.url.host == "lms.example.edu":
            return httpx.Response(302, headers={"Location": "https://keys.example.edu/jwks"})
        if request.url.host == "keys.example.edu":
            return httpx.Response(302, headers={"Location": "http://169.254.169.254/latest/"})
        return httpx.Response(200, text="metadata")

    client = _client(handler)
    request = client.build_request("GET", "https://lms.example.edu/jwks")
    with pytest.raises(OutboundRefused):
        public_fence().send(client, request, follow_redirects=True)
    assert seen == ["https://lms.example.edu/jwks", "https://keys.example.edu/jwks"]
    # Without follow_redirects the 302 comes back as it is (nothing is followed by httpx).
    response = public_fence().send(client, client.build_request("GET", "https://lms.example.edu/"))
    assert response.status_code == 302


def test_too_many_redirects_are_refused() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"Location": f"{request.url}x"})

    client = _client(handler)
    with pytest.raises(OutboundRefused, match="redirected more than 2"):
        public_fence(max_redirects=2).send(
            client, client.build_request("GET", "https://lms.example.edu/"), follow_redirects=True
        )


class _Peer:
    def __init__(self, address: str) -> None:
        self.address = address

    def get_extra_info(self, name: str) -> Any:
        return (self.address, 443) if name == "server_addr" else None


def test_a_connection_that_landed_on_a_private_peer_is_refused() -> None:
    """DNS rebinding: the check saw a public address, the connection reached loopback."""

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text="secret", extensions={"network_stream": _Peer("127.0.0.1")})

    client = _client(handler)
    with pytest.raises(OutboundRefused):
        public_fence().send(client, client.build_request("GET", "https://lms.example.edu/"))

    def public_peer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, text="ok", extensions={"network_stream": _Peer(PUBLIC_ADDRESS)})

    client = _client(public_peer)
    response = public_fence().send(client, client.build_request("GET", "https://lms.example.edu/"))
    assert response.text == "ok"


_PRIVATE_PEERS = [
    "10.0.0.5",
    "172.16.4.4",
    "192.168.1.1",
    "100.64.0.1",  # carrier-grade NAT
    "169.254.169.254",  # cloud metadata
    "0.0.0.0",
    "::1",
    "::ffff:127.0.0.1",  # IPv4-mapped loopback
    "::ffff:169.254.169.254",
    "fd00::1",  # unique local
    "fe80::1%eth0",  # link-local, with its zone
    "not-an-address",  # a peer the transport could not name
]


def _landing_on(address: str | None) -> Any:
    def handler(request: httpx.Request) -> httpx.Response:
        stream = _Peer(address) if address is not None else _NoPeer()
        return httpx.Response(200, text="secret", extensions={"network_stream": stream})

    return handler


class _NoPeer:
    def get_extra_info(self, name: str) -> Any:
        return None


@pytest.mark.parametrize("peer", [*_PRIVATE_PEERS, None])
def test_a_connection_landing_on_any_non_public_or_unknown_peer_is_refused(
    peer: str | None,
) -> None:
    """The peer check is the last word after DNS: every private, reserved or unnamed peer is
    refused, on the blocking and the async path alike, and the body is never returned."""
    client = _client(_landing_on(peer))
    with pytest.raises(OutboundRefused):
        public_fence().send(client, client.build_request("GET", "https://lms.example.edu/"))

    async def fetch() -> None:
        transport = httpx.MockTransport(_landing_on(peer))
        async with httpx.AsyncClient(transport=transport) as async_client:
            request = async_client.build_request("GET", "https://lms.example.edu/")
            await public_fence().send_async(async_client, request)

    with pytest.raises(OutboundRefused):
        asyncio.run(fetch())


def test_reading_stops_at_the_byte_cap() -> None:
    produced: list[int] = []

    def endless() -> Iterator[bytes]:
        while True:
            produced.append(1)
            yield b"x" * 1024

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=endless())

    client = _client(handler)
    with pytest.raises(ResponseTooLarge, match="larger than 10240 bytes") as too_large:
        public_fence(max_response_bytes=10 * 1024).send(
            client, client.build_request("GET", "https://lrs.example.edu/")
        )
    assert len(produced) <= 11  # stopped at the cap, not at the end (there is none)
    assert "x" * 20 not in too_large.value.message


def test_a_declared_length_over_the_cap_is_refused_before_reading() -> None:
    produced: list[int] = []

    def body() -> Iterator[bytes]:
        produced.append(1)
        yield b"{}"

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"Content-Length": "99999999"}, content=body())

    client = _client(handler)
    with pytest.raises(ResponseTooLarge):
        public_fence().send(
            client, client.build_request("GET", "https://lms.example.edu/"), max_bytes=1000
        )
    assert produced == []


def test_a_trickle_is_cut_at_the_total_deadline() -> None:
    now = [0.0]

    def trickle() -> Iterator[bytes]:
        while True:
            now[0] += 2.0  # one byte every two seconds, each read well inside any read timeout
            yield b" "

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=trickle())

    fence = Fence(
        OutboundPolicy(deadline_seconds=30), resolver=public_resolver, clock=lambda: now[0]
    )
    client = _client(handler)
    with pytest.raises(FetchDeadlineExceeded):
        fence.send(client, client.build_request("GET", "https://lms.example.edu/jwks"))
    assert 30.0 < now[0] <= 34.0


def test_every_timeout_of_a_hop_is_bounded_by_what_is_left_of_the_deadline() -> None:
    seen: list[dict[str, float]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions["timeout"])
        return httpx.Response(204)

    client = httpx.Client(transport=httpx.MockTransport(handler), timeout=120.0)
    public_fence(deadline_seconds=5).send(
        client, client.build_request("GET", "https://lms.example.edu/")
    )
    assert all(0 < value <= 5 for value in seen[0].values())


class _TokenAuth(httpx.Auth):
    """An auth flow that fetches a token from ``token_url`` first (like OAuth 2 credentials)."""

    requires_response_body = True

    def __init__(self, token_url: str) -> None:
        self.token_url = token_url

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        answer = yield httpx.Request("POST", self.token_url)
        request.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"
        yield request


def test_requests_made_by_an_auth_flow_are_fenced_too() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(200, json={"access_token": "t"})

    client = _client(handler)
    request = client.build_request("GET", "https://lrs.example.edu/xAPI/statements")
    with pytest.raises(OutboundRefused):
        public_fence().send(client, request, auth=_TokenAuth("http://10.0.0.8/token"))
    assert seen == []
    response = public_fence().send(client, request, auth=_TokenAuth("https://auth.example.edu/t"))
    assert response.status_code == 200
    assert seen == ["https://auth.example.edu/t", "https://lrs.example.edu/xAPI/statements"]


def test_the_retrying_sender_cannot_skip_the_fence() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    client = _client(handler)
    sender = RetryingSender(client, retry=RetryPolicy())  # no fence given: production rules
    with pytest.raises(OutboundRefused):
        sender.send(
            lambda: client.build_request("GET", "http://127.0.0.1:8080/admin"),
            errors=lambda failure: RuntimeError("unreachable"),
        )
    assert seen == []


# --- async ------------------------------------------------------------------------------------


def test_the_async_fence_refuses_and_cuts_a_stalled_answer() -> None:
    async def stalled() -> AsyncIterator[bytes]:
        yield b"{"
        await asyncio.sleep(3600)
        yield b"}"

    async def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=stalled())

    async def go() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as client:
            with pytest.raises(OutboundRefused):
                await public_fence().send_async(
                    client, client.build_request("GET", "https://[::ffff:10.0.0.1]/")
                )
            with pytest.raises(FetchDeadlineExceeded):
                await public_fence(deadline_seconds=0.2).send_async(
                    client, client.build_request("GET", "https://lrs.example.edu/")
                )

    asyncio.run(go())
