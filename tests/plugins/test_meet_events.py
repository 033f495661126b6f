"""Meet events: Pub/Sub push OIDC verification, CloudEvent mapping, dedupe, subscriptions."""

from __future__ import annotations

import base64
import json
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
from blendkit_meet import (
    GoogleApi,
    GoogleTokenSource,
    MeetProvider,
    MeetSettings,
    organizer_scopes,
)
from blendkit_meet._events import (
    CONFERENCE_ENDED,
    MEET_EVENT_TYPES,
    RECORDING_READY,
    TRANSCRIPT_READY,
    CloudEvent,
    MeetEventHandler,
)
from blendkit_meet._push import CertCache, PushVerifier, cache_seconds
from blendkit_meet._subscriptions import SubscriptionManager
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from blendkit.errors import BlendkitError, ConfigError, ProviderError, WebhookRejected
from blendkit.http import Fence, OutboundPolicy
from blendkit.sessions import (
    GenericEvent,
    MeetingEnded,
    MeetingProvider,
    MemoryEventLedger,
    RecordingCompleted,
    RecordingKind,
    SubscriptionRenewer,
    WebhookRequest,
    WebhookResult,
    handle_webhook_once,
)
from tests.fence import public_fence
from tests.plugins.google_discovery import require_specs, shaped
from tests.plugins.google_fake import (
    ORGANIZER,
    GoogleFake,
    google_error,
    meet_settings,
    service_account_info,
    write_key,
)
from tests.plugins.graph_fake import START, spec
from tests.plugins.meet_push import (
    AUDIENCE,
    CERTS_URL,
    PUSHER,
    SPACE,
    CertsEndpoint,
    SigningKey,
    claims,
    google_request,
    push,
    push_body,
)

ENDED = {"conferenceRecord": {"name": "conferenceRecords/cr-1"}}


@pytest.fixture(scope="module")
def google_key() -> SigningKey:
    return SigningKey.generate("google-kid-1")


@pytest.fixture(scope="module")
def forger_key() -> SigningKey:
    return SigningKey.generate("google-kid-1")  # same key id, a key Google never published


@pytest.fixture
def certs(google_key: SigningKey) -> CertsEndpoint:
    return CertsEndpoint([google_key])


@pytest.fixture
def clock() -> list[float]:
    return [1000.0]


@pytest.fixture
def verifier(certs: CertsEndpoint, clock: list[float]) -> PushVerifier:
    cache = CertCache(google_request(certs), clock=lambda: clock[0])
    return PushVerifier(AUDIENCE, PUSHER, cache)


@pytest.fixture
def handler(verifier: PushVerifier) -> MeetEventHandler:
    return MeetEventHandler(verifier)


def _refused(handler: MeetEventHandler, request: WebhookRequest) -> WebhookRejected:
    with pytest.raises(WebhookRejected) as info:
        handler.handle(request)
    return info.value


# --- push verification ----------------------------------------------------------------------------


def test_a_push_signed_by_google_for_our_audience_and_account_is_accepted(
    handler: MeetEventHandler, google_key: SigningKey
) -> None:
    result = handler.handle(push(push_body(CONFERENCE_ENDED, ENDED), google_key.sign(claims())))
    assert result.response.status == 204
    (event,) = result.events
    assert isinstance(event, MeetingEnded)
    assert event.meeting_id == SPACE
    assert event.provider == "meet"
    assert event.occurred_at is not None
    assert event.occurred_at.isoformat().startswith("2026-12-07")


@pytest.mark.parametrize(
    ("token_claims", "code", "status"),
    [
        (claims(exp=1_600_000_000, iat=1_599_999_000), "sessions.webhook_stale", 401),
        (claims(aud="https://elsewhere.example/push"), "sessions.webhook_wrong_audience", 401),
        (claims(iss="https://evil.example.com"), "sessions.webhook_wrong_audience", 401),
        (claims(email="other@evil.iam.gserviceaccount.com"), "sessions.webhook_wrong_sender", 403),
        (claims(email_verified=False), "sessions.webhook_wrong_sender", 403),
        (claims(email_verified=None), "sessions.webhook_wrong_sender", 403),
        (claims(email=None), "sessions.webhook_wrong_sender", 403),
    ],
    ids=[
        "expired",
        "wrong-audience",
        "wrong-issuer",
        "wrong-email",
        "unverified-email",
        "no-email-verified",
        "no-email",
    ],
)
def test_tokens_google_signed_but_not_for_us_are_refused_with_the_reason(
    handler: MeetEventHandler,
    google_key: SigningKey,
    token_claims: dict[str, Any],
    code: str,
    status: int,
    caplog: pytest.LogCaptureFixture,
) -> None:
    token = google_key.sign(token_claims)
    with caplog.at_level(logging.WARNING, logger="blendkit_meet"):
        refused = _refused(handler, push(push_body(CONFERENCE_ENDED, ENDED), token))
    assert (refused.code, refused.http_status) == (code, status)
    assert code in caplog.text
    assert token not in caplog.text
    assert token not in refused.message
    for segment in token.split("."):
        assert segment not in caplog.text
        assert segment not in refused.message


