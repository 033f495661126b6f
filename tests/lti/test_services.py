"""Service access tokens: RFC 7523 assertions, caching, retries and secrecy."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from urllib.parse import parse_qs

import httpx
import jwt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from blendkit.errors import ServiceError
from blendkit.http import RetryPolicy, parse_retry_after
from blendkit.lti._access_tokens import AccessTokens
from blendkit.lti._keys import KeySet
from blendkit.lti._platform_sender import PLATFORM_RETRY
from blendkit.lti._platforms import Platform
from blendkit.lti._services import ServiceSession, redact
from blendkit.store import Store
from tests.encryption import ENCRYPTION
from tests.fence import loopback_fence
from tests.lti.advantage_platform import NRPS, SCORE, PlatformState, run_platform

CLIENT_ID = "tool-client-1"


@pytest.fixture
def keys(sqlite_store: Store) -> KeySet:
    return KeySet(sqlite_store, encryption=ENCRYPTION)


@pytest.fixture
def platform_state(keys: KeySet) -> Iterator[PlatformState]:
    yield from run_platform(PlatformState(client_id=CLIENT_ID, tool_jwks=keys.jwks))


def registration(state: PlatformState, client_id: str = CLIENT_ID) -> Platform:
    return Platform(
        issuer="https://lms.example.edu",
        client_id=client_id,
        deployment_ids=("1",),
        auth_login_url=state.base_url + "/auth",
        auth_token_url=state.token_url,
        jwks_url=state.base_url + "/jwks",
    )


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


# --- real HTTP against the local platform ----------------------------------------------------


def test_assertion_verifies_against_tool_jwks_and_token_is_reused(
    keys: KeySet, platform_state: PlatformState
) -> None:
    platform = registration(platform_state)
    with httpx.Client() as http:
        tokens = AccessTokens(keys, fence=loopback_fence(), http=http)
        first = tokens.get(platform, [SCORE])
        again = tokens.get(platform, [SCORE])
    assert first.value == again.value
    assert platform_state.token_requests == 1
    (claims,) = platform_state.assertions  # the platform verified the RS256 signature
    assert claims["iss"] == claims["sub"] == CLIENT_ID
    assert claims["aud"] == platform_state.token_url
    assert claims["exp"] > claims["iat"]
    assert first.scopes == {SCORE}


def test_assertion_names_the_current_key_and_uses_auth_audience(keys: KeySet) -> None:
    platform = Platform(
        issuer="https://canvas.example",
        client_id="10000000000001",
        auth_login_url="https://sso.example/auth",
        auth_token_url="https://sso.example/login/oauth2/token",
        jwks_url="https://sso.example/jwks",
        auth_audience="https://sso.example/audience",
    )
    tokens = AccessTokens(keys)  # builds assertions only: no request is sent
    assertion = tokens.client_assertion(platform)
    kid, _ = keys.signing_key()
    assert jwt.get_unverified_header(assertion)["kid"] == kid
    jwk = jwt.PyJWK(keys.jwks()["keys"][0])
    claims = jwt.decode(assertion, jwk.key, algorithms=["RS256"], audience=platform.auth_audience)
    assert (
        claims["jti"]
        != jwt.decode(
            tokens.client_assertion(platform),
            jwk.key,
            algorithms=["RS256"],
            audience=platform.auth_audience,
        )["jti"]
    )


def test_token_is_refetched_after_expiry(keys: KeySet, platform_state: PlatformState) -> None:
    platform_state.token_lifetime = 100
    clock = Clock()
    platform = registration(platform_state)
    with httpx.Client() as http:
        tokens = AccessTokens(
            keys, fence=loopback_fence(), http=http, clock=clock, refresh_margin=60
        )
        first = tokens.get(platform, [SCORE])
        clock.now += 49  # margin is min(60 s, half the lifetime): 51 s before expiry, cached
        assert tokens.get(platform, [SCORE]).value == first.value
        clock.now += 2  # within the refresh margin
        second = tokens.get(platform, [SCORE])
    assert second.value != first.value
    assert platform_state.token_requests == 2


def test_cache_key_is_issuer_client_and_sorted_scopes(
    keys: KeySet, platform_state: PlatformState
) -> None:
    platform = registration(platform_state)
    with httpx.Client() as http:
        tokens = AccessTokens(keys, fence=loopback_fence(), http=http)
        a = tokens.get(platform, [SCORE, NRPS])
        b = tokens.get(platform, [NRPS, SCORE, NRPS])
        c = tokens.get(platform, [NRPS])
    assert a.value == b.value != c.value
    assert platform_state.token_requests == 2


def test_concurrent_burst_asks_the_platform_once(
    keys: KeySet, platform_state: PlatformState
) -> None:
    platform_state.token_delay = 0.2
    platform = registration(platform_state)
    results: list[str] = []
    with httpx.Client() as http:
        tokens = AccessTokens(keys, fence=loopback_fence(), http=http)
        start = threading.Barrier(12)

        def worker() -> None:
            start.wait()
            results.append(tokens.get(platform, [SCORE]).value)

        threads = [threading.Thread(target=worker) for _ in range(12)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert len(results) == 12
    assert len(set(results)) == 1
    assert platform_state.token_requests == 1


def test_refused_assertion_names_the_reason_not_the_secret(
    keys: KeySet, platform_state: PlatformState, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    platform = registration(platform_state, client_id="someone-else")
    with httpx.Client() as http, pytest.raises(ServiceError) as caught:
        AccessTokens(keys, fence=loopback_fence(), http=http).get(platform, [SCORE])
    assert caught.value.code == "lti.token_refused"
    assert "invalid_client" in caught.value.message
    assert "someone-else" in caught.value.message
    assert "eyJ" not in caught.value.message
    assert "eyJ" not in caplog.text


def test_tokens_never_reach_the_logs(
    keys: KeySet, platform_state: PlatformState, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    platform = registration(platform_state)
    with httpx.Client() as http:
        token = AccessTokens(keys, fence=loopback_fence(), http=http).get(platform, [SCORE])
    assert token.value not in caplog.text
    assert token.value not in repr(token)
    assert "eyJ" not in caplog.text  # no assertion JWT either
    assert "access token issued" in caplog.text


# --- faults through MockTransport -----------------------------------------------------------


FAKE = Platform(
    issuer="https://lms.example.edu",
    client_id=CLIENT_ID,
    auth_login_url="https://lms.example.edu/auth",
    auth_token_url="https://lms.example.edu/token",
    jwks_url="https://lms.example.edu/jwks",
)
OK = {"access_token": "tok-123", "token_type": "Bearer", "expires_in": 3600}


def scripted(*answers: httpx.Response | Exception) -> tuple[httpx.Client, list[httpx.Request]]:
    seen: list[httpx.Request] = []
    queue = list(answers)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = queue.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    return httpx.Client(transport=httpx.MockTransport(handler)), seen


def test_5xx_is_retried_with_backoff(keys: KeySet) -> None:
    http, seen = scripted(httpx.Response(502), httpx.Response(500), httpx.Response(200, json=OK))
    sleeps: list[float] = []
    tokens = AccessTokens(keys, fence=loopback_fence(), http=http, sleep=sleeps.append)
    assert tokens.get(FAKE, [SCORE]).value == "tok-123"
    assert len(sleeps) == 2
    assert 0 <= sleeps[0] <= 0.5
    assert 0 <= sleeps[1] <= 1.0  # jittered under a ceiling that doubles from 0.5 s
    assert len(seen) == 3
    assertions = [parse_qs(r.content.decode())["client_assertion"][0] for r in seen]
    jtis = {jwt.decode(a, options={"verify_signature": False})["jti"] for a in assertions}
    assert len(jtis) == 3  # a fresh assertion for each try


def test_429_waits_for_retry_after(keys: KeySet) -> None:
    http, _ = scripted(
        httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(200, json=OK)
    )
    sleeps: list[float] = []
    AccessTokens(keys, fence=loopback_fence(), http=http, sleep=sleeps.append).get(FAKE, [SCORE])
    assert sleeps == [7.0]


def test_retry_after_beyond_the_bound_gives_up_at_once(keys: KeySet) -> None:
    http, seen = scripted(httpx.Response(429, headers={"Retry-After": "3600"}))
    sleeps: list[float] = []
    tokens = AccessTokens(keys, fence=loopback_fence(), http=http, sleep=sleeps.append)
    with pytest.raises(ServiceError) as caught:
        tokens.get(FAKE, [SCORE])
    assert caught.value.code == "lti.token_endpoint_unavailable"
    assert "3600" in caught.value.message
    assert sleeps == []
    assert len(seen) == 1


def test_exhausted_retries_and_timeouts(keys: KeySet) -> None:
    http, seen = scripted(
        httpx.ReadTimeout("slow"), httpx.ConnectError("refused"), httpx.Response(503)
    )
    sleeps: list[float] = []
    tokens = AccessTokens(
        keys,
        fence=loopback_fence(),
        http=http,
        sleep=sleeps.append,
        retry=RetryPolicy(max_retries=2, backoff_seconds=0.5),
    )
    with pytest.raises(ServiceError) as caught:
        tokens.get(FAKE, [SCORE])
    assert caught.value.code == "lti.token_endpoint_unavailable"
    assert "after 3 tries" in caught.value.message
    assert len(seen) == 3
    assert len(sleeps) == 2
    assert all(0 <= wait <= 0.5 * 2**n for n, wait in enumerate(sleeps))
    assert all(r.extensions["timeout"]["read"] == 10.0 for r in seen)


@pytest.mark.parametrize(
    ("answer", "code"),
    [
        (httpx.Response(200, text="<html>login</html>"), "lti.token_response_invalid"),
        (httpx.Response(200, json={"token_type": "Bearer"}), "lti.token_response_invalid"),
        (httpx.Response(200, json={**OK, "token_type": "mac"}), "lti.token_response_invalid"),
        (httpx.Response(400, json={"error": "invalid_scope"}), "lti.token_refused"),
    ],
)
def test_unusable_token_answers(keys: KeySet, answer: httpx.Response, code: str) -> None:
    http, _ = scripted(answer)
    with pytest.raises(ServiceError) as caught:
        AccessTokens(keys, fence=loopback_fence(), http=http).get(FAKE, [SCORE])
    assert caught.value.code == code


def test_service_401_refreshes_the_token_once(keys: KeySet) -> None:
    tokens_issued = iter(["tok-1", "tok-2", "tok-3"])
    auth_seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/token":
            return httpx.Response(200, json={**OK, "access_token": next(tokens_issued)})
        auth_seen.append(request.headers["Authorization"])
        return httpx.Response(401) if len(auth_seen) < 3 else httpx.Response(200, json=[])

    tokens = AccessTokens(
        keys, fence=loopback_fence(), http=httpx.Client(transport=httpx.MockTransport(handler))
    )
    session = ServiceSession(FAKE, tokens)
    kwargs = {"scopes": [SCORE], "needs": [SCORE], "accept": "application/json", "what": "test"}
    with pytest.raises(ServiceError) as caught:
        session.request("GET", "https://lms.example.edu/x", **kwargs)  # type: ignore[arg-type]
    assert caught.value.code == "lti.service_unauthorized"
    assert auth_seen == ["Bearer tok-1", "Bearer tok-2"]
    assert "tok-" not in caught.value.message
    assert session.request("GET", "https://lms.example.edu/x", **kwargs).status_code == 200  # type: ignore[arg-type]


def test_non_idempotent_call_is_not_repeated_after_a_read_timeout(keys: KeySet) -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/token":
            return httpx.Response(200, json=OK)
        calls.append(request.method)
        raise httpx.ReadTimeout("slow")

    tokens = AccessTokens(
        keys, fence=loopback_fence(), http=httpx.Client(transport=httpx.MockTransport(handler))
    )
    with pytest.raises(ServiceError) as caught:
        ServiceSession(FAKE, tokens).request(
            "POST",
            "https://lms.example.edu/lineitems",
            scopes=[SCORE],
            needs=[SCORE],
            accept="application/json",
            json={},
            idempotent=False,
            what="creating",
        )
    assert caught.value.code == "lti.service_unavailable"
    assert calls == ["POST"]


def test_paging_never_leaves_the_platform_origin(keys: KeySet) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/token":
            return httpx.Response(200, json=OK)
        return httpx.Response(
            200, json=[], headers={"Link": '<https://evil.example/steal>; rel="next"'}
        )

    tokens = AccessTokens(
        keys, fence=loopback_fence(), http=httpx.Client(transport=httpx.MockTransport(handler))
    )
    pages = ServiceSession(FAKE, tokens).pages(
        "https://lms.example.edu/lineitems", scopes=[SCORE], needs=[SCORE], accept="*/*", what="t"
    )
    next(pages)
    with pytest.raises(ServiceError) as caught:
        next(pages)
    assert caught.value.code == "lti.paging_foreign_origin"


def test_paging_loop_is_detected(keys: KeySet) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/token":
            return httpx.Response(200, json=OK)
        return httpx.Response(200, json=[], headers={"Link": '</items?page=1>; rel="next"'})

    tokens = AccessTokens(
        keys, fence=loopback_fence(), http=httpx.Client(transport=httpx.MockTransport(handler))
    )
    pages = ServiceSession(FAKE, tokens).pages(
        "https://lms.example.edu/items", scopes=[SCORE], needs=[SCORE], accept="*/*", what="t"
    )
    with pytest.raises(ServiceError) as caught:
        list(pages)
    assert caught.value.code == "lti.paging_loop"


# --- Retry-After parsing ---------------------------------------------------------------------


@settings(max_examples=200)
@given(st.integers(min_value=0, max_value=10**6))
def test_retry_after_seconds(seconds: int) -> None:
    assert parse_retry_after(str(seconds), now=0.0) == float(seconds)


@settings(max_examples=200)
@given(st.integers(min_value=0, max_value=10**6))
def test_retry_after_http_date(offset: int) -> None:
    now = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)
    header = format_datetime(now + timedelta(seconds=offset), usegmt=True)
    assert parse_retry_after(header, now=now.timestamp()) == pytest.approx(offset)


@pytest.mark.parametrize("header", [None, "", "soon", "-5"])
def test_retry_after_unusable_values_are_ignored(header: str | None) -> None:
    assert parse_retry_after(header, now=0.0) is None


@settings(max_examples=100)
@given(
    st.integers(min_value=1, max_value=10),
    st.floats(min_value=0, max_value=100),
    st.floats(min_value=0, max_value=1),
)
def test_the_services_default_policy_never_waits_beyond_its_bounds(
    attempt: int, retry_after: float, draw: float
) -> None:
    backoff = PLATFORM_RETRY.delay(attempt, None, draw=lambda: draw)
    if attempt > 2:  # three tries in all
        assert backoff is None
    else:
        assert backoff is not None
        assert 0 <= backoff <= min(8.0, 0.5 * 2 ** (attempt - 1))
        waited = PLATFORM_RETRY.delay(attempt, retry_after)
        assert waited == (retry_after if retry_after <= 30.0 else None)


def test_relative_next_links_are_followed_and_filters_sent_once(keys: KeySet) -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/token":
            return httpx.Response(200, json=OK)
        seen.append(str(request.url))
        if request.url.params.get("page") == "2":
            return httpx.Response(200, json=[2])
        return httpx.Response(
            200,
            json=[1],
            headers={
                "Link": '<https://lms.example.edu/x>; rel="first", </items?page=2>; rel="next"'
            },
        )

    tokens = AccessTokens(
        keys, fence=loopback_fence(), http=httpx.Client(transport=httpx.MockTransport(handler))
    )
    pages = ServiceSession(FAKE, tokens).pages(
        "https://lms.example.edu/items?type_id=1",
        scopes=[SCORE],
        needs=[SCORE],
        accept="*/*",
        params={"tag": "quiz"},
        what="t",
    )
    assert [page.json() for page in pages] == [[1], [2]]
    assert seen == [
        "https://lms.example.edu/items?type_id=1&tag=quiz",
        "https://lms.example.edu/items?page=2",
    ]


def test_secrets_echoed_by_the_platform_never_reach_errors(keys: KeySet) -> None:
    """Answer bodies are not quoted at all: only the OAuth error code and the status."""

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/token":
            assertion = parse_qs(request.content.decode())["client_assertion"][0]
            return httpx.Response(
                400, json={"error": "invalid_grant", "error_description": f"bad {assertion}"}
            )
        return httpx.Response(500)

    tokens = AccessTokens(
        keys, fence=loopback_fence(), http=httpx.Client(transport=httpx.MockTransport(handler))
    )
    with pytest.raises(ServiceError) as caught:
        tokens.get(FAKE, [SCORE])
    assert "eyJ" not in caught.value.message
    assert "invalid_grant" in caught.value.message
    assert "bad" not in caught.value.message

    def echo(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/token":
            return httpx.Response(200, json={**OK, "access_token": "opaque-secret-42"})
        return httpx.Response(400, text=f"rejected {request.headers['Authorization']}")

    tokens = AccessTokens(
        keys, fence=loopback_fence(), http=httpx.Client(transport=httpx.MockTransport(echo))
    )
    with pytest.raises(ServiceError) as caught:
        ServiceSession(FAKE, tokens).request(
            "GET",
            "https://lms.example.edu/x",
            scopes=[SCORE],
            needs=[SCORE],
            accept="*/*",
            what="t",
        )
    assert "opaque-secret-42" not in caught.value.message
    assert caught.value.code == "lti.service_rejected"


@settings(max_examples=200)
@given(st.text(max_size=40), st.text(alphabet="abcXYZ0123456789_-", min_size=1, max_size=40))
def test_redact_removes_jwts_and_bearer_values(prefix: str, body: str) -> None:
    jwt_like = f"eyJ{body}.{body}.{body}"
    text = redact(f"{prefix} {jwt_like} Authorization: Bearer {body}x", "s3cr3t")
    assert jwt_like not in text
    assert f"Bearer {body}x" not in text
