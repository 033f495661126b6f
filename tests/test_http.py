"""blendkit.http: Retry-After parsing, bounded retries that never repeat unsafe requests, tokens."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from blendkit.errors import ProviderAuthError, ProviderError, ProviderRateLimited
from blendkit.http import (
    Failure,
    RetryingSender,
    RetryPolicy,
    TokenCache,
    parse_retry_after,
    token_endpoint_error,
    token_endpoint_reason,
    token_endpoint_unreachable,
)
from tests.fence import public_fence

NOW = datetime(2026, 6, 1, 0, 0, tzinfo=UTC)
URL = "https://api.example.test/v1/things"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# --- parse_retry_after ------------------------------------------------------------------------


@settings(max_examples=200)
@given(st.integers(min_value=0, max_value=10**9))
def test_delta_seconds_are_taken_as_they_are(seconds: int) -> None:
    assert parse_retry_after(str(seconds), NOW) == float(seconds)
    assert parse_retry_after(f"  {seconds} ", NOW) == float(seconds)


@settings(max_examples=200)
@given(st.integers(min_value=0, max_value=10**6), st.integers(min_value=1, max_value=99))
def test_fractional_seconds_are_accepted(whole: int, fraction: int) -> None:
    text = f"{whole}.{fraction:02d}"
    assert parse_retry_after(text, NOW) == pytest.approx(whole + fraction / 100)


@settings(max_examples=200)
@given(st.integers(min_value=-(10**6), max_value=10**6))
def test_dates_count_from_now_and_the_past_means_at_once(offset: int) -> None:
    moment = NOW + timedelta(seconds=offset)
    expected = float(max(0, offset))
    http_date = format_datetime(moment, usegmt=True)
    iso = moment.isoformat().replace("+00:00", "Z")
    assert parse_retry_after(http_date, NOW) == pytest.approx(expected)
    assert parse_retry_after(iso, NOW) == pytest.approx(expected)
    # ``now`` as a POSIX timestamp (what time.time() gives) means the same moment.
    assert parse_retry_after(http_date, NOW.timestamp()) == pytest.approx(expected)
    # A naive ``now`` counts as UTC.
    assert parse_retry_after(iso, NOW.replace(tzinfo=None)) == pytest.approx(expected)


@pytest.mark.parametrize("value", [None, "", "   ", "soon", "-5", "nan", "inf", "1e3", "+5", "1."])
def test_unusable_values_are_ignored(value: str | None) -> None:
    assert parse_retry_after(value, NOW) is None


@settings(max_examples=300)
@given(st.text(max_size=40))
def test_any_text_gives_none_or_a_wait_that_is_not_negative(value: str) -> None:
    result = parse_retry_after(value, NOW)
    assert result is None or result >= 0.0


# --- RetryPolicy ------------------------------------------------------------------------------


policies = st.builds(
    RetryPolicy,
    max_retries=st.integers(min_value=0, max_value=10),
    backoff_seconds=st.floats(min_value=0, max_value=300),
    max_backoff_seconds=st.floats(min_value=0, max_value=3600),
    max_retry_after_seconds=st.floats(min_value=0, max_value=86400),
    max_total_wait_seconds=st.none() | st.floats(min_value=0, max_value=10_000),
)
draws = st.floats(min_value=0, max_value=1)


@settings(max_examples=300)
@given(policies, st.integers(min_value=1, max_value=200), draws, st.floats(0, 10_000))
def test_a_computed_wait_lies_between_zero_and_its_capped_doubling_ceiling(
    policy: RetryPolicy, tries: int, draw: float, waited: float
) -> None:
    wait = policy.delay(tries, None, waited=waited, draw=lambda: draw)
    budget = policy.max_total_wait_seconds
    if tries > policy.max_retries:
        assert wait is None
        return
    expected = policy.ceiling(tries) * draw  # full jitter: anywhere under the ceiling
    if budget is not None and waited + expected > budget:
        assert wait is None
        return
    assert wait == expected
    assert 0 <= wait <= policy.ceiling(tries) <= policy.max_backoff_seconds
    assert policy.ceiling(tries) <= policy.backoff_seconds * 2 ** (tries - 1)


@settings(max_examples=200)
@given(policies, st.integers(min_value=1, max_value=200))
def test_the_ceiling_grows_with_every_try_until_the_cap_and_then_stays(
    policy: RetryPolicy, tries: int
) -> None:
    assert policy.ceiling(tries) <= policy.ceiling(tries + 1) <= policy.max_backoff_seconds
    if policy.backoff_seconds * 2 ** (tries - 1) >= policy.max_backoff_seconds:
        assert policy.ceiling(tries) == policy.ceiling(tries + 1) == policy.max_backoff_seconds


@settings(max_examples=300)
@given(policies, st.integers(min_value=1, max_value=11), st.floats(0, 100_000), draws)
def test_retry_after_is_waited_exactly_or_given_up_on(
    policy: RetryPolicy, tries: int, advised: float, draw: float
) -> None:
    wait = policy.delay(tries, advised, draw=lambda: draw)
    budget = policy.max_total_wait_seconds
    if (
        tries > policy.max_retries
        or advised > policy.max_retry_after_seconds
        or (budget is not None and advised > budget)
    ):
        assert wait is None
    else:
        assert wait == advised  # not jittered, not capped: the server knows best


@settings(max_examples=200)
@given(policies, st.lists(st.none() | st.floats(0, 100), min_size=1, max_size=11), draws)
def test_the_waits_of_one_call_never_exceed_the_total_budget(
    policy: RetryPolicy, advice: list[float | None], draw: float
) -> None:
    waited = 0.0
    for tries, advised in enumerate(advice, start=1):
        wait = policy.delay(tries, advised, waited=waited, draw=lambda: draw)
        if wait is None:
            break
        waited += wait
    if policy.max_total_wait_seconds is not None:
        assert waited <= policy.max_total_wait_seconds


def test_policy_is_frozen_and_rejects_unknown_fields() -> None:
    policy = RetryPolicy()
    with pytest.raises(ValueError):
        policy.max_retries = 5  # type: ignore[misc]
    with pytest.raises(ValueError):
        RetryPolicy(attempts=3)  # type: ignore[call-arg]


# --- RetryingSender ---------------------------------------------------------------------------


class Boom(Exception):
    """The caller's own error, built from a Failure."""

    def __init__(self, failure: Failure) -> None:
        super().__init__("gave up")
        self.failure = failure