def test_a_forged_signature_is_refused(
    handler: MeetEventHandler, forger_key: SigningKey, caplog: pytest.LogCaptureFixture
) -> None:
    token = forger_key.sign(claims())
    with caplog.at_level(logging.WARNING, logger="blendkit_meet"):
        refused = _refused(handler, push(push_body(CONFERENCE_ENDED, ENDED), token))
    assert refused.code == "sessions.webhook_bad_signature"
    assert "not signed by Google" in refused.message
    assert token not in caplog.text


def test_a_token_whose_payload_was_edited_is_refused(
    handler: MeetEventHandler, google_key: SigningKey
) -> None:
    header, _, signature = google_key.sign(claims(aud="https://elsewhere.example")).split(".")
    payload = base64.urlsafe_b64encode(json.dumps(claims()).encode()).rstrip(b"=").decode()
    refused = _refused(
        handler, push(push_body(CONFERENCE_ENDED, ENDED), f"{header}.{payload}.{signature}")
    )
    assert refused.code == "sessions.webhook_bad_signature"


def test_an_unsigned_token_is_refused(handler: MeetEventHandler) -> None:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    token = f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims())}."
    refused = _refused(handler, push(push_body(CONFERENCE_ENDED, ENDED), token))
    assert refused.code == "sessions.webhook_bad_signature"


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Basic dXNlcjpwYXNz", "Bearer", "Bearer not-a-jwt", "Bearer a.b.c." + "x" * 9000],
)
def test_missing_or_garbled_authorization_is_refused(
    handler: MeetEventHandler, certs: CertsEndpoint, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"authorization": authorization}
    request = WebhookRequest(headers=headers, body=push_body(CONFERENCE_ENDED, ENDED))
    refused = _refused(handler, request)
    assert refused.code in {"sessions.webhook_unsigned", "sessions.webhook_bad_signature"}
    assert refused.http_status == 401
    assert certs.fetches == 0  # refused before any certificate fetch


def test_a_verifier_without_audience_or_account_refuses_and_says_what_to_set(
    certs: CertsEndpoint, google_key: SigningKey
) -> None:
    for audience, account in ((None, PUSHER), (AUDIENCE, None), ("", "")):
        handler = MeetEventHandler(PushVerifier(audience, account, google_request(certs)))
        refused = _refused(
            handler, push(push_body(CONFERENCE_ENDED, ENDED), google_key.sign(claims()))
        )
        assert refused.code == "sessions.webhook_not_configured"
        assert "push_audience" in refused.message
        assert "push_service_account" in refused.message


def test_the_service_account_is_compared_without_case(
    certs: CertsEndpoint, google_key: SigningKey
) -> None:
    handler = MeetEventHandler(PushVerifier(AUDIENCE, PUSHER.upper(), google_request(certs)))
    token = google_key.sign(claims(iss="accounts.google.com"))
    assert handler.handle(push(push_body(CONFERENCE_ENDED, ENDED), token)).events


def test_certificates_unreachable_answers_a_retryable_error(
    handler: MeetEventHandler, certs: CertsEndpoint, google_key: SigningKey
) -> None:
    certs.status = 503
    with pytest.raises(ProviderError) as info:
        handler.handle(push(push_body(CONFERENCE_ENDED, ENDED), google_key.sign(claims())))
    assert info.value.code == "sessions.provider_unavailable"
    assert not isinstance(info.value, WebhookRejected)


def test_the_certificate_fetch_goes_through_the_outbound_fence(
    certs: CertsEndpoint, google_key: SigningKey
) -> None:
    def private(host: str, port: int) -> list[str]:
        del host, port
        return ["10.0.0.7"]  # DNS pointing www.googleapis.com at an internal address

    fence = Fence(OutboundPolicy(), resolver=private)
    handler = MeetEventHandler(PushVerifier(AUDIENCE, PUSHER, google_request(certs, fence=fence)))
    with pytest.raises(BlendkitError) as info:
        handler.handle(push(push_body(CONFERENCE_ENDED, ENDED), google_key.sign(claims())))
    assert not isinstance(info.value, WebhookRejected)
    assert certs.fetches == 0


# --- certificate cache ----------------------------------------------------------------------------


