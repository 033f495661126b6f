"""Meet events: Pub/Sub push OIDC verification, CloudEvent mapping, dedupe, subscriptions."""

from __future__ import annotations

import base64
import json
import logging
import threading
from collections.abc import Callable
from typing import Any

import pytest
from blendkit_meet._events import (
    CONFERENCE_ENDED,
    RECORDING_READY,
    TRANSCRIPT_READY,
    MeetEventHandler,
)
from blendkit_meet._push import CertCache, PushVerifier, cache_seconds
from hypothesis import given
from hypothesis import strategies as st

from blendkit.errors import BlendkitError, ProviderError, WebhookRejected
from blendkit.http import Fence, OutboundPolicy
from blendkit.sessions import (
    GenericEvent,
    MeetingEnded,
    MemoryEventLedger,
    RecordingCompleted,
    RecordingKind,
    WebhookRequest,
    handle_webhook_once,
)
from tests.plugins.meet_push import (
    AUDIENCE,
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
    handler = MeetEventHandler(
        PushVerifier(AUDIENCE, PUSHER, google_request(certs, fence=fence))
    )
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
    assert asked == [SPACE, "spaces/unknown"]


def test_redeliveries_are_processed_once(handler: MeetEventHandler, token: str) -> None:
    provider = _Provider(handler)
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
