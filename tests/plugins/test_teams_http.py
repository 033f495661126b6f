"""Teams transport and mapping: token cache/refresh, throttling, paging, event bodies, renewal."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from blendkit_teams import GraphTokenSource, TeamsProvider

from blendkit.errors import (
    ConfigError,
    NotFound,
    ProviderAuthError,
    ProviderError,
    ProviderRateLimited,
)
from blendkit.http import RetryPolicy
from blendkit.sessions import Learner
from tests.fence import public_fence
from tests.plugins.graph_fake import (
    CLIENT_SECRET,
    START,
    GraphFake,
    attendance_record,
    graph_error,
    spec,
    teams_settings,
)
from tests.plugins.vendor_contract import Recorder, json_response


def make(
    fake: GraphFake, *, webhook: bool = True, **kwargs: Any
) -> tuple[TeamsProvider, Recorder, list[float]]:
    """A provider on ``fake``; without ``webhook`` (no client state) scheduling subscribes
    nothing, so the online meeting is first looked up when a test asks for it."""
    recorder = Recorder(fake)
    waits: list[float] = []
    provider = TeamsProvider(
        fence=public_fence(),
        settings=teams_settings() if webhook else teams_settings(client_state=None),
        client=recorder.client(),
        sleep=waits.append,
        **kwargs,
    )
    fake.notification_endpoint = provider.handle_webhook
    return provider, recorder, waits


def graph_calls(recorder: Recorder) -> list[httpx.Request]:
    return [e.request for e in recorder.exchanges if e.request.url.host == "graph.microsoft.com"]


# --- tokens ------------------------------------------------------------------------------------


def test_token_request_is_client_credentials_for_graph() -> None:
    fake = GraphFake()
    provider, recorder, _ = make(fake)
    meeting = provider.create_session(spec(recurrence=None))
    provider.join_url(meeting.meeting_id)
    provider.online_meeting_id(meeting.meeting_id)
    assert fake.token_requests == 1
    token_call = recorder.exchanges[0].request
    assert token_call.url.path.endswith("/oauth2/v2.0/token")
    assert b"scope=https%3A%2F%2Fgraph.microsoft.com%2F.default" in token_call.content
    assert b"grant_type=client_credentials" in token_call.content


def test_expired_token_is_refreshed_once() -> None:
    fake = GraphFake()
    provider, recorder, _ = make(fake, webhook=False)
    meeting = provider.create_session(spec(recurrence=None))
    fake.revoke_tokens()
    provider.online_meeting_id(meeting.meeting_id)
    assert fake.token_requests == 2
    assert [e.response.status_code for e in recorder.exchanges][-3:] == [401, 200, 200]


def test_refused_secret_is_an_auth_error_without_the_secret() -> None:
    fake = GraphFake()
    recorder = Recorder(fake)
    provider = TeamsProvider(
        fence=public_fence(),
        settings=teams_settings(client_secret="not-it"),
        client=recorder.client(),
    )
    with pytest.raises(ProviderAuthError) as caught:
        provider.create_session(spec())
    assert "AADSTS7000215" in caught.value.message
    assert "not-it" not in caught.value.message
    assert CLIENT_SECRET not in caught.value.message


def test_missing_settings_name_the_keys() -> None:
    with pytest.raises(ConfigError) as caught:
        TeamsProvider(fence=public_fence(), settings=teams_settings(organizer=None, tenant_id=None))
    assert "[teams] organizer" in caught.value.message
    assert "[teams] tenant_id" in caught.value.message


# --- throttling --------------------------------------------------------------------------------


def throttled(headers: dict[str, str] | None = None, status: int = 429) -> httpx.Response:
    return json_response(
        status,
        {"error": {"code": "TooManyRequests", "message": "Please retry after"}},
        headers,
    )


def test_429_honours_retry_after() -> None:
    fake = GraphFake()
    provider, _, waits = make(fake)
    fake.faults += [throttled({"Retry-After": "7"})]
    provider.create_session(spec())
    assert waits == [7.0]


def test_429_without_retry_after_backs_off_then_gives_up() -> None:
    fake = GraphFake()
    provider, recorder, waits = make(fake, retry=RetryPolicy(max_retries=2, backoff_seconds=1.5))
    fake.faults += [throttled() for _ in range(5)]
    with pytest.raises(ProviderRateLimited) as caught:
        provider.create_session(spec())
    assert len(waits) == 2
    assert all(0 <= wait <= 1.5 * 2**n for n, wait in enumerate(waits))  # jittered under 1.5, 3 s
    assert len(graph_calls(recorder)) == 3
    assert caught.value.code == "sessions.rate_limited"


def test_503_is_retried_for_reads_but_not_for_creates() -> None:
    fake = GraphFake()
    provider, _recorder, waits = make(fake, webhook=False)
    meeting = provider.create_session(spec(recurrence=None))
    fake.faults += [throttled({"Retry-After": "1"}, status=503)]
    provider.online_meeting_id(meeting.meeting_id)
    assert waits == [1.0]
    fake.faults += [throttled({"Retry-After": "1"}, status=503)]
    before = len(fake.events)
    with pytest.raises(ProviderError) as caught:
        provider.create_session(spec(recurrence=None))
    assert caught.value.code == "sessions.provider_unavailable"
    assert len(fake.events) == before
    assert waits == [1.0]


# --- paging and lookups ------------------------------------------------------------------------


def test_attendance_follows_next_links_to_the_last_page() -> None:
    fake = GraphFake(page_size=3)
    provider, recorder, _ = make(fake)
    meeting = provider.create_session(spec(recurrence=None))
    online = provider.online_meeting_id(meeting.meeting_id)
    people = [
        attendance_record(
            f"r{i}", name=f"P{i}", intervals=[(START, START + timedelta(minutes=i + 1))]
        )
        for i in range(10)
    ]
    fake.hold(online, START, START + timedelta(hours=1), people)
    records = provider.fetch_attendance(meeting.meeting_id)
    assert sorted(r.display_name for r in records) == sorted(f"P{i}" for i in range(10))
    pages = [r for r in graph_calls(recorder) if r.url.path.endswith("/attendanceRecords")]
    assert len(pages) == 4
    assert [r.url.params.get("$skiptoken") for r in pages] == [None, "3", "6", "9"]


def test_next_link_to_another_host_is_refused() -> None:
    fake = GraphFake()
    provider, recorder, _ = make(fake)
    meeting = provider.create_session(spec(recurrence=None))
    provider.online_meeting_id(meeting.meeting_id)
    fake.faults += [
        json_response(200, {"value": [], "@odata.nextLink": "https://evil.example/v1.0/steal"})
    ]
    with pytest.raises(ProviderError) as caught:
        provider.attendance_reports(meeting.meeting_id)
    assert "another host" in caught.value.message
    assert all(e.request.url.host != "evil.example" for e in recorder.exchanges)


def test_occurrence_picks_the_report_of_that_sitting() -> None:
    fake = GraphFake()
    provider, _, _ = make(fake)
    meeting = provider.create_session(spec())
    online = provider.online_meeting_id(meeting.meeting_id)
    first = fake.hold(
        online,
        START,
        START + timedelta(hours=1),
        [attendance_record("a", name="A", intervals=[(START, START + timedelta(minutes=5))])],
    )
    later = START + timedelta(days=2)
    second = fake.hold(
        online,
        later,
        later + timedelta(hours=1),
        [attendance_record("b", name="B", intervals=[(later, later + timedelta(minutes=5))])],
    )
    by_time = provider.fetch_attendance(
        meeting.meeting_id, (later + timedelta(minutes=3)).isoformat()
    )
    by_id = provider.fetch_attendance(meeting.meeting_id, first)
    assert [(r.display_name, r.occurrence_id) for r in by_time] == [("B", second)]
    assert [(r.display_name, r.occurrence_id) for r in by_id] == [("A", first)]
    assert provider.fetch_attendance(meeting.meeting_id, "2020-01-01T00:00:00Z") == []


def test_event_without_teams_meeting_is_reported() -> None:
    fake = GraphFake()
    provider, _, _ = make(fake)
    fake.events["plain"] = {"id": "plain", "subject": "Office hour", "onlineMeeting": None}
    with pytest.raises(NotFound) as caught:
        provider.join_link("plain", Learner(id="u1"))
    assert "isOnlineMeeting" in caught.value.message


def test_online_meeting_not_visible_points_to_the_access_policy() -> None:
    fake = GraphFake()
    provider, _, _ = make(fake, webhook=False)
    meeting = provider.create_session(spec(recurrence=None))
    fake.meetings.clear()  # what Graph shows without an application access policy
    with pytest.raises(NotFound) as caught:
        provider.list_recordings(meeting.meeting_id)
    assert "Grant-CsApplicationAccessPolicy" in caught.value.message


def test_forbidden_names_permissions_and_policy() -> None:
    fake = GraphFake()
    provider, _, _ = make(fake)
    fake.faults += [
        graph_error(
            403, "Forbidden", "Application is not allowed to perform operations on the user"
        )
    ]
    with pytest.raises(ProviderAuthError) as caught:
        provider.create_session(spec())
    assert "application access policy" in caught.value.message


# --- subscriptions -----------------------------------------------------------------------------


def test_subscriptions_are_renewed_before_they_expire() -> None:
    fake = GraphFake()
    provider, _, _ = make(fake)
    meeting = provider.create_session(spec(recurrence=None))
    manager = provider.subscriptions
    assert manager is not None
    t0 = datetime(2026, 3, 3, 8, 0, tzinfo=UTC)
    made = manager.subscribe(
        provider.online_meeting_id(meeting.meeting_id), provider.notification_url, now=t0
    )
    assert made.expires_at == t0 + timedelta(days=2)
    assert manager.renew_due(now=t0 + timedelta(hours=12)).renewed == ()
    renewed = manager.renew_due(now=t0 + timedelta(hours=30)).renewed
    assert [s.id for s in renewed] == [made.id]
    assert renewed[0].expires_at == t0 + timedelta(hours=30, days=2)
    assert fake.subscriptions[made.id]["expirationDateTime"].startswith("2026-03-06T14:00:00")
    assert manager.expiry(made.id) == renewed[0].expires_at


def test_a_subscription_graph_no_longer_has_is_dropped_quietly() -> None:
    """Graph lists a subscription, then answers 404 to its renewal (it expired meanwhile)."""
    fake = GraphFake()
    provider, _, _ = make(fake)
    manager = provider.subscriptions
    assert manager is not None
    t0 = datetime(2026, 3, 3, 8, 0, tzinfo=UTC)
    made = manager.subscribe("b25saW5l", provider.notification_url, now=t0)
    listed = fake.subscriptions.copy()

    def vanish(request: httpx.Request) -> httpx.Response:
        answer = GraphFake.__call__(fake, request)
        if request.method == "GET":
            fake.subscriptions.clear()  # gone between the listing and the renewal
        return answer

    client = httpx.Client(transport=httpx.MockTransport(vanish))
    fresh = TeamsProvider(
        fence=public_fence(), settings=teams_settings(), client=client, sleep=lambda _: None
    )
    assert fresh.subscriptions is not None
    outcome = fresh.subscriptions.renew_due(now=t0 + timedelta(days=1, hours=12))
    assert outcome.gone == (made.id,)
    assert outcome.renewed == outcome.failed == ()
    assert fresh.renew_subscriptions(t0) == 0  # nothing listed any more, nothing raised
    assert set(listed) == {made.id}
    assert len(fake.validations) == 1, "nothing was created again"


def test_subscription_fails_when_the_endpoint_does_not_echo_the_token() -> None:
    fake = GraphFake()
    provider, _, _ = make(fake)
    meeting = provider.create_session(spec(recurrence=None))
    fake.notification_endpoint = None
    with pytest.raises(ProviderError) as caught:
        provider.subscribe(meeting.meeting_id)
    assert caught.value.code == "sessions.provider_rejected"
    assert "ValidationError" in caught.value.message


def test_graph_token_is_fetched_once_by_concurrent_callers() -> None:
    fetched = 0
    gate = threading.Event()

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal fetched
        fetched += 1
        gate.wait(1)
        return json_response(200, {"access_token": "shared", "expires_in": 3599})

    source = GraphTokenSource(
        fence=public_fence(),
        tenant_id="t",
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