def test_a_push_storm_fetches_the_certificates_once_while_max_age_lasts(
    handler: MeetEventHandler, certs: CertsEndpoint, google_key: SigningKey, clock: list[float]
) -> None:
    token = google_key.sign(claims())
    results: list[int] = []

    def deliver(n: int) -> None:
        body = push_body(CONFERENCE_ENDED, ENDED, event_id=f"ev-{n}")
        results.append(len(handler.handle(push(body, token)).events))

    threads = [threading.Thread(target=deliver, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [1] * 20
    assert certs.fetches == 1
    clock[0] += 21_599
    deliver(99)
    assert certs.fetches == 1
    clock[0] += 2  # max-age=21600 has passed
    deliver(100)
    assert certs.fetches == 2


def test_a_key_google_added_since_the_last_fetch_is_found_but_unknown_keys_do_not_refetch(
    certs: CertsEndpoint, google_key: SigningKey, clock: list[float]
) -> None:
    handler = MeetEventHandler(
        PushVerifier(AUDIENCE, PUSHER, CertCache(google_request(certs), clock=lambda: clock[0]))
    )
    body = push_body(CONFERENCE_ENDED, ENDED)
    assert handler.handle(push(body, google_key.sign(claims()))).events
    rotated = SigningKey.generate("google-kid-2")
    certs.keys.append(rotated)
    # Fetched moments ago: a token naming an unknown key does not refetch (no refetch storm).
    assert _refused(handler, push(body, rotated.sign(claims()))).code == (
        "sessions.webhook_bad_signature"
    )
    assert certs.fetches == 1
    clock[0] += 120
    assert handler.handle(push(body, rotated.sign(claims()))).events
    assert certs.fetches == 2
    stranger = SigningKey.generate("made-up-kid")
    assert _refused(handler, push(body, stranger.sign(claims()))).code == (
        "sessions.webhook_bad_signature"
    )
    assert certs.fetches == 2


@given(
    max_age=st.integers(min_value=0, max_value=10**7),
    age=st.integers(min_value=0, max_value=10**7),
    extra=st.sampled_from(["", "public, ", "private, must-revalidate, "]),
)
def test_cache_lifetime_is_max_age_minus_age(max_age: int, age: int, extra: str) -> None:
    headers = {"Cache-Control": f"{extra}max-age={max_age}, no-transform", "Age": str(age)}
    assert cache_seconds(headers) == max(0, max_age - age)


def test_cache_lifetime_without_max_age_or_with_no_store() -> None:
    assert cache_seconds({}, default=42) == 42
    assert cache_seconds({"cache-control": "no-store, max-age=600"}) == 0
    assert cache_seconds({"cache-control": "no-cache"}) == 0


def test_certificates_marked_no_store_are_fetched_again(
    certs: CertsEndpoint, google_key: SigningKey
) -> None:
    certs.cache_control = "no-store"
    handler = MeetEventHandler(PushVerifier(AUDIENCE, PUSHER, google_request(certs)))
    token = google_key.sign(claims())
    for n in range(3):
        handler.handle(push(push_body(CONFERENCE_ENDED, ENDED, event_id=str(n)), token))
    assert certs.fetches == 3


# --- event mapping --------------------------------------------------------------------------------


@pytest.fixture
def token(google_key: SigningKey) -> str:
    return google_key.sign(claims())


@pytest.mark.parametrize(
    ("event_type", "key", "kind"),
    [
        (RECORDING_READY, "recording", RecordingKind.VIDEO),
        (TRANSCRIPT_READY, "transcript", RecordingKind.TRANSCRIPT),
    ],
)
def test_recording_and_transcript_files_become_recordings(
    handler: MeetEventHandler, token: str, event_type: str, key: str, kind: RecordingKind
) -> None:
    name = f"conferenceRecords/cr-1/{key}s/file-7"
    result = handler.handle(push(push_body(event_type, {key: {"name": name}}), token))
    (event,) = result.events
    assert isinstance(event, RecordingCompleted)
    (recording,) = event.recordings
    assert (recording.provider_id, recording.kind, recording.meeting_id) == (name, kind, SPACE)
    assert recording.extras == {"space": SPACE, "conference_record": "conferenceRecords/cr-1"}


def test_the_space_is_turned_into_the_session_meeting_id(
    verifier: PushVerifier, token: str
) -> None:
    asked: list[str] = []

    def meeting_of(space: str) -> str | None:
        asked.append(space)
        return "calendar-event-42" if space == SPACE else None

    handler = MeetEventHandler(verifier, meeting_of=meeting_of)
    (event,) = handler.handle(push(push_body(CONFERENCE_ENDED, ENDED), token)).events
    assert event.meeting_id == "calendar-event-42"
    other = push_body(CONFERENCE_ENDED, ENDED, subject="//meet.googleapis.com/spaces/unknown")
    (event,) = handler.handle(push(other, token)).events
    assert event.meeting_id is None  # a space blendkit did not schedule: nothing to import
    joined = push_body("google.workspace.meet.participant.v2.joined", {})
    assert handler.handle(push(joined, token)).events == ()
    assert asked == [SPACE, "spaces/unknown"]  # no lookup for a type blendkit ignores


def test_redeliveries_are_processed_once(handler: MeetEventHandler, token: str) -> None:
    provider = cast("MeetingProvider", _Provider(handler))
    ledger = MemoryEventLedger()
    body = push_body(CONFERENCE_ENDED, ENDED, event_id="ev-9", message_id="111")
    first = handle_webhook_once(provider, push(body, token), ledger)
    redelivered = push_body(CONFERENCE_ENDED, ENDED, event_id="ev-9", message_id="111")
    again = handle_webhook_once(provider, push(redelivered, token), ledger)
    assert len(first.events) == 1
    assert again.events == ()
    assert again.response.status == 204  # acknowledged, so Pub/Sub stops redelivering
    other = push_body(CONFERENCE_ENDED, ENDED, event_id="ev-10")
    assert len(handle_webhook_once(provider, push(other, token), ledger).events) == 1


def test_unknown_event_types_are_acknowledged_and_logged_once(
    handler: MeetEventHandler, token: str, caplog: pytest.LogCaptureFixture
) -> None:
    kind = "google.workspace.meet.participant.v2.joined"
    with caplog.at_level(logging.INFO, logger="blendkit_meet"):
        for n in range(3):
            result = handler.handle(push(push_body(kind, {}, event_id=str(n)), token))
            assert result.response.status == 204
            assert result.events == ()
    assert caplog.text.count(kind) == 1


def test_subscription_lifecycle_events_are_kept_as_generic_events(
    handler: MeetEventHandler, token: str
) -> None:
    kind = "google.workspace.events.subscription.v1.expirationReminder"
    body = push_body(
        kind,
        {"subscription": {"name": "subscriptions/meet-sub-1"}},
        subject="//workspaceevents.googleapis.com/subscriptions/meet-sub-1",
    )
    (event,) = handler.handle(push(body, token)).events
    assert isinstance(event, GenericEvent)
    assert event.name == kind
    assert event.meeting_id is None


def _raw(message: object) -> bytes:
    return json.dumps({"message": message, "subscription": "projects/p/subscriptions/s"}).encode()


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"not json", "not valid JSON"),
        (b"[]", "no 'message'"),
        (_raw("text"), "no 'message'"),
        (_raw({"data": ""}), "no 'attributes'"),
        (_raw({"attributes": {"ce-id": 5}}), "no 'attributes'"),
        (_raw({"attributes": {"ce-type": CONFERENCE_ENDED}}), "'ce-id'"),
        (_raw({"attributes": {"ce-id": "1"}}), "'ce-type'"),
        (push_body(CONFERENCE_ENDED, ENDED, time_="yesterday"), "ce-time"),
        (push_body(CONFERENCE_ENDED, None), "names no conferenceRecord"),
        (push_body(CONFERENCE_ENDED, {"conferenceRecord": {}}), "names no conferenceRecord"),
        (push_body(RECORDING_READY, {"transcript": {"name": "x"}}), "names no recording"),
        (push_body(CONFERENCE_ENDED, ENDED, subject="//drive.googleapis.com/files/1"), "space"),
        (push_body(CONFERENCE_ENDED, ENDED, subject=""), "space"),
    ],
)
def test_malformed_pushes_are_refused_with_the_reason(
    handler: MeetEventHandler, token: str, body: bytes, reason: str
) -> None:
    refused = _refused(handler, push(body, token))
    assert refused.code == "sessions.webhook_malformed"
    assert reason in refused.message


