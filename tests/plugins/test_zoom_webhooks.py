"""Zoom webhooks: valid deliveries become typed events; forged, stale, replayed, malformed don't."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from blendkit_zoom import ZoomProvider
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from blendkit.errors import WebhookRejected
from blendkit.sessions import (
    GenericEvent,
    MeetingEnded,
    MeetingStarted,
    MemoryEventLedger,
    ParticipantJoined,
    ParticipantLeft,
    RecordingCompleted,
    RecordingKind,
    handle_webhook_once,
)
from tests.fence import public_fence
from tests.plugins.zoom_data import zoom_settings
from tests.plugins.zoom_webhooks import (
    ARRIVAL,
    MEETING_ID,
    SECRET,
    UUID,
    delivery,
    meeting_ended,
    meeting_started,
    participant_joined,
    participant_left,
    recording_completed,
    url_validation,
)


def offline(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"webhook handling must not call Zoom ({request.url})")


@pytest.fixture
def provider() -> ZoomProvider:
    return ZoomProvider(
        fence=public_fence(),
        settings=zoom_settings(webhook_secret=SECRET),
        client=httpx.Client(transport=httpx.MockTransport(offline)),
    )


def rejected(provider: ZoomProvider, request: Any) -> str:
    with pytest.raises(WebhookRejected) as caught:
        provider.handle_webhook(request)
    assert caught.value.http_status == 401
    return caught.value.code


# --- accepted ----------------------------------------------------------------------------------


def test_url_validation_is_answered_with_the_hmac_of_the_plain_token(
    provider: ZoomProvider,
) -> None:
    result = provider.handle_webhook(delivery(url_validation("plain-123")))
    assert result.events == ()
    assert result.response.status == 200
    assert result.response.headers["content-type"].startswith("application/json")
    expected = hmac.new(SECRET.encode(), b"plain-123", hashlib.sha256).hexdigest()
    assert json.loads(result.response.body) == {
        "plainToken": "plain-123",
        "encryptedToken": expected,
    }


def test_meeting_started_and_ended(provider: ZoomProvider) -> None:
    (started,) = provider.handle_webhook(delivery(meeting_started())).events
    (ended,) = provider.handle_webhook(delivery(meeting_ended())).events
    assert isinstance(started, MeetingStarted)
    assert isinstance(ended, MeetingEnded)
    assert (started.meeting_id, started.occurrence_id) == (MEETING_ID, UUID)
    assert started.occurred_at == datetime(2026, 3, 2, 15, 0, 12, tzinfo=UTC)
    assert ended.occurred_at == datetime(2026, 3, 2, 16, 30, 1, tzinfo=UTC)
    assert started.provider == ended.provider == "zoom"
    assert started.event_id != ended.event_id


def test_participant_joined_and_left_carry_the_matching_keys(provider: ZoomProvider) -> None:
    (joined,) = provider.handle_webhook(delivery(participant_joined())).events
    (left,) = provider.handle_webhook(delivery(participant_left())).events
    assert isinstance(joined, ParticipantJoined)
    assert isinstance(left, ParticipantLeft)
    assert joined.participant.registrant_id == left.participant.registrant_id == "reg001001"
    assert joined.participant.email == "ada@example.edu"
    assert joined.participant.provider_user_id is None  # a guest: Zoom sends id ""
    assert joined.participant.join_time == datetime(2026, 3, 2, 15, 1, 40, tzinfo=UTC)
    assert joined.participant.leave_time is None
    assert left.participant.leave_time == datetime(2026, 3, 2, 16, 13, 20, tzinfo=UTC)
    assert joined.participant.connection_id == left.participant.connection_id


def test_recording_completed_lists_the_files(provider: ZoomProvider) -> None:
    (event,) = provider.handle_webhook(delivery(recording_completed())).events
    assert isinstance(event, RecordingCompleted)
    assert [r.kind for r in event.recordings] == [RecordingKind.VIDEO, RecordingKind.TRANSCRIPT]
    assert event.recordings[0].duration_seconds == 88 * 60
    assert event.recordings[0].occurrence_id == UUID
    assert "download-token-not-for-logs" not in event.model_dump_json()


def test_other_signed_events_are_kept_as_generic(provider: ZoomProvider) -> None:
    document = {
        "event": "meeting.sharing_started",
        "event_ts": 1772463800000,
        "payload": {"account_id": "acc-123", "object": {"id": MEETING_ID, "uuid": UUID}},
    }
    (event,) = provider.handle_webhook(delivery(document)).events
    assert isinstance(event, GenericEvent)
    assert event.name == "meeting.sharing_started"


def test_redelivery_keeps_the_event_id_and_is_processed_once(provider: ZoomProvider) -> None:
    ledger = MemoryEventLedger()
    first = handle_webhook_once(provider, delivery(participant_joined()), ledger)
    later = ARRIVAL + timedelta(minutes=3)
    again = handle_webhook_once(
        provider, delivery(participant_joined(), sent=later, received=later), ledger
    )
    assert len(first.events) == 1
    assert again.events == ()
    assert again.response.status == 200  # acknowledged, so Zoom stops retrying


# --- rejected ----------------------------------------------------------------------------------


def test_forged_signature(provider: ZoomProvider) -> None:
    assert rejected(provider, delivery(meeting_started(), secret="guessed")) == (
        "sessions.webhook_bad_signature"
    )


def test_body_changed_after_signing(provider: ZoomProvider) -> None:
    genuine = delivery(participant_joined())
    tampered = genuine.model_copy(
        update={"body": genuine.body.replace(b"ada@example.edu", b"eve@example.edu")}
    )
    assert rejected(provider, tampered) == "sessions.webhook_bad_signature"


def test_stale_timestamp(provider: ZoomProvider) -> None:
    old = ARRIVAL - timedelta(minutes=5, seconds=1)
    assert rejected(provider, delivery(meeting_started(), sent=old)) == "sessions.webhook_stale"
    future = ARRIVAL + timedelta(minutes=6)
    assert rejected(provider, delivery(meeting_started(), sent=future)) == "sessions.webhook_stale"


def test_just_inside_the_window_is_accepted(provider: ZoomProvider) -> None:
    edge = ARRIVAL - timedelta(minutes=4, seconds=59)
    assert len(provider.handle_webhook(delivery(meeting_started(), sent=edge)).events) == 1


def test_replayed_delivery(provider: ZoomProvider) -> None:
    request = delivery(participant_joined())
    assert len(provider.handle_webhook(request).events) == 1
    assert rejected(provider, request) == "sessions.webhook_replayed"


def test_unsigned(provider: ZoomProvider) -> None:
    request = delivery(meeting_started())
    headers = {k: v for k, v in request.headers.items() if k != "x-zm-signature"}
    assert rejected(provider, request.model_copy(update={"headers": headers})) == (
        "sessions.webhook_unsigned"
    )


def test_timestamp_that_is_not_a_number(provider: ZoomProvider) -> None:
    request = delivery(meeting_started())
    headers = {**request.headers, "x-zm-request-timestamp": "yesterday"}
    assert rejected(provider, request.model_copy(update={"headers": headers})) == (
        "sessions.webhook_malformed"
    )


def test_bad_json(provider: ZoomProvider) -> None:
    assert rejected(provider, delivery(b'{"event": "meeting.started", ')) == (
        "sessions.webhook_malformed"
    )


@pytest.mark.parametrize(
    "document",
    [
        [],
        {"payload": {}},
        {"event": "meeting.started"},
        {"event": "meeting.started", "payload": {"account_id": "a"}},
        {"event": "meeting.started", "payload": {"object": {"uuid": UUID}}},
        {"event": "meeting.participant_joined", "payload": {"object": {"id": 1, "uuid": "u"}}},
        {
            "event": "meeting.participant_left",
            "payload": {"object": {"id": 1, "uuid": "u", "participant": {"user_id": "1"}}},
        },
        {"event": "endpoint.url_validation", "payload": {}},
    ],
    ids=[
        "not-an-object",
        "no-event-name",
        "no-payload",
        "no-object",
        "no-meeting-id",
        "no-participant",
        "no-leave-time",
        "no-plain-token",
    ],
)
def test_missing_fields(provider: ZoomProvider, document: Any) -> None:
    assert rejected(provider, delivery(json.dumps(document).encode())) == (
        "sessions.webhook_malformed"
    )


def test_without_a_configured_secret_nothing_is_accepted() -> None:
    provider = ZoomProvider(
        fence=public_fence(),
        settings=zoom_settings(webhook_secret=None),
        client=httpx.Client(transport=httpx.MockTransport(offline)),
    )
    code = rejected(provider, delivery(meeting_started()))
    assert code == "sessions.webhook_not_configured"


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(position=st.integers(min_value=0), flip=st.integers(min_value=1, max_value=255))
def test_any_single_byte_change_is_caught(provider: ZoomProvider, position: int, flip: int) -> None:
    genuine = delivery(recording_completed())
    body = bytearray(genuine.body)
    body[position % len(body)] ^= flip
    tampered = genuine.model_copy(update={"body": bytes(body)})
    assert rejected(provider, tampered) == "sessions.webhook_bad_signature"


def test_rejection_messages_reveal_no_secret(provider: ZoomProvider) -> None:
    with pytest.raises(WebhookRejected) as caught:
        provider.handle_webhook(delivery(meeting_started(), secret="other"))
    assert SECRET not in caught.value.message
    assert "v0=" not in caught.value.message


@pytest.mark.parametrize("play_url", ["javascript:alert(1)", "not a url", "ftp://x/y"])
def test_a_recording_whose_link_no_page_may_carry_is_refused_as_malformed(
    provider: ZoomProvider, play_url: str
) -> None:
    """A signed recording.completed whose play link is no http(s) address is refused as
    malformed, not answered as a provider failure (a 502 that Zoom would send again and
    again); the reason names the field, not the link."""
    document = recording_completed()
    document["payload"]["object"]["recording_files"][0]["play_url"] = play_url
    with pytest.raises(WebhookRejected) as caught:
        provider.handle_webhook(delivery(json.dumps(document).encode()))
    assert caught.value.code == "sessions.webhook_malformed"
    assert caught.value.http_status < 500
    assert "play_url" in caught.value.message
    assert play_url not in caught.value.message
