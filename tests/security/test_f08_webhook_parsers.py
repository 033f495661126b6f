"""Finding 8, webhook side: each webhook parser turns any body into events or the library's error.

The bodies are signed correctly (or carry the right client state), so the fuzzing reaches the
parsers behind verification: arbitrary bytes, deep nesting, huge numbers and documents shaped
like each vendor's with random leaves never raise anything but a BlendkitError with a code.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from blendkit_teams._notifications import GraphNotificationHandler
from blendkit_zoom._webhook import ZoomWebhookVerifier, sign_zoom_webhook
from hypothesis import given
from hypothesis import strategies as st

from blendkit import BlendkitError
from blendkit.sessions import FakeMeetingProvider, WebhookRequest
from blendkit.sessions._fake_webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER

ARRIVAL = datetime(2026, 3, 2, 16, 30, tzinfo=UTC)
STAMP = str(int(ARRIVAL.timestamp()))
SECRET = "fuzz-secret"
CLIENT_STATE = "fuzz-client-state"

leaves = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.sampled_from([10**30, -(10**30), 2**64, 253402300800000, -1, 0])
    | st.floats(allow_nan=False)
    | st.text(max_size=12)
    | st.sampled_from(
        [
            "2026-03-02T15:00:12Z",
            "9999-12-31T23:59:59Z",
            "0001-01-01T00:00:00Z",
            "2026-02-30T25:61:00",
            "onlineMeetings('m1')/recordings('r1')",
            "communications/onlineMeetings/m1/transcripts/t1",
            "onlineMeetings/getAllRecordings",
            "created",
            "missed",
            "",
        ]
    )
)
keys = st.sampled_from(
    [
        "event", "event_ts", "payload", "object", "id", "uuid", "participant", "user_id",
        "participant_user_id", "participant_uuid", "user_name", "email", "registrant_id",
        "join_time", "leave_time", "start_time", "end_time", "recording_files", "recording_type",
        "recording_start", "recording_end", "play_url", "download_url", "file_type", "value",
        "subscriptionId", "clientState", "resource", "resourceData", "changeType",
        "lifecycleEvent", "subscriptionExpirationDateTime", "tenantId", "type", "provider",
        "meeting_id", "occurrence_id", "event_id", "occurred_at", "plainToken", "recordings",
    ]
)  # fmt: skip
trees = st.recursive(
    leaves,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=6),
    max_leaves=40,
)
zoom_events = st.sampled_from(
    ["meeting.started", "meeting.ended", "meeting.participant_joined",
     "meeting.participant_left", "recording.completed", "endpoint.url_validation", "other"]
)  # fmt: skip


def _json(value: object) -> bytes:
    try:
        return json.dumps(value).encode("utf-8", "surrogatepass")
    except (ValueError, TypeError):
        return b"{}"


def zoom_shaped() -> st.SearchStrategy[bytes]:
    document = st.fixed_dictionaries(
        {"event": zoom_events, "payload": st.fixed_dictionaries({"object": trees}) | trees},
        optional={"event_ts": leaves},
    )
    return document.map(_json)


def graph_shaped() -> st.SearchStrategy[bytes]:
    item = st.fixed_dictionaries(
        {"subscriptionId": st.text(min_size=1, max_size=8), "clientState": st.just(CLIENT_STATE)},
        optional={
            "resource": leaves,
            "resourceData": trees,
            "changeType": leaves,
            "lifecycleEvent": leaves,
            "subscriptionExpirationDateTime": leaves,
            "tenantId": leaves,
        },
    )
    return st.fixed_dictionaries({"value": st.lists(item, min_size=1, max_size=3)}).map(_json)


def fake_shaped() -> st.SearchStrategy[bytes]:
    kinds = st.sampled_from(
        ["meeting.started", "meeting.ended", "recording.completed", "endpoint.url_validation"]
    )
    payload = st.fixed_dictionaries(
        {"type": kinds | leaves, "provider": st.just("fake") | leaves}, optional={"x": trees}
    )
    document = st.fixed_dictionaries({"event": kinds | leaves, "payload": payload | trees})
    return document.map(_json)


def nested(levels: int) -> bytes:
    return b'{"payload":' * levels + b"1" + b"}" * levels


bodies = (
    st.binary(max_size=300)
    | st.builds(nested, st.integers(50, 5000))
    | trees.map(_json)
    | st.sampled_from([b"\xff\xfe{}", b'{"event": 1e999}', b"[" * 20_000, b'{"value": [{}]}'])
)


def assert_only_library_errors(
    handle: Callable[[WebhookRequest], object], req: WebhookRequest
) -> None:
    code = "no error"
    try:
        handle(req)
    except BlendkitError as exc:
        code = exc.code
    assert code == "no error" or "." in code


def zoom_request(body: bytes) -> WebhookRequest:
    return WebhookRequest(
        headers={
            "x-zm-request-timestamp": STAMP,
            "x-zm-signature": sign_zoom_webhook(SECRET, STAMP, body),
        },
        body=body,
        received_at=ARRIVAL,
    )


@given(bodies | zoom_shaped())
def test_zoom_webhooks_raise_only_library_errors(body: bytes) -> None:
    assert_only_library_errors(ZoomWebhookVerifier(SECRET).handle, zoom_request(body))


@given(bodies | graph_shaped(), st.none() | st.text(max_size=5000), st.text(max_size=20))
def test_teams_notifications_raise_only_library_errors(
    body: bytes, token: str | None, meeting: str
) -> None:
    query = {"meeting": meeting} if meeting else {}
    if token is not None:
        query["validationToken"] = token
    request = WebhookRequest(body=body, query=query, received_at=ARRIVAL)
    handler = GraphNotificationHandler(CLIENT_STATE, tenant_id="tenant")
    assert_only_library_errors(handler.handle, request)


def fake_request(body: bytes, stamp: str = STAMP) -> WebhookRequest:
    message = b"v0:" + stamp.encode("ascii", "replace") + b":" + body
    signature = "v0=" + hmac.new(SECRET.encode(), message, hashlib.sha256).hexdigest()
    return WebhookRequest(
        headers={TIMESTAMP_HEADER: stamp, SIGNATURE_HEADER: signature},
        body=body,
        received_at=ARRIVAL,
    )


@given(bodies | fake_shaped())
def test_fake_provider_webhooks_raise_only_library_errors(body: bytes) -> None:
    provider = FakeMeetingProvider(webhook_secret=SECRET, max_webhook_age=timedelta(days=1))
    assert_only_library_errors(provider.handle_webhook, fake_request(body))


@given(st.text(max_size=40))
def test_fake_provider_timestamp_headers_raise_only_library_errors(stamp: str) -> None:
    provider = FakeMeetingProvider(webhook_secret=SECRET)
    try:
        request = fake_request(b"{}", stamp)
    except UnicodeEncodeError:
        return
    assert_only_library_errors(provider.handle_webhook, request)