@pytest.mark.parametrize("data", ["%%%", "e30", 5])
def test_data_that_is_not_base64_json_is_refused(
    handler: MeetEventHandler, token: str, data: object
) -> None:
    message = json.loads(push_body(CONFERENCE_ENDED, ENDED))["message"]
    message["data"] = data
    refused = _refused(handler, push(_raw(message), token))
    assert refused.code == "sessions.webhook_malformed"


def test_data_that_is_json_but_not_an_object_is_refused(
    handler: MeetEventHandler, token: str
) -> None:
    message = json.loads(push_body(CONFERENCE_ENDED, ENDED))["message"]
    message["data"] = base64.b64encode(b"[1, 2]").decode()
    assert "not a JSON object" in _refused(handler, push(_raw(message), token)).message


def test_only_posts_are_pushes(handler: MeetEventHandler, token: str) -> None:
    request = push(push_body(CONFERENCE_ENDED, ENDED), token, method="GET")
    assert _refused(handler, request).code == "sessions.webhook_malformed"


def test_the_token_is_verified_before_the_body_is_read(handler: MeetEventHandler) -> None:
    assert _refused(handler, push(b"not json", None)).code == "sessions.webhook_unsigned"


class _Provider:
    """Enough of a MeetingProvider for handle_webhook_once."""

    name = "meet"

    def __init__(self, handler: MeetEventHandler) -> None:
        self.handle_webhook: Callable[[WebhookRequest], Any] = handler.handle


# --- Workspace Events subscriptions ---------------------------------------------------------------

EVENTS = "https://workspaceevents.googleapis.com/v1"
NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
WEEK = timedelta(days=7)