Step = httpx.Response | Exception


def scripted(*steps: Step) -> tuple[httpx.Client, list[httpx.Request]]:
    """A client answering ``steps`` in order (exceptions are raised), recording each request."""
    seen: list[httpx.Request] = []
    queue: Iterator[Step] = iter(steps)

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        step = next(queue)
        if isinstance(step, Exception):
            raise step
        return step

    return httpx.Client(transport=httpx.MockTransport(handler)), seen


def sender_for(
    client: httpx.Client, retry: RetryPolicy | None = None
) -> tuple[RetryingSender, list[float]]:
    waits: list[float] = []
    sender = RetryingSender(
        client,
        retry=retry or RetryPolicy(),
        fence=public_fence(),
        sleep=waits.append,
        clock=NOW.timestamp,
        jitter=lambda: 1.0,  # every computed wait at its ceiling, so the waits can be compared
    )
    return sender, waits


def builder(client: httpx.Client, method: str = "GET") -> Callable[[], httpx.Request]:
    count = iter(range(1, 100))

    def build() -> httpx.Request:
        return client.build_request(method, URL, headers={"x-try": str(next(count))}, timeout=5)

    return build


def test_429_waits_as_the_server_advises_then_returns_the_answer() -> None:
    client, seen = scripted(httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(200))
    sender, waits = sender_for(client)
    response = sender.send(builder(client), errors=Boom)
    assert response.status_code == 200
    assert waits == [7.0]
    assert [r.headers["x-try"] for r in seen] == ["1", "2"]  # every try is built afresh


def test_retry_after_as_a_date_is_read_against_the_injected_clock() -> None:
    later = format_datetime(NOW + timedelta(seconds=30), usegmt=True)
    client, _ = scripted(httpx.Response(503, headers={"Retry-After": later}), httpx.Response(200))
    sender, waits = sender_for(client)
    assert sender.send(builder(client), errors=Boom).status_code == 200
    assert waits == [pytest.approx(30.0)]


def test_without_retry_after_the_wait_doubles_until_the_budget_is_spent() -> None:
    client, seen = scripted(*[httpx.Response(502) for _ in range(4)])
    sender, waits = sender_for(client, RetryPolicy(max_retries=3, backoff_seconds=0.5))
    with pytest.raises(Boom) as caught:
        sender.send(builder(client), errors=Boom)
    assert waits == [0.5, 1.0, 2.0]
    assert len(seen) == 4
    failure = caught.value.failure
    assert failure.tries == 4
    assert failure.exhausted
    assert failure.response is not None
    assert failure.response.status_code == 502


