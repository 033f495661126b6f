"""Zoom transport behaviour: token cache and refresh, 429 handling, paging, UUID encoding."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from blendkit_zoom import ZoomProvider, ZoomTokenSource
from hypothesis import given
from hypothesis import strategies as st

from blendkit.errors import (
    ConfigError,
    NotFound,
    ProviderAuthError,
    ProviderError,
    ProviderRateLimited,
)
from blendkit.http import RetryPolicy, parse_retry_after
from tests.fence import public_fence
from tests.plugins.vendor_contract import Recorder, json_response
from tests.plugins.zoom_data import (
    START,
    UUID_PLAIN,
    UUID_WITH_SLASHES,
    participant_row,
    weekly_spec,
    zoom_settings,
)
from tests.plugins.zoom_fake import CLIENT_SECRET, ZoomFake


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.value = 1000.0

    def __call__(self) -> float:
        return self.value


def make(fake: ZoomFake, **kwargs: Any) -> tuple[ZoomProvider, Recorder, list[float]]:
    recorder = Recorder(fake)
    waits: list[float] = []
    provider = ZoomProvider(
        fence=public_fence(),
        settings=zoom_settings(),
        client=recorder.client(),
        sleep=waits.append,
        **kwargs,
    )
    return provider, recorder, waits


def api_calls(recorder: Recorder) -> list[httpx.Request]:
    return [e.request for e in recorder.exchanges if e.request.url.host == "api.zoom.us"]


# --- tokens ------------------------------------------------------------------------------------


def test_token_is_fetched_once_and_reused() -> None:
    fake = ZoomFake()
    provider, recorder, _ = make(fake)
    meeting = provider.create_session(weekly_spec(recurrence=None))
    provider.meeting(meeting.meeting_id)
    provider.meeting(meeting.meeting_id)
    assert fake.token_requests == 1
    token_call = recorder.exchanges[0].request
    assert token_call.url.params == httpx.QueryParams()
    assert token_call.headers["content-type"] == "application/x-www-form-urlencoded"


def test_token_is_renewed_shortly_before_it_expires() -> None:
    fake = ZoomFake()
    clock = Clock()
    provider, _, _ = make(fake, clock=clock)
    meeting = provider.create_session(weekly_spec(recurrence=None))
    clock.value += 3599 - 300  # five minutes left: still served from the cache
    provider.meeting(meeting.meeting_id)
    assert fake.token_requests == 1
    clock.value += 250  # fifty seconds left: inside the refresh margin
    provider.meeting(meeting.meeting_id)
    assert fake.token_requests == 2


def test_a_revoked_token_is_refreshed_once_and_the_call_succeeds() -> None:
    fake = ZoomFake()
    provider, recorder, _ = make(fake)
    meeting = provider.create_session(weekly_spec(recurrence=None))
    fake.revoke_tokens()
    again = provider.meeting(meeting.meeting_id)
    assert again.meeting_id == meeting.meeting_id
    assert fake.token_requests == 2
    statuses = [e.response.status_code for e in recorder.exchanges]
    assert statuses == [200, 201, 401, 200, 200]


def test_a_second_401_after_refresh_is_an_auth_error_not_a_loop() -> None:
    tokens = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal tokens
        if request.url.host == "zoom.us":
            tokens += 1
            return json_response(200, {"access_token": f"t{tokens}", "expires_in": 3599})
        return json_response(401, {"code": 124, "message": "Invalid access token."})

    provider = ZoomProvider(
        fence=public_fence(),
        settings=zoom_settings(),
        client=httpx.Client(transport=httpx.MockTransport(handler)),
    )
    with pytest.raises(ProviderAuthError) as caught:
        provider.meeting("85746065001")
    assert tokens == 2
    assert caught.value.code == "sessions.provider_auth"


def test_refused_credentials_name_the_settings_but_never_the_secret() -> None:
    fake = ZoomFake()
    recorder = Recorder(fake)
    provider = ZoomProvider(
        fence=public_fence(),
        settings=zoom_settings(client_secret="wrong-secret-value"),
        client=recorder.client(),
    )
    with pytest.raises(ProviderAuthError) as caught:
        provider.meeting("85746065001")
    message = str(caught.value)
    assert "client_secret" in message
    assert "wrong-secret-value" not in message
    assert CLIENT_SECRET not in message


def test_missing_credentials_are_a_config_error_naming_the_keys() -> None:
    with pytest.raises(ConfigError) as caught:
        ZoomProvider(fence=public_fence(), settings=zoom_settings(client_id=None, account_id=None))
    assert "[zoom] account_id" in str(caught.value)
    assert "[zoom] client_id" in str(caught.value)


@pytest.mark.parametrize(
    ("api_url", "host"),
    [
        ("https://api-eu.zoom.us", "api-eu.zoom.us"),
        ("https://evil.example", "api.zoom.us"),
        ("http://api-eu.zoom.us", "api.zoom.us"),
        (None, "api.zoom.us"),
    ],
)
def test_api_calls_follow_the_accounts_api_url_only_on_zoom(api_url: str | None, host: str) -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "zoom.us":
            return json_response(200, {"access_token": "t", "expires_in": 3599, "api_url": api_url})
        seen.append(request.url.host)
        return json_response(200, {"id": 85746065001, "join_url": "https://zoom.us/j/1"})

    provider = ZoomProvider(
        fence=public_fence(),
        settings=zoom_settings(),
        client=httpx.Client(transport=httpx.MockTransport(handler)),
    )
    provider.meeting("85746065001")
    assert seen == [host]


def test_concurrent_callers_share_one_token_fetch() -> None:
    fetched = 0
    gate = threading.Event()

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal fetched
        fetched += 1
        gate.wait(1)
        return json_response(200, {"access_token": "shared", "expires_in": 3599})

    source = ZoomTokenSource(
        fence=public_fence(),
        account_id="a",
        client_id="c",
        client_secret="s",
        client=httpx.Client(transport=httpx.MockTransport(handler)),
    )
    results: list[str] = []
    threads = [threading.Thread(target=lambda: results.append(source.token())) for _ in range(8)]
    for thread in threads:
        thread.start()
    gate.set()
    for thread in threads:
        thread.join()
    assert results == ["shared"] * 8
    assert fetched == 1


# --- 429 ---------------------------------------------------------------------------------------


def busy(headers: dict[str, str]) -> httpx.Response:
    return json_response(
        429,
        {
            "code": 429,
            "message": "You have reached the maximum per-second rate limit for this API.",
        },
        {"x-ratelimit-category": "Light", **headers},
    )


def test_429_with_retry_after_waits_as_told_then_succeeds() -> None:
    fake = ZoomFake()
    provider, _, waits = make(fake)
    meeting = provider.create_session(weekly_spec(recurrence=None))
    fake.faults += [busy({"retry-after": "2", "x-ratelimit-type": "QPS"})]
    assert provider.meeting(meeting.meeting_id).meeting_id == meeting.meeting_id
    assert waits == [2.0]


def test_429_without_retry_after_backs_off_then_gives_up() -> None:
    fake = ZoomFake()
    provider, recorder, waits = make(fake, retry=RetryPolicy(max_retries=3, backoff_seconds=0.5))
    meeting = provider.create_session(weekly_spec(recurrence=None))
    fake.faults += [busy({}) for _ in range(10)]
    with pytest.raises(ProviderRateLimited) as caught:
        provider.meeting(meeting.meeting_id)
    # Full jitter: each wait lies under its doubling ceiling (0.5, 1, 2 s).
    assert len(waits) == 3
    assert all(0 <= wait <= 0.5 * 2**n for n, wait in enumerate(waits))
    assert len(api_calls(recorder)) == 1 + 4
    assert caught.value.code == "sessions.rate_limited"
    assert caught.value.retry_after is None


def test_daily_limit_is_reported_at_once_with_the_advised_delay() -> None:
    fake = ZoomFake()
    provider, _recorder, waits = make(fake)
    meeting = provider.create_session(weekly_spec(recurrence=None))
    tomorrow = (datetime.now(UTC) + timedelta(hours=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    fake.faults += [busy({"retry-after": tomorrow, "x-ratelimit-type": "Daily-limit"})]
    with pytest.raises(ProviderRateLimited) as caught:
        provider.meeting(meeting.meeting_id)
    assert waits == []
    assert caught.value.retry_after is not None
    assert 4.9 * 3600 < caught.value.retry_after <= 5 * 3600
    assert "daily" in caught.value.message


def test_a_wait_longer_than_allowed_is_not_slept_through() -> None:
    fake = ZoomFake()
    provider, _, waits = make(fake, retry=RetryPolicy(max_retry_after_seconds=30))
    fake.faults += [busy({"retry-after": "120"})]
    with pytest.raises(ProviderRateLimited) as caught:
        provider.create_session(weekly_spec(recurrence=None))
    assert waits == []
    assert caught.value.retry_after == 120


@given(st.integers(min_value=0, max_value=10**7))
def test_retry_after_in_seconds(seconds: int) -> None:
    assert parse_retry_after(str(seconds)) == float(seconds)


def test_retry_after_as_http_date_and_iso() -> None:
    now = datetime(2026, 5, 31, 23, 59, 0, tzinfo=UTC)
    assert parse_retry_after("Mon, 01 Jun 2026 00:00:00 GMT", now) == 60.0
    assert parse_retry_after("2026-06-01T00:00:00Z", now) == 60.0
    assert parse_retry_after("2020-01-01T00:00:00Z", now) == 0.0
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None


# --- paging ------------------------------------------------------------------------------------


def rows(count: int) -> list[dict[str, Any]]:
    return [
        participant_row(
            name=f"Learner {i}",
            email=f"l{i}@example.edu",
            join=START + timedelta(seconds=i),
            leave=START + timedelta(minutes=45, seconds=i),
            connection=str(16_000_000 + i),
        )
        for i in range(count)
    ]


def test_participants_are_read_across_every_page() -> None:
    fake = ZoomFake()
    provider, recorder, _ = make(fake)
    meeting = provider.create_session(weekly_spec(recurrence=None))
    fake.hold(int(meeting.meeting_id), UUID_PLAIN, START, rows(650))
    records = provider.fetch_attendance(meeting.meeting_id, UUID_PLAIN)
    assert len(records) == 650
    assert len({r.connection_id for r in records}) == 650
    pages = [r for r in api_calls(recorder) if r.url.path.endswith("/participants")]
    assert len(pages) == 3
    assert all(int(p.url.params["page_size"]) <= 300 for p in pages)
    assert "next_page_token" not in pages[0].url.params
    assert pages[1].url.params["next_page_token"] != pages[2].url.params["next_page_token"]


def test_waiting_room_rows_are_not_attendance() -> None:
    fake = ZoomFake()
    provider, _, _ = make(fake)
    meeting = provider.create_session(weekly_spec(recurrence=None))
    waiting = participant_row(
        name="Early", join=START, leave=START + timedelta(minutes=5), status="in_waiting_room"
    )
    fake.hold(int(meeting.meeting_id), UUID_PLAIN, START, [*rows(2), waiting])
    assert [r.display_name for r in provider.fetch_attendance(meeting.meeting_id)] == [
        "Learner 0",
        "Learner 1",
    ]


def test_report_not_generated_yet_falls_back_to_the_past_meeting_list() -> None:
    fake = ZoomFake()
    provider, recorder, _ = make(fake)
    meeting = provider.create_session(weekly_spec(recurrence=None))
    fake.hold(int(meeting.meeting_id), UUID_PLAIN, START, rows(3))
    fake.report_pending.add(UUID_PLAIN)
    assert len(provider.fetch_attendance(meeting.meeting_id, UUID_PLAIN)) == 3
    assert api_calls(recorder)[-1].url.path.startswith("/v2/past_meetings/")
    with pytest.raises(NotFound):
        provider.fetch_attendance(meeting.meeting_id, "NoSuchInstance==")


def test_an_expired_page_token_is_an_error_not_a_short_list() -> None:
    moments = iter([START, START, START + timedelta(minutes=16)])
    fake = ZoomFake()
    provider, _, _ = make(fake)
    meeting = provider.create_session(weekly_spec(recurrence=None))
    fake.hold(int(meeting.meeting_id), UUID_PLAIN, START, rows(400))
    fake.now = lambda: next(moments, START + timedelta(minutes=16))
    fake.tokens = dict.fromkeys(fake.tokens, START + timedelta(days=1))
    with pytest.raises(ProviderError) as caught:
        provider.fetch_attendance(meeting.meeting_id, UUID_PLAIN)
    assert caught.value.code == "sessions.provider_rejected"
    assert "page token" in caught.value.message


def test_recurring_occurrence_is_matched_to_its_held_instance() -> None:
    fake = ZoomFake()
    provider, _, _ = make(fake)
    meeting = provider.create_session(weekly_spec())
    second = meeting.occurrences[1]
    mid = int(meeting.meeting_id)
    fake.hold(mid, UUID_PLAIN, meeting.occurrences[0].start_utc, rows(3))
    fake.hold(mid, UUID_WITH_SLASHES, second.start_utc + timedelta(minutes=4), rows(5))
    assert second.occurrence_id is not None
    records = provider.fetch_attendance(meeting.meeting_id, second.occurrence_id)
    assert len(records) == 5
    assert {r.occurrence_id for r in records} == {second.occurrence_id}
    everything = provider.fetch_attendance(meeting.meeting_id)
    assert {r.occurrence_id for r in everything} == {UUID_PLAIN, UUID_WITH_SLASHES}


def test_network_failure_is_a_provider_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    provider = ZoomProvider(
        fence=public_fence(),
        settings=zoom_settings(),
        client=httpx.Client(transport=httpx.MockTransport(handler)),
    )
    with pytest.raises(ProviderError) as caught:
        provider.meeting("85746065001")
    assert caught.value.code == "sessions.provider_unreachable"