@dataclass
class WorkspaceEvents:
    """Workspace Events subscriptions and operations on top of the fake Google."""

    fake: GoogleFake
    now: datetime = NOW
    pending_polls: int = 0
    """How many times an operation answers ``done: false`` before it is done."""
    page_size: int = 2
    subscriptions: dict[str, dict[str, Any]] = field(default_factory=dict)
    operations: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    filters: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        base = re.escape(EVENTS)
        self.fake.route("POST", base + "/subscriptions", self._create)
        self.fake.route("GET", base + "/subscriptions", self._list)
        self.fake.route("PATCH", base + r"/subscriptions/(?P<id>[^/]+)", self._patch)
        self.fake.route("DELETE", base + r"/subscriptions/(?P<id>[^/]+)", self._delete)
        self.fake.route("GET", base + r"/operations/(?P<id>[^/]+)", self._operation)

    def add(self, space: str, expires_at: datetime, state: str = "ACTIVE") -> str:
        name = f"subscriptions/sub-{len(self.subscriptions) + 1}"
        self.subscriptions[name] = shaped(
            "workspaceevents",
            "Subscription",
            name=name,
            targetResource=f"//meet.googleapis.com/{space}",
            eventTypes=list(MEET_EVENT_TYPES),
            notificationEndpoint={"pubsubTopic": TOPIC},
            expireTime=_stamp(expires_at),
            state=state,
            uid=name.rsplit("-", 1)[1],
        )
        return name

    def _expiry(self, ttl: str) -> str:
        seconds = int(ttl.removesuffix("s"))
        return _stamp(self.now + (timedelta(seconds=seconds) if seconds else WEEK))

    def _operation_for(self, response: dict[str, Any] | None) -> httpx.Response:
        name = f"operations/op-{len(self.operations) + 1}"
        done = dict(response or {})
        if response is not None:
            done["@type"] = "type.googleapis.com/google.apps.events.subscriptions.v1.Subscription"
        final = shaped("workspaceevents", "Operation", name=name, done=True, response=done)
        waiting = [shaped("workspaceevents", "Operation", name=name, done=False)]
        self.operations[name] = waiting * self.pending_polls + [final]
        return httpx.Response(200, json=self.operations[name].pop(0))

    def _operation(self, request: httpx.Request, match: re.Match[str]) -> httpx.Response:
        del request
        answers = self.operations.get(f"operations/{match['id']}")
        if not answers:
            return google_error(404, "no such operation", "NOT_FOUND")
        return httpx.Response(200, json=answers.pop(0) if len(answers) > 1 else answers[0])

    def _create(self, request: httpx.Request, match: re.Match[str]) -> httpx.Response:
        del match
        body = json.loads(request.content)
        name = f"subscriptions/sub-{len(self.subscriptions) + 1}"
        created = shaped(
            "workspaceevents",
            "Subscription",
            **{k: v for k, v in body.items() if k != "ttl"},
            name=name,
            expireTime=self._expiry(body.get("ttl", "0s")),
            state="ACTIVE",
        )
        self.subscriptions[name] = created
        return self._operation_for(created)

    def _list(self, request: httpx.Request, match: re.Match[str]) -> httpx.Response:
        del match
        query = request.url.params["filter"]
        self.filters.append(query)
        wanted = re.findall(r'event_types:"([^"]+)"', query)
        assert wanted, "subscriptions.list needs at least one event type"
        target = re.search(r'target_resource="([^"]+)"', query)
        found = [
            s
            for s in self.subscriptions.values()
            if set(wanted) & set(s["eventTypes"])
            and (target is None or s["targetResource"] == target.group(1))
        ]
        start = int(request.url.params.get("pageToken", "0"))
        body: dict[str, Any] = {"subscriptions": found[start : start + self.page_size]}
        if start + self.page_size < len(found):
            body["nextPageToken"] = str(start + self.page_size)
        return httpx.Response(
            200, json=shaped("workspaceevents", "ListSubscriptionsResponse", **body)
        )

    def _patch(self, request: httpx.Request, match: re.Match[str]) -> httpx.Response:
        name = f"subscriptions/{match['id']}"
        if name not in self.subscriptions:
            return google_error(404, "Subscription not found.", "NOT_FOUND")
        assert request.url.params["updateMask"] == "ttl"
        body = json.loads(request.content)
        self.subscriptions[name] = {
            **self.subscriptions[name],
            "expireTime": self._expiry(body["ttl"]),
        }
        return self._operation_for(self.subscriptions[name])

    def _delete(self, request: httpx.Request, match: re.Match[str]) -> httpx.Response:
        del request
        self.subscriptions.pop(f"subscriptions/{match['id']}", None)
        return self._operation_for(None)


TOPIC = "projects/blendkit-test/topics/meet-events"


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _manager(fake: GoogleFake, **options: Any) -> SubscriptionManager:
    tokens = GoogleTokenSource(
        service_account_info(),
        scopes=organizer_scopes(share_recordings=False),
        subject=ORGANIZER,
        client=fake.client(),
        sleep=lambda _: None,
        fence=public_fence(),
    )
    api = GoogleApi(tokens, fake.client(), sleep=lambda _: None, fence=public_fence())
    return SubscriptionManager(api, pubsub_topic=TOPIC, sleep=lambda _: None, **options)


@pytest.fixture
def google() -> GoogleFake:
    require_specs()
    return GoogleFake()