def test_a_wait_longer_than_allowed_gives_up_at_once_with_the_advice() -> None:
    client, seen = scripted(httpx.Response(429, headers={"Retry-After": "3600"}))
    sender, waits = sender_for(client, RetryPolicy(max_retry_after_seconds=60))
    with pytest.raises(Boom) as caught:
        sender.send(builder(client), errors=Boom)
    assert waits == []
    assert len(seen) == 1
    assert caught.value.failure.retry_after == 3600.0


def test_computed_waits_are_jittered_and_capped_retry_after_is_not() -> None:
    client, _ = scripted(
        httpx.Response(502),
        httpx.Response(502),
        httpx.Response(429, headers={"Retry-After": "5"}),
        httpx.Response(502),
        httpx.Response(200),
    )
    waits: list[float] = []
    draws = iter([0.5, 0.25, 0.9])
    sender = RetryingSender(
        client,
        retry=RetryPolicy(max_retries=4, backoff_seconds=2, max_backoff_seconds=6),
        fence=public_fence(),
        sleep=waits.append,
        jitter=lambda: next(draws),
    )
    assert sender.send(builder(client), errors=Boom).status_code == 200
    # ceilings 2, 4, (advised 5), 6 (8 capped): the draws place each computed wait under its own
    assert waits == [1.0, 1.0, 5.0, 5.4]


def test_the_total_wait_budget_ends_the_retries_before_the_tries_run_out() -> None:
    client, seen = scripted(*[httpx.Response(503, headers={"Retry-After": "4"}) for _ in range(4)])
    sender, waits = sender_for(client, RetryPolicy(max_retries=5, max_total_wait_seconds=10))
    with pytest.raises(Boom) as caught:
        sender.send(builder(client), errors=Boom)
    assert waits == [4.0, 4.0]  # a third wait of 4 s would pass the 10 s budget
    assert len(seen) == 3
    assert caught.value.failure.retry_after == 4.0


def test_non_idempotent_requests_are_not_repeated_on_a_server_error() -> None:
    client, seen = scripted(httpx.Response(500))
    sender, waits = sender_for(client)
    response = sender.send(builder(client, "POST"), errors=Boom, idempotent=False)
    assert response.status_code == 500  # handed back for the caller to map
    assert len(seen) == 1
    assert waits == []


def test_non_idempotent_requests_are_repeated_when_the_server_refused_them_unprocessed() -> None:
    client, seen = scripted(
        httpx.Response(429, headers={"Retry-After": "1"}),
        httpx.Response(503, headers={"Retry-After": "2"}),
        httpx.Response(201),
    )
    sender, waits = sender_for(client)
    response = sender.send(builder(client, "POST"), errors=Boom, idempotent=False)
    assert response.status_code == 201
    assert waits == [1.0, 2.0]
    assert len(seen) == 3


def test_the_caller_chooses_which_statuses_are_retried() -> None:
    client, seen = scripted(httpx.Response(503))
    sender, _ = sender_for(client)
    response = sender.send(
        builder(client),
        errors=Boom,
        retry_statuses=frozenset({429}),
        retry_statuses_if_idempotent=frozenset(),
    )
    assert response.status_code == 503
    assert len(seen) == 1


def test_give_up_on_reports_a_busy_answer_without_waiting() -> None:
    client, seen = scripted(httpx.Response(429, headers={"x-limit": "daily", "Retry-After": "9"}))
    sender, waits = sender_for(client)
    with pytest.raises(Boom) as caught:
        sender.send(
            builder(client), errors=Boom, give_up_on=lambda r: r.headers.get("x-limit") == "daily"
        )
    assert waits == []
    assert len(seen) == 1
    assert caught.value.failure.tries == 1
    assert caught.value.failure.retry_after == 9.0


def test_timeouts_are_retried_for_idempotent_requests_when_allowed() -> None:
    client, seen = scripted(httpx.ReadTimeout("slow"), httpx.Response(200))
    sender, waits = sender_for(client, RetryPolicy(backoff_seconds=0.25))
    response = sender.send(builder(client), errors=Boom, retry_transport=True)
    assert response.status_code == 200
    assert waits == [0.25]
    assert len(seen) == 2


