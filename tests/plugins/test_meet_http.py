"""The Meet plugin's HTTP behaviour: tokens (delegation, refresh, expiry), throttling with
``Retry-After``, retries only where safe, paging, hosts, and clear configuration errors."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from blendkit_meet import GoogleApi, GoogleTokenSource, MeetProvider, MeetSettings

from blendkit.errors import (
    ConfigError,
    NotFound,
    ProviderAuthError,
    ProviderError,
    ProviderRateLimited,
)
from tests.fence import public_fence
from tests.plugins.google_fake import (
    CLIENT_ID,
    SERVICE_ACCOUNT,
    TOKEN_URI,
    GoogleFake,
    meet_settings,
    service_account_info,
    write_key,
)
from tests.plugins.graph_fake import spec

EVENTS = r"/calendar/v3/calendars/[^/]+/events"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make(
    tmp_path: Path,
    fake: GoogleFake,
    *,
    sleeps: list[float] | None = None,
    clock: Callable[[], float] | None = None,
    **meet: Any,
) -> MeetProvider:
    waits = sleeps if sleeps is not None else []
    return MeetProvider(
        meet_settings(write_key(tmp_path), **meet),
        client=fake.client(),
        fence=public_fence(),
        sleep=waits.append,
        clock=clock or Clock(),
    )


# --- tokens ------------------------------------------------------------------------------------


def test_one_token_serves_many_calls(tmp_path: Path) -> None:
    fake = GoogleFake()
    provider = make(tmp_path, fake)
    meeting = provider.create_session(spec(recurrence=None))
    provider.update_session(meeting.meeting_id, spec(recurrence=None, title="Again"))
    assert len(fake.grants) == 1
    assert fake.grants[0]["iss"] == SERVICE_ACCOUNT
    assert fake.grants[0]["sub"] == fake.organizer


def test_a_401_drops_the_token_and_retries_once(tmp_path: Path) -> None:
    fake = GoogleFake()
    provider = make(tmp_path, fake)
    meeting = provider.create_session(spec(recurrence=None))
    fake.revoke_tokens()  # revoked or expired early at Google
    provider.update_session(meeting.meeting_id, spec(recurrence=None, title="Again"))
    assert len(fake.grants) == 2
    statuses = [r.method for r in fake.api_requests()][-2:]
    assert statuses == ["PATCH", "PATCH"]


def test_a_second_401_is_an_auth_error(tmp_path: Path) -> None:
    fake = GoogleFake()
    provider = make(tmp_path, fake)
    fake.fail("PATCH", EVENTS, 401, times=2)
    with pytest.raises(ProviderAuthError, match="domain-wide delegation grants the scopes"):
        provider.update_session("evt0001", spec())
    assert len(fake.grants) == 2


def test_a_token_expiring_mid_import_is_renewed_before_the_next_page(tmp_path: Path) -> None:
    fake = GoogleFake(page_size=1, token_lifetime=3600)
    clock = Clock()
    provider = make(tmp_path, fake, clock=clock)
    meeting = provider.create_session(spec())
    pages = provider.api.pages(
        f"https://www.googleapis.com/calendar/v3/calendars/{fake.organizer}/events/"
        f"{meeting.meeting_id}/instances",
        None,
        "items",
    )
    seen = [next(pages)["id"], next(pages)["id"]]
    clock.now += 3600 - 299  # inside the refresh margin: the next page uses a new token
    seen += [item["id"] for item in pages]
    assert len(seen) == len(meeting.occurrences)
    assert len(fake.grants) == 2
    tokens = [r.headers["authorization"] for r in fake.api_requests()]
    assert tokens[-1] != tokens[0]


def test_missing_delegation_names_the_client_id_and_every_scope(tmp_path: Path) -> None:
    fake = GoogleFake(delegated=frozenset({"https://www.googleapis.com/auth/calendar.events"}))
    provider = make(tmp_path, fake)
    with pytest.raises(ProviderAuthError) as caught:
        provider.create_session(spec())
    message = caught.value.message
    assert "HTTP 401, unauthorized_client" in message
    assert f"client id {CLIENT_ID}" in message
    for scope in provider.tokens.scopes:
        assert scope in message
    assert "PRIVATE KEY" not in message
    assert fake.api_requests() == []


def test_an_invalid_grant_names_the_organiser(tmp_path: Path) -> None:
    fake = GoogleFake()
    fake.fail("POST", TOKEN_URI, 400, body={"error": "invalid_grant", "error_description": "x"})
    provider = make(tmp_path, fake)
    with pytest.raises(ProviderAuthError, match=f"check that {fake.organizer} is an active user"):
        provider.create_session(spec())


def test_a_throttled_token_endpoint_is_waited_for(tmp_path: Path) -> None:
    fake = GoogleFake()
    fake.fail("POST", TOKEN_URI, 429, headers={"retry-after": "3"})
    sleeps: list[float] = []
    provider = make(tmp_path, fake, sleeps=sleeps)
    provider.create_session(spec(recurrence=None))
    assert sleeps[0] == 3.0
    assert len(fake.grants) == 1


def test_a_failing_token_endpoint_gives_up_as_unavailable(tmp_path: Path) -> None:
    fake = GoogleFake()
    fake.fail("POST", TOKEN_URI, 503, times=10)
    provider = make(tmp_path, fake)
    with pytest.raises(ProviderError) as caught:
        provider.create_session(spec())
    assert caught.value.code == "sessions.provider_unavailable"
    assert len([r for r in fake.requests if str(r.url) == TOKEN_URI]) == 4


def test_the_token_source_reports_its_lifetime(tmp_path: Path) -> None:
    del tmp_path
    fake = GoogleFake(token_lifetime=1200)
    clock = Clock()
    tokens = GoogleTokenSource(
        service_account_info(),
        scopes=("https://www.googleapis.com/auth/calendar.events",),
        subject=fake.organizer,
        client=fake.client(),
        fence=public_fence(),
        clock=clock,
    )
    first = tokens.token()
    clock.now += 1200 - 301
    assert tokens.token() == first
    clock.now += 2
    assert tokens.token() != first
    assert tokens.fetch_count == 2


# --- throttling and retries --------------------------------------------------------------------


def test_429_is_retried_after_retry_after_even_for_a_create(tmp_path: Path) -> None:
    fake = GoogleFake()
    fake.fail("POST", EVENTS, 429, times=2, headers={"retry-after": "7"})
    sleeps: list[float] = []
    provider = make(tmp_path, fake, sleeps=sleeps)
    provider.create_session(spec(recurrence=None))
    assert sleeps == [7.0, 7.0]
    assert len(fake.events) == 1


def test_503_is_retried_for_reads_and_updates(tmp_path: Path) -> None:
    fake = GoogleFake()
    sleeps: list[float] = []
    provider = make(tmp_path, fake, sleeps=sleeps)
    meeting = provider.create_session(spec(recurrence=None))
    fake.fail("PATCH", EVENTS, 503, headers={"retry-after": "2"})
    provider.update_session(meeting.meeting_id, spec(recurrence=None, title="New"))
    assert sleeps == [2.0]
    assert fake.events[meeting.meeting_id]["summary"] == "New"


def test_503_on_a_create_is_not_repeated(tmp_path: Path) -> None:
    fake = GoogleFake()
    fake.fail("POST", EVENTS, 503, headers={"retry-after": "1"})
    provider = make(tmp_path, fake)
    with pytest.raises(ProviderError) as caught:
        provider.create_session(spec())
    assert caught.value.code == "sessions.provider_unavailable"
    assert len([r for r in fake.api_requests() if r.method == "POST"]) == 1


def test_throttling_that_does_not_end_is_rate_limited(tmp_path: Path) -> None:
    fake = GoogleFake()
    fake.fail("GET", EVENTS, 429, times=10, headers={"retry-after": "1"})
    provider = make(tmp_path, fake)
    with pytest.raises(ProviderRateLimited) as caught:
        provider.space("evt0001")
    assert caught.value.retry_after == 1.0
    assert "after 4 attempt(s)" in caught.value.message


def test_calendar_rate_limits_in_403s_are_rate_limited(tmp_path: Path) -> None:
    fake = GoogleFake()
    body = {
        "error": {
            "code": 403,
            "message": "Rate Limit Exceeded",
            "errors": [{"reason": "rateLimitExceeded", "domain": "usageLimits"}],
        }
    }
    fake.fail("GET", EVENTS, 403, body=body)
    provider = make(tmp_path, fake)
    with pytest.raises(ProviderRateLimited, match="rateLimitExceeded"):
        provider.space("evt0001")


def test_a_missing_event_is_not_found(tmp_path: Path) -> None:
    provider = make(tmp_path, GoogleFake())
    with pytest.raises(NotFound) as caught:
        provider.space("nope")
    assert caught.value.code == "sessions.meeting_not_found"


# --- paging and hosts --------------------------------------------------------------------------


def _api(handler: Callable[[httpx.Request], httpx.Response]) -> GoogleApi:
    class Fixed:
        def token(self) -> str:
            return "t"

        def invalidate(self, token: str) -> None:
            del token

    client = httpx.Client(transport=httpx.MockTransport(handler))
    return GoogleApi(Fixed(), client, fence=public_fence(), sleep=lambda s: None)


def test_pages_follow_next_page_tokens_to_the_end() -> None:
    seen: list[str | None] = []

    def handler(request: httpx.Request) -> httpx.Response:
        token = request.url.params.get("pageToken")
        seen.append(token)
        page = int(token or "0")
        body: dict[str, Any] = {"items": [{"n": page * 2}, {"n": page * 2 + 1}]}
        if page < 2:
            body["nextPageToken"] = str(page + 1)
        return httpx.Response(200, json=body)

    api = _api(handler)
    url = "https://admin.googleapis.com/admin/directory/v1/users"
    items = list(api.pages(url, {"domain": "school.edu"}, "items"))
    assert [i["n"] for i in items] == list(range(6))
    assert seen == [None, "1", "2"]


def test_a_repeated_page_token_ends_the_list() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"items": [{"n": 1}], "nextPageToken": "same"})

    api = _api(handler)
    items = list(api.pages("https://meet.googleapis.com/v2/conferenceRecords", None, "items"))
    assert len(items) == 2


def test_tokens_only_go_to_googleapis_hosts() -> None:
    api = _api(lambda request: httpx.Response(200, json={}))
    with pytest.raises(ProviderError, match="only https"):
        api.get("https://meet.google.com/abc-defg-hij")
    with pytest.raises(ProviderError, match="only https"):
        api.get("https://googleapis.com.example.org/v1/x")


# --- configuration -----------------------------------------------------------------------------


def test_missing_settings_name_the_keys() -> None:
    with pytest.raises(ConfigError) as caught:
        MeetProvider(meet_settings(None, organizer=None), client=GoogleFake().client())
    message = caught.value.message
    assert "[meet] service_account_file" in message
    assert "[meet] organizer" in message
    assert "\n" not in message


def test_the_organiser_must_be_an_address(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="e-mail address of a Workspace user"):
        MeetProvider(meet_settings(write_key(tmp_path), organizer="teacher"))


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (None, "does not exist"),
        ("{not json", "is not JSON (line 1)"),
        ("[1, 2]", "is not a JSON object"),
        (json.dumps({"type": "authorized_user", "client_id": "x"}), "not a service account key"),
        (json.dumps({"type": "service_account", "client_email": "a@b"}), "lacks client_id"),
    ],
)
def test_a_bad_key_file_names_the_path_and_the_reason(
    tmp_path: Path, content: str | None, reason: str
) -> None:
    path = tmp_path / "key.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        MeetSettings(service_account_file=path, organizer="t@school.edu").service_account_info()
    assert str(path) in caught.value.message
    assert reason in caught.value.message


def test_a_key_google_auth_cannot_use_never_shows_the_key(tmp_path: Path) -> None:
    bogus = "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n"
    path = write_key(tmp_path, private_key=bogus)
    with pytest.raises(ConfigError) as caught:
        MeetProvider(meet_settings(path), client=GoogleFake().client())
    assert "cannot use" in caught.value.message
    assert "bm90IGEga2V5" not in caught.value.message
    assert caught.value.__cause__ is None


def test_a_foreign_token_uri_is_refused(tmp_path: Path) -> None:
    path = write_key(tmp_path, token_uri="https://tokens.example.org/token")
    with pytest.raises(ConfigError, match=r"token_uri outside googleapis\.com"):
        MeetProvider(meet_settings(path), client=GoogleFake().client())


@pytest.mark.skipif(not hasattr(os, "getuid") or os.getuid() == 0, reason="root reads every file")
def test_an_unreadable_key_file_says_so(tmp_path: Path) -> None:
    path = write_key(tmp_path)
    path.chmod(0)
    with pytest.raises(ConfigError, match=r"cannot be read \(Permission denied"):
        MeetSettings(service_account_file=path, organizer="t@school.edu").service_account_info()


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from blendkit.config import Settings

    monkeypatch.setenv("BLENDKIT_MEET_ORGANIZER", "t@school.edu")
    monkeypatch.setenv("BLENDKIT_MEET_ACCESS_TYPE", "RESTRICTED")
    meet = MeetSettings.of(Settings())
    assert meet.organizer == "t@school.edu"
    assert meet.access_type == "RESTRICTED"
    assert meet.invite_roster is True