@pytest.fixture
def workspace(google: GoogleFake) -> WorkspaceEvents:
    return WorkspaceEvents(google)


def test_subscribing_creates_a_subscription_for_the_space_and_reads_the_operation(
    google: GoogleFake, workspace: WorkspaceEvents
) -> None:
    created = _manager(google).subscribe(SPACE, now=NOW)
    assert created.target == f"//meet.googleapis.com/{SPACE}"
    assert created.space == SPACE
    assert created.expires_at == NOW + WEEK
    assert set(created.event_types) == set(MEET_EVENT_TYPES)
    (stored,) = workspace.subscriptions.values()
    assert stored["notificationEndpoint"] == {"pubsubTopic": TOPIC}
    assert stored["payloadOptions"] == {"includeResource": False}
    assert google.calls == [
        "workspaceevents.subscriptions.list",
        "workspaceevents.subscriptions.create",
    ]
    assert f'target_resource="//meet.googleapis.com/{SPACE}"' in workspace.filters[0]


def test_an_operation_still_running_is_polled_until_done(
    google: GoogleFake, workspace: WorkspaceEvents
) -> None:
    workspace.pending_polls = 2
    created = _manager(google).subscribe("jQCFfuBOdN5z", now=NOW)
    assert created.space == SPACE
    assert google.calls.count("workspaceevents.operations.get") == 2


def test_an_operation_that_never_finishes_is_reported_not_waited_for_forever(
    google: GoogleFake, workspace: WorkspaceEvents
) -> None:
    workspace.pending_polls = 50
    with pytest.raises(ProviderError) as info:
        _manager(google, poll_attempts=3).subscribe(SPACE, now=NOW)
    assert info.value.code == "sessions.provider_unavailable"
    assert "import-ended" in info.value.message
    assert google.calls.count("workspaceevents.operations.get") == 3


def test_an_operation_that_failed_names_googles_reason(
    google: GoogleFake, workspace: WorkspaceEvents
) -> None:
    failed = shaped(
        "workspaceevents",
        "Operation",
        name="operations/op-9",
        done=True,
        error={"code": 7, "message": "The caller does not have permission on the topic."},
    )
    google.route(
        "POST", re.escape(EVENTS) + "/subscriptions", lambda r, m: httpx.Response(200, json=failed)
    )
    with pytest.raises(ProviderError) as info:
        _manager(google).subscribe(SPACE, now=NOW)
    assert "does not have permission on the topic" in info.value.message
    assert info.value.code == "sessions.provider_rejected"


def test_subscribing_again_reuses_the_live_subscription(
    google: GoogleFake, workspace: WorkspaceEvents
) -> None:
    name = workspace.add(SPACE, NOW + timedelta(days=5))
    again = _manager(google).subscribe(SPACE, now=NOW)
    assert again.name == name
    assert "workspaceevents.subscriptions.create" not in google.calls
    assert "workspaceevents.subscriptions.patch" not in google.calls
    # One that is due is renewed instead of duplicated.
    soon = _manager(google).subscribe(SPACE, now=NOW + timedelta(days=4))
    assert soon.name == name
    assert google.calls.count("workspaceevents.subscriptions.patch") == 1
    assert len(workspace.subscriptions) == 1


def test_renew_due_lists_across_pages_and_renews_only_those_close_to_expiry(
    google: GoogleFake, workspace: WorkspaceEvents
) -> None:
    due = workspace.add("spaces/a", NOW + timedelta(hours=20))
    later = workspace.add("spaces/b", NOW + timedelta(days=6))
    also_due = workspace.add("spaces/c", NOW + timedelta(days=1, hours=23))
    suspended = workspace.add("spaces/d", NOW + timedelta(hours=1), state="SUSPENDED")
    renewed = _manager(google).renew_due(NOW)
    assert sorted(s.name for s in renewed) == sorted([due, also_due])
    assert all(s.expires_at == NOW + WEEK for s in renewed)
    assert workspace.subscriptions[later]["expireTime"] == _stamp(NOW + timedelta(days=6))
    assert workspace.subscriptions[suspended]["expireTime"] == _stamp(NOW + timedelta(hours=1))
    assert google.calls.count("workspaceevents.subscriptions.list") == 2  # two pages


def test_a_chosen_ttl_is_asked_for(google: GoogleFake, workspace: WorkspaceEvents) -> None:
    name = workspace.add(SPACE, NOW + timedelta(hours=1))
    renewed = _manager(google, ttl=timedelta(days=3)).renew(name)
    assert renewed.expires_at == NOW + timedelta(days=3)
    patch = next(r for r in google.api_requests() if r.method == "PATCH")
    assert json.loads(patch.content) == {"ttl": "259200s"}


def test_unsubscribing_deletes_and_tolerates_a_missing_one(
    google: GoogleFake, workspace: WorkspaceEvents
) -> None:
    name = workspace.add(SPACE, NOW + WEEK)
    manager = _manager(google)
    manager.unsubscribe(name)
    manager.unsubscribe(name)
    assert workspace.subscriptions == {}
    deletes = [r for r in google.api_requests() if r.method == "DELETE"]
    assert [r.url.params["allowMissing"] for r in deletes] == ["true", "true"]