def test_a_timeout_after_sending_a_non_idempotent_request_is_never_repeated() -> None:
    client, seen = scripted(httpx.ReadTimeout("slow"), httpx.Response(200))
    sender, waits = sender_for(client)
    with pytest.raises(Boom) as caught:
        sender.send(builder(client, "POST"), errors=Boom, idempotent=False, retry_transport=True)
    assert len(seen) == 1
    assert waits == []
    failure = caught.value.failure
    assert isinstance(failure.error, httpx.ReadTimeout)
    assert failure.sent
    assert not failure.exhausted
    assert caught.value.__cause__ is failure.error


def test_a_failed_connection_is_retried_even_for_non_idempotent_requests() -> None:
    client, seen = scripted(httpx.ConnectError("refused"), httpx.Response(201))
    sender, waits = sender_for(client)
    response = sender.send(
        builder(client, "POST"), errors=Boom, idempotent=False, retry_transport=True
    )
    assert response.status_code == 201
    assert len(seen) == 2
    assert waits == [1.0]


def test_connection_failures_that_never_end_give_up_with_the_last_error() -> None:
    client, seen = scripted(*[httpx.ConnectError("refused") for _ in range(3)])
    sender, waits = sender_for(client, RetryPolicy(max_retries=2))
    with pytest.raises(Boom) as caught:
        sender.send(builder(client), errors=Boom, retry_transport=True)
    failure = caught.value.failure
    assert failure.tries == 3
    assert failure.exhausted
    assert not failure.sent
    assert isinstance(failure.error, httpx.ConnectError)
    assert waits == [1.0, 2.0]
    assert len(seen) == 3


def test_transport_failures_are_not_retried_unless_asked() -> None:
    client, seen = scripted(httpx.ConnectError("refused"))
    sender, waits = sender_for(client)
    with pytest.raises(Boom) as caught:
        sender.send(builder(client), errors=Boom)
    assert len(seen) == 1
    assert waits == []
    assert not caught.value.failure.exhausted


def test_one_401_refreshes_the_token_and_is_not_counted_as_a_retry() -> None:
    client, seen = scripted(
        httpx.Response(401),
        httpx.Response(429, headers={"Retry-After": "1"}),
        httpx.Response(401),
    )
    sender, waits = sender_for(client, RetryPolicy(max_retries=1))
    refreshed: list[int] = []
    response = sender.send(
        builder(client), errors=Boom, on_unauthorized=lambda: refreshed.append(1)
    )
    assert refreshed == [1]  # only once: the second 401 goes back to the caller
    assert response.status_code == 401
    assert waits == [1.0]  # the 429 still had its one retry
    assert len(seen) == 3


def test_401_is_returned_when_no_refresh_is_offered() -> None:
    client, seen = scripted(httpx.Response(401))
    sender, _ = sender_for(client)
    assert sender.send(builder(client), errors=Boom).status_code == 401
    assert len(seen) == 1


def test_send_authorized_puts_a_fresh_token_on_each_try_and_replaces_a_refused_one() -> None:
    client, seen = scripted(
        httpx.Response(429, headers={"Retry-After": "1"}),
        httpx.Response(401),
        httpx.Response(200),
    )
    sender, waits = sender_for(client)
    issued: list[str] = []

    def fetch() -> tuple[str, float]:
        issued.append(f"t{len(issued) + 1}")
        return issued[-1], 3600.0

    tokens = TokenCache(fetch, refresh_margin=60.0, clock=Clock())

    def build(token: str) -> httpx.Request:
        return client.build_request("GET", URL, headers={"authorization": f"Bearer {token}"})

    response = sender.send_authorized(tokens, build, errors=Boom)
    assert response.status_code == 200
    assert [r.headers["authorization"] for r in seen] == ["Bearer t1", "Bearer t1", "Bearer t2"]
    assert waits == [1.0]


# --- TokenCache --------------------------------------------------------------------------------


def test_the_token_is_reused_until_the_refresh_margin_then_fetched_again() -> None:
    clock = Clock()
    issued: list[str] = []

    def fetch() -> tuple[str, float]:
        issued.append(f"t{len(issued) + 1}")
        return issued[-1], 3600.0

    cache = TokenCache(fetch, refresh_margin=120.0, clock=clock)
    assert cache.token() == "t1"
    clock.now += 3600 - 121
    assert cache.token() == "t1"
    clock.now += 1
    assert cache.token() == "t2"
    assert issued == ["t1", "t2"]


