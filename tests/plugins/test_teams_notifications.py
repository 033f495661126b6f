"""Graph change notifications: handshake, clientState, typed events, and rejections."""

from __future__ import annotations

import json

import httpx
import pytest
from blendkit_teams import TeamsProvider, online_meeting_of
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from blendkit.errors import WebhookRejected
from blendkit.sessions import (
    GenericEvent,
    MemoryEventLedger,
    RecordingCompleted,
    RecordingKind,
    WebhookRequest,
    handle_webhook_once,
)
from tests.fence import public_fence
from tests.plugins.graph_fake import CLIENT_STATE, TENANT, notification, posted, teams_settings

ONLINE = "MSo1N2Y5ZGFjYy03MWJmLTQ3NDMtYjQxMy01M2EdFGkdRWHJlQ"
RECORDING = f"communications/onlineMeetings('{ONLINE}')/recordings('VjIjIzUzNzhhMzhk')"
TRANSCRIPT = f"communications/onlineMeetings/{ONLINE}/transcripts/MSMjMCMjZDAw"


def offline(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"notification handling must not call Graph ({request.url})")


@pytest.fixture
def provider() -> TeamsProvider:
    return TeamsProvider(
        fence=public_fence(),
        settings=teams_settings(),
        client=httpx.Client(transport=httpx.MockTransport(offline)),
    )


def rejected(provider: TeamsProvider, request: WebhookRequest) -> str:
    with pytest.raises(WebhookRejected) as caught:
        provider.handle_webhook(request)
    return caught.value.code


# --- handshake ---------------------------------------------------------------------------------


@settings(max_examples=100, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(min_size=1, max_size=300).filter(lambda t: "\x00" not in t))
def test_validation_echoes_the_decoded_token_as_plain_text(
    provider: TeamsProvider, token: str
) -> None:
    result = provider.handle_webhook(posted(b"", validationToken=token))
    assert result.events == ()
    assert result.response.status == 200
    assert result.response.headers["content-type"].startswith("text/plain")
    assert result.response.body.decode("utf-8") == token


def test_validation_must_be_a_post_with_a_token(provider: TeamsProvider) -> None:
    get = posted(b"", validationToken="abc").model_copy(update={"method": "GET"})
    assert rejected(provider, get) == "sessions.webhook_malformed"
    assert rejected(provider, posted(b"", validationToken="")) == "sessions.webhook_malformed"


def test_validation_works_before_the_client_state_is_configured() -> None:
    provider = TeamsProvider(
        fence=public_fence(),
        settings=teams_settings(client_state=None),
        client=httpx.Client(transport=httpx.MockTransport(offline)),
    )
    result = provider.handle_webhook(posted(b"", validationToken="hello"))
    assert result.response.body == b"hello"
    assert rejected(provider, posted([notification(RECORDING)])) == (
        "sessions.webhook_not_configured"
    )


# --- accepted ----------------------------------------------------------------------------------


def test_recording_and_transcript_notifications(provider: TeamsProvider) -> None:
    result = provider.handle_webhook(posted([notification(RECORDING), notification(TRANSCRIPT)]))
    assert result.response.status == 202
    video, transcript = result.events
    assert isinstance(video, RecordingCompleted)
    assert isinstance(transcript, RecordingCompleted)
    assert video.meeting_id == transcript.meeting_id == ONLINE
    assert video.recordings[0].kind is RecordingKind.VIDEO
    assert video.recordings[0].provider_id == "VjIjIzUzNzhhMzhk"
    assert transcript.recordings[0].kind is RecordingKind.TRANSCRIPT
    assert transcript.recordings[0].provider_id == "MSMjMCMjZDAw"


def test_events_name_the_session_given_in_the_notification_url(provider: TeamsProvider) -> None:
    request = posted([notification(RECORDING)], meeting="AAMkAGI2TG93AAA0001=")
    (event,) = provider.handle_webhook(request).events
    assert isinstance(event, RecordingCompleted)
    assert event.meeting_id == "AAMkAGI2TG93AAA0001="
    assert event.recordings[0].meeting_id == "AAMkAGI2TG93AAA0001="
    assert event.recordings[0].extras["online_meeting_id"] == ONLINE


def test_other_changes_are_generic_events(provider: TeamsProvider) -> None:
    item = notification(f"Users/{TENANT}/Events/AAMkAGI2", change="updated")
    (event,) = provider.handle_webhook(posted([item])).events
    assert isinstance(event, GenericEvent)
    assert event.name == "graph.updated"


def test_redelivery_is_processed_once(provider: TeamsProvider) -> None:
    ledger = MemoryEventLedger()
    first = handle_webhook_once(provider, posted([notification(RECORDING)]), ledger)
    again = handle_webhook_once(provider, posted([notification(RECORDING)]), ledger)
    assert len(first.events) == 1
    assert again.events == ()
    assert again.response.status == 202


def test_online_meeting_id_in_both_resource_spellings() -> None:
    assert online_meeting_of(RECORDING) == ONLINE
    assert online_meeting_of(TRANSCRIPT) == ONLINE
    assert online_meeting_of("communications/onlineMeetings/getAllRecordings") is None


# --- rejected ----------------------------------------------------------------------------------


def test_wrong_client_state(provider: TeamsProvider) -> None:
    forged = notification(RECORDING, state="guessed-state")
    assert rejected(provider, posted([forged])) == "sessions.webhook_client_state"


def test_one_forged_item_rejects_the_whole_delivery(provider: TeamsProvider) -> None:
    items = [notification(RECORDING), notification(TRANSCRIPT, state="x")]
    assert rejected(provider, posted(items)) == "sessions.webhook_client_state"


def test_missing_client_state(provider: TeamsProvider) -> None:
    item = {k: v for k, v in notification(RECORDING).items() if k != "clientState"}
    assert rejected(provider, posted([item])) == "sessions.webhook_client_state"


def test_stale_notification_for_a_long_expired_subscription(provider: TeamsProvider) -> None:
    expired = {**notification(RECORDING), "subscriptionExpirationDateTime": "2026-03-03T06:50:00Z"}
    assert rejected(provider, posted([expired])) == "sessions.webhook_stale"
    # Within Graph's four-hour redelivery window it is still accepted.
    retried = {**notification(RECORDING), "subscriptionExpirationDateTime": "2026-03-03T07:10:00Z"}
    assert len(provider.handle_webhook(posted([retried])).events) == 1


def test_notification_from_another_tenant(provider: TeamsProvider) -> None:
    item = {**notification(RECORDING), "tenantId": "00000000-0000-4000-8000-00000000bad0"}
    assert rejected(provider, posted([item])) == "sessions.webhook_client_state"


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b"{}",
        b'{"value": []}',
        b'{"value": ["text"]}',
        json.dumps({"value": [{"changeType": "created", "clientState": CLIENT_STATE}]}).encode(),
        json.dumps({"value": [{"subscriptionId": "s", "clientState": CLIENT_STATE}]}).encode(),
    ],
    ids=["bad-json", "list", "no-value", "empty", "not-objects", "no-subscription", "no-resource"],
)
def test_malformed(provider: TeamsProvider, body: bytes) -> None:
    assert rejected(provider, posted(body)) == "sessions.webhook_malformed"


def test_rejection_does_not_echo_the_client_state(provider: TeamsProvider) -> None:
    with pytest.raises(WebhookRejected) as caught:
        provider.handle_webhook(posted([notification(RECORDING, state="forged-state-7")]))
    assert CLIENT_STATE not in caught.value.message
    assert "forged-state-7" not in caught.value.message