def test_cancelling_a_space_deletes_only_its_subscriptions(
    google: GoogleFake, workspace: WorkspaceEvents
) -> None:
    workspace.add(SPACE, NOW + WEEK)
    kept = workspace.add("spaces/other", NOW + WEEK)
    assert _manager(google).unsubscribe_space(SPACE) == 1
    assert list(workspace.subscriptions) == [kept]
    assert _manager(google).unsubscribe_space(SPACE) == 0


def test_subscribing_without_a_topic_says_what_to_set(google: GoogleFake) -> None:
    manager = SubscriptionManager(_manager(google)._api, pubsub_topic=None)
    with pytest.raises(ConfigError) as info:
        manager.subscribe(SPACE)
    assert "pubsub_topic" in info.value.message
    assert google.requests == []


@pytest.mark.parametrize("bad", ["", "spaces/", "spaces/a/b", "//drive.googleapis.com/x"])
def test_a_bad_space_name_is_refused_before_any_call(google: GoogleFake, bad: str) -> None:
    with pytest.raises(ProviderError):
        _manager(google).subscribe(bad)
    assert google.requests == []


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    left=st.lists(st.integers(min_value=-3600, max_value=8 * 24 * 3600), min_size=1, max_size=5),
    window_hours=st.integers(min_value=1, max_value=96),
)
def test_a_subscription_is_renewed_iff_it_expires_within_the_window(
    left: list[int], window_hours: int
) -> None:
    google = GoogleFake()
    workspace = WorkspaceEvents(google)
    names = {
        workspace.add(f"spaces/s{n}", NOW + timedelta(seconds=s)): s for n, s in enumerate(left)
    }
    window = timedelta(hours=window_hours)
    renewed = {s.name for s in _manager(google, renew_before=window).renew_due(NOW)}
    assert renewed == {n for n, s in names.items() if timedelta(seconds=s) < window}


def test_the_handler_built_from_settings_verifies_through_the_given_client(
    certs: CertsEndpoint, google_key: SigningKey
) -> None:
    meet = MeetSettings(push_audience=AUDIENCE, push_service_account=PUSHER)
    client = httpx.Client(transport=httpx.MockTransport(certs))
    handler = MeetEventHandler.for_settings(meet, client, fence=public_fence())
    token = google_key.sign(claims())
    for n in range(3):
        body = push_body(CONFERENCE_ENDED, ENDED, event_id=str(n))
        assert len(handler.handle(push(body, token)).events) == 1
    assert certs.fetches == 1
    unset = MeetEventHandler.for_settings(MeetSettings(), client, fence=public_fence())
    assert _refused(unset, push(push_body(CONFERENCE_ENDED, ENDED), token)).code == (
        "sessions.webhook_not_configured"
    )


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
_attributes = st.fixed_dictionaries(
    {},
    optional={
        "ce-id": st.text(max_size=6),
        "ce-type": st.sampled_from([*MEET_EVENT_TYPES, "google.workspace.x", ""]),
        "ce-subject": st.sampled_from([f"//meet.googleapis.com/{SPACE}", "", "spaces/x"]),
        "ce-time": st.sampled_from(["2026-12-07T10:00:00Z", "later", ""]),
    },
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    data=st.one_of(
        _json.map(lambda v: base64.b64encode(json.dumps(v).encode()).decode()),
        st.text(max_size=12),
        _json,
    ),
    attributes=st.one_of(_attributes, _json),
    wrapper=st.booleans(),
)
def test_any_push_body_is_mapped_or_refused_as_malformed_never_crashes(
    handler: MeetEventHandler, token: str, data: Any, attributes: Any, wrapper: bool
) -> None:
    message = {"data": data, "attributes": attributes, "messageId": "1"}
    body = json.dumps({"message": message} if wrapper else message).encode()
    outcome: WebhookResult | WebhookRejected
    try:
        outcome = handler.handle(push(body, token))
    except WebhookRejected as exc:
        outcome = exc
    if isinstance(outcome, WebhookRejected):
        assert outcome.code == "sessions.webhook_malformed"
    else:
        assert outcome.response.status == 204
        assert len(outcome.events) <= 1


@given(
    source=st.text(max_size=20),
    ident=st.text(min_size=1, max_size=20),
    other=st.text(min_size=1, max_size=20),
)
def test_event_ids_follow_source_and_id(source: str, ident: str, other: str) -> None:
    def event(event_id: str, message_id: str) -> CloudEvent:
        return CloudEvent(id=event_id, type="t", source=source, data={}, message_id=message_id)

    assert event(ident, "1").event_id == event(ident, "2").event_id
    assert (event(ident, "1").event_id == event(other, "1").event_id) == (ident == other)


# --- through MeetProvider -------------------------------------------------------------------------