def test_invalidate_forgets_only_the_refused_token() -> None:
    issued: list[str] = []

    def fetch() -> tuple[str, float]:
        issued.append(f"t{len(issued) + 1}")
        return issued[-1], 3600.0

    cache = TokenCache(fetch, refresh_margin=60.0, clock=Clock())
    first = cache.token()
    cache.invalidate(first)
    second = cache.token()
    assert second != first
    cache.invalidate(first)  # a late refusal of the old token keeps the new one
    assert cache.token() == second
    assert len(issued) == 2


def test_threads_share_one_fetch() -> None:
    calls: list[int] = []
    gate = threading.Event()

    def fetch() -> tuple[str, float]:
        calls.append(1)
        gate.wait(timeout=5)
        return "shared", 3600.0

    cache = TokenCache(fetch, refresh_margin=60.0, clock=Clock())
    results: list[str] = []
    threads = [threading.Thread(target=lambda: results.append(cache.token())) for _ in range(8)]
    for thread in threads:
        thread.start()
    gate.set()
    for thread in threads:
        thread.join(timeout=10)
    assert results == ["shared"] * 8
    assert calls == [1]


# --- token endpoint refusals -------------------------------------------------------------------


def _token_answer(status: int, body: object = None, **headers: str) -> httpx.Response:
    if body is None:
        return httpx.Response(status, headers=headers)
    return httpx.Response(status, json=body, headers=headers)


def test_a_refused_grant_names_the_status_the_reason_and_the_hint() -> None:
    answer = _token_answer(
        400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}
    )
    error = token_endpoint_error(answer, provider="Google", hint="check the key file")
    assert isinstance(error, ProviderAuthError)
    assert error.code == "sessions.provider_auth"
    assert error.message == (
        "Google refused the credentials (HTTP 400, invalid_grant: Invalid JWT Signature.); "
        "check the key file"
    )


def test_a_listed_oauth_error_gets_its_own_advice() -> None:
    answer = _token_answer(401, {"error": "unauthorized_client", "error_description": "no"})
    error = token_endpoint_error(
        answer, provider="Google", hint="generic", reasons={"unauthorized_client": "delegate"}
    )
    assert error.message.endswith("; delegate")


def test_microsoft_explanations_are_cut_to_their_aadsts_code() -> None:
    body = {
        "error": "invalid_client",
        "error_description": "AADSTS7000215: Invalid client secret provided. Trace ID: 1",
        "error_codes": [7000215],
    }
    error = token_endpoint_error(_token_answer(401, body), provider="Microsoft Entra", hint="h")
    assert "(HTTP 401, invalid_client: AADSTS7000215)" in error.message
    body.pop("error_codes")
    error = token_endpoint_error(_token_answer(401, body), provider="Microsoft Entra", hint="h")
    assert "(HTTP 401, invalid_client: AADSTS7000215)" in error.message


def test_zoom_reasons_and_bodies_without_json_are_read() -> None:
    zoom = _token_answer(400, {"reason": "Invalid client_id or client_secret", "error": "x"})
    assert token_endpoint_reason(zoom) == ("x", "Invalid client_id or client_secret")
    assert token_endpoint_reason(_token_answer(401)) == ("", "no explanation given")
    assert token_endpoint_reason(_token_answer(401, ["not", "an", "object"])) == (
        "",
        "no explanation given",
    )


def test_throttled_and_failing_token_endpoints_are_not_auth_errors() -> None:
    throttled = token_endpoint_error(
        _token_answer(429, {}, **{"retry-after": "7"}), provider="Zoom", hint="h"
    )
    assert isinstance(throttled, ProviderRateLimited)
    assert throttled.retry_after == 7.0
    failing = token_endpoint_error(_token_answer(503), provider="Zoom", hint="h")
    assert type(failing) is ProviderError
    assert failing.code == "sessions.provider_unavailable"
    unreachable = token_endpoint_unreachable("Zoom", "https://zoom.us/oauth/token?x=secret")
    assert unreachable.code == "sessions.provider_unreachable"
    assert "secret" not in unreachable.message


@given(st.text(max_size=300), st.text(max_size=300), st.integers(400, 599))
def test_any_refusal_maps_to_a_provider_error(error: str, detail: str, status: int) -> None:
    answer = _token_answer(status, {"error": error, "error_description": detail})
    mapped = token_endpoint_error(answer, provider="P", hint="h")
    assert isinstance(mapped, ProviderError)
    assert len(mapped.message) < 400
