"""Finding 3: one platform's slow key set must not stall another platform's launch.

Platform A's JWKS answers 200 and then one byte at a time, for as long as the test holds it open.
While a launch of A waits on that fetch, a cold launch of platform B (whose key set is not cached
yet) must complete; and A's fetch must end at the fence's total deadline even though every single
read succeeds (httpx's timeouts restart on each byte). No timing assertion: the proof is B
finishing, or A failing, while A's server is still trickling.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import httpx
import pytest

from blendkit.errors import LaunchRejected
from blendkit.lti import HttpxJWKSFetcher, JWKSCache
from tests.fence import loopback_fence
from tests.lti.launch_kit import PLATFORM_KEY, jwks_document
from tests.security.servers import RecordingServer, TrickleServer


def _jwks_answer() -> bytes:
    body = json.dumps(jwks_document((PLATFORM_KEY, "b1"))).encode()
    head = (
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + body


@pytest.fixture
def slow_platform() -> Iterator[TrickleServer]:
    server = TrickleServer(interval=0.2)
    yield server
    server.release()


@pytest.fixture
def platform_b() -> Iterator[RecordingServer]:
    server = RecordingServer(_jwks_answer())
    yield server
    server.stop()


def test_a_trickling_key_set_does_not_hold_another_platforms_cold_launch(
    slow_platform: TrickleServer, platform_b: RecordingServer
) -> None:
    # A long deadline: A stays stuck for the whole test unless the test releases it.
    cache = JWKSCache(HttpxJWKSFetcher(fence=loopback_fence(deadline_seconds=120)))
    outcome_a: list[object] = []

    def launch_a() -> None:
        try:
            outcome_a.append(cache.get(slow_platform.url + "/jwks", "a1"))
        except LaunchRejected as exc:
            outcome_a.append(exc)

    stuck = threading.Thread(target=launch_a, daemon=True)
    stuck.start()
    assert slow_platform.got_request.wait(10)

    b_done = threading.Event()
    keys_b: list[object] = []

    def launch_b() -> None:
        keys_b.append(cache.get(platform_b.url + "/jwks", "b1"))
        b_done.set()

    threading.Thread(target=launch_b, daemon=True).start()
    finished = b_done.wait(30)
    a_still_open = not outcome_a and stuck.is_alive()
    slow_platform.release()
    stuck.join(10)

    assert finished, "platform B's launch waited for platform A's key set"
    assert a_still_open, "platform A's fetch ended before B's launch finished: nothing was shown"
    assert keys_b
    assert keys_b[0] is not None


def test_a_trickling_key_set_is_cut_at_the_total_deadline(slow_platform: TrickleServer) -> None:
    fetcher = HttpxJWKSFetcher(
        httpx.Client(timeout=httpx.Timeout(30.0)), fence=loopback_fence(deadline_seconds=1.5)
    )
    with pytest.raises(LaunchRejected) as refused:
        fetcher.fetch(slow_platform.url + "/jwks")
    # The server was still sending when the fetch gave up: the deadline, not the server, ended it.
    assert not slow_platform.released.is_set()
    assert refused.value.code == "lti.jwks_unavailable"
    assert "did not answer in time" in refused.value.message


def test_a_key_set_trickling_its_headers_is_cut_at_the_total_deadline() -> None:
    slow = TrickleServer(interval=0.2, in_headers=True)
    try:
        fetcher = HttpxJWKSFetcher(
            httpx.Client(timeout=httpx.Timeout(30.0)), fence=loopback_fence(deadline_seconds=1.5)
        )
        with pytest.raises(LaunchRejected) as refused:
            fetcher.fetch(slow.url + "/jwks")
        still_sending = not slow.released.is_set()
    finally:
        slow.release()
    assert still_sending
    assert refused.value.code == "lti.jwks_unavailable"


def test_several_launches_of_one_cold_platform_fetch_its_key_set_once(
    platform_b: RecordingServer,
) -> None:
    cache = JWKSCache(HttpxJWKSFetcher(fence=loopback_fence()))
    threads = [
        threading.Thread(target=cache.get, args=(platform_b.url + "/jwks", "b1")) for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(platform_b.requests) == 1
