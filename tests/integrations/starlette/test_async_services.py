"""AGS/NRPS over ``httpx.AsyncClient`` behave as the synchronous services do: the same scripted
platform answers give the same tries, waits, errors and tokens (faults played by MockTransport)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from blendkit.errors import LaunchRejected, ServiceError
from blendkit.http import RetryPolicy
from blendkit.lti import (
    PLATFORM_RETRY,
    AccessTokens,
    AsyncAdvantage,
    AsyncHttpxJWKSFetcher,
    AsyncServiceSession,
    InMemoryPlatformRegistry,
    KeySet,
    Platform,
    ServiceCall,
    ServiceSession,
)
from blendkit.store import Store
from tests.encryption import ENCRYPTION
from tests.fence import loopback_fence, public_fence
from tests.integrations.starlette.conftest import a_launch

pytestmark = pytest.mark.anyio

SCORE = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
PLATFORM = Platform(
    issuer="https://lms.example.edu",
    client_id="tool-client-1",
    deployment_ids=("1",),
    auth_login_url="https://lms.example.edu/auth",
    auth_token_url="https://lms.example.edu/token",
    jwks_url="https://lms.example.edu/jwks",
)
TOKEN = {"access_token": "tok-1", "token_type": "Bearer", "expires_in": 3600}
# Computed waits are drawn at random under their ceiling ("full jitter"); the parity tests wait
# 0 s for them so both senders' waits can be compared exactly (Retry-After waits stay exact).
NO_JITTER = RetryPolicy(
    max_retries=2, backoff_seconds=0.0, max_backoff_seconds=0.0, max_retry_after_seconds=30.0
)
Answer = httpx.Response | Exception


@pytest.fixture
def keys(sqlite_store: Store) -> KeySet:
    return KeySet(sqlite_store, encryption=ENCRYPTION)


def _handler(answers: list[Answer], seen: list[str]) -> Callable[[httpx.Request], Any]:
    queue = list(answers)
    issued = iter(f"tok-{n}" for n in range(1, 10))

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.method} {request.url.path}")
        if request.url.path == "/token":
            return httpx.Response(200, json={**TOKEN, "access_token": next(issued)})
        answer = queue.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    return handle


def _call(method: str = "GET", *, idempotent: bool = True) -> ServiceCall:
    return ServiceCall(
        method,
        "https://lms.example.edu/lineitems",
        (SCORE,),
        (SCORE,),
        "application/json",
        "test call",
        json={} if method == "POST" else None,
        idempotent=idempotent,
    )


def _sync_outcome(keys: KeySet, answers: list[Answer], call: ServiceCall) -> tuple[Any, ...]:
    seen: list[str] = []
    sleeps: list[float] = []
    client = httpx.Client(transport=httpx.MockTransport(_handler(answers, seen)))
    tokens = AccessTokens(
        keys, http=client, fence=loopback_fence(), sleep=sleeps.append, retry=NO_JITTER
    )
    try:
        result: Any = ServiceSession(PLATFORM, tokens).call(call).status_code
    except ServiceError as exc:
        result = (exc.code, exc.message)
    return result, sleeps, seen


async def _async_outcome(keys: KeySet, answers: list[Answer], call: ServiceCall) -> tuple[Any, ...]:
    seen: list[str] = []
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    async def handle(request: httpx.Request) -> httpx.Response:
        return _handle(request)

    _handle = _handler(answers, seen)
    tokens = AccessTokens(keys, http=httpx.Client(), fence=loopback_fence(), retry=NO_JITTER)
    async with httpx.AsyncClient(transport=httpx.MockTransport(handle)) as client:
        session = AsyncServiceSession(PLATFORM, tokens, client, sleep=sleep)
        try:
            result: Any = (await session.call(call)).status_code
        except ServiceError as exc:
            result = (exc.code, exc.message)
    return result, sleeps, seen


def _r(status: int, **headers: str) -> Callable[[], httpx.Response]:
    return lambda: httpx.Response(status, headers=headers)


SCENARIOS: dict[str, tuple[list[Callable[[], Answer]], ServiceCall]] = {
    "busy then fine": ([_r(502), _r(500), _r(200)], _call()),
    "retry-after honoured": ([_r(429, **{"Retry-After": "7"}), _r(200)], _call()),
    "retry-after too long": ([_r(429, **{"Retry-After": "3600"})], _call()),
    "exhausted": ([_r(503)] * 3, _call()),
    "post not repeated": ([lambda: httpx.ReadTimeout("slow")], _call("POST", idempotent=False)),
    "post 500 not repeated": ([_r(500)], _call("POST", idempotent=False)),
    "401 refreshes once": ([_r(401), _r(200)], _call()),
    "401 twice": ([_r(401), _r(401)], _call()),
    "404": ([_r(404)], _call()),
}


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
async def test_async_session_answers_as_the_sync_one(keys: KeySet, scenario: str) -> None:
    script, call = SCENARIOS[scenario]
    expected = _sync_outcome(keys, [make() for make in script], call)
    assert await _async_outcome(keys, [make() for make in script], call) == expected


async def test_computed_waits_follow_the_platform_policy_ceiling(keys: KeySet) -> None:
    seen: list[str] = []
    sleeps: list[float] = []
    handle = _handler([httpx.Response(502), httpx.Response(500), httpx.Response(200)], seen)

    async def ahandle(request: httpx.Request) -> httpx.Response:
        return handle(request)

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    tokens = AccessTokens(keys, http=httpx.Client(), fence=loopback_fence())
    async with httpx.AsyncClient(transport=httpx.MockTransport(ahandle)) as client:
        session = AsyncServiceSession(PLATFORM, tokens, client, sleep=sleep, jitter=lambda: 1.0)
        assert (await session.call(_call())).status_code == 200
    assert tokens.retry == PLATFORM_RETRY
    assert sleeps == [PLATFORM_RETRY.ceiling(1), PLATFORM_RETRY.ceiling(2)] == [0.5, 1.0]


async def test_token_cache_is_shared_with_the_sync_services(keys: KeySet) -> None:
    seen: list[str] = []
    handle = _handler([httpx.Response(200), httpx.Response(200)], seen)

    async def ahandle(request: httpx.Request) -> httpx.Response:
        return handle(request)

    sync_client = httpx.Client(transport=httpx.MockTransport(handle))
    tokens = AccessTokens(keys, http=sync_client, fence=loopback_fence())
    async with httpx.AsyncClient(transport=httpx.MockTransport(ahandle)) as client:
        await AsyncServiceSession(PLATFORM, tokens, client).call(_call())
    ServiceSession(PLATFORM, tokens).call(_call())
    assert seen == ["POST /token", "GET /lineitems", "GET /lineitems"]


async def test_a_private_service_url_is_refused_before_any_token(keys: KeySet) -> None:
    seen: list[str] = []
    handle = _handler([], seen)

    async def ahandle(request: httpx.Request) -> httpx.Response:
        return handle(request)

    tokens = AccessTokens(keys, http=httpx.Client(), fence=public_fence())
    inside = ServiceCall("GET", "https://10.0.0.5/lineitems", (SCORE,), (SCORE,), "*/*", "x")
    async with httpx.AsyncClient(transport=httpx.MockTransport(ahandle)) as client:
        with pytest.raises(ServiceError) as caught:
            await AsyncServiceSession(PLATFORM, tokens, client).call(inside)
    with pytest.raises(ServiceError) as sync_caught:
        ServiceSession(PLATFORM, tokens).call(inside)
    assert caught.value.code == sync_caught.value.code
    assert caught.value.code == "http.outbound_refused"
    assert seen == []


async def test_launch_without_services_is_refused_by_name(keys: KeySet) -> None:
    registry = InMemoryPlatformRegistry()
    from blendkit.lti import Advantage

    advantage = Advantage(registry, keys, http=httpx.Client(), fence=loopback_fence())
    async with httpx.AsyncClient() as client:
        services = AsyncAdvantage(advantage, client)
        with pytest.raises(ServiceError) as no_ags:
            await services.ags(a_launch())
        with pytest.raises(ServiceError) as no_nrps:
            await services.nrps(a_launch())
    assert (no_ags.value.code, no_nrps.value.code) == ("lti.no_ags", "lti.no_nrps")


@pytest.mark.parametrize(
    ("answer", "code"),
    [
        (httpx.Response(500), "lti.jwks_unavailable"),
        (httpx.Response(200, text="<html>"), "lti.jwks_unavailable"),
        (httpx.ConnectError("refused"), "lti.jwks_unavailable"),
    ],
)
async def test_async_jwks_fetch_refuses_like_the_sync_one(answer: Answer, code: str) -> None:
    async def handle(request: httpx.Request) -> httpx.Response:
        if isinstance(answer, Exception):
            raise answer
        return answer

    async with httpx.AsyncClient(transport=httpx.MockTransport(handle)) as client:
        fetcher = AsyncHttpxJWKSFetcher(client, fence=loopback_fence())
        with pytest.raises(LaunchRejected) as caught:
            await fetcher.fetch("https://lms.example.edu/jwks")
    assert caught.value.code == code
    assert caught.value.http_status == 502


async def test_async_jwks_fetch_goes_through_the_fence() -> None:
    async def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"keys": []})

    async with httpx.AsyncClient(transport=httpx.MockTransport(handle)) as client:
        fetcher = AsyncHttpxJWKSFetcher(client, fence=public_fence())
        with pytest.raises(LaunchRejected) as caught:
            await fetcher.fetch("http://lms.example.edu/jwks")  # plain http: refused
        document = await AsyncHttpxJWKSFetcher(client, fence=public_fence()).fetch(
            "https://lms.example.edu/jwks"
        )
    assert caught.value.code == "http.outbound_refused"
    assert document == {"keys": []}


async def test_runtime_fetches_jwks_on_the_loop_from_worker_threads_only() -> None:
    import threading

    import anyio.to_thread

    from blendkit.integrations._starlette_runtime import LoopJWKSFetcher
    from blendkit.lti import HttpxJWKSFetcher

    used: list[str] = []

    async def on_loop(request: httpx.Request) -> httpx.Response:
        used.append("async")
        return httpx.Response(200, json={"keys": []})

    def blocking(request: httpx.Request) -> httpx.Response:
        used.append("sync")
        return httpx.Response(200, json={"keys": []})

    sync_client = httpx.Client(transport=httpx.MockTransport(blocking))
    async with httpx.AsyncClient(transport=httpx.MockTransport(on_loop)) as client:
        fetcher = LoopJWKSFetcher(
            AsyncHttpxJWKSFetcher(client, fence=public_fence()),
            HttpxJWKSFetcher(sync_client, fence=public_fence()),
        )
        url = "https://lms.example.edu/jwks"
        await anyio.to_thread.run_sync(fetcher.fetch, url)  # the launch path
        plain = threading.Thread(target=fetcher.fetch, args=(url,))
        plain.start()
        plain.join()
    assert used == ["async", "sync"]