def _provider(
    tmp_path: Path, google: GoogleFake, certs: CertsEndpoint, **meet: Any
) -> MeetProvider:
    def route(request: httpx.Request) -> httpx.Response:
        return certs(request) if str(request.url) == CERTS_URL else google.handler(request)

    values = {"push_audience": AUDIENCE, "push_service_account": PUSHER, **meet}
    return MeetProvider(
        meet_settings(write_key(tmp_path), **values),
        client=httpx.Client(transport=httpx.MockTransport(route)),
        fence=public_fence(),
        sleep=lambda _: None,
    )


def test_the_provider_subscribes_a_session_and_maps_its_pushes_to_the_session(
    tmp_path: Path,
    google: GoogleFake,
    workspace: WorkspaceEvents,
    certs: CertsEndpoint,
    google_key: SigningKey,
) -> None:
    provider = _provider(tmp_path, google, certs, pubsub_topic=TOPIC)
    meeting = provider.create_session(spec(recurrence=None))
    space = str(meeting.extras["space"])
    subscription = provider.subscribe(meeting.meeting_id)
    assert subscription.space == space
    assert workspace.subscriptions[subscription.name]["notificationEndpoint"] == {
        "pubsubTopic": TOPIC
    }
    fresh = _provider(tmp_path, google, certs, pubsub_topic=TOPIC)  # the web process
    body = push_body(
        TRANSCRIPT_READY,
        {"transcript": {"name": "conferenceRecords/cr-1/transcripts/t-1"}},
        subject=f"//meet.googleapis.com/{space}",
    )
    ledger = MemoryEventLedger()
    result = handle_webhook_once(fresh, push(body, google_key.sign(claims())), ledger)
    (event,) = result.events
    assert isinstance(event, RecordingCompleted)
    assert event.meeting_id == meeting.meeting_id
    assert event.recordings[0].kind is RecordingKind.TRANSCRIPT
    again = handle_webhook_once(fresh, push(body, google_key.sign(claims())), ledger)
    assert again.events == ()


def test_the_provider_renews_due_subscriptions_for_the_sweep(
    tmp_path: Path, google: GoogleFake, workspace: WorkspaceEvents, certs: CertsEndpoint
) -> None:
    provider = _provider(tmp_path, google, certs, pubsub_topic=TOPIC)
    assert isinstance(provider, SubscriptionRenewer)
    workspace.add("spaces/a", NOW + timedelta(hours=3))
    assert provider.renew_subscriptions(NOW) == 0  # no session uses spaces/a
    silent = _provider(tmp_path, google, certs)  # no [meet] pubsub_topic: events not in use
    before = len(google.requests)
    assert silent.renew_subscriptions(NOW) == 0
    assert len(google.requests) == before
    with pytest.raises(ConfigError, match="pubsub_topic"):
        silent.subscriptions.subscribe("spaces/a")


def test_subscriptions_of_sessions_that_are_over_are_left_to_expire(
    tmp_path: Path, google: GoogleFake, workspace: WorkspaceEvents, certs: CertsEndpoint
) -> None:
    provider = _provider(tmp_path, google, certs, pubsub_topic=TOPIC)
    meeting = provider.create_session(spec(recurrence=None))
    space = str(meeting.extras["space"])
    (created,) = workspace.subscriptions.values()  # subscribed when the session was created
    assert created["targetResource"] == f"//meet.googleapis.com/{space}"
    orphan = workspace.add("spaces/deleted-session", NOW + timedelta(hours=2))
    ends = meeting.occurrences[-1].start_utc if meeting.occurrences else START
    end = ends + timedelta(hours=2)
    due = end - timedelta(days=1)  # the sweep the day before: within two days of expiry
    workspace.subscriptions[created["name"]]["expireTime"] = _stamp(due + timedelta(hours=5))
    assert provider.renew_subscriptions(due) == 1
    assert workspace.subscriptions[orphan]["expireTime"] == _stamp(NOW + timedelta(hours=2))
    # Two days after the session ended, nothing is renewed any more.
    later = end + timedelta(days=2)
    workspace.subscriptions[created["name"]]["expireTime"] = _stamp(later + timedelta(hours=5))
    assert provider.renew_subscriptions(later) == 0


def test_a_refused_subscription_does_not_undo_the_session(
    tmp_path: Path,
    google: GoogleFake,
    workspace: WorkspaceEvents,
    certs: CertsEndpoint,
    caplog: pytest.LogCaptureFixture,
) -> None:
    provider = _provider(tmp_path, google, certs, pubsub_topic=TOPIC)
    google.fail(
        "POST",
        "workspaceevents",
        403,
        body={
            "error": {
                "code": 403,
                "message": "The caller does not have permission",
                "status": "PERMISSION_DENIED",
            }
        },
    )
    with caplog.at_level(logging.WARNING, logger="blendkit_meet"):
        meeting = provider.create_session(spec(recurrence=None))
    assert meeting.join_url
    assert workspace.subscriptions == {}
    assert "not subscribed" in caplog.text
    assert meeting.extras["subscription_error"] in caplog.text
