"""/webhooks/zoom and /webhooks/teams answer the vendors' handshakes with the configured secrets
(BLENDKIT_ZOOM_WEBHOOK_SECRET, BLENDKIT_TEAMS_CLIENT_STATE) and refuse unsigned deliveries."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from pathlib import Path

import pytest

from blendkit import load_settings

SECRET = "zoom-webhook-secret"  # a test value
CLIENT_STATE = "teams-client-state"


@pytest.fixture
def client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    from blendkit_examples.flask_app import create_app

    env = {
        "BLENDKIT_DATABASE_URL": f"sqlite:///{tmp_path / 'tool.sqlite3'}",
        "BLENDKIT_TOOL_SECRET_KEY": "s",
        "BLENDKIT_ZOOM_ACCOUNT_ID": "acc", "BLENDKIT_ZOOM_CLIENT_ID": "cid",
        "BLENDKIT_ZOOM_CLIENT_SECRET": "csecret", "BLENDKIT_ZOOM_WEBHOOK_SECRET": SECRET,
        "BLENDKIT_TEAMS_TENANT_ID": "tenant", "BLENDKIT_TEAMS_CLIENT_ID": "tid",
        "BLENDKIT_TEAMS_CLIENT_SECRET": "tsecret", "BLENDKIT_TEAMS_ORGANIZER": "org@example.edu",
        "BLENDKIT_TEAMS_CLIENT_STATE": CLIENT_STATE,
    }  # fmt: skip
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return create_app(load_settings(), migrate=True, TESTING=True).test_client()


def test_zoom_url_validation_is_answered_with_the_secret(client) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("blendkit_zoom")
    body = json.dumps(
        {"event": "endpoint.url_validation", "payload": {"plainToken": "abc123"},
         "event_ts": int(time.time() * 1000)}
    ).encode()  # fmt: skip
    stamp = str(int(time.time()))
    signature = "v0=" + hmac.new(SECRET.encode(), b"v0:" + stamp.encode() + b":" + body,
                                 hashlib.sha256).hexdigest()  # fmt: skip
    answer = client.post(
        "/webhooks/zoom", data=body, content_type="application/json",
        headers={"x-zm-request-timestamp": stamp, "x-zm-signature": signature},
    )  # fmt: skip
    assert answer.status_code == 200, answer.get_data(as_text=True)
    expected = hmac.new(SECRET.encode(), b"abc123", hashlib.sha256).hexdigest()
    assert answer.get_json() == {"plainToken": "abc123", "encryptedToken": expected}
    unsigned = client.post("/webhooks/zoom", data=body, content_type="application/json")
    assert unsigned.status_code in (400, 401, 403)
    assert "sessions." in unsigned.get_data(as_text=True)


def test_teams_validation_token_and_client_state(client) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("blendkit_teams")
    handshake = client.post("/webhooks/teams?validationToken=hello%20graph")
    assert handshake.status_code == 200
    assert handshake.get_data(as_text=True) == "hello graph"
    forged = client.post(
        "/webhooks/teams",
        json={
            "value": [
                {
                    "subscriptionId": "s1",
                    "clientState": "wrong",
                    "resource": "x",
                    "changeType": "created",
                    "tenantId": "tenant",
                }
            ]
        },
    )
    assert forged.status_code in (400, 401, 403)
    assert "clientState" in forged.get_data(as_text=True)


def test_meet_is_the_provider_when_configured_and_refuses_unsigned_pushes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("blendkit_meet")
    from blendkit_meet import MeetProvider

    from blendkit_examples.flask_app import create_app
    from blendkit_examples.flask_app.app import services
    from tests.plugins.google_fake import write_key

    env = {
        "BLENDKIT_DATABASE_URL": f"sqlite:///{tmp_path / 'tool.sqlite3'}",
        "BLENDKIT_TOOL_SECRET_KEY": "s",
        "BLENDKIT_MEETING_PROVIDER": "meet",
        "BLENDKIT_MEET_SERVICE_ACCOUNT_FILE": str(write_key(tmp_path)),
        "BLENDKIT_MEET_ORGANIZER": "teacher@school.example.edu",
        "BLENDKIT_MEET_PUSH_AUDIENCE": "https://tool.example.edu/webhooks/meet",
        "BLENDKIT_MEET_PUSH_SERVICE_ACCOUNT": "push@blendkit-test.iam.gserviceaccount.com",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    app = create_app(load_settings(), migrate=True, TESTING=True)
    with app.app_context():
        assert isinstance(services().provider, MeetProvider)
    push = {"message": {"data": "e30=", "attributes": {}, "messageId": "1"}, "subscription": "s"}
    answer = app.test_client().post("/webhooks/meet", json=push)
    assert answer.status_code == 401, answer.get_data(as_text=True)
    assert "sessions.webhook" in answer.get_data(as_text=True)
