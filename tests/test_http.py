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

from blendkit.http import Failure, RetryingSender, RetryPolicy, TokenCache, parse_retry_after
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


@settings(max_examples=200)
@given(
    st.integers(min_value=0, max_value=10),
    st.floats(min_value=0, max_value=10),
    st.floats(min_value=0, max_value=100),
    st.integers(min_value=1, max_value=12),
    st.none() | st.floats(min_value=0, max_value=200),
)
def test_policy_waits_as_advised_or_doubles_and_stays_within_its_bounds(
    max_retries: int, backoff: float, max_wait: float, tries: int, advised: float | None
) -> None:
    policy = RetryPolicy(max_retries=max_retries, backoff_seconds=backoff, max_wait=max_wait)
    wait = policy.delay(tries, advised)
    planned = advised if advised is not None else backoff * 2 ** (tries - 1)
    if tries > max_retries or planned > max_wait:
        assert wait is None
    else:
        assert wait == planned
        assert wait <= max_wait


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
    sender, waits = sender_for(client, RetryPolicy(max_wait=60))
    with pytest.raises(Boom) as caught:
        sender.send(builder(client), errors=Boom)
    assert waits == []
    assert len(seen) == 1
    assert caught.value.failure.retry_after == 3600.0


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
